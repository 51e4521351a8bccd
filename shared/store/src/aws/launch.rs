use super::sdk_error;
use crate::env;
use crate::error::{StoreError, StoreResult};
use crate::launch::Launcher;
use async_trait::async_trait;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;

/// Invokes one function asynchronously (`InvocationType=Event`): Lambda queues the event and
/// answers 202 at once. For a date-range run the function is the schedule's target
/// (`SCHEDULE_TARGET_ARN`), so the console and the schedule start the very same code; a purge
/// goes to `GDPR_PURGE_FUNCTION`.
#[derive(Clone)]
pub struct LambdaLauncher {
    client: Client,
    function: String,
}

impl LambdaLauncher {
    pub fn new(client: Client, function: String) -> Self {
        LambdaLauncher { client, function }
    }

    /// The function named by the environment variable `var`.
    pub fn from_env(config: &aws_config::SdkConfig, var: &'static str) -> StoreResult<Self> {
        Ok(Self::new(Client::new(config), env::required(var)?))
    }
}

#[async_trait]
impl Launcher for LambdaLauncher {
    async fn launch(&self, payload: &serde_json::Value) -> StoreResult<()> {
        let body = serde_json::to_vec(payload).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let out = self
            .client
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(body))
            .send()
            .await
            .map_err(|e| sdk_error("Invoke", e))?;
        // Lambda answers 202 when it queued the event; anything else did not hand it off.
        match out.status_code() {
            202 => Ok(()),
            other => Err(StoreError::Unavailable(format!(
                "Invoke {} answered {other}, not 202 (event not queued)",
                self.function
            ))),
        }
    }
}
