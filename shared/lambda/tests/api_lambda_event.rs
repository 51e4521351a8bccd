//! The router behind `lambda_http`: an API Gateway HTTP API (payload 2.0) event, as the
//! `ANY /api/{proxy+}` route delivers it, reaches the right handler; the gateway's request id
//! is the one in the answer, and its source IP is the one the audit log records.

mod support;

use console_api::ApiState;
use lambda_http::tower::ServiceExt;
use sync_store::audit::{AuditEvent, AuditFilter};
use sync_store::page::PageRequest;

const GATEWAY_REQUEST_ID: &str = "gw-request-1";
const SOURCE_IP: &str = "192.0.2.10";

fn event(path: &str, method: &str, body: Option<serde_json::Value>) -> lambda_http::Request {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/events/api/http-api-get-health.json"
    ))
    .unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["rawPath"] = path.into();
    json["requestContext"]["http"]["path"] = path.into();
    json["requestContext"]["http"]["method"] = method.into();
    if let Some(body) = body {
        json["body"] = body.to_string().into();
        json["headers"]["content-type"] = "application/json".into();
    }
    lambda_http::request::from_str(&json.to_string()).unwrap()
}

async fn call(state: &ApiState, request: lambda_http::Request) -> (u16, String, serde_json::Value) {
    let app = console_api::router(state.clone());
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, id, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn a_health_event_is_answered_with_the_gateway_request_id() {
    let state = support::state().await;
    let (status, id, body) = call(&state, event("/api/health", "GET", None)).await;
    assert_eq!(status, 200);
    assert_eq!(id, GATEWAY_REQUEST_ID);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn an_unknown_path_in_an_event_is_a_problem_with_the_gateway_request_id() {
    let state = support::state().await;
    let (status, id, body) = call(&state, event("/api/unknown", "GET", None)).await;
    assert_eq!(status, 404);
    assert_eq!(id, GATEWAY_REQUEST_ID);
    assert_eq!(body["request_id"], GATEWAY_REQUEST_ID);
}

#[tokio::test]
async fn a_delete_on_version_is_a_405_problem() {
    let state = support::state().await;
    let (status, _, body) = call(&state, event("/api/version", "DELETE", None)).await;
    assert_eq!(status, 405);
    assert_eq!(body["status"], 405);
}

#[tokio::test]
async fn a_login_event_is_audited_with_the_gateway_source_ip() {
    let state = support::state().await;
    let credentials =
        serde_json::json!({"username": support::ADMIN, "password": support::PASSWORD});
    let (status, _, body) = call(&state, event("/api/auth/login", "POST", Some(credentials))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["token"].is_string());

    let login = state_audit_logins(&state).await;
    assert_eq!(login.len(), 1, "{login:?}");
    assert_eq!(login[0].ip.as_deref(), Some(SOURCE_IP));
    assert_eq!(login[0].actor, support::ADMIN);
}

#[tokio::test]
async fn a_wrong_password_in_an_event_is_401_and_audited_as_failed() {
    let state = support::state().await;
    let credentials =
        serde_json::json!({"username": support::ADMIN, "password": "wrong password!"});
    let (status, id, body) =
        call(&state, event("/api/auth/login", "POST", Some(credentials))).await;
    assert_eq!(status, 401);
    assert_eq!(body["request_id"], id);
    let events = audit(&state, "login.failed").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].ip.as_deref(), Some(SOURCE_IP));
}

async fn state_audit_logins(state: &ApiState) -> Vec<AuditEvent> {
    audit(state, "login").await
}

/// Today's audit events with `action`, read from the store the router wrote to.
async fn audit(state: &ApiState, action: &str) -> Vec<AuditEvent> {
    let today = chrono::Utc::now().date_naive();
    let filter = AuditFilter {
        action: Some(action.to_owned()),
        ..AuditFilter::default()
    };
    let page = state
        .audit
        .query(today, today, &filter, &PageRequest::first(50))
        .await
        .unwrap();
    page.items.into_iter().map(|r| r.event).collect()
}
