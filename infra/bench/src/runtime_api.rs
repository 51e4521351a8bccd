//! A minimal Lambda Runtime API on 127.0.0.1, enough for one bootstrap process: it long-polls
//! `GET /2018-06-01/runtime/invocation/next`, answers through `/response` or `/error`, and may
//! report a failed init through `/init/error`.
//!
//! The server only records what the bootstrap does, with the instant it happened, and hands out
//! the events the caller queues. Timing is taken inside the handlers, so the instant of the
//! first `/next` is when the bootstrap was ready, not when the caller got round to looking.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

/// Lambda's limit for a synchronous payload.
const MAX_PAYLOAD: usize = 6 * 1024 * 1024;
/// How long an invocation may run, for the deadline header (the functions' template timeout).
const DEADLINE: Duration = Duration::from_secs(60);

/// One event handed to the bootstrap.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub body: Vec<u8>,
}

/// What the bootstrap did, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// It asked for the next event (it is idle and ready).
    Next {
        at: Instant,
    },
    Response {
        request_id: String,
        body: Vec<u8>,
        at: Instant,
    },
    Error {
        request_id: String,
        body: Vec<u8>,
        at: Instant,
    },
    InitError {
        body: Vec<u8>,
        at: Instant,
    },
}

struct Shared {
    seen: mpsc::UnboundedSender<Seen>,
    invocations: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    function_arn: String,
}

/// A running Runtime API. Dropping it stops the server.
pub struct RuntimeApi {
    addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Seen>,
    invocations: mpsc::UnboundedSender<Invocation>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start(function_arn: &str) -> std::io::Result<RuntimeApi> {
        let (seen_tx, seen_rx) = mpsc::unbounded_channel();
        let (inv_tx, inv_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            seen: seen_tx,
            invocations: Mutex::new(inv_rx),
            function_arn: function_arn.to_owned(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .layer(DefaultBodyLimit::max(MAX_PAYLOAD))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            // Ends only when the task is aborted (drop) or the listener fails.
            let _ = axum::serve(listener, app).await;
        });
        Ok(RuntimeApi {
            addr,
            seen: seen_rx,
            invocations: inv_tx,
            server,
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` (host:port, no scheme).
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an event for the bootstrap's current or next `/next`.
    pub fn invoke(&self, invocation: Invocation) {
        // The receiver lives in the server state, as long as `self`.
        let _ = self.invocations.send(invocation);
    }

    /// The next thing the bootstrap did, or `None` after `limit`.
    pub async fn next_seen(&mut self, limit: Duration) -> Option<Seen> {
        tokio::time::timeout(limit, self.seen.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let _ = shared.seen.send(Seen::Next { at: Instant::now() });
    // Long poll, as Lambda does: the answer is the next queued event, whenever it comes.
    let invocation = shared.invocations.lock().await.recv().await;
    let Some(invocation) = invocation else {
        return StatusCode::GONE.into_response();
    };
    let deadline = SystemTime::now()
        .checked_add(DEADLINE)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(
        "lambda-runtime-aws-request-id",
        invocation.request_id.clone(),
    );
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        shared.function_arn.clone(),
    );
    let trace: String = invocation
        .request_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(24)
        .collect();
    set(
        "lambda-runtime-trace-id",
        format!("Root=1-00000000-{trace};Sampled=0"),
    );
    set("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, invocation.body).into_response()
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> impl IntoResponse {
    let _ = shared.seen.send(Seen::Response {
        request_id,
        body: body.to_vec(),
        at: Instant::now(),
    });
    accepted()
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> impl IntoResponse {
    let _ = shared.seen.send(Seen::Error {
        request_id,
        body: body.to_vec(),
        at: Instant::now(),
    });
    accepted()
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> impl IntoResponse {
    let _ = shared.seen.send(Seen::InitError {
        body: body.to_vec(),
        at: Instant::now(),
    });
    accepted()
}

fn accepted() -> impl IntoResponse {
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"status": "OK"})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(api: &RuntimeApi, path: &str) -> String {
        format!("http://{}/2018-06-01/runtime/{path}", api.address())
    }

    #[tokio::test]
    async fn next_long_polls_and_carries_the_lambda_headers() {
        let mut api = RuntimeApi::start("arn:aws:lambda:us-east-1:000000000000:function:f")
            .await
            .unwrap();
        assert!(api.address().starts_with("127.0.0.1:"));
        let client = reqwest::Client::new();
        let poll = tokio::spawn({
            let next = url(&api, "invocation/next");
            let client = client.clone();
            async move { client.get(next).send().await.unwrap() }
        });
        assert!(matches!(
            api.next_seen(Duration::from_secs(5)).await,
            Some(Seen::Next { .. })
        ));
        // Nothing queued yet: the poll is still open.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!poll.is_finished());
        api.invoke(Invocation {
            request_id: "0f0e0d0c-0b0a-0908-0706-050403020100".into(),
            body: br#"{"hello":1}"#.to_vec(),
        });
        let answer = poll.await.unwrap();
        assert_eq!(answer.status(), 200);
        let h = answer.headers();
        assert_eq!(
            h["lambda-runtime-aws-request-id"],
            "0f0e0d0c-0b0a-0908-0706-050403020100"
        );
        assert_eq!(
            h["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        let deadline: u128 = h["lambda-runtime-deadline-ms"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        assert!(deadline > now && deadline <= now + 60_000);
        assert!(h.contains_key("lambda-runtime-trace-id"));
        assert_eq!(answer.text().await.unwrap(), r#"{"hello":1}"#);
    }

    #[tokio::test]
    async fn response_error_and_init_error_are_recorded_in_order() {
        let mut api = RuntimeApi::start("arn").await.unwrap();
        let client = reqwest::Client::new();
        for (path, body) in [
            ("invocation/r1/response", "ok"),
            ("invocation/r2/error", "bad"),
            ("init/error", "no config"),
        ] {
            let answer = client
                .post(url(&api, path))
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 202);
        }
        let wait = Duration::from_secs(5);
        match api.next_seen(wait).await {
            Some(Seen::Response {
                request_id, body, ..
            }) => assert_eq!((request_id.as_str(), body.as_slice()), ("r1", &b"ok"[..])),
            other => panic!("expected the response, got {other:?}"),
        }
        match api.next_seen(wait).await {
            Some(Seen::Error {
                request_id, body, ..
            }) => assert_eq!((request_id.as_str(), body.as_slice()), ("r2", &b"bad"[..])),
            other => panic!("expected the error, got {other:?}"),
        }
        match api.next_seen(wait).await {
            Some(Seen::InitError { body, .. }) => assert_eq!(body, b"no config"),
            other => panic!("expected the init error, got {other:?}"),
        }
        assert_eq!(api.next_seen(Duration::from_millis(50)).await, None);
    }

    #[tokio::test]
    async fn other_paths_are_not_found() {
        let api = RuntimeApi::start("arn").await.unwrap();
        let answer = reqwest::get(url(&api, "invocation/x/other")).await.unwrap();
        assert_eq!(answer.status(), 404);
    }
}
