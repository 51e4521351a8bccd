//! Lambda entry point of gdpr-purge (handler: `sync_lambda::purge`): build the adapters once
//! (Init), then run the purge jobs the console API hands over.

use sync_lambda::adapters::{self, Aws};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    sync_lambda::metrics::install("gdpr-purge");
    let aws = Aws::load().await;
    sync_lambda::purge::run(adapters::privacy(&aws)?).await
}
