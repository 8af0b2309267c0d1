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

#[test]
fn ctrl_c_stops_cleanly_and_keeps_every_finished_measurement() {
    let lab = Lab::start().expect("lab");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("m.jsonl");
    // One at a time: a quick site, then one whose connection hangs until
    // the (long) timeout, then more quick sites that never start.
    let mut child = common::probe_command_with_tcp_timeout(&lab, &helper, "60")
        .args(["--concurrency", "1"])
        .args(["--output", out.to_str().expect("utf-8")])
        .args(urls(
            &lab,
            &["ok_http", "tcp_blackhole", "ok_https", "http_blockpage"],
        ))
        .spawn()
        .expect("probe starts");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&out).map_or(0, |t| t.lines().count()) < 1 {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the probe exited early"
        );
        assert!(
            started.elapsed().as_secs() < 30,
            "the first measurement never came"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let interrupted = std::time::Instant::now();
    let output = child.wait_with_output().expect("probe exits");
    assert!(
        interrupted.elapsed().as_secs() < 10,
        "stopped promptly, not after the 60 s timeout"
    );
    assert_eq!(output.status.code(), Some(130), "interrupted");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--resume"),
        "it says how to continue: {stderr}"
    );
    // Every line is a whole measurement (json_lines fails on a cut line),
    // the first one among them, and the run did not finish.
    let kept = common::json_lines(&out);
    assert!((1..4).contains(&kept.len()), "{} kept", kept.len());
    assert!(kept.iter().all(|m| m["test_keys"]["x_canary"].is_object()));
    assert!(kept
        .iter()
        .any(|m| m["input"] == lab.scenario("ok_http").expect("row").url.as_str()));
}

#[test]
fn with_submit_and_no_collector_measurements_wait_in_the_queue() {
    let lab = Lab::start().expect("lab");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = dir.path().join("queue");
    let output = common::probe_command(&lab, &helper)
        .args([
            "--submit",
            "http://127.0.0.1:1/",
            "--queue",
            queue.to_str().expect("utf-8"),
        ])
        .args([
            "--output",
            dir.path().join("m.jsonl").to_str().expect("utf-8"),
        ])
        .args(urls(&lab, &["ok_http", "dns_nxdomain"]))
        .output()
        .expect("probe runs");
    assert!(
        output.status.success(),
        "measuring worked; only the upload waits"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("0 measurements uploaded") && stderr.contains("2 queued"),
        "{stderr}"
    );
    let waiting = std::fs::read_dir(&queue)
        .expect("queue")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .count();
    assert_eq!(waiting, 2);
}

#[test]
fn a_helper_served_over_https_is_reached_through_its_certificate() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};

    let lab = Lab::start().expect("lab");
    let dir = tempfile::tempdir().expect("tempdir");
    // A CA of our own for the helper's certificate (an IP SAN: 127.0.0.3).
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("key");
    let mut leaf_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    leaf_params.subject_alt_names = vec![SanType::IpAddress("127.0.0.3".parse().expect("ip"))];
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).expect("leaf");
    let cert = dir.path().join("helper.pem");
    let key = dir.path().join("helper-key.pem");
    std::fs::write(&cert, leaf.pem()).expect("write");
    std::fs::write(&key, leaf_key.serialize_pem()).expect("write");
    // The probe trusts the lab's CA (for the sites) and ours (for the helper).
    let roots = dir.path().join("roots.pem");
    std::fs::write(&roots, format!("{}{}", lab.ca_pem(), ca_cert.pem())).expect("write");

    let mut helper = std::process::Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["helper", "--listen", "127.0.0.3:0", "--bind", "127.0.0.3"])
        .args(["--resolver", &lab.control_resolver_addr().to_string()])
        .args(["--ca-file", lab.ca_pem_path().to_str().expect("utf-8")])
        .args(["--routable", lab.routable_cidr()])
        .args(["--tls-cert", cert.to_str().expect("utf-8")])
        .args(["--tls-key", key.to_str().expect("utf-8")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("helper starts");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(helper.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("helper says where it listens");
    let url = line.trim().rsplit(' ').next().expect("url").to_string();
    assert!(url.starts_with("https://127.0.0.3:"), "{line}");

    let out = dir.path().join("m.jsonl");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["probe", "--bind", "127.0.0.2", "--no-system-resolver"])
        .args(["--resolver", &lab.isp_resolver_addr().to_string()])
        .args(["--ca-file", roots.to_str().expect("utf-8")])
        .args(["--routable", lab.routable_cidr(), "--helper", &url])
        .args(["--output", out.to_str().expect("utf-8")])
        .args(urls(&lab, &["ok_https"]))
        .output()
        .expect("probe runs");
    let _ = helper.kill();
    let _ = helper.wait();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let m = &common::json_lines(&out)[0];
    assert!(
        m["test_keys"]["control_failure"].is_null(),
        "{}",
        m["test_keys"]["control_failure"]
    );
    assert_eq!(m["test_keys"]["blocking"], false);
    assert_eq!(m["test_keys"]["accessible"], true);
}
