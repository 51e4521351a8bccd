//! The settings documents the pipeline reads from the control store, with their defaults,
//! validation and loaders. This module is the one place where a settings document is named
//! (kind + id) and versioned (`schema_version` inside the body).
//!
//! | document | kind / id | missing means |
//! |---|---|---|
//! | [`ZammadConnection`] | `connection` / `zammad` | not configured: the pipeline cannot run |
//! | [`KimaiConnection`] | `connection` / `kimai` | not configured |
//! | [`FetchSettings`] | `policy` / `fetch` | the defaults |
//! | [`DiscoveryMemory`] (state, written by fetch) | `discovery` / `zammad.discovery` | nothing learnt yet |
//!
//! The names of the secrets holding tokens come from the environment ([`SecretNames`]), never
//! from a document: a console user may change where Zammad lives, not which secret is read.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sync_core::units::TimeUnit;
use sync_core::zone::parse_zone;
use sync_store::StoreError;
use sync_store::control::{ControlStore, DocumentKind, DocumentWrite, ExpectedVersion};
use sync_store::env;
use thiserror::Error;
use url::Url;

/// The version of every settings document this code writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Where a settings document lives in the control store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentName {
    pub kind: DocumentKind,
    pub id: &'static str,
}

impl std::fmt::Display for DocumentName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.id)
    }
}

pub const ZAMMAD_CONNECTION: DocumentName = DocumentName {
    kind: DocumentKind::Connection,
    id: "zammad",
};
pub const KIMAI_CONNECTION: DocumentName = DocumentName {
    kind: DocumentKind::Connection,
    id: "kimai",
};
pub const FETCH_POLICY: DocumentName = DocumentName {
    kind: DocumentKind::Policy,
    id: "fetch",
};
pub const NOTIFICATIONS_POLICY: DocumentName = DocumentName {
    kind: DocumentKind::Policy,
    id: "notifications",
};
pub const ZAMMAD_DISCOVERY: DocumentName = DocumentName {
    kind: DocumentKind::Discovery,
    id: "zammad.discovery",
};

#[derive(Debug, Error)]
pub enum SettingsError {
    /// The document does not exist: someone has to configure the connection first.
    #[error("settings {0} are not configured yet")]
    NotConfigured(DocumentName),
    /// The stored document cannot be used (wrong shape, newer schema, invalid value). Fix it in
    /// the console; retrying will not help.
    #[error("settings {name} are invalid: {reason}")]
    Invalid { name: DocumentName, reason: String },
    /// The control store failed; retry later if it is retryable.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SettingsError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, SettingsError::Store(e) if e.is_retryable())
    }
}

// ---------------------------------------------------------------- Zammad

/// How scheduled-fetch finds changed tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscoveryMode {
    /// Try the global `/time_accountings` listing; if Zammad refuses it (agent token), use
    /// ticket search and remember that for a day.
    #[default]
    Auto,
    /// Only the global listing (admin token required; a 403 fails the run).
    GlobalListing,
    /// Only ticket search by `updated_at`.
    TicketSearch,
}

/// Connection settings of the Zammad instance (`connection/zammad`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZammadConnection {
    pub schema_version: u32,
    /// Instance root, e.g. `https://support.example.com`.
    pub base_url: String,
    /// What one unit of `time_unit` means on this instance.
    pub time_unit: TimeUnit,
    /// IANA zone used when an agent's Kimai user has none.
    pub default_zone: String,
    #[serde(default)]
    pub discovery: DiscoveryMode,
}

impl ZammadConnection {
    pub fn new(base_url: impl Into<String>, time_unit: TimeUnit, default_zone: &str) -> Self {
        ZammadConnection {
            schema_version: SCHEMA_VERSION,
            base_url: base_url.into(),
            time_unit,
            default_zone: default_zone.to_owned(),
            discovery: DiscoveryMode::default(),
        }
    }

    /// The base URL, checked: http(s), a host, no credentials, no query.
    pub fn url(&self) -> Result<Url, String> {
        check_base_url(&self.base_url)
    }

    pub fn zone(&self) -> Result<Tz, String> {
        parse_zone(&self.default_zone).map_err(|e| e.to_string())
    }

