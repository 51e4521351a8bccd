//! Per-request context: the request id (header `x-request-id` on every response, `request_id`
//! in problem bodies), the caller's source IP and user agent (for the audit log).
//!
//! Inside Lambda both the id and the IP come from the API Gateway request context. An adapter
//! may also insert [`SourceIp`] itself before the router runs; when neither is there (local
//! runs, tests) the socket's peer address is used. `X-Forwarded-For` is never trusted: any
//! client can write it.
//!
//! Behind CloudFront, API Gateway's address is CloudFront's edge, shared by every viewer of
//! that edge: a login throttle keyed on it would lock out strangers together and let one
//! guesser spread over edges. So the template has CloudFront send a secret header,
//! [`ORIGIN_VERIFY_HEADER`], with every request to the API, and names that secret to the
//! function (`CONSOLE_ORIGIN_SECRET`). With a secret configured, a request without the right
//! header (one sent to the execute-api URL directly) is refused with 403 before any handler
//! runs, and the client's address is the one CloudFront saw, [`VIEWER_ADDRESS_HEADER`], which
//! CloudFront sets itself (a viewer's own header of that name is replaced).

use crate::problem::ApiError;
use crate::problem::Problem;
use crate::state::ApiState;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use std::convert::Infallible;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;
use sync_service::console::Actor;
use sync_store::StoreError;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The header CloudFront adds to every API request, carrying the origin secret.
pub const ORIGIN_VERIFY_HEADER: &str = "x-origin-verify";
/// CloudFront's `ip:port` of the viewer (an IPv6 address is not bracketed).
pub const VIEWER_ADDRESS_HEADER: &str = "cloudfront-viewer-address";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// The address the request came from, as API Gateway (or the socket) saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceIp(pub String);

/// Who and where a request comes from, for audit records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    /// `username` acting from here, as the use cases audit it (the one way the API names the
    /// actor of a use case).
    pub fn actor(&self, username: &str) -> Actor {
        Actor {
            username: username.to_owned(),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }
}

fn gateway(request: &Request) -> Option<(Option<String>, Option<String>)> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => {
            Some((ctx.request_id.clone(), ctx.http.source_ip.clone()))
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

fn request_id(request: &Request, from_gateway: Option<String>) -> String {
    from_gateway
        .filter(|id| !id.is_empty())
        .or_else(|| {
            // A caller-chosen id helps correlate a local client's logs; keep it short and printable.
            request
                .headers()
                .get(REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty() && v.len() <= 128)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The viewer's address when the request came through CloudFront with the origin secret;
/// `Ok(None)` when no secret is configured (direct access allowed); an error to answer with
/// otherwise.
async fn through_cloudfront(
    state: &ApiState,
    headers: &HeaderMap,
) -> Result<Option<String>, ApiError> {
    let Some(name) = &state.secret_names.origin else {
        return Ok(None);
    };
    let secret = state.secrets.get_secret(name).await.map_err(|e| match e {
        StoreError::Unavailable(d) => ApiError::Unavailable(format!("origin secret: {d}")),
        other => ApiError::Internal(format!("origin secret: {other}")),
    })?;
    let expected = secret.expose().as_bytes();
    let given = headers
        .get(ORIGIN_VERIFY_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if expected.is_empty() || !bool::from(given.ct_eq(expected)) {
        return Err(ApiError::Forbidden(
            "the console API answers only through the console's address".into(),
        ));
    }
    Ok(headers
        .get(VIEWER_ADDRESS_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(viewer_ip))
}

/// The address of CloudFront's `ip:port` (`198.51.100.10:46532`, `2001:db8::1:46532`).
pub fn viewer_ip(address: &str) -> Option<String> {
    let (ip, port) = address.trim().rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
}

pub async fn middleware(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Response {
    let (gateway_id, gateway_ip) = gateway(&request).unwrap_or((None, None));
    let id = request_id(&request, gateway_id);
    let viewer = match through_cloudfront(&state, request.headers()).await {
        Ok(viewer) => viewer,
        Err(refused) => {
            if matches!(refused, ApiError::Forbidden(_)) {
                tracing::warn!(request_id = %id, path = %request.uri().path(), "request without the origin secret refused");
            }
            return finish(refused.into_response(), &id);
        }
    };
    if let Some(ip) = viewer {
        request.extensions_mut().insert(SourceIp(ip));
    } else if request.extensions().get::<SourceIp>().is_none() {
        let ip = gateway_ip.or_else(|| {
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
        });
        if let Some(ip) = ip {
            request.extensions_mut().insert(SourceIp(ip));
        }
    }
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path()
    );
    // The span follows the request's future wherever it is polled: an entered guard held
    // across the await stays on the thread that entered it, and tracing's registry panicked on
    // a later span of that thread (a schemathesis run against the local console API hit it).
    let response = next.run(request).instrument(span).await;
    finish(response, &id)
}

/// Every answer: a problem gets the request id in its body, every response in its header.
fn finish(mut response: Response, id: &str) -> Response {
    if let Some(mut problem) = response.extensions_mut().remove::<Problem>() {
        problem.request_id = Some(id.to_owned());
        let headers = response.headers().clone();
        response = problem.into_response();
        response.extensions_mut().remove::<Problem>();
        for (name, value) in headers.iter() {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Origin {
            ip: parts.extensions.get::<SourceIp>().map(|s| s.0.clone()),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(256).collect()),
        })
    }
}
