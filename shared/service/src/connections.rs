//! The Zammad and Kimai clients of the functions, built from the connection settings (control
//! store) and the token secrets (Secrets Manager through `CachedSecrets`) by the builders of
//! [`crate::upstream`], and handed out as the [`Zammad`] and [`Kimai`] ports.
//!
//! A function keeps one [`Connections`] for its lifetime. Each invocation asks it for the
//! clients; they are rebuilt only when the base URL or the token changed (a console edit, a
//! rotated secret), so a warm function reuses its connection pools.

use crate::settings::{self, SettingsError, ZammadConnection};
use crate::upstream::{self, CallRates, Kimai, Timeouts, Zammad};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use sync_store::StoreError;
use sync_store::control::ControlStore;
use sync_store::secrets::SecretSource;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConnectionError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The environment does not name the secret (a deployment problem).
    #[error("environment variable {0} is not set")]
    MissingSecretName(&'static str),
    #[error("cannot read secret {name}: {source}")]
    Secret { name: String, source: StoreError },
    /// The settings and token do not make a client (e.g. a token with a newline).
    #[error("cannot build the {system} client: {reason}")]
    Client {
        system: &'static str,
        reason: String,
    },
}

impl ConnectionError {
    pub fn is_retryable(&self) -> bool {
        match self {
            ConnectionError::Settings(e) => e.is_retryable(),
            ConnectionError::Secret { source, .. } => source.is_retryable(),
            ConnectionError::MissingSecretName(_) | ConnectionError::Client { .. } => false,
        }
    }
}

/// What a built client was built from (hashed: the token is not kept twice in memory).
fn fingerprint(url: &str, token: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(url.as_bytes());
    h.update([0]);
    h.update(token.as_bytes());
    h.finalize().into()
}

/// A built client and the fingerprint of what it was built from.
type Cached<T> = Mutex<Option<([u8; 32], Arc<T>)>>;

pub struct Connections {
    control: Arc<dyn ControlStore>,
    secrets: Arc<dyn SecretSource>,
    zammad_secret: Option<String>,
    kimai_secret: Option<String>,
    zammad: Cached<dyn Zammad>,
    kimai: Cached<dyn Kimai>,
    rates: CallRates,
}

impl Connections {
    /// `zammad_secret` / `kimai_secret`: names (or ARNs) of the token secrets; a function that
    /// never talks to one of the systems passes `None` for it.
    pub fn new(
        control: Arc<dyn ControlStore>,
        secrets: Arc<dyn SecretSource>,
        zammad_secret: Option<String>,
        kimai_secret: Option<String>,
    ) -> Self {
        Connections {
            control,
            secrets,
            zammad_secret,
            kimai_secret,
            zammad: Mutex::new(None),
            kimai: Mutex::new(None),
            rates: CallRates::default(),
        }
    }

    /// Clients that keep the shared call pace of each upstream.
    pub fn with_call_rates(mut self, rates: CallRates) -> Self {
        self.rates = rates;
        self
    }

    async fn token(
        &self,
        name: &Option<String>,
        var: &'static str,
    ) -> Result<String, ConnectionError> {
        let name = name
            .as_deref()
            .ok_or(ConnectionError::MissingSecretName(var))?;
        let secret =
            self.secrets
                .get_secret(name)
                .await
                .map_err(|source| ConnectionError::Secret {
                    name: name.to_owned(),
                    source,
                })?;
        Ok(secret.expose().to_owned())
    }

    /// The Zammad client and the connection settings (unit, default zone) it was built from.
    pub async fn zammad(&self) -> Result<(Arc<dyn Zammad>, ZammadConnection), ConnectionError> {
        let settings = settings::load_zammad(self.control.as_ref()).await?;
        let token = self
            .token(&self.zammad_secret, sync_store::env::ZAMMAD_TOKEN_SECRET)
            .await?;
        let key = fingerprint(&settings.base_url, &token);
        let mut slot = self.zammad.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((k, client)) = slot.as_ref() {
            if *k == key {
                return Ok((client.clone(), settings));
            }
        }
        let client: Arc<dyn Zammad> = Arc::new(
            upstream::zammad_client(
                &settings,
                &token,
                Timeouts::Unattended {
                    pace: self.rates.zammad_pacer(&self.control),
                },
            )
            .map_err(|reason| ConnectionError::Client {
                system: "Zammad",
                reason,
            })?,
        );
        *slot = Some((key, client.clone()));
        Ok((client, settings))
    }

    pub async fn kimai(&self) -> Result<Arc<dyn Kimai>, ConnectionError> {
        let settings = settings::load_kimai(self.control.as_ref()).await?;
        let token = self
            .token(&self.kimai_secret, sync_store::env::KIMAI_TOKEN_SECRET)
            .await?;
        let key = fingerprint(&settings.base_url, &token);
        let mut slot = self.kimai.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((k, client)) = slot.as_ref() {
            if *k == key {
                return Ok(client.clone());
            }
        }
        let client: Arc<dyn Kimai> = Arc::new(
            upstream::kimai_client(
                &settings,
                &token,
                Timeouts::Unattended {
                    pace: self.rates.kimai_pacer(&self.control),
                },
            )
            .map_err(|reason| ConnectionError::Client {
                system: "Kimai",
                reason,
            })?,
        );
        *slot = Some((key, client.clone()));
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use sync_core::units::TimeUnit;
    use sync_store::control::ExpectedVersion;
    use sync_store::memory::{MemoryControl, MemorySecrets};

    fn setup() -> (Arc<MemoryControl>, Arc<MemorySecrets>) {
        (
            Arc::new(MemoryControl::new()),
            Arc::new(MemorySecrets::new()),
        )
    }

    #[tokio::test]
    async fn clients_come_from_settings_and_secrets_and_missing_parts_are_typed_errors() {
        let (control, secrets) = setup();
        let c = Connections::new(
            control.clone(),
            secrets.clone(),
            Some("zammad-token".into()),
            None,
        );
        assert!(matches!(
            c.zammad().await,
            Err(ConnectionError::Settings(SettingsError::NotConfigured(_)))
        ));
        settings::save_zammad(
            control.as_ref(),
            &ZammadConnection::new("http://127.0.0.1:9", TimeUnit::Minutes, "Europe/Berlin"),
            ExpectedVersion::Any,
            Utc::now(),
        )
        .await
        .unwrap();
        let err = c.zammad().await.unwrap_err();
        assert!(
            matches!(&err, ConnectionError::Secret { name, source: StoreError::NotFound(_) } if name == "zammad-token"),
            "{err}"
        );
        secrets.set("zammad-token", "t0ken");
        let (_, s) = c.zammad().await.unwrap();
        assert_eq!(s.default_zone, "Europe/Berlin");

        // No Kimai secret name configured for this function.
        settings::save_kimai(
            control.as_ref(),
            &settings::KimaiConnection::new("http://127.0.0.1:9/"),
            ExpectedVersion::Any,
            Utc::now(),
        )
        .await
        .unwrap();
        let err = c.kimai().await.unwrap_err();
        assert!(
            matches!(err, ConnectionError::MissingSecretName(_)),
            "{err}"
        );
        assert!(!err.is_retryable());
    }
}