    pub fn validate(&self) -> Result<(), String> {
        check_schema(self.schema_version)?;
        self.url()?;
        self.zone()?;
        // The unit's own check (a custom factor must be positive).
        self.time_unit
            .to_seconds(rust_decimal::Decimal::ONE)
            .map_err(|e| format!("time_unit: {e}"))?;
        Ok(())
    }
}

// ---------------------------------------------------------------- Kimai

/// Connection settings of the Kimai instance (`connection/kimai`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KimaiConnection {
    pub schema_version: u32,
    /// Instance root, e.g. `https://time.example.com`.
    pub base_url: String,
}

impl KimaiConnection {
    pub fn new(base_url: impl Into<String>) -> Self {
        KimaiConnection {
            schema_version: SCHEMA_VERSION,
            base_url: base_url.into(),
        }
    }

    pub fn url(&self) -> Result<Url, String> {
        check_base_url(&self.base_url)
    }

    pub fn validate(&self) -> Result<(), String> {
        check_schema(self.schema_version)?;
        self.url().map(|_| ())
    }
}

// ---------------------------------------------------------------- fetch policy

/// What scheduled-fetch does when another run holds the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcurrencyPolicy {
    /// Record a skipped run and return at once.
    #[default]
    Skip,
    /// Wait for the lease up to `queue_wait_secs`, then give up with a failed run.
    Queue,
}

/// Policy of scheduled-fetch (`policy/fetch`). Every field has a default, so a missing document
/// or a document with only some fields works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchSettings {
    pub schema_version: u32,
    /// The incremental fetch reads from `watermark − overlap`, so a record whose `updated_at`
    /// was written a little before a commit became visible is still seen.
    pub overlap_minutes: u32,
    /// Where the very first incremental fetch starts (no watermark yet): this far back.
    pub initial_lookback_hours: u32,
    /// The verify sweep re-enqueues tickets with entries or changes in the last N days.
    pub verify_window_days: u32,
    pub concurrency: ConcurrencyPolicy,
    /// `queue` policy: how long to wait for the lease before giving up.
    pub queue_wait_secs: u32,
    /// `queue` policy: pause between two attempts to take the lease.
    pub lease_poll_millis: u32,
    /// How long a run holds the lease; longer than the function's timeout, so a crashed run
    /// frees it by expiry.
    pub lease_ttl_secs: u32,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            schema_version: SCHEMA_VERSION,
            overlap_minutes: 10,
            initial_lookback_hours: 24,
            verify_window_days: 7,
            concurrency: ConcurrencyPolicy::Skip,
            queue_wait_secs: 60,
            lease_poll_millis: 2_000,
            lease_ttl_secs: 360,
        }
    }
}

/// Longest verify window and backfill range (bounds the work of one invocation).
pub const MAX_WINDOW_DAYS: u32 = 366;

/// scheduled-fetch's `Timeout` in template.yaml (a test of the template keeps the two equal):
/// the longest a run lasts, so what the lease and the queue wait are measured against.
pub const FETCH_FUNCTION_TIMEOUT_SECS: u32 = 300;
/// Time a `queue` run keeps for its own work after waiting for the lease.
pub const MIN_RUN_AFTER_WAIT_SECS: u32 = 60;

