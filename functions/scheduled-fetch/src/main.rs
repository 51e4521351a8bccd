//! Lambda entry point of scheduled-fetch: build the clients once (Init), then serve invocations.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use sync_service::fetch::{FetchDeps, zammad_token_secret_from_env};
use sync_service::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();

    let config = runtime::aws_config().await;
    let clock = runtime::clock();
    let control = runtime::control(&config)?;
    let entries = runtime::entries(&config)?;
    let queue = runtime::ticket_queue(&config)?;
    let audit = runtime::audit(&config)?;
    let secrets = runtime::secrets(&config, clock.clone());
    let token_secret = zammad_token_secret_from_env()?;
    let deps = FetchDeps {
        control: &control,
        entries: &entries,
        queue: &queue,
        audit: &audit,
        secrets: &secrets,
        zammad_token_secret: &token_secret,
        clock: clock.as_ref(),
    };
    let deps = &deps;

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        scheduled_fetch::handle(deps, event.payload).await
    }))
    .await
}
