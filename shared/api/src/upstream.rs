//! Clients of Zammad and Kimai built per request from the stored connection settings and the
//! token secrets (the console changes them, so they are not built once), by the service's one
//! builder per system ([`sync_service::upstream`]). Retries are off: a person is waiting, and the
//! answer should say at once what is wrong.

use crate::problem::ApiError;
use crate::state::ApiState;
use sync_service::console::ConsoleError;
use sync_service::settings;
use sync_service::upstream::{self as build, Timeouts};
use sync_store::StoreError;

async fn token(state: &ApiState, id: &str, system: &str) -> Result<String, ApiError> {
    match state.secrets.get_secret(id).await {
        Ok(t) if !t.expose().is_empty() => Ok(t.expose().to_owned()),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(ApiError::Conflict(format!(
            "the {system} token is not set; save it with the connection first"
        ))),
        Err(e) => Err(e.into()),
    }
}

pub async fn zammad(state: &ApiState) -> Result<zammad_client::ZammadClient, ApiError> {
    let conn = settings::load_zammad(state.control.as_ref())
        .await
        .map_err(ConsoleError::from)?;
    // The URL first: a bad one is reported even while the token is missing.
    conn.url().map_err(ApiError::Conflict)?;
    let token = token(state, &state.secret_names.zammad_token, "Zammad").await?;
    build::zammad_client(&conn, &token, interactive(state)).map_err(ApiError::Conflict)
}

pub async fn kimai(state: &ApiState) -> Result<kimai_client::KimaiClient, ApiError> {
    let conn = settings::load_kimai(state.control.as_ref())
        .await
        .map_err(ConsoleError::from)?;
    let token = token(state, &state.secret_names.kimai_token, "Kimai").await?;
    build::kimai_client(&conn, &token, interactive(state)).map_err(ApiError::Conflict)
}

fn interactive(state: &ApiState) -> Timeouts {
    Timeouts::Interactive {
        request: state.upstream_timeout,
    }
}

/// An upstream failure as a 502 (the clients' messages never contain the token).
pub fn upstream(system: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Upstream(format!("{system}: {e}"))
}
