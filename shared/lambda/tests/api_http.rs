//! The api function's router (console-api's) served on a loopback port, spoken to over real HTTP:
//! the paths the deployment checks (health, version, problems, login) behave as the smoke test
//! and the console expect.

mod support;

use console_api::ApiState;
use std::sync::Arc;
use std::time::Duration;
use sync_store::aws::DynamoControl;
use sync_store::control::ControlStore;

struct Served {
    base: String,
    client: reqwest::Client,
}

async fn serve(state: ApiState) -> Served {
    Served {
        base: test_support::apps::serve(state).await,
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

impl Served {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn health_is_ok_when_the_store_answers() {
    let api = serve(support::state().await).await;
    let response = api.get("/api/health").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["store"], "ok");
}

#[tokio::test]
async fn health_is_503_degraded_when_the_store_refuses_connections() {
    // Bind and drop: nothing listens on this port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let control = dynamo_control_at(&format!("http://127.0.0.1:{port}"));
    let api = serve(support::state_with(control).await).await;
    let response = api.get("/api/health").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["store"], "unavailable");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no endpoint details leak into the answer: {body}"
    );
}

#[tokio::test]
async fn health_is_503_when_the_store_does_not_answer_in_time() {
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let mut state = support::state_with(dynamo_control_at(&format!("http://{addr}"))).await;
    state.health_timeout = Duration::from_millis(300);
    let api = serve(state).await;
    let response = api.get("/api/health").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["store"], "timeout");
}

#[tokio::test]
async fn version_names_a_version() {
    let api = serve(support::state().await).await;
    let response = api.get("/api/version").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["name"], "console-api");
    assert!(!body["version"].as_str().unwrap().is_empty(), "{body}");
}

#[tokio::test]
async fn the_openapi_document_is_served_without_login() {
    let api = serve(support::state().await).await;
    let response = api.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["openapi"].as_str().unwrap().starts_with("3."),
        "{body}"
    );
    assert!(body["paths"]["/api/auth/login"].is_object());
}

#[tokio::test]
async fn the_admin_logs_in_and_a_protected_route_needs_the_token() {
    let api = serve(support::state().await).await;
    let without = api.get("/api/auth/me").await;
    assert_eq!(without.status(), 401);
    problem_of(without).await;

    let login = api
        .client
        .post(format!("{}/api/auth/login", api.base))
        .json(&serde_json::json!({"username": support::ADMIN, "password": support::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let body: serde_json::Value = login.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let me = api
        .client
        .get(format!("{}/api/auth/me", api.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["username"], support::ADMIN);
    assert_eq!(me["role"], "admin");
}

#[tokio::test]
async fn an_unknown_path_is_a_404_problem_with_the_callers_request_id() {
    let api = serve(support::state().await).await;
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
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("/api/nothing-here")
    );
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let api = serve(support::state().await).await;
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
