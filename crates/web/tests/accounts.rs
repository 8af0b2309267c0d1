//! Accounts on loopback: login, logout, throttling, CSRF, roles, policy.

mod common;

use canary_web::accounts::Role;
use canary_web::AccessPolicy;
use common::{start, start_with, Client, PASSWORD};
use reqwest::StatusCode;

#[tokio::test]
async fn login_sets_a_hardened_session_cookie_and_logout_ends_it() {
    let server = start(false).await;
    server.add_user("ana", Role::Admin).await;
    let mut c = Client::new(&server);
    let r = c.login("ana", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("canary_session="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let home = c.get("/").await;
    assert!(home.body.contains("ana"), "logged in as ana");
    assert_eq!(c.get("/admin/users").await.status, StatusCode::OK);
    let csrf = Client::csrf(&home.body);
    let out = c.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!c.cookies.contains_key("canary_session"));
    assert_eq!(c.get("/admin/users").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn secure_deployments_use_host_prefixed_secure_cookies() {
    let server = start_with(false, |cfg| cfg.cookie_secure = true).await;
    server.add_user("sec", Role::Viewer).await;
    let mut c = Client::new(&server);
    let page = c.get("/login").await;
    let csrf_cookie = page.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        csrf_cookie.starts_with("__Host-canary_csrf=") && csrf_cookie.contains("Secure"),
        "{csrf_cookie}"
    );
    let csrf = Client::csrf(&page.body);
    let r = c
        .post_form(
            "/login",
            &[("name", "sec"), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    let set = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        set.starts_with("__Host-canary_session=")
            && set.contains("; Secure")
            && set.contains("Path=/"),
        "{set}"
    );
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_throttled() {
    let server = start(false).await;
    server.add_user("bo", Role::Viewer).await;
    let mut c = Client::new(&server);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(c.login("bo", "wrong password!!").await.status.as_u16());
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429]);
    // locked out even with the right password, with a clear message
    let r = c.login("bo", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Too many failed attempts"));
    // the source is locked out too: guessing another account does not help
    let mut d = Client::new(&server);
    assert_eq!(
        d.login("other", "whatever123").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // unknown users get the same answer as wrong passwords
    let fresh = start(false).await;
    let mut e = Client::new(&fresh);
    assert_eq!(
        e.login("nobody", "whatever123").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused() {
    let server = start(false).await;
    server.add_user("cy", Role::Admin).await;
    let mut c = Client::new(&server);
    let _ = c.get("/login").await;
    for token in [
        "",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "<script>",
    ] {
        let r = c
            .post_form(
                "/login",
                &[("name", "cy"), ("password", PASSWORD), ("csrf", token)],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "login with csrf {token:?}");
    }
    // no cookie at all (a cross-site form post)
    let mut fresh = Client::new(&server);
    let r = fresh
        .post_form(
            "/login",
            &[("name", "cy"), ("password", PASSWORD), ("csrf", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // logged in: the session's token is required on admin forms too
    assert_eq!(c.login("cy", PASSWORD).await.status, StatusCode::SEE_OTHER);
    let r = c
        .post_form(
            "/admin/users",
            &[
                ("name", "eve"),
                ("password", PASSWORD),
                ("role", "admin"),
                ("csrf", "bad"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(server.store.user_by_name("eve").await.unwrap().is_none());
}

#[tokio::test]
async fn only_admins_manage_users() {
    let server = start(false).await;
    server.add_user("admin1", Role::Admin).await;
    server.add_user("viewer1", Role::Viewer).await;
    server.add_user("analyst1", Role::Analyst).await;
    let mut anon = Client::new(&server);
    assert_eq!(
        anon.get("/admin/users").await.status,
        StatusCode::UNAUTHORIZED
    );
    for name in ["viewer1", "analyst1"] {
        let mut c = Client::new(&server);
        assert_eq!(c.login(name, PASSWORD).await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            c.get("/admin/users").await.status,
            StatusCode::FORBIDDEN,
            "{name}"
        );
        let csrf = Client::csrf(&c.get("/").await.body);
        let r = c
            .post_form(
                "/admin/users",
                &[
                    ("name", "x1"),
                    ("password", PASSWORD),
                    ("role", "admin"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{name} cannot create users"
        );
    }
    let mut admin = Client::new(&server);
    admin.login("admin1", PASSWORD).await;
    let page = admin.get("/admin/users").await;
    let csrf = Client::csrf(&page.body);
    let r = admin
        .post_form(
            "/admin/users",
            &[
                ("name", "newbie"),
                ("password", PASSWORD),
                ("role", "analyst"),
                ("org", "LICADHO"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (user, hash) = server.store.user_by_name("newbie").await.unwrap().unwrap();
    assert_eq!(user.role, "analyst");
    assert!(
        hash.starts_with("$argon2id$"),
        "argon2id hash, not the password"
    );
    // weak password and bad role: refused with the reason
    for (pw, role) in [("short", "viewer"), (PASSWORD, "superuser")] {
        let r = admin
            .post_form(
                "/admin/users",
                &[
                    ("name", "weak"),
                    ("password", pw),
                    ("role", role),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{pw} {role}");
    }
    // disable the viewer: their session ends and they cannot log in
    let mut v = Client::new(&server);
    v.login("viewer1", PASSWORD).await;
    let (viewer, _) = server.store.user_by_name("viewer1").await.unwrap().unwrap();
    let r = admin
        .post_form(
            &format!("/admin/users/{}", viewer.id),
            &[("role", "viewer"), ("disabled", "1"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!v.get("/").await.body.contains("viewer1"), "session ended");
    assert_eq!(
        v.login("viewer1", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_access_policy_can_close_the_explorer_and_api() {
    let server = start_with(true, |cfg| {
        cfg.access = AccessPolicy {
            explorer: Some(Role::Viewer),
            api: Some(Role::Analyst),
            raw: Some(Role::Analyst),
            submit: None,
        }
    })
    .await;
    server.add_user("vi", Role::Viewer).await;
    let mut anon = Client::new(&server);
    assert_eq!(
        anon.get("/country/KH").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        anon.get("/api/v1/countries/KH/blocked").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        anon.get("/login").await.status,
        StatusCode::OK,
        "login stays reachable"
    );
    let mut v = Client::new(&server);
    v.login("vi", PASSWORD).await;
    assert_eq!(v.get("/country/KH").await.status, StatusCode::OK);
    assert_eq!(
        v.get("/api/v1/countries/KH/blocked").await.status,
        StatusCode::FORBIDDEN
    );
}
