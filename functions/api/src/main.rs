//! Lambda entry point of the console API: build the clients once (init), then serve the router.

use std::sync::Arc;
use sync_store::aws::{DynamoControl, load_config};

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
    // A missing table variable fails the init phase, so a broken deployment shows at once.
    let control = DynamoControl::from_env(&config)?;
    let app = api::router(api::AppState::new(Arc::new(control)));
    lambda_http::run(app).await
}
