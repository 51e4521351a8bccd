//! Lambda entry point of webhook-ingest: build the clients once (Init), then serve invocations.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use sync_service::ingest::IngestDeps;
use sync_service::runtime;
use sync_store::env;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();

    let config = runtime::aws_config().await;
    let clock = runtime::clock();
    let control = runtime::control(&config)?;
    let queue = runtime::ticket_queue(&config)?;
    let audit = runtime::audit(&config)?;
    let secrets = runtime::secrets(&config, clock.clone());
    let secret_id = env::required(env::WEBHOOK_SECRET)?;
    let deps = IngestDeps {
        control: &control,
        queue: &queue,
        audit: &audit,
        secrets: &secrets,
        secret_id: &secret_id,
        clock: clock.as_ref(),
    };
    let deps = &deps;

    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            Ok::<_, Error>(webhook_ingest::handle(deps, event.payload).await)
        },
    ))
    .await
}
