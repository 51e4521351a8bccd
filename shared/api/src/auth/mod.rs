//! Console users, login and the caller extractors.
//!
//! - `POST /api/auth/login` checks the password (argon2id) and answers a signed token (HS256,
//!   8 h). Five failed logins of one user name from one IP within 15 minutes lock that pair
//!   out (429) until the window ends.
//! - `GET /api/auth/me` says who the token belongs to.
//! - [`Caller`] is any logged-in user; [`Admin`] additionally requires the admin role (a viewer
//!   gets 403). Every mutation takes [`Admin`].

pub mod password;
pub mod token;

use crate::audit;
use crate::context::Origin;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_store::StoreError;
use sync_store::control::{ConsoleUser, Role, UserWrite, window_start};
use sync_store::secrets::SecretString;
use utoipa::ToSchema;

pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;

fn login_window() -> Duration {
    Duration::minutes(LOGIN_WINDOW_MINUTES)
}

/// Creates the first admin if no user of that name exists (run at start with a password from a
/// secret). Returns whether a user was created.
pub async fn bootstrap_admin(
    state: &ApiState,
    username: &str,
    password: &SecretString,
) -> Result<bool, ApiError> {
    validate_username(username)?;
    if password.expose().chars().count() < password::MIN_PASSWORD_LEN {
        return Err(ApiError::invalid(
            "password",
            format!(
                "the first admin's password must have at least {} characters",
                password::MIN_PASSWORD_LEN
            ),
        ));
    }
    let user = ConsoleUser {
        username: username.to_owned(),
        password_hash: password::hash(password.expose()),
        role: Role::Admin,
        disabled: false,
        created_at: state.clock.now(),
    };
    Ok(state.control.create_user(&user).await? == UserWrite::Written)
}

fn validate_username(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "username",
            "1 to 64 characters: letters, digits, '.', '_', '-', '@'",
        ))
    }
}

async fn signing_key(state: &ApiState) -> Result<SecretString, ApiError> {
    let key = state
        .secrets
        .get_secret(&state.secret_names.signing_key)
        .await
        .map_err(|e| match e {
            StoreError::Unavailable(d) => ApiError::Unavailable(format!("signing key: {d}")),
            other => ApiError::Internal(format!("signing key: {other}")),
        })?;
    if key.expose().len() < token::MIN_KEY_LEN {
        return Err(ApiError::Internal(format!(
            "the signing key is shorter than {} bytes",
            token::MIN_KEY_LEN
        )));
    }
    Ok(key)
}

// ---------------------------------------------------------------- login

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
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
    if request.username.is_empty() || request.password.is_empty() {
        return Err(ApiError::invalid_many(
            "user name and password are required",
            [
                ("username", &request.username),
                ("password", &request.password),
            ]
            .into_iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(f, _)| crate::problem::FieldError::new(f, "required"))
            .collect(),
        ));
    }
    let now = state.clock.now();
    // One counter per (user name, IP): a wrong guess from elsewhere does not lock a user out.
    let subject = format!(
        "{}|{}",
        request.username.to_lowercase(),
        origin.ip.as_deref().unwrap_or("unknown")
    );
    let failures = state
        .control
        .login_failures(&subject, login_window(), now)
        .await?;
    if failures >= MAX_FAILED_LOGINS {
        audit::record(
            &state,
            &request.username,
            &origin,
            "login.throttled",
            json!({}),
        )
        .await?;
        return Err(too_many(now));
    }

    let user = state.control.get_user(&request.username).await?;
    let accepted = match &user {
        Some(u) => password::verify(&u.password_hash, &request.password) && !u.disabled,
        None => {
            password::burn_time(&request.password);
            false
        }
    };
    let Some(user) = user.filter(|_| accepted) else {
        let count = state
            .control
            .record_login_failure(&subject, login_window(), now)
            .await?;
        audit::record(
            &state,
            &request.username,
            &origin,
            "login.failed",
            json!({ "failures_in_window": count }),
        )
        .await?;
        if count >= MAX_FAILED_LOGINS {
            return Err(too_many(now));
        }
        return Err(ApiError::Unauthenticated(
            "wrong user name or password".into(),
        ));
    };

    state
        .control
        .clear_login_failures(&subject, login_window(), now)
        .await?;
    let key = signing_key(&state).await?;
    let (token, expires_at) = token::issue(key.expose().as_bytes(), &user.username, user.role, now);
    audit::record(&state, &user.username, &origin, "login", json!({})).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at,
        username: user.username,
        role: user.role,
    }))
}

fn too_many(now: DateTime<Utc>) -> ApiError {
    let window_end = window_start(login_window(), now) + login_window().num_seconds();
    ApiError::TooManyRequests {
        retry_after_secs: (window_end - now.timestamp()).max(1) as u64,
    }
}

// ---------------------------------------------------------------- who am I

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub username: String,
    #[schema(value_type = String, example = "viewer")]
    pub role: Role,
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = crate::problem::Problem)))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        username: caller.username,
        role: caller.role,
    })
}

// ---------------------------------------------------------------- extractors

/// A logged-in console user (valid token, user still exists and is enabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub username: String,
    pub role: Role,
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
        // The store decides the role now: a demoted or disabled user's token stops working.
        let user = state
            .control
            .get_user(&claims.sub)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(|| ApiError::Unauthenticated("the user no longer exists".into()))?;
        Ok(Caller {
            username: user.username,
            role: user.role,
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
        Ok(Admin(caller))
    }
}
