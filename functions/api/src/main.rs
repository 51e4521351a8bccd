//! Lambda entry point of the console API (`sync_lambda::api`): build the adapters once (Init),
//! then serve the router.

use sync_lambda::adapters::Aws;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .without_time() // CloudWatch stamps every line
        .with_current_span(true)
        .init();
    sync_lambda::metrics::install("api");
    sync_lambda::xray::install();

    sync_lambda::api::run(&Aws::load().await).await
}
