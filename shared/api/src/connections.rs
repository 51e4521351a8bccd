//! Connection settings of Zammad and Kimai (`connection/zammad`, `connection/kimai` documents of
//! `sync_service::settings`), their write-only tokens, and the connection test.
//!
//! Tokens go to Secrets Manager and are never returned: reads say only whether one is set.
//! Writes are conditional: `If-Match: <version>` (from the `ETag` of a read) makes a concurrent
//! edit a 409; without it the last writer wins.

use crate::audit;
use crate::auth::{Admin, Caller};
use crate::context::Origin;
use crate::extract::{ApiJson, if_match};
use crate::problem::{ApiError, FieldError};
use crate::state::ApiState;
use crate::upstream;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_core::units::TimeUnit;
use sync_service::settings::{
    self, DiscoveryMode, KIMAI_CONNECTION, KimaiConnection, ZAMMAD_CONNECTION, ZammadConnection,
};
use sync_store::StoreError;
use sync_store::control::{DocumentWrite, ExpectedVersion};
use sync_store::secrets::SecretString;
use utoipa::ToSchema;

/// Whether a token is stored (its value is never returned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    Set,
    NotSet,
}

async fn token_state(state: &ApiState, id: &str) -> Result<TokenState, ApiError> {
    match state.secrets.get_secret(id).await {
        Ok(t) if !t.expose().is_empty() => Ok(TokenState::Set),
        Ok(_) | Err(StoreError::NotFound(_)) => Ok(TokenState::NotSet),
        Err(e) => Err(e.into()),
    }
}

fn with_etag(body: impl Serialize, version: u64) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{version}\"")).expect("digits"),
    );
    response
}

fn expected(headers: &HeaderMap) -> Result<ExpectedVersion, ApiError> {
    Ok(match if_match(headers)? {
        Some(0) => ExpectedVersion::New,
        Some(v) => ExpectedVersion::Version(v),
        None => ExpectedVersion::Any,
    })
}

