//! Seeds the demo configuration of the local stack into the control store: the Zammad and
//! Kimai connection settings (pointing at the simulators), the fetch policy (defaults) and the
//! sync policy with the demo mappings (`demo-policy.json`, matching the simulators' demo data).
//!
//! Every document goes through the service layer's own types and validation, so a seed that
//! the pipeline could not read is refused here, before it is written.

use chrono::Utc;
use sync_core::units::TimeUnit;
use sync_service::policies::{SYNC_POLICY_ID, SyncPolicy};
use sync_service::settings::{
    self, FetchSettings, KimaiConnection, SettingsError, ZammadConnection,
};
use sync_store::StoreError;
use sync_store::control::{ControlStore, DocumentKind, ExpectedVersion};
use thiserror::Error;

#[derive(Debug, Clone)]
pub struct DemoSeed {
    pub zammad_url: String,
    pub kimai_url: String,
    /// IANA zone for agents without one in Kimai.
    pub default_zone: String,
    /// Body of the `policy/sync` document.
    pub policy: serde_json::Value,
}

#[derive(Debug, Error)]
pub enum SeedError {
    /// The seed itself is wrong (fix the file or the arguments); nothing was written for it.
    #[error("invalid seed: {0}")]
    Invalid(String),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DemoSeed {
    /// Parses and checks everything before any write.
    pub fn validate(&self) -> Result<SyncPolicy, SeedError> {
        let policy: SyncPolicy = serde_json::from_value(self.policy.clone())
            .map_err(|e| SeedError::Invalid(format!("sync policy: {e}")))?;
        policy
            .validate()
            .map_err(|e| SeedError::Invalid(format!("sync policy: {e}")))?;
        let zammad = self.zammad();
        zammad
            .validate()
            .map_err(|e| SeedError::Invalid(format!("zammad connection: {e}")))?;
        self.kimai()
            .validate()
            .map_err(|e| SeedError::Invalid(format!("kimai connection: {e}")))?;
        Ok(policy)
    }

    fn zammad(&self) -> ZammadConnection {
        ZammadConnection::new(&self.zammad_url, TimeUnit::Minutes, &self.default_zone)
    }

    fn kimai(&self) -> KimaiConnection {
        KimaiConnection::new(&self.kimai_url)
    }

    /// Writes the four documents, last writer wins, so running it twice gives the same state.
    pub async fn write(&self, control: &dyn ControlStore) -> Result<(), SeedError> {
        let policy = self.validate()?;
        let now = Utc::now();
        settings::save_zammad(control, &self.zammad(), ExpectedVersion::Any, now).await?;
        settings::save_kimai(control, &self.kimai(), ExpectedVersion::Any, now).await?;
        settings::save_fetch(
            control,
            &FetchSettings::default(),
            ExpectedVersion::Any,
            now,
        )
        .await?;
        let body = serde_json::to_value(&policy).expect("a policy always serialises");
        control
            .put_document(
                DocumentKind::Policy,
                SYNC_POLICY_ID,
                &body,
                ExpectedVersion::Any,
                now,
            )
            .await?;
        Ok(())
    }
}
