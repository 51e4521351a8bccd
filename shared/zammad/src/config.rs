//! How to reach one Zammad instance and how hard to try.

use crate::token::ApiToken;
use call_pacing::Pacer;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Connection settings. Build with [`ClientConfig::new`] and adjust the public fields.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The instance root, e.g. `https://support.example.com` (the client appends `/api/v1/...`).
    pub base_url: Url,
    pub token: ApiToken,
    /// Time allowed to open the TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole request, body included. A slower answer is a [`Timeout`].
    ///
    /// [`Timeout`]: crate::ZammadError::Timeout
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// At most this many requests of this client are in flight at once.
    pub max_concurrency: usize,
    /// The call pace shared with every other instance calling this Zammad (a calls-per-second
    /// limit, and the pauses a 429 asks for); `None`: only `max_concurrency` bounds the calls.
    pub pace: Option<Arc<dyn Pacer>>,
}

impl ClientConfig {
    pub fn new(base_url: Url, token: impl Into<ApiToken>) -> Self {
        ClientConfig {
            base_url,
            token: token.into(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            max_concurrency: 4,
            pace: None,
        }
    }
}

/// Exponential backoff with jitter for retryable failures (429, 5xx, timeouts, connection errors).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Upper bound for a server's `Retry-After`, so a hostile or broken proxy cannot park us for
    /// hours. A longer wish is cut to this value.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}
