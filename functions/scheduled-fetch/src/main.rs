//! Lambda entry point of scheduled-fetch (handler: `sync_lambda::fetch`): build the adapters once
//! (Init), then serve schedule ticks.

use sync_lambda::adapters::{self, Aws};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    sync_lambda::metrics::install("scheduled-fetch");
    sync_lambda::xray::install();
    let aws = Aws::load().await;
    sync_lambda::fetch::run(adapters::fetch(&aws)?).await
}