impl FetchSettings {
    pub fn overlap(&self) -> Duration {
        Duration::minutes(i64::from(self.overlap_minutes))
    }
    pub fn initial_lookback(&self) -> Duration {
        Duration::hours(i64::from(self.initial_lookback_hours))
    }
    pub fn verify_window(&self) -> Duration {
        Duration::days(i64::from(self.verify_window_days))
    }
    pub fn lease_ttl(&self) -> Duration {
        Duration::seconds(i64::from(self.lease_ttl_secs))
    }
    pub fn queue_wait(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.queue_wait_secs))
    }
    pub fn lease_poll(&self) -> std::time::Duration {
        std::time::Duration::from_millis(u64::from(self.lease_poll_millis))
    }

    pub fn validate(&self) -> Result<(), String> {
        check_schema(self.schema_version)?;
        if self.overlap_minutes > 24 * 60 {
            return Err("overlap_minutes must be at most 1440 (a day)".into());
        }
        if self.initial_lookback_hours == 0 || self.initial_lookback_hours > MAX_WINDOW_DAYS * 24 {
            return Err(format!(
                "initial_lookback_hours must be 1..={}",
                MAX_WINDOW_DAYS * 24
            ));
        }
        if self.verify_window_days == 0 || self.verify_window_days > MAX_WINDOW_DAYS {
            return Err(format!("verify_window_days must be 1..={MAX_WINDOW_DAYS}"));
        }
        // A lease shorter than a run would let a second run start beside a live one.
        if self.lease_ttl_secs < FETCH_FUNCTION_TIMEOUT_SECS {
            return Err(format!(
                "lease_ttl_secs must be at least {FETCH_FUNCTION_TIMEOUT_SECS} (the fetch function's timeout: a lease outlives the longest run)"
            ));
        }
        if self.lease_poll_millis == 0 {
            return Err("lease_poll_millis must be positive".into());
        }
        // The wait happens inside the function: a longer one would be killed by its timeout.
        let max_wait = FETCH_FUNCTION_TIMEOUT_SECS - MIN_RUN_AFTER_WAIT_SECS;
        if self.queue_wait_secs > max_wait {
            return Err(format!(
                "queue_wait_secs must be at most {max_wait} (the fetch function's {FETCH_FUNCTION_TIMEOUT_SECS} s timeout, less {MIN_RUN_AFTER_WAIT_SECS} s for the run itself)"
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- learnt state

/// What fetch learnt about the Zammad token (`discovery/zammad.discovery`): in `auto` mode, a
/// token that was refused the global listing is not asked again until `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryMemory {
    pub schema_version: u32,
    /// The listing that works with this token.
    pub use_mode: DiscoveryMode,
    pub learnt_at: DateTime<Utc>,
    /// When to probe the global listing again (the token may have been given admin rights).
    pub retry_after: DateTime<Utc>,
}

/// How long a learnt fallback is trusted before the global listing is tried again.
pub const DISCOVERY_MEMORY_DAYS: i64 = 1;

impl DiscoveryMemory {
    pub fn ticket_search(now: DateTime<Utc>) -> Self {
        DiscoveryMemory {
            schema_version: SCHEMA_VERSION,
            use_mode: DiscoveryMode::TicketSearch,
            learnt_at: now,
            retry_after: now + Duration::days(DISCOVERY_MEMORY_DAYS),
        }
    }
}

// ---------------------------------------------------------------- notifications

/// `policy/notifications`: which events people are told about (by e-mail and in the chat), and
/// when the pile of conflicts waiting for them is worth a word. The one home of these choices:
/// the console's Notifications page edits it, the event publisher reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    pub schema_version: u32,
    /// `ConflictBacklog ThresholdCrossed` is published when new conflicts take the open ones
    /// from below this many to this many or more; 0 turns it off.
    pub backlog_threshold: u32,
    /// Detail types of [`crate::events::NOTIFIED`] that people are not told about. They are
    /// still published (with `notify: false`), so rules of one's own still see them.
    #[serde(default)]
    pub muted: Vec<String>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            schema_version: SCHEMA_VERSION,
            backlog_threshold: 25,
            muted: Vec::new(),
        }
    }
}

/// Reads `policy/notifications`; the defaults when it does not exist.
pub async fn load_notifications(
    control: &dyn ControlStore,
) -> Result<NotificationSettings, SettingsError> {
    Ok(load_optional(control, NOTIFICATIONS_POLICY)
        .await?
        .unwrap_or_default())
}

pub async fn save_notifications(
    control: &dyn ControlStore,
    doc: &NotificationSettings,
    expected: ExpectedVersion,
    now: DateTime<Utc>,
) -> Result<DocumentWrite, StoreError> {
    save(control, NOTIFICATIONS_POLICY, doc, expected, now).await
}

// ---------------------------------------------------------------- secrets

/// Names (or ARNs) of the secrets holding tokens and keys, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretNames {
    pub zammad_token: Option<String>,
    pub kimai_token: Option<String>,
    pub webhook: Option<String>,
}

