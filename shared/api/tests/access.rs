//! Every protected route refuses a missing, bad or expired token (401) and every mutation
//! refuses a viewer (403) before looking at the input.

mod support;

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

/// Every route that needs a login: (method, concrete path, is a mutation).
const PROTECTED: &[(&str, &str, bool)] = &[
    ("GET", "/api/auth/me", false),
    ("GET", "/api/connections/zammad", false),
    ("PUT", "/api/connections/zammad", true),
    ("POST", "/api/connections/zammad/test", true),
    ("GET", "/api/connections/kimai", false),
    ("PUT", "/api/connections/kimai", true),
    ("POST", "/api/connections/kimai/test", true),
    ("GET", "/api/pickers/zammad/types", false),
    ("GET", "/api/pickers/zammad/organisations", false),
    ("GET", "/api/pickers/kimai/activities", false),
    ("GET", "/api/pickers/kimai/customers", false),
    ("GET", "/api/pickers/kimai/projects", false),
    ("GET", "/api/pickers/kimai/users", false),
    ("GET", "/api/mappings", false),
    ("GET", "/api/mappings/user", false),
    ("PUT", "/api/mappings/user/4", true),
    ("DELETE", "/api/mappings/user/4", true),
    ("POST", "/api/mappings/user/import", true),
    ("GET", "/api/mappings/user/export", false),
    ("GET", "/api/policies", false),
    ("PUT", "/api/policies", true),
    ("GET", "/api/conflicts", false),
    ("POST", "/api/conflicts/c1/resolve", true),
    ("POST", "/api/conflicts/resolve", true),
    ("POST", "/api/sync-runs", true),
    ("GET", "/api/sync-runs", false),
    ("GET", "/api/sync-runs/export.csv", false),
    ("GET", "/api/schedule", false),
    ("PUT", "/api/schedule", true),
    ("GET", "/api/audit", false),
    ("GET", "/api/audit/export", false),
    ("GET", "/api/health/details", false),
    ("GET", "/api/entries", false),
    ("POST", "/api/entries/approve", true),
    ("GET", "/api/dead-letters", false),
    ("POST", "/api/dead-letters/ticket-sync/replay", true),
    ("POST", "/api/dead-letters/kimai-write/replay", true),
    ("GET", "/api/kpis", false),
    ("POST", "/api/gdpr/export", true),
    ("POST", "/api/gdpr/purge", true),
];

fn method(m: &str) -> Method {
    m.parse().unwrap()
}

#[tokio::test]
async fn no_bad_or_expired_token_is_401_everywhere() {
    let app = App::start().await;
    let token = app.admin().await;
    for &(m, path, _) in PROTECTED {
        let body = Some(json!({}));
        app.call(method(m), path, None, body.clone())
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
        app.call(method(m), path, Some("not.a.token"), body.clone())
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
    }
    app.clock.advance(Duration::hours(8) + Duration::seconds(1));
    for &(m, path, _) in PROTECTED {
        let reply = app
            .call(method(m), path, Some(&token), Some(json!({})))
            .await;
        reply.assert_problem(StatusCode::UNAUTHORIZED);
        assert!(
            reply.json["detail"].as_str().unwrap().contains("expired"),
            "{m} {path}"
        );
    }
}

#[tokio::test]
async fn viewers_read_but_never_change() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.configure(&admin).await;
    app.call(
        Method::PUT,
        "/api/mappings/user/4",
        Some(&admin),
        Some(json!({"kimai": 2})),
    )
    .await;
    let before = app
        .call(Method::GET, "/api/mappings", Some(&admin), None)
        .await
        .json;
    let viewer = app.viewer().await;
    for &(m, path, mutation) in PROTECTED {
        let reply = app
            .call(method(m), path, Some(&viewer), Some(json!({"kimai": 1})))
            .await;
        if mutation {
            reply.assert_problem(StatusCode::FORBIDDEN);
        } else {
            assert_eq!(reply.status, StatusCode::OK, "{m} {path}: {}", reply.text);
        }
    }
    assert_eq!(
        app.call(Method::GET, "/api/mappings", Some(&admin), None)
            .await
            .json,
        before
    );
    app.assert_never_sent_or_logged(&[
        ZAMMAD_TOKEN,
        KIMAI_TOKEN,
        ADMIN_PASSWORD,
        VIEWER_PASSWORD,
        SIGNING_KEY,
    ]);
    // Login tokens are never logged either.
    assert!(!app.logs().contains(&admin));
    assert!(!app.logs().contains(&viewer));
}
