//! The Zammad client: one connection pool, bounded concurrency, retries for transient failures.

use crate::config::{ClientConfig, RetryPolicy};
use crate::error::{ForbiddenReason, ZammadError};
use crate::wire::{self, ErrorBody, TicketSearchResult, VersionInfo};
use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use sync_core::ids::{OrganisationId, TicketId, ZammadUserId};
use sync_core::zammad::{AccountingType, Organisation, Ticket, TimeAccounting, ZammadUser};
use tokio::sync::Semaphore;
use url::Url;

/// Page size for the index listings (`/time_accountings`, `/organizations`, …). Zammad's cap was
/// 500 in older and 1000 in newer versions; 500 works on both, so a short page really is the end.
pub const INDEX_PAGE_SIZE: u32 = 500;
/// Zammad caps ticket search pages at 200.
pub const SEARCH_PAGE_SIZE: u32 = 200;
/// Pages of one listing read at most (100,000 records at 500 a page, 40,000 tickets at 200).
/// Past it the read is incomplete and fails ([`ZammadError::TooManyPages`]) rather than loop
/// or decide on part of it.
pub const MAX_INDEX_PAGES: u32 = 200;

/// An async client for one Zammad instance. Cheap to clone; clones share the connection pool,
/// the concurrency limit and the user cache.
#[derive(Clone)]
pub struct ZammadClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api_root: Url,
    retry: RetryPolicy,
    /// The configured time for one request; an invocation's deadline may shorten it.
    request_timeout: Duration,
    limiter: Semaphore,
    /// Shared with other instances: see [`ClientConfig::pace`].
    pace: Option<Arc<dyn call_pacing::Pacer>>,
}

impl fmt::Debug for ZammadClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the address: the token lives inside the reqwest default headers, marked sensitive.
        f.debug_struct("ZammadClient")
            .field("api_root", &self.inner.api_root.as_str())
            .finish_non_exhaustive()
    }
}

impl ZammadClient {
    /// Which Zammad this is (`…/api/v1/`): values cached from it belong to it.
    pub fn api_root(&self) -> &str {
        self.inner.api_root.as_str()
    }

