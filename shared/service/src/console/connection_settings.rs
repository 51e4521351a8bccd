//! Connection settings of Zammad and Kimai (`connection/zammad`, `connection/kimai` documents of
//! [`crate::settings`]), their write-only tokens, and the connection test.
//!
//! Tokens go to the secret store and are never returned: reads say only whether one is set.
//! Writes are conditional on the version the caller read (a concurrent edit is a conflict);
//! without one the last writer wins. Saving stores the document first, so a refused document
//! never leaves a token behind.

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult, FieldError};
use crate::settings::{
    self, DiscoveryMode, KIMAI_CONNECTION, KimaiConnection, ZAMMAD_CONNECTION, ZammadConnection,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_core::units::TimeUnit;
use sync_store::StoreError;
use sync_store::control::{ControlStore, DocumentWrite, ExpectedVersion};
use sync_store::secrets::{SecretSource, SecretString, SecretWriter};
use utoipa::ToSchema;

/// What reading and saving a connection needs. `token_secret` names the secret of the
/// connection's token (Zammad's or Kimai's).
#[derive(Clone, Copy)]
pub struct ConnectionStores<'a> {
    pub control: &'a dyn ControlStore,
    pub secrets: &'a dyn SecretSource,
    pub secret_writer: &'a dyn SecretWriter,
    pub access: AccessLog<'a>,
    pub token_secret: &'a str,
}

/// Whether a token is stored (its value is never returned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    Set,
    NotSet,
}

async fn token_state(stores: &ConnectionStores<'_>) -> ConsoleResult<TokenState> {
    match stores.secrets.get_secret(stores.token_secret).await {
        Ok(t) if !t.expose().is_empty() => Ok(TokenState::Set),
        Ok(_) | Err(StoreError::NotFound(_)) => Ok(TokenState::NotSet),
        Err(e) => Err(e.into()),
    }
}

fn written(write: DocumentWrite) -> ConsoleResult<u64> {
    match write {
        DocumentWrite::Written { version } => Ok(version),
        DocumentWrite::VersionConflict { current } => Err(ConsoleError::Conflict(format!(
            "changed by someone else meanwhile (now version {}); reload and retry",
            current.unwrap_or(0)
        ))),
    }
}

fn check_token(token: &Option<String>) -> Result<Option<SecretString>, FieldError> {
    match token {
        None => Ok(None),
        Some(t) if t.trim().is_empty() || t.len() > 4096 || t.trim() != t => Err(FieldError::new(
            "token",
            "must be non-empty, without surrounding spaces, at most 4096 characters",
        )),
        Some(t) => Ok(Some(SecretString::new(t.clone()))),
    }
}

/// The stored document of `name` and its version (0 before the first save); a body that does
/// not read counts as not configured.
async fn stored<T: serde::de::DeserializeOwned>(
    control: &dyn ControlStore,
    name: settings::DocumentName,
) -> ConsoleResult<(Option<T>, u64)> {
    let doc = control.get_document(name.kind, name.id).await?;
    let version = doc.as_ref().map_or(0, |d| d.version);
    Ok((
        doc.and_then(|d| serde_json::from_value(d.body).ok()),
        version,
    ))
}

