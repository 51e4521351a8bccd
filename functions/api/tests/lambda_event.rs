//! The router behind `lambda_http`: an API Gateway HTTP API (payload 2.0) event, as the
//! `ANY /api/{proxy+}` route delivers it, reaches the right handler, and the invocation's
//! request id is the one in the answer.

use api::{AppState, router};
use lambda_http::tower::ServiceExt;
use std::sync::Arc;
use sync_store::memory::MemoryControl;

fn event(path: &str, method: &str) -> lambda_http::Request {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/events/http-api-get-health.json"
    ))
    .unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["rawPath"] = path.into();
    json["requestContext"]["http"]["path"] = path.into();
    json["requestContext"]["http"]["method"] = method.into();
    let mut request = lambda_http::request::from_str(&json.to_string()).unwrap();
    let mut context = lambda_http::Context::default();
    context.request_id = "lambda-invocation-42".to_owned();
    request.extensions_mut().insert(context);
    request
}

async fn call(request: lambda_http::Request) -> (u16, String, serde_json::Value) {
    let app = router(AppState::new(Arc::new(MemoryControl::new())));
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
async fn a_health_event_is_answered_with_the_invocation_request_id() {
    let (status, id, body) = call(event("/api/health", "GET")).await;
    assert_eq!(status, 200);
    assert_eq!(id, "lambda-invocation-42");
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn an_unknown_path_in_an_event_is_a_problem_with_the_invocation_request_id() {
    let (status, id, body) = call(event("/api/unknown", "GET")).await;
    assert_eq!(status, 404);
    assert_eq!(id, "lambda-invocation-42");
    assert_eq!(body["request_id"], "lambda-invocation-42");
}

#[tokio::test]
async fn a_delete_on_version_is_a_405_problem() {
    let (status, _, body) = call(event("/api/version", "DELETE")).await;
    assert_eq!(status, 405);
    assert_eq!(body["status"], 405);
}
