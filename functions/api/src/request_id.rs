//! Every response carries a request id (header `x-request-id`, and `request_id` in problem
//! bodies). Inside Lambda it is the invocation's request id, which is also in every log line of
//! that invocation; elsewhere a caller-supplied `x-request-id` or a fresh UUID.

use crate::problem::Problem;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::RequestExt;

pub const HEADER: &str = "x-request-id";

/// The id of the request being served, for handlers and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

fn id_of(request: &Request) -> String {
    if let Some(context) = request.lambda_context_ref() {
        return context.request_id.clone();
    }
    request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

pub async fn middleware(mut request: Request, next: Next) -> Response {
    let id = id_of(&request);
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let _entered = span.enter();
    let mut response = next.run(request).await;
    // Problems are built before the id is known to them: stamp it into the body here.
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
        response.headers_mut().insert(HEADER, value);
    }
    response
}
