//! The console API behind CloudFront: only requests carrying the origin secret get through (no
//! direct execute-api access), the client's address is the one CloudFront saw, and the
//! per-account lockout holds against guesses spread over many addresses.

mod support;

use console_api::context::{ORIGIN_VERIFY_HEADER, VIEWER_ADDRESS_HEADER, viewer_ip};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

const ORIGIN_SECRET_NAME: &str = "console-origin";
const ORIGIN_SECRET: &str = "9f2c1e7a4b8d3f6a0c5e2b7d9a1f4c8e";

async fn behind_cloudfront() -> App {
    App::start_edited(|state, stores| {
        state.secret_names.origin = Some(ORIGIN_SECRET_NAME.into());
        stores.secrets.set(ORIGIN_SECRET_NAME, ORIGIN_SECRET);
    })
    .await
}

/// A login as CloudFront forwards it: the origin secret and the viewer's `ip:port`.
async fn login_from(app: &App, viewer: &str, user: &str, password: &str) -> Reply {
    let r = app
        .request(Method::POST, "/api/auth/login", None)
        .header(ORIGIN_VERIFY_HEADER, ORIGIN_SECRET)
        .header(VIEWER_ADDRESS_HEADER, viewer)
        .json(&json!({"username": user, "password": password}));
    app.send(r).await
}

#[tokio::test]
async fn without_the_origin_secret_every_route_is_refused_before_it_runs() {
    let app = behind_cloudfront().await;
    // Straight to the API, as to its execute-api URL: no header, a wrong one, a prefix of it.
    for secret in [None, Some("wrong"), Some(&ORIGIN_SECRET[..16])] {
        for (method, path) in [
            (Method::POST, "/api/auth/login"),
            (Method::GET, "/api/health"),
            (Method::GET, "/api/no-such-route"),
        ] {
            let mut r = app
                .request(method.clone(), path, None)
                .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}));
            if let Some(s) = secret {
                r = r.header(ORIGIN_VERIFY_HEADER, s);
            }
            let reply = app.send(r).await;
            reply.assert_problem(StatusCode::FORBIDDEN);
            assert!(
                reply.json["detail"]
                    .as_str()
                    .unwrap()
                    .contains("console's address"),
                "{}",
                reply.text
            );
            assert!(reply.json["request_id"].is_string(), "{}", reply.text);
            assert!(
                !reply.text.contains(ORIGIN_SECRET),
                "the secret is never echoed"
            );
        }
    }
    assert!(
        app.audit_records().await.is_empty(),
        "refused before any handler: nothing audited, nothing written"
    );
    assert!(
        !app.logs().contains(ORIGIN_SECRET),
        "the secret is never logged"
    );
}

#[tokio::test]
async fn through_cloudfront_the_client_address_is_the_viewers() {
    let app = behind_cloudfront().await;
    let reply = login_from(&app, "198.51.100.10:46532", ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = login_from(&app, "2001:db8::7:443", ADMIN, "wrong").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    let ips: Vec<(String, Option<String>)> = app
        .audit_records()
        .await
        .into_iter()
        .map(|r| (r.event.action, r.event.ip))
        .collect();
    assert!(
        ips.contains(&("login".into(), Some("198.51.100.10".into()))),
        "{ips:?}"
    );
    assert!(
        ips.contains(&("login.failed".into(), Some("2001:db8::7".into()))),
        "{ips:?}"
    );
}

#[test]
fn the_viewer_address_is_read_as_cloudfront_writes_it() {
    assert_eq!(
        viewer_ip("198.51.100.10:46532").as_deref(),
        Some("198.51.100.10")
    );
    assert_eq!(
        viewer_ip("2001:db8:0:0::1:443").as_deref(),
        Some("2001:db8::1")
    );
    assert_eq!(viewer_ip("198.51.100.10"), None, "no port");
    assert_eq!(viewer_ip("not-an-ip:80"), None);
    assert_eq!(viewer_ip(""), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_guesses_from_thirty_addresses_get_the_accounts_ten_tries() {
    let app = behind_cloudfront().await;
    // One guess per address: the per-address throttle alone would let all thirty through.
    let guesses = (0..30).map(|i| {
        let app = &app;
        async move {
            login_from(
                app,
                &format!("203.0.113.{i}:5000"),
                ADMIN,
                &format!("guess-{i}"),
            )
            .await
            .status
        }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let count = |status| answers.iter().filter(|s| **s == status).count();
    assert_eq!(
        (
            count(StatusCode::UNAUTHORIZED),
            count(StatusCode::TOO_MANY_REQUESTS)
        ),
        (10, 20),
        "{answers:?}"
    );
    let actions: Vec<String> = app
        .audit_records()
        .await
        .into_iter()
        .map(|r| r.event.action)
        .collect();
    let tried = actions.iter().filter(|a| *a == "login.failed").count();
    let locked = actions.iter().filter(|a| *a == "login.locked").count();
    assert_eq!((tried, locked), (10, 20), "ten passwords were checked");

    // Locked: even the right password, from a new address, waits; the answer says how long.
    let reply = login_from(&app, "192.0.2.1:443", ADMIN, ADMIN_PASSWORD).await;
    reply.assert_problem(StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "locked for the base time: {wait}");
    // Another account is not locked.
    let reply = login_from(&app, "192.0.2.1:443", VIEWER, VIEWER_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    // After the lock, one more try; a success clears the count.
    app.clock.advance(chrono::Duration::seconds(31));
    let reply = login_from(&app, "192.0.2.1:443", ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = login_from(&app, "192.0.2.2:443", ADMIN, "wrong again").await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "the count started over: {}",
        reply.text
    );
}
