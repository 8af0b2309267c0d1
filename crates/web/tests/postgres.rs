//! The same server over PostgreSQL (`CANARY_TEST_POSTGRES_URL`, started by
//! `scripts/start-postgres`): demo, pages, collector and login. Skipped with
//! a message when the variable is unset; a connection failure then FAILS.
//! The database may be shared: every id and user name here is unique.

mod common;

use canary_store::Store;
use canary_web::accounts::{create_user, PasswordParams, Role};
use canary_web::serve;
use common::{test_config, Client, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn pages_collector_and_login_work_over_postgres() {
    let Ok(url) = std::env::var("CANARY_TEST_POSTGRES_URL") else {
        eprintln!("skipping: CANARY_TEST_POSTGRES_URL not set");
        return;
    };
    let store = Store::open(&url).await.expect("PostgreSQL reachable");
    canary_web::demo::load(&store).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = serve(test_config(store.clone()), listener).await.unwrap();
    let server = common::TestServer::from_parts(handle, store.clone());
    let mut c = Client::new(&server);
    for lang in ["en", "km"] {
        let r = c.get(&format!("/country/KH?lang={lang}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("<svg class=\"chart\"") && r.body.contains("AS64500"));
    }
    let nonce = format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let (ms, _) = canary_web::demo::dataset().unwrap();
    let mut v: Value = serde_json::from_slice(&ms[0].raw_json).unwrap();
    let uid = format!("20241101000000.000001_KH_webconnectivity_pg{nonce}");
    v["measurement_uid"] = json!(uid);
    let body = serde_json::to_vec(&v).unwrap();
    assert_eq!(
        c.post_body("/api/v1/submit", body.clone()).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        c.post_body("/api/v1/submit", body).await.status,
        StatusCode::OK
    );
    assert!(store.measurement(&uid).await.unwrap().is_some());
    assert_eq!(
        c.get(&format!("/measurement/{uid}?lang=km")).await.status,
        StatusCode::OK
    );
    let name = format!("pg{}", &nonce[nonce.len() - 12..]);
    create_user(
        &store,
        &name,
        PASSWORD,
        Role::Admin,
        None,
        &PasswordParams::insecure_for_tests(),
    )
    .await
    .unwrap();
    assert_eq!(c.login(&name, PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/admin/users").await.status, StatusCode::OK);
}