impl SecretNames {
    /// Each function reads only the ones it needs; see [`SecretNames::require`].
    pub fn from_env() -> Self {
        SecretNames {
            zammad_token: env::optional(env::ZAMMAD_TOKEN_SECRET),
            kimai_token: env::optional(env::KIMAI_TOKEN_SECRET),
            webhook: env::optional(env::WEBHOOK_SECRET),
        }
    }

    /// The name held in `value`, or `MissingConfig(var)`.
    pub fn require<'a>(
        value: &'a Option<String>,
        var: &'static str,
    ) -> Result<&'a str, StoreError> {
        value.as_deref().ok_or(StoreError::MissingConfig(var))
    }
}

// ---------------------------------------------------------------- loaders

/// Reads and validates `connection/zammad`.
pub async fn load_zammad(control: &dyn ControlStore) -> Result<ZammadConnection, SettingsError> {
    let doc: ZammadConnection = load_required(control, ZAMMAD_CONNECTION).await?;
    doc.validate()
        .map_err(|reason| invalid(ZAMMAD_CONNECTION, reason))?;
    Ok(doc)
}

/// Reads and validates `connection/kimai`.
pub async fn load_kimai(control: &dyn ControlStore) -> Result<KimaiConnection, SettingsError> {
    let doc: KimaiConnection = load_required(control, KIMAI_CONNECTION).await?;
    doc.validate()
        .map_err(|reason| invalid(KIMAI_CONNECTION, reason))?;
    Ok(doc)
}

/// Reads and validates `policy/fetch`; the defaults when it does not exist.
pub async fn load_fetch(control: &dyn ControlStore) -> Result<FetchSettings, SettingsError> {
    let doc: FetchSettings = load_optional(control, FETCH_POLICY)
        .await?
        .unwrap_or_default();
    doc.validate()
        .map_err(|reason| invalid(FETCH_POLICY, reason))?;
    Ok(doc)
}

/// What fetch learnt about discovery, if anything. An unreadable memory counts as none: it is
/// only a shortcut, and the next probe writes it again.
pub async fn load_discovery_memory(
    control: &dyn ControlStore,
) -> Result<Option<DiscoveryMemory>, StoreError> {
    match load_optional::<DiscoveryMemory>(control, ZAMMAD_DISCOVERY).await {
        Ok(memory) => Ok(memory),
        Err(SettingsError::Store(e)) => Err(e),
        Err(other) => {
            tracing::warn!(error = %other, "ignoring unreadable discovery memory");
            Ok(None)
        }
    }
}

pub async fn save_discovery_memory(
    control: &dyn ControlStore,
    memory: &DiscoveryMemory,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    save(control, ZAMMAD_DISCOVERY, memory, ExpectedVersion::Any, now)
        .await
        .map(|_| ())
}

/// Writes a settings document after validating it (console and seeding use this too).
pub async fn save_zammad(
    control: &dyn ControlStore,
    doc: &ZammadConnection,
    expected: ExpectedVersion,
    now: DateTime<Utc>,
) -> Result<DocumentWrite, SettingsError> {
    doc.validate().map_err(|r| invalid(ZAMMAD_CONNECTION, r))?;
    Ok(save(control, ZAMMAD_CONNECTION, doc, expected, now).await?)
}

pub async fn save_kimai(
    control: &dyn ControlStore,
    doc: &KimaiConnection,
    expected: ExpectedVersion,
    now: DateTime<Utc>,
) -> Result<DocumentWrite, SettingsError> {
    doc.validate().map_err(|r| invalid(KIMAI_CONNECTION, r))?;
    Ok(save(control, KIMAI_CONNECTION, doc, expected, now).await?)
}

pub async fn save_fetch(
    control: &dyn ControlStore,
    doc: &FetchSettings,
    expected: ExpectedVersion,
    now: DateTime<Utc>,
) -> Result<DocumentWrite, SettingsError> {
    doc.validate().map_err(|r| invalid(FETCH_POLICY, r))?;
    Ok(save(control, FETCH_POLICY, doc, expected, now).await?)
}

