//! Request ids, problem+json errors, health, version and the OpenAPI document.

mod support;

use reqwest::{Method, StatusCode};
use support::App;

#[tokio::test]
async fn health_and_version_answer_without_login() {
    let app = App::start().await;
    let health = app.call(Method::GET, "/api/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json["store"], "ok");
    assert!(health.headers.contains_key("x-request-id"));
    let version = app.call(Method::GET, "/api/version", None, None).await;
    assert_eq!(version.status, StatusCode::OK);
    assert_eq!(version.json["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems_with_request_ids() {
    let app = App::start().await;
    let missing = app.call(Method::GET, "/api/nothing-here", None, None).await;
    missing.assert_problem(StatusCode::NOT_FOUND);
    assert_eq!(missing.json["type"], "/api/problems/not-found");
    let wrong = app.call(Method::DELETE, "/api/health", None, None).await;
    wrong.assert_problem(StatusCode::METHOD_NOT_ALLOWED);

    // Each request gets its own id; a caller's own id is kept.
    let a = app.call(Method::GET, "/api/version", None, None).await;
    let b = app.call(Method::GET, "/api/version", None, None).await;
    assert_ne!(a.headers["x-request-id"], b.headers["x-request-id"]);
    let mine = app
        .send(
            app.request(Method::GET, "/api/nothing", None)
                .header("x-request-id", "my-id-1"),
        )
        .await;
    assert_eq!(mine.headers["x-request-id"], "my-id-1");
    assert_eq!(mine.json["request_id"], "my-id-1");
}

#[tokio::test]
async fn malformed_json_is_a_400_problem_never_a_500() {
    let app = App::start().await;
    for (body, content_type) in [
        ("{not json", "application/json"),
        ("{\"username\": 5, \"password\": \"x\"}", "application/json"),
        ("{\"username\": \"a\"}", "application/json"),
        ("username=a&password=b", "application/x-www-form-urlencoded"),
        ("", "application/json"),
    ] {
        let reply = app
            .send(
                app.request(Method::POST, "/api/auth/login", None)
                    .header("content-type", content_type)
                    .body(body),
            )
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(reply.error_fields(), ["body"], "{body}: {}", reply.text);
    }
}

#[tokio::test]
async fn an_oversized_json_body_is_a_413_problem() {
    let app = App::start().await;
    let huge = format!(
        "{{\"username\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(3 << 20)
    );
    let reply = app
        .send(
            app.request(Method::POST, "/api/auth/login", None)
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    reply.assert_problem(StatusCode::PAYLOAD_TOO_LARGE);
}

/// Every route of the router, as (method, OpenAPI path).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/health"),
    ("get", "/api/version"),
    ("get", "/api/openapi.json"),
    ("post", "/api/auth/login"),
    ("get", "/api/auth/me"),
    ("get", "/api/connections/zammad"),
    ("put", "/api/connections/zammad"),
    ("post", "/api/connections/zammad/test"),
    ("get", "/api/connections/kimai"),
    ("put", "/api/connections/kimai"),
    ("post", "/api/connections/kimai/test"),
    ("get", "/api/pickers/zammad/types"),
    ("get", "/api/pickers/zammad/organisations"),
    ("get", "/api/pickers/kimai/activities"),
    ("get", "/api/pickers/kimai/customers"),
    ("get", "/api/pickers/kimai/projects"),
    ("get", "/api/pickers/kimai/users"),
    ("get", "/api/mappings"),
    ("get", "/api/mappings/{kind}"),
    ("put", "/api/mappings/{kind}/{zammad}"),
    ("delete", "/api/mappings/{kind}/{zammad}"),
    ("post", "/api/mappings/{kind}/import"),
    ("get", "/api/mappings/{kind}/export"),
    ("get", "/api/policies"),
    ("put", "/api/policies"),
    ("get", "/api/conflicts"),
    ("post", "/api/conflicts/{id}/resolve"),
    ("post", "/api/conflicts/resolve"),
    ("post", "/api/sync-runs"),
    ("get", "/api/sync-runs"),
    ("get", "/api/sync-runs/{id}"),
    ("get", "/api/sync-runs/export.csv"),
    ("get", "/api/schedule"),
    ("put", "/api/schedule"),
    ("post", "/api/auth/password"),
    ("get", "/api/users"),
    ("post", "/api/users"),
    ("patch", "/api/users/{username}"),
    ("delete", "/api/users/{username}"),
    ("post", "/api/users/{username}/reset-password"),
    ("get", "/api/notifications"),
    ("put", "/api/notifications"),
    ("post", "/api/notifications/test"),
    ("get", "/api/audit"),
    ("get", "/api/audit/export"),
    ("get", "/api/health/details"),
    ("get", "/api/entries"),
    ("post", "/api/entries/approve"),
    ("get", "/api/dead-letters"),
    ("post", "/api/dead-letters/{queue}/replay"),
    ("get", "/api/kpis"),
    ("post", "/api/gdpr/export"),
    ("post", "/api/gdpr/purge"),
    ("get", "/api/gdpr/purges/{id}"),
];

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let app = App::start().await;
    let doc = app.document().await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut listed = 0;
    for (path, ops) in paths {
        listed += ops.as_object().unwrap().len();
        assert!(path.starts_with("/api/"), "{path}");
    }
    for (method, path) in ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    assert_eq!(
        listed,
        ROUTES.len(),
        "the document lists a route the test does not know"
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}