fn written(write: DocumentWrite) -> Result<u64, ApiError> {
    match write {
        DocumentWrite::Written { version } => Ok(version),
        DocumentWrite::VersionConflict { current } => Err(ApiError::Conflict(format!(
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

async fn zammad_view(state: &ApiState) -> Result<(ZammadConnectionView, u64), ApiError> {
    let token = token_state(state, &state.secret_names.zammad_token).await?;
    let doc = state
        .control
        .get_document(ZAMMAD_CONNECTION.kind, ZAMMAD_CONNECTION.id)
        .await?;
    let version = doc.as_ref().map_or(0, |d| d.version);
    let conn: Option<ZammadConnection> = doc.and_then(|d| serde_json::from_value(d.body).ok());
    let view = ZammadConnectionView {
        configured: conn.is_some(),
        version,
        base_url: conn.as_ref().map(|c| c.base_url.clone()),
        time_unit: conn.as_ref().map(|c| c.time_unit),
        default_zone: conn.as_ref().map(|c| c.default_zone.clone()),
        discovery: conn.as_ref().map(|c| c.discovery),
        token,
    };
    Ok((view, version))
}

/// The Zammad connection (the token only as set / not set).
#[utoipa::path(get, path = "/api/connections/zammad", tag = "connections", security(("bearer" = [])),
    responses((status = 200, body = ZammadConnectionView), (status = 401, body = crate::problem::Problem)))]
pub async fn get_zammad(_: Caller, State(state): State<ApiState>) -> Result<Response, ApiError> {
    let (view, version) = zammad_view(&state).await?;
    Ok(with_etag(view, version))
}

/// Saves the Zammad connection (and the token, when given).
#[utoipa::path(put, path = "/api/connections/zammad", tag = "connections", security(("bearer" = [])),
    request_body = ZammadConnectionInput,
    params(("If-Match" = Option<String>, Header, description = "version read before")),
    responses((status = 200, body = ZammadConnectionView), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn put_zammad(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ZammadConnectionInput>,
) -> Result<Response, ApiError> {
    let expected = expected(&headers)?;
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
    if !errors.is_empty() {
        return Err(ApiError::invalid_many(
            "the Zammad connection is invalid",
            errors,
        ));
    }
    let write = settings::save_zammad(state.control.as_ref(), &doc, expected, state.clock.now())
        .await
        .map_err(upstream::settings_error)?;
    let version = written(write)?;
    after_connection_saved(
        &state,
        &caller,
        &origin,
        System::Zammad,
        token.as_ref(),
        version,
        &doc.base_url,
    )
    .await?;
    let (view, version) = zammad_view(&state).await?;
    Ok(with_etag(view, version))
}

/// The two connections the console configures.
#[derive(Clone, Copy)]
enum System {
    Zammad,
    Kimai,
}

impl System {
    fn audit_action(self) -> &'static str {
        match self {
            System::Zammad => "connection.zammad.update",
            System::Kimai => "connection.kimai.update",
        }
    }

    fn token_secret(self, state: &ApiState) -> &str {
        match self {
            System::Zammad => &state.secret_names.zammad_token,
            System::Kimai => &state.secret_names.kimai_token,
        }
    }
}

/// What both connection PUTs do once the settings document is written: store a new token (the
/// settings were saved first, so a refused document never leaves a token behind), then audit
/// the change without the token itself.
async fn after_connection_saved(
    state: &ApiState,
    caller: &Caller,
    origin: &Origin,
    system: System,
    token: Option<&SecretString>,
    version: u64,
    base_url: &str,
) -> Result<(), ApiError> {
    if let Some(token) = token {
        state
            .secret_writer
            .put_secret(system.token_secret(state), token)
            .await?;
    }
    audit::record(
        state,
        &caller.username,
        origin,
        system.audit_action(),
        json!({ "version": version, "base_url": base_url, "token_changed": token.is_some() }),
    )
    .await
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

/// Tries the stored Zammad settings and token: who the token is, which types exist.
#[utoipa::path(post, path = "/api/connections/zammad/test", tag = "connections", security(("bearer" = [])),
    responses((status = 200, body = ZammadTestResult), (status = 403, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn test_zammad(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
) -> Result<Json<ZammadTestResult>, ApiError> {
    let client = upstream::zammad(&state).await?;
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
    audit::record(
        &state,
        &caller.username,
        &origin,
        "connection.zammad.test",
        json!({ "ok": result.ok }),
    )
    .await?;
    Ok(Json(result))
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

async fn kimai_view(state: &ApiState) -> Result<(KimaiConnectionView, u64), ApiError> {
    let token = token_state(state, &state.secret_names.kimai_token).await?;
    let doc = state
        .control
        .get_document(KIMAI_CONNECTION.kind, KIMAI_CONNECTION.id)
        .await?;
    let version = doc.as_ref().map_or(0, |d| d.version);
    let conn: Option<KimaiConnection> = doc.and_then(|d| serde_json::from_value(d.body).ok());
    Ok((
        KimaiConnectionView {
            configured: conn.is_some(),
            version,
            base_url: conn.map(|c| c.base_url),
            token,
        },
        version,
    ))
}

/// The Kimai connection (the token only as set / not set).
#[utoipa::path(get, path = "/api/connections/kimai", tag = "connections", security(("bearer" = [])),
    responses((status = 200, body = KimaiConnectionView), (status = 401, body = crate::problem::Problem)))]
pub async fn get_kimai(_: Caller, State(state): State<ApiState>) -> Result<Response, ApiError> {
    let (view, version) = kimai_view(&state).await?;
    Ok(with_etag(view, version))
}

/// Saves the Kimai connection (and the token, when given).
#[utoipa::path(put, path = "/api/connections/kimai", tag = "connections", security(("bearer" = [])),
    request_body = KimaiConnectionInput,
    params(("If-Match" = Option<String>, Header, description = "version read before")),
    responses((status = 200, body = KimaiConnectionView), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn put_kimai(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    headers: HeaderMap,
    ApiJson(input): ApiJson<KimaiConnectionInput>,
) -> Result<Response, ApiError> {
    let expected = expected(&headers)?;
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
    if !errors.is_empty() {
        return Err(ApiError::invalid_many(
            "the Kimai connection is invalid",
            errors,
        ));
    }
    let write = settings::save_kimai(state.control.as_ref(), &doc, expected, state.clock.now())
        .await
        .map_err(upstream::settings_error)?;
    let version = written(write)?;
    after_connection_saved(
        &state,
        &caller,
        &origin,
        System::Kimai,
        token.as_ref(),
        version,
        &doc.base_url,
    )
    .await?;
    let (view, version) = kimai_view(&state).await?;
    Ok(with_etag(view, version))
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
#[utoipa::path(post, path = "/api/connections/kimai/test", tag = "connections", security(("bearer" = [])),
    responses((status = 200, body = KimaiTestResult), (status = 403, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn test_kimai(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
) -> Result<Json<KimaiTestResult>, ApiError> {
    let client = upstream::kimai(&state).await?;
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
    audit::record(
        &state,
        &caller.username,
        &origin,
        "connection.kimai.test",
        json!({ "ok": result.ok }),
    )
    .await?;
    Ok(Json(result))
}
