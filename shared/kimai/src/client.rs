//! The Kimai HTTP client: one method per endpoint we use, each returning domain types or a
//! classified [`KimaiError`].
//!
//! Retry policy: reads are retried on 429/5xx/timeouts with exponential backoff and jitter.
//! PATCH and DELETE are retried only when the caller says so ([`Retries`]). A POST that creates
//! something is not retried after a timeout or a 5xx: it may have been committed, and only the
//! caller (who can search by its marker) can decide what to do. A 429, though, is retried for
//! every call: the request was turned away before Kimai handled it (Kimai has no rate limit of
//! its own; a proxy in front of it answers 429), so sending it again cannot write twice.
//!
//! Pace: with [`KimaiConfig::pace`], each attempt first takes a call slot shared with every
//! other instance, and a 429 pauses them all for its `Retry-After` ([`call_pacing`]).

use crate::catalog_wire::{ActivityWire, CustomerWire, ProjectWire, UserWire, list_of};
use crate::config::KimaiConfig;
use crate::error::{CallKind, KimaiError, classify_response, form_errors_in_success};
use crate::model::{
    CurrentUser, NewCustomer, NewProject, NewTag, NewTimesheet, Tag, TimesheetPatch,
    TimesheetQuery, Version,
};
use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{AUTHORIZATION, HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use sync_core::catalog::{KimaiActivity, KimaiCustomer, KimaiProject, KimaiUser};
use sync_core::ids::{CustomerId, ProjectId, TimesheetId};
use sync_core::kimai::Timesheet;
use tokio::sync::Semaphore;

/// Whether an idempotent write (PATCH, DELETE) may be sent again after a retryable failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retries {
    /// Send again with backoff: the caller knows a repeat does no harm.
    Allowed,
    /// Send once and hand every failure back.
    Never,
}

/// One page of `GET /api/timesheets` with Kimai's paging headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimesheetPage {
    pub items: Vec<Timesheet>,
    pub page: u32,
    /// `X-Total-Pages`; `None` if Kimai did not send it.
    pub total_pages: Option<u32>,
    /// `X-Total-Count`.
    pub total_count: Option<u64>,
}

/// A Kimai API client. Cheap to clone; clones share connections and the concurrency limit.
#[derive(Clone)]
pub struct KimaiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: KimaiConfig,
    permits: Semaphore,
}

impl fmt::Debug for KimaiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KimaiClient")
            .field("base_url", &self.inner.config.base_url.as_str())
            .field("token", &self.inner.config.token)
            .finish_non_exhaustive()
    }
}

/// A successful answer, body not yet parsed.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn transport_error(e: reqwest::Error) -> KimaiError {
    if e.is_timeout() {
        return KimaiError::Timeout;
    }
    // The whole cause chain ("… tcp connect error: Connection refused") says what to fix. The URL
    // in it carries no secret: the token is only in a header, and `KimaiConfig` refuses URLs
    // with credentials.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    KimaiError::Connection(message)
}

fn parse_json<T: DeserializeOwned>(answer: &Answer) -> Result<T, KimaiError> {
    serde_json::from_slice(&answer.body).map_err(|e| KimaiError::MalformedBody {
        status: answer.status,
        reason: e.to_string(),
    })
}

