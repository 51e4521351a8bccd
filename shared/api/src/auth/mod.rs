//! Console users, login and the caller extractors.
//!
//! - `POST /api/auth/login` checks the password (`sync_service::console::users`: argon2id, five
//!   failed logins of one user name from one IP within 15 minutes lock that pair out with a
//!   429 until the window ends) and answers a signed token (HS256, 8 h).
//! - `GET /api/auth/me` says who the token belongs to.
//! - `POST /api/auth/password`: a user changes their own password and gets a fresh token;
//!   their other sessions end.
//! - [`Caller`] is any logged-in user; [`Admin`] additionally requires the admin role (a viewer
//!   gets 403) and a password of the admin's own (a temporary one changes nothing but itself).
//!   Every mutation takes [`Admin`]. Managing users: `crate::users`.

pub mod token;

/// Password hashes live with the users they belong to.
pub use sync_service::console::passwords as password;

use crate::context::Origin;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sync_service::console::users::{self as console_users, PasswordChange};
use sync_service::console::{ConsoleError, ConsoleResult};
use sync_store::StoreError;
use sync_store::control::{ConsoleUser, Role};
use sync_store::secrets::SecretString;
use utoipa::ToSchema;

/// Creates the first admin if no user of that name exists (run at start with a password from a
/// secret). Returns whether a user was created.
pub async fn bootstrap_admin(
    state: &ApiState,
    username: &str,
    password: &SecretString,
) -> Result<bool, ApiError> {
    Ok(console_users::create_first_admin(state.logins(), username, password).await?)
}

/// The key tokens are signed with.
async fn signing_key(state: &ApiState) -> ConsoleResult<SecretString> {
    let key = state
        .secrets
        .get_secret(&state.secret_names.signing_key)
        .await
        .map_err(|e| match e {
            StoreError::Unavailable(d) => ConsoleError::Unavailable(format!("signing key: {d}")),
            other => ConsoleError::Internal(format!("signing key: {other}")),
        })?;
    if key.expose().len() < token::MIN_KEY_LEN {
        return Err(ConsoleError::Internal(format!(
            "the signing key is shorter than {} bytes",
            token::MIN_KEY_LEN
        )));
    }
    Ok(key)
}

// ---------------------------------------------------------------- login

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 256, example = "admin")]
    pub username: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub username: String,
    #[schema(value_type = String, example = "admin")]
    pub role: Role,
}

/// Log in with user name and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
              (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem),
              (status = 429, body = crate::problem::Problem)))]
pub async fn login(
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let logins = state.logins();
    let issue = async |user: &ConsoleUser, now: DateTime<Utc>| {
        let key = signing_key(&state).await?;
        Ok(token::issue(
            key.expose().as_bytes(),
            &user.username,
            user.role,
            now,
        ))
    };
    let attempt = origin.actor(&request.username);
    let (user, (token, expires_at)) =
        console_users::log_in(logins, &attempt, &request.password, issue).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at,
        username: user.username,
        role: user.role,
    }))
}

// ---------------------------------------------------------------- who am I

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub username: String,
    #[schema(value_type = String, example = "viewer")]
    pub role: Role,
    /// The password is a temporary one: change it (`POST /api/auth/password`) before anything else.
    pub must_change_password: bool,
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = crate::problem::Problem)))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        username: caller.username,
        role: caller.role,
        must_change_password: caller.must_change_password,
    })
}

/// Changes the caller's own password; answers a fresh token, as a login does (tokens issued
/// before stop working).
#[utoipa::path(post, path = "/api/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 200, body = LoginResponse), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem),
              (status = 403, description = "the current password is wrong", body = crate::problem::Problem)))]
pub async fn change_password(
    caller: Caller,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<Json<LoginResponse>, ApiError> {
    let actor = origin.actor(&caller.username);
    let user = console_users::change_own_password(state.logins(), &actor, &change).await?;
    let key = signing_key(&state).await?;
    let (token, expires_at) = token::issue(
        key.expose().as_bytes(),
        &user.username,
        user.role,
        state.clock.now(),
    );
    Ok(Json(LoginResponse {
        token,
        expires_at,
        username: user.username,
        role: user.role,
    }))
}

// ---------------------------------------------------------------- extractors

/// A logged-in console user (valid token, user still exists and is enabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub username: String,
    pub role: Role,
    pub must_change_password: bool,
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthenticated("log in first: no bearer token".into()))?;
        let bearer = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthenticated("the Authorization header is not a bearer token".into())
            })?;
        let key = signing_key(state).await?;
        let claims = token::verify(key.expose().as_bytes(), bearer, state.clock.now())
            .map_err(|e| ApiError::Unauthenticated(format!("{e}; log in again")))?;
        let user =
            console_users::current_user(state.control.as_ref(), &claims.sub, claims.iat).await?;
        Ok(Caller {
            username: user.username,
            role: user.role,
            must_change_password: user.must_change_password,
        })
    }
}

/// A logged-in admin; viewers get 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin(pub Caller);

impl FromRequestParts<ApiState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.role != Role::Admin {
            return Err(ApiError::Forbidden(
                "viewers have read-only access; ask an admin".into(),
            ));
        }
        if caller.must_change_password {
            return Err(ApiError::Forbidden(
                "set a password of your own first (POST /api/auth/password)".into(),
            ));
        }
        Ok(Admin(caller))
    }
}
