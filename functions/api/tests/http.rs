//! The API router served on a loopback port, spoken to over real HTTP.

use api::{AppState, router};
use std::sync::Arc;
use std::time::Duration;
use sync_store::aws::DynamoControl;
use sync_store::control::ControlStore;
use sync_store::memory::MemoryControl;

struct Served {
    base: String,
    client: reqwest::Client,
}

async fn serve(state: AppState) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    Served {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
    }
}

/// A real DynamoDB client aimed at `endpoint`, without retries so failures show at once.
fn dynamo_control_at(endpoint: &str) -> Arc<dyn ControlStore> {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    Arc::new(DynamoControl::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        "control",
    ))
}

async fn problem_of(response: reqwest::Response) -> serde_json::Value {
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let header_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["request_id"], header_id,
        "body and header name the same request"
    );
    body
}

#[tokio::test]
async fn health_is_ok_when_the_store_answers() {
    let api = serve(AppState::new(Arc::new(MemoryControl::new()))).await;
    let response = api
        .client
        .get(format!("{}/api/health", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["checks"]["store"]["status"], "ok");
    assert!(body["checks"]["store"]["latency_ms"].is_u64());
}

#[tokio::test]
async fn health_is_503_problem_when_the_store_refuses_connections() {
    // Bind and drop: nothing listens on this port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let api = serve(AppState::new(dynamo_control_at(&format!(
        "http://127.0.0.1:{port}"
    ))))
    .await;
    let response = api
        .client
        .get(format!("{}/api/health", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body = problem_of(response).await;
    assert_eq!(body["status"], 503);
    assert_eq!(body["title"], "Service Unavailable");
    assert!(
        body["detail"].as_str().unwrap().contains("unavailable"),
        "{body}"
    );
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no endpoint details leak into the answer: {body}"
    );
}

#[tokio::test]
async fn health_is_503_problem_when_the_store_does_not_answer_in_time() {
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let mut state = AppState::new(dynamo_control_at(&format!("http://{addr}")));
    state.health_timeout = Duration::from_millis(300);
    let api = serve(state).await;
    let response = api
        .client
        .get(format!("{}/api/health", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body = problem_of(response).await;
    assert!(
        body["detail"].as_str().unwrap().contains("in time"),
        "{body}"
    );
}

#[tokio::test]
async fn version_names_the_package_version() {
    let api = serve(AppState::new(Arc::new(MemoryControl::new()))).await;
    let response = api
        .client
        .get(format!("{}/api/version", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["name"], "zammad-kimai-sync");
}

#[tokio::test]
async fn an_unknown_path_is_a_404_problem_with_the_callers_request_id() {
    let api = serve(AppState::new(Arc::new(MemoryControl::new()))).await;
    let response = api
        .client
        .get(format!("{}/api/nothing-here", api.base))
        .header("x-request-id", "req-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body = problem_of(response).await;
    assert_eq!(body["request_id"], "req-abc-123");
    assert_eq!(body["status"], 404);
    assert_eq!(body["type"], "about:blank");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("/api/nothing-here")
    );
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let api = serve(AppState::new(Arc::new(MemoryControl::new()))).await;
    let response = api
        .client
        .post(format!("{}/api/health", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let body = problem_of(response).await;
    assert_eq!(body["status"], 405);
    // Without a caller id the server makes one up; it must not be empty.
    assert!(!body["request_id"].as_str().unwrap().is_empty());
}
