//! With the store unreachable (a DynamoDB endpoint where nothing listens) the API answers
//! health 503 and requests 503 problems, never a 500 or a hang.

mod support;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use reqwest::{Method, StatusCode};
use std::sync::Arc;
use support::*;
use sync_store::aws::DynamoControl;

#[tokio::test]
async fn an_unreachable_store_is_503_everywhere() {
    let app = App::start().await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    let mut state = app.state.clone();
    state.control = Arc::new(DynamoControl::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        "control",
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(console_api::serve(listener, console_api::router(state)));

    let http = reqwest::Client::new();
    let health = http.get(format!("{base}/api/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "degraded");

    let login = http
        .request(Method::POST, format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(login.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = login.json().await.unwrap();
    assert_eq!(problem["type"], "/api/problems/unavailable");
    assert!(problem["request_id"].is_string());
}
