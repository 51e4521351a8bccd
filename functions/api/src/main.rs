//! Lambda entry point of the console API: build the clients once (init), then serve the router.

use sync_store::aws::load_config;

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

    let config = load_config().await;
    // A missing variable or an unreadable admin secret fails the init phase, so a broken
    // deployment shows at once.
    let app = api::init(&config, sync_store::env::optional).await?;
    lambda_http::run(app).await
}
