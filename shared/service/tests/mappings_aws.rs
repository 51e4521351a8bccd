//! Ten thousand mappings on DynamoDB (the local emulator): imported through the console's use
//! case in one file, each its own item, read back as reconcile reads them. Needs
//! `AWS_ENDPOINT_URL` at the emulator (`make test`, or `infra/local-aws/with-emulator.sh cargo
//! nextest run -p sync-service --test mappings_aws`). Prints the timings (docs/security.md).

#[path = "mappings_scale/scenario.rs"]
mod scenario;

use sync_service::console::mappings::MappingKind;
use sync_store::audit::AuditRetention;
use sync_store::aws::{DynamoAuditLog, DynamoControl};
use sync_store::clock::SystemClock;
use sync_store::schema;
use test_support::aws::{emulator_config, table};

#[tokio::test]
async fn ten_thousand_mappings_on_dynamodb() {
    let dynamo = aws_sdk_dynamodb::Client::new(&emulator_config().await);
    let control = DynamoControl::new(
        dynamo.clone(),
        table(&dynamo, &schema::control::TABLE).await,
    );
    let audit = DynamoAuditLog::new(
        dynamo.clone(),
        table(&dynamo, &schema::audit::TABLE).await,
        AuditRetention::default(),
    );
    let timings =
        scenario::ten_thousand_mappings(&control, &audit, &SystemClock, &[MappingKind::User]).await;
    for (what, took) in timings {
        println!("{what}: {} ms", took.as_millis());
    }
}
