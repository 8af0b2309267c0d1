//! Headless Chromium renders the registry's law and incident pages over the
//! Cambodia seed in English and in Khmer and saves screenshots (under
//! `target/tmp/screenshots/`). Fails when a Khmer page shows no Khmer
//! text, the Khmer font was never fetched, or the law chart's dots are
//! missing from the DOM or from the pixels. Skipped (with a message) when
//! `/usr/bin/chromium` is absent.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use browser::{chromium, decode, CHROMIUM};
use common::start_with;

/// A law chart dot: #b3261e at 70 % opacity over white.
const DOT_RGB: [u8; 3] = [202, 103, 98];

fn dot_pixels(rgba: &[u8]) -> usize {
    rgba.chunks(4)
        .filter(|p| p[..3].iter().zip(DOT_RGB).all(|(a, b)| a.abs_diff(b) <= 12))
        .count()
}

fn has_khmer(s: &str) -> bool {
    s.chars().any(|c| ('\u{1780}'..='\u{17FF}').contains(&c))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn law_and_incident_pages_render_in_english_and_khmer() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipping: {CHROMIUM} not found (apt-get install chromium fonts-noto-core)");
        return;
    }
    let server = start_with(false, |_| {}).await;
    let mut ds = canary_registry::seed::kh();
    let ring = canary_registry::KeyRing::new(canary_registry::FieldKey::from_bytes(1, [3; 32]));
    ds.seal_all(&ring).unwrap();
    server
        .store
        .registry_import(&ds, "seed", canary_registry::seed::SEED_AT)
        .await
        .unwrap();
    let public = ds.view_for(&canary_registry::Principal::Anonymous);
    // The public law invoked most often: its chart has the most dots.
    let law = public
        .laws
        .iter()
        .max_by_key(|l| {
            public
                .invocations
                .iter()
                .filter(|i| {
                    public
                        .provisions
                        .iter()
                        .any(|p| p.meta.id == i.provision_id && p.law_id == l.meta.id)
                })
                .count()
        })
        .expect("a public law");
    let incident = public.incidents.first().expect("a public incident");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let pages = [
        (
            "registry-law",
            format!("/registry/laws/{}", law.meta.id),
            true,
        ),
        (
            "registry-incident",
            format!("/registry/incidents/{}", incident.meta.id),
            false,
        ),
    ];
    for (name, path, chart) in &pages {
        for lang in ["en", "km"] {
            let url = format!("{}{path}?lang={lang}", server.base);
            let fonts_before = server.handle.stats().font_requests.load(Ordering::Relaxed);
            let dom = String::from_utf8_lossy(&chromium(&["--dump-dom".into(), url.clone()]).await)
                .into_owned();
            let fonts_after = server.handle.stats().font_requests.load(Ordering::Relaxed);
            assert!(
                dom.contains(&format!("<html lang=\"{lang}\">")),
                "{name} {lang}: DOM loaded"
            );
            if lang == "km" {
                assert!(has_khmer(&dom), "{name} km: Khmer text in the DOM");
                assert!(
                    fonts_after > fonts_before,
                    "{name} km: the browser fetched the Khmer font"
                );
            }
            if *chart {
                assert!(
                    dom.contains("<circle class=\"inv\""),
                    "{name} {lang}: chart dots in the DOM"
                );
            }
            let file = dir.join(format!("{name}-{lang}.png"));
            let _ = std::fs::remove_file(&file);
            chromium(&[format!("--screenshot={}", file.display()), url.clone()]).await;
            let rgba = decode(&file).2;
            if *chart {
                let dots = dot_pixels(&rgba);
                assert!(dots > 40, "{name} {lang}: chart dots visible ({dots} px)");
            }
            eprintln!("saved {}", file.display());
        }
    }
}
