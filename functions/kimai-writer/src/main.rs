//! Lambda entry point of kimai-writer (handler: `sync_lambda::writer`): build the adapters once
//! (Init), then serve SQS batches.

use sync_lambda::adapters::{self, Aws};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    sync_lambda::metrics::install("kimai-writer");
    sync_lambda::xray::install();
    let aws = Aws::load().await;
    sync_lambda::writer::run(adapters::writer(&aws)?).await
}