async fn save<T: Serialize>(
    control: &dyn ControlStore,
    name: DocumentName,
    doc: &T,
    expected: ExpectedVersion,
    now: DateTime<Utc>,
) -> Result<DocumentWrite, StoreError> {
    let body = serde_json::to_value(doc).expect("settings documents always serialise");
    control
        .put_document(name.kind, name.id, &body, expected, now)
        .await
}

async fn load_required<T: DeserializeOwned>(
    control: &dyn ControlStore,
    name: DocumentName,
) -> Result<T, SettingsError> {
    load_optional(control, name)
        .await?
        .ok_or(SettingsError::NotConfigured(name))
}

async fn load_optional<T: DeserializeOwned>(
    control: &dyn ControlStore,
    name: DocumentName,
) -> Result<Option<T>, SettingsError> {
    let Some(doc) = control.get_document(name.kind, name.id).await? else {
        return Ok(None);
    };
    // The version first, so a document written by newer code says so instead of failing on
    // a field this code does not know.
    let version = doc.body.get("schema_version").and_then(|v| v.as_u64());
    if let Some(v) = version
        && v != u64::from(SCHEMA_VERSION)
    {
        return Err(invalid(
            name,
            format!("schema_version {v} is not {SCHEMA_VERSION}"),
        ));
    }
    serde_json::from_value(doc.body)
        .map(Some)
        .map_err(|e| invalid(name, e.to_string()))
}

fn invalid(name: DocumentName, reason: String) -> SettingsError {
    SettingsError::Invalid { name, reason }
}

fn check_schema(version: u32) -> Result<(), String> {
    if version == SCHEMA_VERSION {
        Ok(())
    } else {
        Err(format!("schema_version {version} is not {SCHEMA_VERSION}"))
    }
}

/// The development switch that lets the tokens travel over plain `http` to any host: set
/// `ALLOW_INSECURE_UPSTREAM_HTTP=true` on the functions of a stack that is not production.
pub const ALLOW_INSECURE_HTTP: &str = "ALLOW_INSECURE_UPSTREAM_HTTP";

fn insecure_http_allowed() -> bool {
    std::env::var(ALLOW_INSECURE_HTTP).is_ok_and(|v| v == "true")
}

/// Whether `url` names this machine (the local stack and the simulators), where `http` cannot
/// be overheard on a network.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A base URL the tokens may be sent to: `https`, or `http` to loopback (or anywhere with the
/// development switch), with a host and without credentials, query or fragment.
pub fn check_base_url(text: &str) -> Result<Url, String> {
    check_base_url_with(text, insecure_http_allowed())
}

