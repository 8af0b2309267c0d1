//! Headless Chromium loads the country and measurement pages in English
//! and in Khmer and saves screenshots (under `target/tmp/screenshots/`).
//! Fails when a Khmer page shows no Khmer text, the Khmer font was never
//! fetched, or the chart is missing from the DOM or from the pixels.
//! Skipped (with a message) when `/usr/bin/chromium` is absent.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use browser::{chromium, decode, CHROMIUM};
use common::start;

/// The fill of the chart's bars (#c0392b), used nowhere else.
const BAR_RGB: [u8; 3] = [0xc0, 0x39, 0x2b];

fn distinct_colours(rgba: &[u8]) -> usize {
    let mut set = std::collections::HashSet::new();
    for p in rgba.chunks(4).step_by(7) {
        set.insert([p[0], p[1], p[2]]);
        if set.len() > 1000 {
            break;
        }
    }
    set.len()
}

fn bar_pixels(rgba: &[u8]) -> usize {
    rgba.chunks(4)
        .filter(|p| p[..3].iter().zip(BAR_RGB).all(|(a, b)| a.abs_diff(b) <= 6))
        .count()
}

fn has_khmer(s: &str) -> bool {
    s.chars().any(|c| ('\u{1780}'..='\u{17FF}').contains(&c))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn country_and_measurement_pages_render_in_english_and_khmer() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipping: {CHROMIUM} not found (apt-get install chromium fonts-noto-core)");
        return;
    }
    let server = start(true).await;
    let blocked = server
        .store
        .blocked_now("KH", &Default::default())
        .await
        .unwrap();
    let mid = &blocked
        .iter()
        .find(|b| b.layer.as_deref() == Some("dns"))
        .unwrap()
        .last_measurement_id;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let pages = [
        ("country", "/country/KH".to_string(), true),
        ("measurement", format!("/measurement/{mid}"), false),
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
                    dom.contains("<svg class=\"chart\""),
                    "{name} {lang}: chart in the DOM"
                );
            }
            let file = dir.join(format!("{name}-{lang}.png"));
            let _ = std::fs::remove_file(&file);
            chromium(&[format!("--screenshot={}", file.display()), url.clone()]).await;
            let (w, h, rgba) = decode(&file);
            assert_eq!((w, h), (1280, 1600), "{name} {lang}: screenshot size");
            assert!(
                distinct_colours(&rgba) > 20,
                "{name} {lang}: screenshot is not blank"
            );
            if *chart {
                let bars = bar_pixels(&rgba);
                assert!(bars > 500, "{name} {lang}: chart bars visible ({bars} px)");
            }
            eprintln!("saved {}", file.display());
        }
    }
}
