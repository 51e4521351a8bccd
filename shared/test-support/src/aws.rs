//! The AWS side of the tests: the local emulator's configuration, tables under fresh names, and
//! an SQS queue that is never reachable.
//!
//! Tests on the emulator (files named `*aws*`) run with `AWS_ENDPOINT_URL` at a loopback port,
//! through `make test` or `infra/local-aws/with-emulator.sh cargo nextest run -p <crate>`.
//! They never talk to a real AWS account: [`emulator_config`] refuses any other endpoint.

use sync_store::aws::SqsQueue;
use sync_store::aws::provision::create_table;
use sync_store::queue::QueueMessage;
use sync_store::schema::TableDef;

/// The SDK configuration of the local emulator; panics, saying how to start it, unless
/// `AWS_ENDPOINT_URL` points at loopback.
pub async fn emulator_config() -> aws_config::SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1:") || endpoint.starts_with("http://localhost:"),
        "AWS_ENDPOINT_URL must point at the local emulator (got {endpoint:?}). Start it and run \
         the tests through `make test`, or `infra/local-aws/with-emulator.sh cargo nextest run \
         -p <crate>`."
    );
    sync_store::aws::load_config().await
}

/// `name` under a random prefix (`t<10 hex>-<name>`), so every test creates its own tables,
/// queues and secrets and tests run in parallel on one emulator.
pub fn unique(name: &str) -> String {
    format!("{}-{name}", unique_prefix())
}

/// A random prefix for a test's resources: `t` and 10 hex digits.
fn unique_prefix() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("t{}", &id[..10])
}

/// Creates the table of `def` in the emulator under a [`unique`] name; that name.
pub async fn table(dynamo: &aws_sdk_dynamodb::Client, def: &TableDef) -> String {
    let name = unique(def.logical);
    create_table(dynamo, def, &name)
        .await
        .expect("create table");
    name
}

/// The real SQS adapter, pointed at a loopback port nobody listens on, for the queue `name`:
/// every call fails the way an unreachable SQS does (a retryable `Unavailable`). SDK retries
/// are off so the failure shows at once.
pub fn unreachable_queue<M: QueueMessage>(name: &str) -> SqsQueue<M> {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    let port = {
        // Bound and dropped at once: the port is free and nothing answers on it.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        listener.local_addr().expect("bound address").port()
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint.clone())
        .retry_config(RetryConfig::disabled())
        .build();
    SqsQueue::new(
        aws_sdk_sqs::Client::from_conf(config),
        format!("{endpoint}/000000000000/{name}"),
    )
}
