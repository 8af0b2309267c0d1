//! `canary probe` options a deployment needs, run as real processes against
//! the lab: network naming from an ASN table, resuming, stored test lists.

mod common;

use std::io::Write;

use canary_lab::Lab;

fn urls(lab: &Lab, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| lab.scenario(n).expect("scenario").url.clone())
        .collect()
}

#[test]
fn an_asn_table_names_the_probe_s_network_from_the_address_the_helper_saw() {
    let lab = Lab::start().expect("lab");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let table = dir.path().join("asn.tsv");
    std::fs::write(
        &table,
        "127.0.0.2\t127.0.0.2\t38623\tKH\tVIETTEL-KH Viettel (Cambodia)\n",
    )
    .expect("write table");
    let out = dir.path().join("m.jsonl");
    let status = common::probe_command(&lab, &helper)
        .args(["--asn-db", table.to_str().expect("utf-8")])
        .args(["--output", out.to_str().expect("utf-8")])
        .args(urls(&lab, &["ok_http"]))
        .status()
        .expect("probe runs");
    assert!(status.success());
    let m = &common::json_lines(&out)[0];
    assert_eq!(m["probe_asn"], "AS38623");
    assert_eq!(m["probe_cc"], "KH");
    assert_eq!(m["probe_network_name"], "VIETTEL-KH Viettel (Cambodia)");
    assert!(
        !m.to_string().contains("127.0.0.2"),
        "the address itself is still scrubbed"
    );
}

#[test]
fn resume_measures_only_what_is_missing_and_appends() {
    let lab = Lab::start().expect("lab");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("m.jsonl");
    let out_arg = out.to_str().expect("utf-8");
    let first = urls(&lab, &["ok_http", "dns_nxdomain"]);
    let status = common::probe_command(&lab, &helper)
        .args(["--output", out_arg])
        .args(&first)
        .status()
        .expect("probe runs");
    assert!(status.success());

    // Running again without --resume must not clobber the file.
    let refused = common::probe_command(&lab, &helper)
        .args(["--output", out_arg])
        .args(&first)
        .output()
        .expect("probe runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));

    let all = urls(&lab, &["ok_http", "dns_nxdomain", "ok_https"]);
    let output = common::probe_command(&lab, &helper)
        .args(["--output", out_arg, "--resume"])
        .args(&all)
        .output()
        .expect("probe runs");
    assert!(output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("2 of 3 URLs already measured"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let inputs: Vec<String> = common::json_lines(&out)
        .iter()
        .map(|m| m["input"].as_str().expect("input").to_string())
        .collect();
    assert_eq!(inputs.len(), 3, "{inputs:?}");
    for url in &all {
        assert_eq!(inputs.iter().filter(|i| *i == url).count(), 1, "{url} once");
    }
}

#[test]
fn country_lists_come_from_the_lists_folder_with_their_categories() {
    let lab = Lab::start().expect("lab");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let lists = dir.path().join("lists");
    std::fs::create_dir(&lists).expect("mkdir");
    let header = "url,category_code,category_description,date_added,source,notes\n";
    let mut kh = std::fs::File::create(lists.join("kh.csv")).expect("kh.csv");
    writeln!(
        kh,
        "{header}{},NEWS,News Media,2024-01-01,test,",
        lab.scenario("http_blockpage").expect("row").url
    )
    .expect("write");
    let mut global = std::fs::File::create(lists.join("global.csv")).expect("global.csv");
    writeln!(
        global,
        "{header}{},GRP,Social Networking,2024-01-01,test,\n{},NEWS,News Media,2024-01-01,test,",
        lab.scenario("ok_https").expect("row").url,
        lab.scenario("http_blockpage").expect("row").url
    )
    .expect("write");
    let out = dir.path().join("m.jsonl");
    let status = common::probe_command(&lab, &helper)
        .args([
            "--country",
            "KH",
            "--lists-dir",
            lists.to_str().expect("utf-8"),
        ])
        .args(["--output", out.to_str().expect("utf-8")])
        .status()
        .expect("probe runs");
    assert!(status.success());
    let ms = common::json_lines(&out);
    assert_eq!(ms.len(), 2, "the duplicate URL is measured once");
    for m in &ms {
        let cat = m["annotations"]["category_code"]
            .as_str()
            .expect("category");
        assert!(["NEWS", "GRP"].contains(&cat));
    }
}

#[test]
fn without_stored_lists_the_probe_says_how_to_get_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_canary"))
        .args([
            "probe",
            "--country",
            "KH",
            "--lists-dir",
            dir.path().to_str().expect("utf-8"),
        ])
        .output()
        .expect("probe runs");
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("canary lists update --country KH"), "{err}");
}
