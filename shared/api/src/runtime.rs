//! What the console needs at start-up besides its adapters (those are built with everyone
//! else's by the Lambda glue, `sync_lambda::adapters`): the names of the secrets it reads, and
//! the first admin.
//!
//! | variable | meaning |
//! |---|---|
//! | `ZAMMAD_TOKEN_SECRET`, `KIMAI_TOKEN_SECRET`, `CONSOLE_SIGNING_KEY_SECRET` | secret names or ARNs |
//! | `CONSOLE_ORIGIN_SECRET` | optional: secret CloudFront sends with every request; when set, requests without it are refused (`context`) |
//! | `CONSOLE_ADMIN_PASSWORD_SECRET` | optional: secret holding the first admin's password |
//! | `CONSOLE_ADMIN_USER` | optional: the first admin's name (default `admin`) |
//!
//! The tables, queues and schedule it is given are the store's variables (see
//! docs/storage.md); every name is defined in `sync_store::env`.

use crate::auth;
use crate::problem::ApiError;
use crate::state::{ApiState, ConsoleSecrets};
use sync_store::StoreError;
use sync_store::env;

pub use sync_store::env::{CONSOLE_ADMIN_PASSWORD_SECRET, CONSOLE_ADMIN_USER};
pub const DEFAULT_ADMIN_USER: &str = "admin";

impl ConsoleSecrets {
    /// The secret names from `lookup` (the environment in production); a missing one is named
    /// in the error. The origin secret is optional (empty is none).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StoreError> {
        let get = |name: &'static str| lookup(name).ok_or(StoreError::MissingConfig(name));
        Ok(ConsoleSecrets {
            zammad_token: get(env::ZAMMAD_TOKEN_SECRET)?,
            kimai_token: get(env::KIMAI_TOKEN_SECRET)?,
            signing_key: get(env::CONSOLE_SIGNING_KEY_SECRET)?,
            origin: lookup(env::CONSOLE_ORIGIN_SECRET).filter(|name| !name.trim().is_empty()),
        })
    }
}

/// Creates the first admin from the password secret named by `CONSOLE_ADMIN_PASSWORD_SECRET`
/// (read through `lookup`), unless that user exists. `Ok(false)`: nothing to do (no secret
/// configured, or the user exists).
pub async fn bootstrap_admin(
    state: &ApiState,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<bool, ApiError> {
    let Some(secret) = lookup(CONSOLE_ADMIN_PASSWORD_SECRET) else {
        return Ok(false);
    };
    let user = lookup(CONSOLE_ADMIN_USER).unwrap_or_else(|| DEFAULT_ADMIN_USER.to_owned());
    if state.control.get_user(&user).await?.is_some() {
        return Ok(false);
    }
    let password =
        state.secrets.get_secret(&secret).await.map_err(|e| {
            ApiError::Internal(format!("first admin password secret {secret}: {e}"))
        })?;
    auth::bootstrap_admin(state, &user, &password).await
}
