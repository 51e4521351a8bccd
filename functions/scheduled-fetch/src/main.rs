//! Lambda entry point of scheduled-fetch: build the clients once (Init), then serve invocations.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use sync_service::fetch::{FetchDeps, zammad_token_secret_from_env};
use sync_service::runtime::AwsPorts;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();

    let ports = AwsPorts::from_env().await?;
    let token_secret = zammad_token_secret_from_env()?;
    let deps = FetchDeps {
        control: ports.control.as_ref(),
        entries: ports.entries.as_ref(),
        queue: ports.ticket_queue.as_ref(),
        audit: ports.audit.as_ref(),
        secrets: ports.secrets.as_ref(),
        zammad_token_secret: &token_secret,
        clock: ports.clock.as_ref(),
    };
    let deps = &deps;

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        scheduled_fetch::handle(deps, event.payload).await
    }))
    .await
}
