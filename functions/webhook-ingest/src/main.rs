//! Lambda entry point of webhook-ingest (handler: `sync_lambda::ingest`): build the adapters once
//! (Init), then serve webhook requests.

use sync_lambda::adapters::{self, Aws};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    sync_lambda::metrics::install("webhook-ingest");
    sync_lambda::xray::install();
    let aws = Aws::load().await;
    sync_lambda::ingest::run(adapters::ingest(&aws)?).await
}