fn check_base_url_with(text: &str, insecure_http: bool) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("base_url {text:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("base_url {text:?} must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("base_url {text:?} has no host"));
    }
    // The token goes along with every call: in plain http anyone on the way can read it.
    if url.scheme() == "http" && !is_loopback(&url) && !insecure_http {
        return Err(format!(
            "base_url {text:?} must use https: the token is sent with every call (http is accepted for 127.0.0.1 and localhost only)"
        ));
    }
    // Credentials in the URL would end up in logs and error messages.
    if !url.username().is_empty() || url.password().is_some() {
        return Err("base_url must not contain credentials; use the token secret".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "base_url {text:?} must not have a query or fragment"
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_store::memory::MemoryControl;

    #[test]
    fn tokens_travel_over_https_or_to_this_machine_only() {
        for ok in [
            "https://support.example.com",
            "http://127.0.0.1:8081",
            "http://localhost:8082",
            "http://[::1]:8081",
        ] {
            assert!(check_base_url_with(ok, false).is_ok(), "{ok}");
        }
        let refused = check_base_url_with("http://support.example.com", false).unwrap_err();
        assert!(refused.contains("must use https"), "{refused}");
        assert!(check_base_url_with("http://10.0.0.5", false).is_err());
        assert!(
            check_base_url_with("http://support.example.com", true).is_ok(),
            "the development switch"
        );
    }

    fn zammad() -> ZammadConnection {
        ZammadConnection::new(
            "https://support.example.com",
            TimeUnit::Minutes,
            "Europe/Berlin",
        )
    }

    #[test]
    fn zammad_connection_is_validated() {
        assert_eq!(zammad().validate(), Ok(()));
        let mut bad = zammad();
        bad.default_zone = "Mars/Olympus".into();
        assert!(bad.validate().unwrap_err().contains("IANA"));
        let mut bad = zammad();
        bad.base_url = "ftp://support.example.com".into();
        assert!(bad.validate().unwrap_err().contains("http"));
        let mut bad = zammad();
        bad.base_url = "https://user:pw@support.example.com".into();
        assert!(bad.validate().unwrap_err().contains("credentials"));
        let mut bad = zammad();
        bad.time_unit = TimeUnit::MinutesPerUnit {
            minutes: rust_decimal::Decimal::ZERO,
        };
        assert!(bad.validate().unwrap_err().contains("time_unit"));
    }

    #[test]
    fn fetch_defaults_are_valid_and_bounds_are_checked() {
        assert_eq!(FetchSettings::default().validate(), Ok(()));
        let bad = FetchSettings {
            verify_window_days: 0,
            ..FetchSettings::default()
        };
        assert!(bad.validate().is_err());
        let bad = FetchSettings {
            lease_ttl_secs: 5,
            ..FetchSettings::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn the_lease_outlives_a_run_and_the_queue_wait_fits_in_the_function() {
        let with = |lease_ttl_secs, queue_wait_secs| {
            FetchSettings {
                lease_ttl_secs,
                queue_wait_secs,
                ..FetchSettings::default()
            }
            .validate()
        };
        assert_eq!(with(300, 240), Ok(()));
        let short_lease = with(299, 60).unwrap_err();
        assert!(
            short_lease.contains("lease_ttl_secs must be at least 300"),
            "{short_lease}"
        );
        let long_wait = with(900, 241).unwrap_err();
        assert!(
            long_wait.contains("queue_wait_secs must be at most 240"),
            "{long_wait}"
        );
    }

    #[tokio::test]
    async fn loaders_name_what_is_missing_or_wrong() {
        let control = MemoryControl::new();
        let now = Utc::now();
        assert!(matches!(
            load_zammad(&control).await,
            Err(SettingsError::NotConfigured(ZAMMAD_CONNECTION))
        ));
        assert_eq!(
            load_fetch(&control).await.unwrap(),
            FetchSettings::default()
        );

        save_zammad(&control, &zammad(), ExpectedVersion::New, now)
            .await
            .unwrap();
        assert_eq!(load_zammad(&control).await.unwrap(), zammad());

        // A partial policy document fills in the defaults.
        control
            .put_document(
                DocumentKind::Policy,
                "fetch",
                &serde_json::json!({"overlap_minutes": 3}),
                ExpectedVersion::Any,
                now,
            )
            .await
            .unwrap();
        let fetch = load_fetch(&control).await.unwrap();
        assert_eq!(fetch.overlap_minutes, 3);
        assert_eq!(fetch.verify_window_days, 7);

        // A newer schema says so.
        control
            .put_document(
                DocumentKind::Policy,
                "fetch",
                &serde_json::json!({"schema_version": 2, "new_field": true}),
                ExpectedVersion::Any,
                now,
            )
            .await
            .unwrap();
        let err = load_fetch(&control).await.unwrap_err();
        assert!(err.to_string().contains("schema_version 2"), "{err}");
        assert!(!err.is_retryable());

        // An invalid saved value is refused on load, too.
        control
            .put_document(
                DocumentKind::Connection,
                "kimai",
                &serde_json::json!({"schema_version": 1, "base_url": "not a url"}),
                ExpectedVersion::Any,
                now,
            )
            .await
            .unwrap();
        assert!(matches!(
            load_kimai(&control).await,
            Err(SettingsError::Invalid {
                name: KIMAI_CONNECTION,
                ..
            })
        ));
    }

    #[test]
    fn documents_have_a_stable_wire_shape() {
        let json = serde_json::to_value(zammad()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "schema_version": 1,
                "base_url": "https://support.example.com",
                "time_unit": {"unit": "minutes"},
                "default_zone": "Europe/Berlin",
                "discovery": "auto"
            })
        );
    }
}
