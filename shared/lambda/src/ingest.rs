//! webhook-ingest: API Gateway HTTP API (payload 2.0) in, [`sync_service::ingest`] in the middle,
//! an HTTP answer out. This module only translates between the event types and the service.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use std::sync::Arc;
use sync_service::ingest::{IngestDeps, RejectionSampler, WebhookRequest, ingest};
use sync_store::audit::AuditLog;
use sync_store::clock::Clock;
use sync_store::control::ControlStore;
use sync_store::queue::{MessageQueue, TicketSyncMessage};
use sync_store::secrets::SecretSource;

/// What the function keeps for its life (built by [`crate::adapters::ingest`]).
pub struct Ports {
    pub control: Arc<dyn ControlStore>,
    pub queue: Arc<dyn MessageQueue<TicketSyncMessage>>,
    pub audit: Arc<dyn AuditLog>,
    pub secrets: Arc<dyn SecretSource>,
    /// Name or ARN of the webhook HMAC secret (`WEBHOOK_SECRET`).
    pub secret_id: String,
    pub clock: Arc<dyn Clock>,
    /// Which rejected webhooks reach the audit log, over the instance's life.
    pub rejections: RejectionSampler,
}

impl Ports {
    /// What one invocation borrows.
    pub fn deps(&self) -> IngestDeps<'_> {
        IngestDeps {
            control: self.control.as_ref(),
            queue: self.queue.as_ref(),
            audit: self.audit.as_ref(),
            secrets: self.secrets.as_ref(),
            secret_id: &self.secret_id,
            clock: self.clock.as_ref(),
            rejections: &self.rejections,
        }
    }
}

/// Serves invocations until the runtime stops.
pub async fn run(ports: Ports) -> Result<(), Error> {
    let deps = ports.deps();
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            let response = handle(deps, event.payload).await;
            crate::metrics::flush();
            Ok::<_, Error>(response)
        },
    ))
    .await
}

/// The service's view of an API Gateway request. Header values that are not visible ASCII
/// cannot be a signature or a delivery id, so they are dropped rather than guessed at.
pub fn webhook_request(event: &ApiGatewayV2httpRequest) -> WebhookRequest {
    let headers = event
        .headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let http = &event.request_context.http;
    WebhookRequest {
        headers,
        body: event.body.clone(),
        is_base64_encoded: event.is_base64_encoded,
        source_ip: http.source_ip.clone(),
        user_agent: http.user_agent.clone(),
        request_id: event.request_context.request_id.clone(),
    }
}

/// Handles one invocation. Never fails: every outcome, including our own failures, is an HTTP
/// answer Zammad understands (5xx makes it retry).
pub async fn handle(
    deps: &IngestDeps<'_>,
    event: ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let request = webhook_request(&event);
    let outcome = ingest(deps, &request).await;
    let answer = outcome.response(request.request_id.as_deref());

    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(answer.content_type));
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(answer.status);
    response.headers = headers;
    response.body = Some(Body::Text(answer.body));
    response.is_base64_encoded = false;
    response
}
