//! How the client connects: where, with which token, and how patiently.

use crate::error::KimaiError;
use crate::token::ApiToken;
use call_pacing::Pacer;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Client settings. The defaults suit a Lambda that talks to one Kimai instance.
#[derive(Debug, Clone)]
pub struct KimaiConfig {
    /// Kimai's root URL (the part before `/api/`), e.g. `https://kimai.example.com/`.
    pub base_url: Url,
    pub token: ApiToken,
    /// Time to open a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Time for one whole request, from sending to the last byte of the body.
    pub request_timeout: Duration,
    /// Retries after the first attempt, for reads and idempotent writes.
    pub max_retries: usize,
    /// First backoff step; it doubles per retry, with jitter, up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is not waited for: the error goes back to the caller,
    /// whose queue can wait more cheaply than a running Lambda.
    pub max_retry_after: Duration,
    /// Requests in flight at once from this client (clones share the limit).
    pub max_concurrency: usize,
    /// Page size of timesheet lists; Kimai clamps anything above 500.
    pub page_size: u32,
    /// The call pace shared with every other instance calling this Kimai (a calls-per-second
    /// limit, and the pauses a 429 asks for); `None`: only `max_concurrency` bounds the calls.
    pub pace: Option<Arc<dyn Pacer>>,
}

impl KimaiConfig {
    pub fn new(base_url: &str, token: ApiToken) -> Result<Self, KimaiError> {
        let mut base_url =
            Url::parse(base_url).map_err(|e| KimaiError::Config(format!("base URL: {e}")))?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(KimaiError::Config(format!(
                "base URL must be http or https, not {}",
                base_url.scheme()
            )));
        }
        if !base_url.username().is_empty() || base_url.password().is_some() {
            return Err(KimaiError::Config(
                "the base URL must not carry credentials; Kimai is reached with the API token"
                    .into(),
            ));
        }
        // `join` replaces the last path segment unless the path ends with a slash.
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        Ok(KimaiConfig {
            base_url,
            token,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_retries: 4,
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            max_concurrency: 4,
            page_size: 500,
            pace: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_gets_a_trailing_slash_and_must_be_http() {
        let c = KimaiConfig::new("http://127.0.0.1:8082/kimai", ApiToken::new("t")).unwrap();
        assert_eq!(
            c.base_url.join("api/ping").unwrap().as_str(),
            "http://127.0.0.1:8082/kimai/api/ping"
        );
        assert!(matches!(
            KimaiConfig::new("ftp://x", ApiToken::new("t")),
            Err(KimaiError::Config(_))
        ));
        assert!(KimaiConfig::new("not a url", ApiToken::new("t")).is_err());
        let e = KimaiConfig::new("https://u:secret@kimai.example", ApiToken::new("t")).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
