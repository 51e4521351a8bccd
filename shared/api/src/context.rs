//! Per-request context: the request id (header `x-request-id` on every response, `request_id`
//! in problem bodies), the caller's source IP and user agent (for the audit log).
//!
//! Inside Lambda both the id and the IP come from the API Gateway request context. An adapter
//! may also insert [`SourceIp`] itself before the router runs; when neither is there (local
//! runs, tests) the socket's peer address is used. `X-Forwarded-For` is never trusted: any
//! client can write it.

use crate::problem::Problem;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use std::convert::Infallible;
use std::net::SocketAddr;
use sync_service::console::Actor;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

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

pub async fn middleware(mut request: Request, next: Next) -> Response {
    let (gateway_id, gateway_ip) = gateway(&request).unwrap_or((None, None));
    let id = request_id(&request, gateway_id);
    if request.extensions().get::<SourceIp>().is_none() {
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
    let mut response = {
        let _entered = span.enter();
        next.run(request).await
    };
    if let Some(mut problem) = response.extensions_mut().remove::<Problem>() {
        problem.request_id = Some(id.clone());
        let headers = response.headers().clone();
        response = problem.into_response();
        response.extensions_mut().remove::<Problem>();
        for (name, value) in headers.iter() {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
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