    /// Builds the client. Fails only on settings that can never work (an unusable token or URL).
    pub fn new(config: ClientConfig) -> Result<Self, ZammadError> {
        let config_problem = |detail: String| ZammadError::InvalidConfig { detail };
        let mut headers = HeaderMap::new();
        // An empty token sends no credentials at all; Zammad then answers 403
        // `Authentication required`, which the error reports as a configuration problem.
        if !config.token.expose().is_empty() {
            let mut auth = HeaderValue::from_str(&format!("Token token={}", config.token.expose()))
                .map_err(|_| {
                    config_problem(
                        "the API token contains characters not allowed in a header".into(),
                    )
                })?;
            auth.set_sensitive(true);
            headers.insert(AUTHORIZATION, auth);
        }

        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("zammad-kimai-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| config_problem(format!("cannot build the HTTP client: {e}")))?;

        // Credentials in the URL would show up in every error message and Debug output.
        if !config.base_url.username().is_empty() || config.base_url.password().is_some() {
            return Err(config_problem(
                "the base URL contains credentials; give the API token as the token instead".into(),
            ));
        }
        let mut api_root = config.base_url.clone();
        if !api_root.path().ends_with('/') {
            let path = format!("{}/", api_root.path());
            api_root.set_path(&path);
        }
        let api_root = api_root
            .join("api/v1/")
            .map_err(|e| config_problem(format!("base URL cannot carry a path: {e}")))?;

        Ok(ZammadClient {
            inner: Arc::new(Inner {
                http,
                api_root,
                retry: config.retry,
                request_timeout: config.request_timeout,
                limiter: Semaphore::new(config.max_concurrency.max(1)),
                pace: config.pace,
            }),
        })
    }

    /// `GET /users/me`: the token's own user. Any authenticated user may call it, so it is the
    /// connection test.
    pub async fn connection_test(&self) -> Result<ZammadUser, ZammadError> {
        self.get("users/me", &[]).await
    }

    /// `GET /version`, e.g. `"6.2.0-1709189301.4a2dd7d0.focal"`.
    pub async fn version(&self) -> Result<String, ZammadError> {
        let info: VersionInfo = self.get("version", &[]).await?;
        Ok(info.version)
    }

    /// One page of `GET /tickets/search`, most recent change first. Sends `expand=true`, which
    /// makes every Zammad version answer with an array; the old `{tickets, assets}` shape is
    /// accepted too.
    pub async fn search_tickets(
        &self,
        query: &str,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Ticket>, ZammadError> {
        let per_page = per_page.clamp(1, SEARCH_PAGE_SIZE);
        let result: TicketSearchResult = self
            .get(
                "tickets/search",
                &[
                    ("query", query.to_owned()),
                    ("page", page.max(1).to_string()),
                    ("per_page", per_page.to_string()),
                    ("sort_by", "updated_at".to_owned()),
                    ("order_by", "desc".to_owned()),
                    ("expand", "true".to_owned()),
                ],
            )
            .await?;
        Ok(result.0)
    }

    /// Every ticket changed at or after `since`, most recent change first, paging until a short
    /// page.
    ///
    /// Newest first on purpose: a ticket that changes while we page moves to page 1, so later
    /// pages shift down and we may see a ticket twice (removed here) but never skip one.
    /// Needs Elasticsearch on the Zammad side (range syntax). Works with an agent token: Zammad
    /// returns only tickets the agent may see.
    pub async fn tickets_updated_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<Ticket>, ZammadError> {
        let query = updated_since_query(since);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for page in 1..=MAX_INDEX_PAGES {
            let batch = self.search_tickets(&query, page, SEARCH_PAGE_SIZE).await?;
            let short = batch.len() < SEARCH_PAGE_SIZE as usize;
            out.extend(batch.into_iter().filter(|t| seen.insert(t.id)));
            if short {
                return Ok(out);
            }
        }
        Err(ZammadError::TooManyPages {
            path: "tickets/search".to_owned(),
            pages: MAX_INDEX_PAGES,
        })
    }

    /// `GET /tickets/{id}`.
    pub async fn ticket(&self, id: TicketId) -> Result<Ticket, ZammadError> {
        self.get(&format!("tickets/{id}"), &[]).await
    }

    /// `GET /tickets/{id}/time_accountings`: all accountings of one ticket, every page (agent
    /// token is enough when the agent may update the ticket). Zammad renders this route as an
    /// index, 500 a page by default: reading one page would lose a long ticket's 501st
    /// accounting and every one after it.
    pub async fn ticket_time_accountings(
        &self,
        id: TicketId,
    ) -> Result<Vec<TimeAccounting>, ZammadError> {
        self.collect_index(&format!("tickets/{id}/time_accountings"))
            .await
    }

    /// One page of the global `GET /time_accountings` listing, most recently changed first.
    /// Admin only: an agent token gets [`ZammadError::Forbidden`] with
    /// [`ForbiddenReason::NotPermitted`]; fall back to [`Self::tickets_updated_since`] then.
    pub async fn time_accountings_page(
        &self,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<TimeAccounting>, ZammadError> {
        self.get(
            "time_accountings",
            &[
                ("page", page.max(1).to_string()),
                ("per_page", per_page.clamp(1, INDEX_PAGE_SIZE).to_string()),
                ("sort_by", "updated_at".to_owned()),
                ("order_by", "desc".to_owned()),
            ],
        )
        .await
    }

    /// Every accounting changed at or after `since` (all of them for `None`), newest change first.
    ///
    /// Pages newest-first and stops at a short page or at the first page that reaches back before
    /// `since`. Newest-first means a change made while we page pushes records down, so we may see
    /// one twice (deduplicated here) but never skip one.
    pub async fn time_accountings_updated_since(
        &self,
        since: Option<DateTime<Utc>>,
        per_page: u32,
    ) -> Result<Vec<TimeAccounting>, ZammadError> {
        let per_page = per_page.clamp(1, INDEX_PAGE_SIZE);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for page in 1..=MAX_INDEX_PAGES {
            let batch = self.time_accountings_page(page, per_page).await?;
            let short = batch.len() < per_page as usize;
            let reached_back =
                since.is_some_and(|s| batch.last().is_some_and(|last| last.updated_at < s));
            out.extend(
                batch
                    .into_iter()
                    .filter(|a| since.is_none_or(|s| a.updated_at >= s))
                    .filter(|a| seen.insert(a.id)),
            );
            if short || reached_back {
                return Ok(out);
            }
        }
        Err(ZammadError::TooManyPages {
            path: "time_accountings".to_owned(),
            pages: MAX_INDEX_PAGES,
        })
    }

    /// `GET /time_accounting/types` (admin only, like the global listing).
    pub async fn accounting_types(&self) -> Result<Vec<AccountingType>, ZammadError> {
        self.collect_index("time_accounting/types").await
    }

    /// `GET /users/{id}`. Not cached here: reconcile keeps agents for a short expiry, so a
    /// renamed agent is seen without a cold start.
    pub async fn user(&self, id: ZammadUserId) -> Result<ZammadUser, ZammadError> {
        self.get(&format!("users/{id}"), &[]).await
    }

    /// `GET /organizations/{id}`.
    pub async fn organisation(&self, id: OrganisationId) -> Result<Organisation, ZammadError> {
        self.get(&format!("organizations/{id}"), &[]).await
    }

    /// `GET /organizations`, all pages.
    pub async fn organisations(&self) -> Result<Vec<Organisation>, ZammadError> {
        self.collect_index("organizations").await
    }

    /// Every page of an index listing, until a short page; at most [`MAX_INDEX_PAGES`].
    async fn collect_index<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, ZammadError> {
        let mut out = Vec::new();
        for page in 1..=MAX_INDEX_PAGES {
            let batch: Vec<T> = self
                .get(
                    path,
                    &[
                        ("page", page.to_string()),
                        ("per_page", INDEX_PAGE_SIZE.to_string()),
                    ],
                )
                .await?;
            let short = batch.len() < INDEX_PAGE_SIZE as usize;
            out.extend(batch);
            if short {
                return Ok(out);
            }
        }
        Err(ZammadError::TooManyPages {
            path: path.to_owned(),
            pages: MAX_INDEX_PAGES,
        })
    }

    /// A GET with retries: every call of this client is a read, so repeating it is always safe.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ZammadError> {
        let policy = &self.inner.retry;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(policy.min_delay)
            .with_max_delay(policy.max_delay)
            .with_max_times(policy.max_retries)
            .with_jitter();
        let max_retry_after = policy.max_retry_after;
        (|| self.get_once(path, query))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(ZammadError::is_retryable)
            .adjust(move |err, planned| {
                let wait = match (err, planned) {
                    // Honour the server's wish, but only while the policy still allows a retry.
                    (
                        ZammadError::RateLimited {
                            retry_after: Some(wait),
                            ..
                        },
                        Some(_),
                    ) => Some((*wait).min(max_retry_after)),
                    (_, planned) => planned,
                };
                // No retry that would end after the invocation's deadline: the caller reports
                // the error while it still can.
                wait.filter(|w| call_deadline::allows_wait(*w))
            })
            .notify(|err, wait| {
                tracing::warn!(error = %err, wait_ms = wait.as_millis() as u64, "retrying Zammad call");
                sync_metrics::upstream_retry(sync_metrics::System::Zammad);
            })
            .await
    }

    async fn get_once<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ZammadError> {
        let url = self
            .inner
            .api_root
            .join(path)
            .map_err(|e| ZammadError::InvalidConfig {
                detail: format!("cannot build a URL for {path}: {e}"),
            })?;
        // The shared pace first: waiting for a slot must not hold one of our permits.
        if let Some(pace) = &self.inner.pace {
            if let Err(wait) = call_pacing::wait_for_slot(pace.as_ref()).await {
                tracing::warn!(
                    path,
                    wait_ms = wait.as_millis() as u64,
                    "Zammad call not made: no call slot before the invocation's time is up"
                );
                return Err(ZammadError::RateLimited {
                    path: path.to_owned(),
                    retry_after: Some(wait),
                });
            }
        }
        let _permit = self
            .inner
            .limiter
            .acquire()
            .await
            .expect("the semaphore is never closed");
        // The invocation's deadline shortens the attempt, or refuses it when too little is left.
        let Some(timeout) = call_deadline::attempt_timeout(self.inner.request_timeout) else {
            tracing::warn!(path, "Zammad call not made: the invocation's time is up");
            return Err(ZammadError::Timeout {
                path: path.to_owned(),
            });
        };
        tracing::debug!(path, "GET Zammad");
        let mut traced_url = url.clone();
        traced_url.set_query(None);
        let started = std::time::SystemTime::now();
        let call = |status: Option<u16>| sync_metrics::UpstreamCall {
            system: sync_metrics::System::Zammad,
            method: "GET",
            url: traced_url.as_str(),
            status,
            started,
        };
        let response = self
            .inner
            .http
            .get(url)
            .timeout(timeout)
            .query(query)
            .send()
            .await
            .map_err(|e| {
                sync_metrics::upstream_call(&call(None));
                transport_error(path, &e)
            })?;
        let status = response.status();
        sync_metrics::upstream_call(&call(Some(status.as_u16())));
        tracing::debug!(path, status = status.as_u16(), "Zammad answered");
        if status.is_success() {
            let body = response
                .bytes()
                .await
                .map_err(|e| transport_error(path, &e))?;
            return wire::parse(&body).map_err(|detail| ZammadError::MalformedBody {
                path: path.to_owned(),
                detail,
            });
        }
        let err = status_error(path, response).await;
        if let (ZammadError::RateLimited { retry_after, .. }, Some(pace)) = (&err, &self.inner.pace)
        {
            call_pacing::pause_after_429(
                pace.as_ref(),
                *retry_after,
                self.inner.retry.max_retry_after,
            )
            .await;
        }
        Err(err)
    }
}

/// The search query for "changed at or after `since`" (Elasticsearch `query_string` range).
pub fn updated_since_query(since: DateTime<Utc>) -> String {
    format!(
        "updated_at:[{} TO *]",
        since.to_rfc3339_opts(SecondsFormat::Millis, true)
    )
}

fn transport_error(path: &str, err: &reqwest::Error) -> ZammadError {
    if err.is_timeout() {
        return ZammadError::Timeout {
            path: path.to_owned(),
        };
    }
    // reqwest's message carries the URL (no credentials in it) and the cause chain.
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    ZammadError::Connection {
        path: path.to_owned(),
        detail,
    }
}

async fn status_error(path: &str, response: Response) -> ZammadError {
    let status = response.status();
    let retry_after = parse_retry_after(response.headers().get(RETRY_AFTER));
    let body = response.bytes().await.unwrap_or_default();
    let message = ErrorBody::message_from(&body);
    let path = path.to_owned();
    match status {
        StatusCode::UNAUTHORIZED => ZammadError::Unauthorised { path, message },
        StatusCode::FORBIDDEN => {
            let reason = if message == "Authentication required" {
                ForbiddenReason::MissingCredentials
            } else {
                ForbiddenReason::NotPermitted
            };
            ZammadError::Forbidden {
                path,
                message,
                reason,
            }
        }
        StatusCode::NOT_FOUND => ZammadError::NotFound { path, message },
        StatusCode::UNPROCESSABLE_ENTITY => ZammadError::Validation { path, message },
        StatusCode::TOO_MANY_REQUESTS => ZammadError::RateLimited { path, retry_after },
        s if s.is_server_error() => ZammadError::Server {
            path,
            status: s.as_u16(),
            message,
        },
        s => ZammadError::UnexpectedStatus {
            path,
            status: s.as_u16(),
            message,
        },
    }
}

/// `Retry-After` is either delta-seconds or an HTTP date.
fn parse_retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let text = value?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(text).ok()?.with_timezone(&Utc);
    Some((at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let h = HeaderValue::from_static("7");
        assert_eq!(parse_retry_after(Some(&h)), Some(Duration::from_secs(7)));
        let past = HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_retry_after(Some(&past)), Some(Duration::ZERO));
        let future = (Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        let future = HeaderValue::from_str(&future).unwrap();
        let wait = parse_retry_after(Some(&future)).unwrap();
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        let junk = HeaderValue::from_static("soon");
        assert_eq!(parse_retry_after(Some(&junk)), None);
        assert_eq!(parse_retry_after(None), None);
    }

    #[test]
    fn the_since_query_uses_a_millisecond_utc_range() {
        let since = DateTime::parse_from_rfc3339("2024-03-17T19:03:13.234Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            updated_since_query(since),
            "updated_at:[2024-03-17T19:03:13.234Z TO *]"
        );
    }

    #[test]
    fn credentials_in_the_base_url_are_refused_without_echoing_them() {
        let url = Url::parse("https://bot:hunter2@support.example.com").unwrap();
        let err = ZammadClient::new(ClientConfig::new(url, "t")).unwrap_err();
        assert!(matches!(err, ZammadError::InvalidConfig { .. }), "{err:?}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn base_url_with_or_without_a_trailing_path_keeps_it() {
        for (base, expected) in [
            ("http://127.0.0.1:8081", "http://127.0.0.1:8081/api/v1/"),
            ("http://127.0.0.1:8081/", "http://127.0.0.1:8081/api/v1/"),
            (
                "https://example.com/zammad",
                "https://example.com/zammad/api/v1/",
            ),
        ] {
            let client =
                ZammadClient::new(ClientConfig::new(Url::parse(base).unwrap(), "t")).unwrap();
            assert_eq!(client.inner.api_root.as_str(), expected);
        }
    }
}
