//! Helpers shared by the service tests: audit reads and a queue whose SQS endpoint is down.

#![allow(dead_code)]

use chrono::Utc;
use sync_store::audit::{AuditFilter, AuditLog, AuditRecord};
use sync_store::aws::SqsQueue;
use sync_store::page::PageRequest;
use sync_store::queue::QueueMessage;

/// Every audit record of today (UTC), newest first.
pub async fn audit_today(audit: &dyn AuditLog) -> Vec<AuditRecord> {
    let today = Utc::now().date_naive();
    audit
        .query(
            today,
            today,
            &AuditFilter::default(),
            &PageRequest::first(500),
        )
        .await
        .expect("audit query")
        .items
}

/// The real SQS adapter, pointed at a loopback port nobody listens on: every send fails the way
/// an unreachable SQS does (a retryable `Unavailable`). SDK retries are off to keep tests fast.
pub fn unreachable_queue<M: QueueMessage>() -> SqsQueue<M> {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        listener.local_addr().expect("address").port()
    };
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .retry_config(RetryConfig::disabled())
        .build();
    SqsQueue::new(
        aws_sdk_sqs::Client::from_conf(config),
        format!("http://127.0.0.1:{port}/000000000000/ticket-sync"),
    )
}