fn header_number<T: std::str::FromStr>(headers: &HeaderMap, name: &str) -> Option<T> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl KimaiClient {
    pub fn new(config: KimaiConfig) -> Result<Self, KimaiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            // A redirect would turn a POST into a GET and drop the token on another host; a
            // misconfigured base URL should say so instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("zammad-kimai-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| KimaiError::Config(e.to_string()))?;
        let permits = Semaphore::new(config.max_concurrency.max(1));
        Ok(KimaiClient {
            inner: Arc::new(Inner {
                http,
                config,
                permits,
            }),
        })
    }

    pub fn config(&self) -> &KimaiConfig {
        &self.inner.config
    }

    /// One attempt: send, read the whole body, classify non-2xx answers.
    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        kind: CallKind,
    ) -> Result<Answer, KimaiError> {
        let url = self
            .inner
            .config
            .base_url
            .join(path)
            .map_err(|e| KimaiError::Config(format!("path {path}: {e}")))?;
        // The shared pace first: waiting for a slot must not hold one of our permits.
        if let Some(pace) = &self.inner.config.pace {
            if let Err(wait) = call_pacing::wait_for_slot(pace.as_ref()).await {
                tracing::warn!(%method, path, wait_ms = wait.as_millis() as u64, "kimai call not made: no call slot before the invocation's time is up");
                return Err(KimaiError::RateLimited {
                    retry_after: Some(wait),
                });
            }
        }
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| KimaiError::Config("client is shut down".into()))?;
        // The invocation's deadline shortens the attempt, or refuses it when too little is left.
        let Some(timeout) = call_deadline::attempt_timeout(self.inner.config.request_timeout)
        else {
            tracing::warn!(%method, path, "kimai call not made: the invocation's time is up");
            return Err(KimaiError::Timeout);
        };
        let mut traced_url = url.clone();
        traced_url.set_query(None);
        let mut req = self
            .inner
            .http
            .request(method.clone(), url)
            .timeout(timeout)
            .header(AUTHORIZATION, self.inner.config.token.bearer_header())
            .header("Accept", "application/json");
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let started = std::time::SystemTime::now();
        let call = |status: Option<u16>| sync_metrics::UpstreamCall {
            system: sync_metrics::System::Kimai,
            method: method.as_str(),
            url: traced_url.as_str(),
            status,
            started,
        };
        let logged = |e: reqwest::Error| {
            let err = transport_error(e);
            tracing::warn!(%method, path, error = %err, "kimai call failed");
            sync_metrics::upstream_call(&call(None));
            err
        };
        let resp = req.send().await.map_err(logged)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(logged)?.to_vec();
        sync_metrics::upstream_call(&call(Some(status.as_u16())));
        tracing::debug!(%method, path, status = status.as_u16(), "kimai call");
        if status.is_success() {
            if let Some(err) = form_errors_in_success(kind, &body) {
                tracing::warn!(%method, path, status = status.as_u16(), error = %err, "kimai answered success with form errors");
                return Err(err);
            }
            return Ok(Answer {
                status: status.as_u16(),
                headers,
                body,
            });
        }
        if status.is_redirection() {
            let to = headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?");
            return Err(KimaiError::UnexpectedStatus {
                status: status.as_u16(),
                message: format!("redirect to {to}: set the base URL to Kimai's final address"),
            });
        }
        let retry_after = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok());
        let err = classify_response(kind, status.as_u16(), retry_after, &body);
        tracing::warn!(%method, path, status = status.as_u16(), error = %err, "kimai call failed");
        if let (KimaiError::RateLimited { retry_after }, Some(pace)) =
            (&err, &self.inner.config.pace)
        {
            call_pacing::pause_after_429(
                pace.as_ref(),
                *retry_after,
                self.inner.config.max_retry_after,
            )
            .await;
        }
        Err(err)
    }

    /// Send with retries and backoff, honouring `Retry-After` up to a cap. With `retry`, every
    /// retryable failure is sent again; without it, only a 429 (turned away unhandled).
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        kind: CallKind,
        retry: bool,
    ) -> Result<Answer, KimaiError> {
        let may_repeat = move |e: &KimaiError| {
            if retry {
                e.is_retryable()
            } else {
                matches!(e, KimaiError::RateLimited { .. })
            }
        };
        let cfg = &self.inner.config;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(cfg.min_backoff)
            .with_max_delay(cfg.max_backoff)
            .with_max_times(cfg.max_retries)
            .with_jitter();
        let max_retry_after = cfg.max_retry_after;
        (|| self.send_once(&method, path, query, body, kind))
            .retry(backoff)
            .when(may_repeat)
            .adjust(move |err, planned| {
                let wait = match (planned, err.retry_after()) {
                    // Kimai (or its proxy) said how long to wait: wait that long, unless it is
                    // longer than we are willing to block.
                    (Some(_), Some(wait)) if wait <= max_retry_after => Some(wait),
                    (Some(_), Some(_)) => None,
                    (planned, None) => planned,
                    (None, Some(_)) => None,
                };
                // No retry that would end after the invocation's deadline: the caller reports
                // the error while it still can.
                wait.filter(|w| call_deadline::allows_wait(*w))
            })
            .notify(|err, wait| {
                tracing::info!(path, error = %err, wait_ms = wait.as_millis() as u64, "retrying kimai call");
                sync_metrics::upstream_retry(sync_metrics::System::Kimai);
            })
            .await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, KimaiError> {
        let answer = self
            .call(Method::GET, path, query, None, CallKind::Read, true)
            .await?;
        parse_json(&answer)
    }

    /// `GET /api/ping`: checks the URL and the token.
    pub async fn ping(&self) -> Result<(), KimaiError> {
        let _: serde_json::Value = self.get("api/ping", &[]).await?;
        Ok(())
    }

    /// `GET /api/version`.
    pub async fn version(&self) -> Result<Version, KimaiError> {
        self.get("api/version", &[]).await
    }

    /// `GET /api/users/me`: the API user, with the time zone Kimai reads POSTed times in.
    pub async fn me(&self) -> Result<CurrentUser, KimaiError> {
        self.get("api/users/me", &[]).await
    }

    /// One page of timesheets. A page past the end is `Err(NotFound)`, as in Kimai.
    pub async fn timesheets_page(
        &self,
        query: &TimesheetQuery,
        page: u32,
    ) -> Result<TimesheetPage, KimaiError> {
        let pairs = query.to_pairs(page, self.inner.config.page_size);
        let answer = self
            .call(
                Method::GET,
                "api/timesheets",
                &pairs,
                None,
                CallKind::Read,
                true,
            )
            .await?;
        Ok(TimesheetPage {
            items: parse_json(&answer)?,
            page,
            total_pages: header_number(&answer.headers, "X-Total-Pages"),
            total_count: header_number(&answer.headers, "X-Total-Count"),
        })
    }

    /// All timesheets matching `query`, page by page until `X-Total-Pages` (or a 404 past the
    /// last page, or a short or empty page when the header is missing).
    pub async fn list_timesheets(
        &self,
        query: &TimesheetQuery,
    ) -> Result<Vec<Timesheet>, KimaiError> {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            match self.timesheets_page(query, page).await {
                Ok(p) => {
                    // Without `X-Total-Pages` a short page is the last one.
                    let last = p.items.is_empty()
                        || match p.total_pages {
                            Some(total) => page >= total,
                            None => p.items.len() < self.inner.config.page_size as usize,
                        };
                    all.extend(p.items);
                    if last {
                        return Ok(all);
                    }
                }
                // Records deleted while we paged can shrink the page count under us.
                Err(KimaiError::NotFound) if page > 1 => return Ok(all),
                Err(e) => return Err(e),
            }
            page += 1;
        }
    }

    /// `GET /api/timesheets/{id}`.
    pub async fn timesheet(&self, id: TimesheetId) -> Result<Timesheet, KimaiError> {
        self.get(&format!("api/timesheets/{id}"), &[]).await
    }

    /// `POST /api/timesheets`. Never retried: on `Timeout`/`Server` the record may exist; search
    /// by the marker in its description before creating it again.
    pub async fn create_timesheet(&self, new: &NewTimesheet) -> Result<Timesheet, KimaiError> {
        let body = serde_json::to_value(new).map_err(|e| KimaiError::Config(e.to_string()))?;
        let answer = self
            .call(
                Method::POST,
                "api/timesheets",
                &[],
                Some(&body),
                CallKind::Create,
                false,
            )
            .await?;
        parse_json(&answer)
    }

    /// `PATCH /api/timesheets/{id}`; `begin`/`end` are read in the owner's time zone.
    pub async fn update_timesheet(
        &self,
        id: TimesheetId,
        patch: &TimesheetPatch,
        retries: Retries,
    ) -> Result<Timesheet, KimaiError> {
        let body = serde_json::to_value(patch).map_err(|e| KimaiError::Config(e.to_string()))?;
        let answer = self
            .call(
                Method::PATCH,
                &format!("api/timesheets/{id}"),
                &[],
                Some(&body),
                CallKind::ChangeTimesheet,
                retries == Retries::Allowed,
            )
            .await?;
        parse_json(&answer)
    }

    /// `DELETE /api/timesheets/{id}` (204). With retries, a retry after a lost answer may see
    /// `NotFound`: the caller treats that as done.
    pub async fn delete_timesheet(
        &self,
        id: TimesheetId,
        retries: Retries,
    ) -> Result<(), KimaiError> {
        let answer = self
            .call(
                Method::DELETE,
                &format!("api/timesheets/{id}"),
                &[],
                None,
                CallKind::ChangeTimesheet,
                retries == Retries::Allowed,
            )
            .await?;
        if answer.status != StatusCode::NO_CONTENT.as_u16() && answer.status != 200 {
            return Err(KimaiError::UnexpectedStatus {
                status: answer.status,
                message: "expected 204 No Content".into(),
            });
        }
        Ok(())
    }

    /// All customers, hidden ones included (`visible=3`), optionally filtered by `term`.
    pub async fn customers(&self, term: Option<&str>) -> Result<Vec<KimaiCustomer>, KimaiError> {
        let mut q = vec![("visible", "3".to_owned())];
        if let Some(t) = term {
            q.push(("term", t.to_owned()));
        }
        let wire: Vec<CustomerWire> = self.get("api/customers", &q).await?;
        Ok(list_of(wire))
    }

    /// All projects, hidden and finished ones included, optionally of one customer.
    pub async fn projects(
        &self,
        customer: Option<CustomerId>,
        term: Option<&str>,
    ) -> Result<Vec<KimaiProject>, KimaiError> {
        let mut q = vec![("visible", "3".to_owned()), ("ignoreDates", "1".to_owned())];
        if let Some(c) = customer {
            q.push(("customer", c.to_string()));
        }
        if let Some(t) = term {
            q.push(("term", t.to_owned()));
        }
        let wire: Vec<ProjectWire> = self.get("api/projects", &q).await?;
        Ok(list_of(wire))
    }

    /// Activities, hidden ones included. With a project: its own activities plus the global
    /// ones (when the project allows them), as Kimai filters.
    pub async fn activities(
        &self,
        project: Option<ProjectId>,
        term: Option<&str>,
    ) -> Result<Vec<KimaiActivity>, KimaiError> {
        let mut q = vec![("visible", "3".to_owned())];
        if let Some(p) = project {
            q.push(("project", p.to_string()));
        }
        if let Some(t) = term {
            q.push(("term", t.to_owned()));
        }
        let wire: Vec<ActivityWire> = self.get("api/activities", &q).await?;
        Ok(list_of(wire))
    }

    /// Users (needs `view_user`). `term` also matches the email, even before 2.45 where the
    /// email is not in the JSON: use it to find the user for a Zammad agent's address.
    pub async fn users(&self, term: Option<&str>) -> Result<Vec<KimaiUser>, KimaiError> {
        let mut q = vec![("visible", "3".to_owned())];
        if let Some(t) = term {
            q.push(("term", t.to_owned()));
        }
        let wire: Vec<UserWire> = self.get("api/users", &q).await?;
        Ok(list_of(wire))
    }

    /// Tags whose name contains `name` (all tags without it).
    pub async fn tags(&self, name: Option<&str>) -> Result<Vec<Tag>, KimaiError> {
        let q: Vec<(&str, String)> = name.map(|n| ("name", n.to_owned())).into_iter().collect();
        self.get("api/tags/find", &q).await
    }

    /// The tag named `name` (case-insensitive), created first if Kimai does not know it.
    /// Kimai ≥ 2.14 silently drops unknown tag names from timesheets, so writers call this
    /// before sending tags. A concurrent creation by someone else is read back, not an error.
    pub async fn ensure_tag(&self, name: &str) -> Result<Tag, KimaiError> {
        let find = |tags: Vec<Tag>| tags.into_iter().find(|t| t.name.eq_ignore_ascii_case(name));
        if let Some(tag) = find(self.tags(Some(name)).await?) {
            return Ok(tag);
        }
        match self.create_tag(&NewTag::named(name)).await {
            Ok(tag) => Ok(tag),
            Err(KimaiError::Validation(v)) => match find(self.tags(Some(name)).await?) {
                Some(tag) => Ok(tag),
                None => Err(KimaiError::Validation(v)),
            },
            Err(e) => Err(e),
        }
    }

    /// `POST /api/tags`. Not retried (it is a create); a duplicate name is a `Validation` error.
    pub async fn create_tag(&self, tag: &NewTag) -> Result<Tag, KimaiError> {
        let body = serde_json::to_value(tag).map_err(|e| KimaiError::Config(e.to_string()))?;
        let answer = self
            .call(
                Method::POST,
                "api/tags",
                &[],
                Some(&body),
                CallKind::OtherWrite,
                false,
            )
            .await?;
        parse_json(&answer)
    }

    /// The customers whose `number` is exactly `number`, hidden ones included. Kimai's `term`
    /// search is fuzzy and its fields differ between releases, so the full (unpaginated) list
    /// is filtered here.
    pub async fn customers_by_number(
        &self,
        number: &str,
    ) -> Result<Vec<KimaiCustomer>, KimaiError> {
        let all = self.customers(None).await?;
        Ok(all
            .into_iter()
            .filter(|c| c.number.as_deref() == Some(number))
            .collect())
    }

    /// The projects of `customer` whose `number` is exactly `number` (list + filter, as
    /// [`KimaiClient::customers_by_number`]).
    pub async fn projects_by_number(
        &self,
        customer: CustomerId,
        number: &str,
    ) -> Result<Vec<KimaiProject>, KimaiError> {
        let all = self.projects(Some(customer), None).await?;
        Ok(all
            .into_iter()
            .filter(|p| p.customer == customer && p.number.as_deref() == Some(number))
            .collect())
    }

    /// `POST /api/customers` (needs `create_customer`). Never retried: after a timeout or a
    /// 5xx the customer may exist, so look it up by number before creating it again.
    pub async fn create_customer(&self, new: &NewCustomer) -> Result<KimaiCustomer, KimaiError> {
        let wire: CustomerWire = self.post_record("api/customers", new).await?;
        Ok(wire.into())
    }

    /// `POST /api/projects` (needs `create_project`). Never retried, as
    /// [`KimaiClient::create_customer`].
    pub async fn create_project(&self, new: &NewProject) -> Result<KimaiProject, KimaiError> {
        let wire: ProjectWire = self.post_record("api/projects", new).await?;
        Ok(wire.into())
    }

    async fn post_record<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        new: &B,
    ) -> Result<T, KimaiError> {
        let body = serde_json::to_value(new).map_err(|e| KimaiError::Config(e.to_string()))?;
        let answer = self
            .call(
                Method::POST,
                path,
                &[],
                Some(&body),
                CallKind::OtherWrite,
                false,
            )
            .await?;
        parse_json(&answer)
    }
}