/// Where a base URL's calls go: scheme, host and port.
fn origin_of(base_url: &str) -> Option<String> {
    url::Url::parse(base_url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

/// A new host for a stored token needs the token again: otherwise an admin, or whoever holds
/// a stolen session, could point the connection at a host of theirs and call `/test`, and the
/// stored token would go there.
fn token_follows_host(
    stored_url: Option<&str>,
    new_url: &str,
    token: Option<&SecretString>,
) -> ConsoleResult<()> {
    let moved = stored_url.is_some_and(|old| origin_of(old) != origin_of(new_url));
    if moved && token.is_none() {
        return Err(ConsoleError::invalid(
            "token",
            "the connection moves to another host: enter its token again (the stored one is never sent to a new host)",
        ));
    }
    Ok(())
}

/// What both saves do once the settings document is written: store a new token, then audit
/// the change without the token itself.
async fn after_saved(
    stores: &ConnectionStores<'_>,
    actor: &Actor,
    action: &str,
    token: Option<&SecretString>,
    version: u64,
    base_url: &str,
) -> ConsoleResult<()> {
    if let Some(token) = token {
        stores
            .secret_writer
            .put_secret(stores.token_secret, token)
            .await?;
    }
    let detail =
        json!({ "version": version, "base_url": base_url, "token_changed": token.is_some() });
    Ok(stores.access.record(actor, action, detail).await?)
}

// ---------------------------------------------------------------- Zammad

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ZammadConnectionView {
    /// `false` until the first save; then the settings below are set.
    pub configured: bool,
    /// Document version (0 before the first save); send it back as `If-Match`.
    pub version: u64,
    pub base_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub time_unit: Option<TimeUnit>,
    pub default_zone: Option<String>,
    #[schema(value_type = Option<String>, example = "auto")]
    pub discovery: Option<DiscoveryMode>,
    pub token: TokenState,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZammadConnectionInput {
    pub base_url: String,
    /// `{"unit": "minutes"}`, `{"unit": "hours"}` or `{"unit": "minutes_per_unit", "minutes": "15"}`.
    #[schema(value_type = Object)]
    pub time_unit: TimeUnit,
    /// IANA zone, e.g. `Europe/Berlin`.
    pub default_zone: String,
    #[serde(default)]
    #[schema(value_type = String, example = "auto")]
    pub discovery: DiscoveryMode,
    /// Write-only; omitted keeps the stored token.
    #[serde(default)]
    pub token: Option<String>,
}

/// The Zammad connection (the token only as set / not set).
pub async fn zammad_connection(
    stores: ConnectionStores<'_>,
) -> ConsoleResult<ZammadConnectionView> {
    let token = token_state(&stores).await?;
    let (conn, version) = stored::<ZammadConnection>(stores.control, ZAMMAD_CONNECTION).await?;
    Ok(ZammadConnectionView {
        configured: conn.is_some(),
        version,
        base_url: conn.as_ref().map(|c| c.base_url.clone()),
        time_unit: conn.as_ref().map(|c| c.time_unit),
        default_zone: conn.as_ref().map(|c| c.default_zone.clone()),
        discovery: conn.as_ref().map(|c| c.discovery),
        token,
    })
}

/// Checks every field of the input at once; the document to store and the new token, if any.
fn zammad_document(
    input: &ZammadConnectionInput,
) -> ConsoleResult<(ZammadConnection, Option<SecretString>)> {
    let doc = ZammadConnection {
        schema_version: settings::SCHEMA_VERSION,
        base_url: input.base_url.trim().to_owned(),
        time_unit: input.time_unit,
        default_zone: input.default_zone.trim().to_owned(),
        discovery: input.discovery,
    };
    let mut errors = Vec::new();
    if let Err(e) = doc.url() {
        errors.push(FieldError::new("base_url", e));
    }
    if let Err(e) = doc.zone() {
        errors.push(FieldError::new("default_zone", e));
    }
    if let Err(e) = doc.time_unit.to_seconds(rust_decimal::Decimal::ONE) {
        errors.push(FieldError::new("time_unit", e.to_string()));
    }
    let token = check_token(&input.token)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    ConsoleError::check("the Zammad connection is invalid", errors)?;
    Ok((doc, token))
}

/// Saves the Zammad connection (and the token, when given), audited; the connection as saved.
pub async fn save_zammad_connection(
    stores: ConnectionStores<'_>,
    actor: &Actor,
    expected: ExpectedVersion,
    input: &ZammadConnectionInput,
) -> ConsoleResult<ZammadConnectionView> {
    let (doc, token) = zammad_document(input)?;
    let (before, _) =
        stored::<ZammadConnection>(stores.control, settings::ZAMMAD_CONNECTION).await?;
    token_follows_host(
        before.as_ref().map(|b| b.base_url.as_str()),
        &doc.base_url,
        token.as_ref(),
    )?;
    let now = stores.access.clock.now();
    let version = written(settings::save_zammad(stores.control, &doc, expected, now).await?)?;
    let action = "connection.zammad.update";
    after_saved(
        &stores,
        actor,
        action,
        token.as_ref(),
        version,
        &doc.base_url,
    )
    .await?;
    zammad_connection(stores).await
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ZammadUserSummary {
    pub id: u64,
    pub login: Option<String>,
    pub name: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct NamedItem {
    pub id: u64,
    pub name: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ZammadTestResult {
    /// `true` when the token works; otherwise `error` says what failed.
    pub ok: bool,
    pub error: Option<String>,
    pub user: Option<ZammadUserSummary>,
    pub version: Option<String>,
    /// Time accounting types (empty when the token may not read them).
    pub types: Vec<NamedItem>,
}

/// Tries the stored Zammad settings and token: who the token is, which types exist. A failing
/// Zammad is the answer (`ok: false`), not an error; the test is audited either way.
pub async fn test_zammad(
    client: &zammad_client::ZammadClient,
    access: AccessLog<'_>,
    actor: &Actor,
) -> ConsoleResult<ZammadTestResult> {
    let result = match client.connection_test().await {
        Err(e) => ZammadTestResult {
            ok: false,
            error: Some(e.to_string()),
            user: None,
            version: None,
            types: vec![],
        },
        Ok(user) => {
            let version = client.version().await.ok();
            let types = client
                .accounting_types()
                .await
                .map(|types| {
                    types
                        .into_iter()
                        .map(|t| NamedItem {
                            id: t.id.0,
                            name: t.name,
                        })
                        .collect()
                })
                .unwrap_or_default();
            ZammadTestResult {
                ok: true,
                error: None,
                user: Some(ZammadUserSummary {
                    id: user.id.0,
                    login: user.login.clone(),
                    name: user.display_name(),
                }),
                version,
                types,
            }
        }
    };
    let detail = json!({ "ok": result.ok });
    access
        .record(actor, "connection.zammad.test", detail)
        .await?;
    Ok(result)
}

// ---------------------------------------------------------------- Kimai

#[derive(Serialize, Deserialize, ToSchema)]
pub struct KimaiConnectionView {
    pub configured: bool,
    pub version: u64,
    pub base_url: Option<String>,
    pub token: TokenState,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KimaiConnectionInput {
    pub base_url: String,
    /// Write-only; omitted keeps the stored token.
    #[serde(default)]
    pub token: Option<String>,
}

/// The Kimai connection (the token only as set / not set).
pub async fn kimai_connection(stores: ConnectionStores<'_>) -> ConsoleResult<KimaiConnectionView> {
    let token = token_state(&stores).await?;
    let (conn, version) = stored::<KimaiConnection>(stores.control, KIMAI_CONNECTION).await?;
    Ok(KimaiConnectionView {
        configured: conn.is_some(),
        version,
        base_url: conn.map(|c| c.base_url),
        token,
    })
}

fn kimai_document(
    input: &KimaiConnectionInput,
) -> ConsoleResult<(KimaiConnection, Option<SecretString>)> {
    let doc = KimaiConnection {
        schema_version: settings::SCHEMA_VERSION,
        base_url: input.base_url.trim().to_owned(),
    };
    let mut errors = Vec::new();
    if let Err(e) = doc.url() {
        errors.push(FieldError::new("base_url", e));
    }
    let token = check_token(&input.token)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    ConsoleError::check("the Kimai connection is invalid", errors)?;
    Ok((doc, token))
}

/// Saves the Kimai connection (and the token, when given), audited; the connection as saved.
pub async fn save_kimai_connection(
    stores: ConnectionStores<'_>,
    actor: &Actor,
    expected: ExpectedVersion,
    input: &KimaiConnectionInput,
) -> ConsoleResult<KimaiConnectionView> {
    let (doc, token) = kimai_document(input)?;
    let (before, _) = stored::<KimaiConnection>(stores.control, settings::KIMAI_CONNECTION).await?;
    token_follows_host(
        before.as_ref().map(|b| b.base_url.as_str()),
        &doc.base_url,
        token.as_ref(),
    )?;
    let now = stores.access.clock.now();
    let version = written(settings::save_kimai(stores.control, &doc, expected, now).await?)?;
    let action = "connection.kimai.update";
    after_saved(
        &stores,
        actor,
        action,
        token.as_ref(),
        version,
        &doc.base_url,
    )
    .await?;
    kimai_connection(stores).await
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct KimaiUserSummary {
    pub id: u64,
    pub username: String,
    /// The zone Kimai reads this user's times in.
    pub timezone: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct KimaiTestResult {
    pub ok: bool,
    pub error: Option<String>,
    pub version: Option<String>,
    pub user: Option<KimaiUserSummary>,
    /// Whether the API user may book for others (`create_other_timesheet`). Kimai does not list
    /// permissions over the API; this is read from the roles that grant it by default
    /// (`ROLE_ADMIN`, `ROLE_SUPER_ADMIN`). A teamlead may book only for its teams: `false`.
    pub may_book_for_others: Option<bool>,
}

/// Tries the stored Kimai settings and token: version, API user and zone, booking rights.
/// Audited like the Zammad test.
pub async fn test_kimai(
    client: &kimai_client::KimaiClient,
    access: AccessLog<'_>,
    actor: &Actor,
) -> ConsoleResult<KimaiTestResult> {
    let result = match client.me().await {
        Err(e) => KimaiTestResult {
            ok: false,
            error: Some(e.to_string()),
            version: None,
            user: None,
            may_book_for_others: None,
        },
        Ok(me) => {
            let version = client.version().await.ok().map(|v| v.version);
            let may = me
                .roles
                .iter()
                .any(|r| r == "ROLE_ADMIN" || r == "ROLE_SUPER_ADMIN");
            KimaiTestResult {
                ok: true,
                error: None,
                version,
                user: Some(KimaiUserSummary {
                    id: me.id.0,
                    username: me.username,
                    timezone: me.timezone,
                }),
                may_book_for_others: Some(may),
            }
        }
    };
    let detail = json!({ "ok": result.ok });
    access
        .record(actor, "connection.kimai.test", detail)
        .await?;
    Ok(result)
}
