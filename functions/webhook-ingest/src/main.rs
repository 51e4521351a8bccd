//! Lambda entry point of webhook-ingest: build the clients once (Init), then serve invocations.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use sync_service::ingest::IngestDeps;
use sync_service::runtime::AwsPorts;
use sync_store::env;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();

    let ports = AwsPorts::from_env().await?;
    let secret_id = env::required(env::WEBHOOK_SECRET)?;
    let deps = IngestDeps {
        control: ports.control.as_ref(),
        queue: ports.ticket_queue.as_ref(),
        audit: ports.audit.as_ref(),
        secrets: ports.secrets.as_ref(),
        secret_id: &secret_id,
        clock: ports.clock.as_ref(),
    };
    let deps = &deps;

    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::apigw::ApiGatewayV2httpRequest>| async move {
            Ok::<_, Error>(webhook_ingest::handle(deps, event.payload).await)
        },
    ))
    .await
}
