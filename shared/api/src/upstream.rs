//! Clients of Zammad and Kimai built per request from the stored connection settings and the
//! token secrets (the console changes them, so they are not built once). Retries are off: a
//! person is waiting, and the answer should say at once what is wrong.

use crate::problem::ApiError;
use crate::state::ApiState;
use std::time::Duration;
use sync_service::console::ConsoleError;
use sync_service::settings;
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
    let url = conn.url().map_err(ApiError::Conflict)?;
    let token = token(state, &state.secret_names.zammad_token, "Zammad").await?;
    let mut config = zammad_client::ClientConfig::new(url, zammad_client::ApiToken::new(token));
    config.retry.max_retries = 0;
    config.request_timeout = state.upstream_timeout;
    config.connect_timeout = state.upstream_timeout.min(Duration::from_secs(5));
    zammad_client::ZammadClient::new(config).map_err(|e| ApiError::Conflict(e.to_string()))
}

pub async fn kimai(state: &ApiState) -> Result<kimai_client::KimaiClient, ApiError> {
    let conn = settings::load_kimai(state.control.as_ref())
        .await
        .map_err(ConsoleError::from)?;
    let token = token(state, &state.secret_names.kimai_token, "Kimai").await?;
    let mut config =
        kimai_client::KimaiConfig::new(&conn.base_url, kimai_client::ApiToken::new(token))
            .map_err(|e| ApiError::Conflict(e.to_string()))?;
    config.max_retries = 0;
    config.request_timeout = state.upstream_timeout;
    config.connect_timeout = state.upstream_timeout.min(Duration::from_secs(5));
    kimai_client::KimaiClient::new(config).map_err(|e| ApiError::Conflict(e.to_string()))
}

/// An upstream failure as a 502 (the clients' messages never contain the token).
pub fn upstream(system: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Upstream(format!("{system}: {e}"))
}
