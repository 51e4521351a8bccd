use super::sdk_error;
use crate::error::{StoreError, StoreResult};
use crate::secrets::{SecretSource, SecretString, SecretWriter};
use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;

/// Reads secret strings from Secrets Manager. Wrap it in [`crate::secrets::CachedSecrets`].
#[derive(Clone)]
pub struct SecretsManagerSource {
    client: Client,
}

impl SecretsManagerSource {
    pub fn new(client: Client) -> Self {
        SecretsManagerSource { client }
    }

    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self::new(Client::new(config))
    }
}

#[async_trait]
impl SecretSource for SecretsManagerSource {
    async fn get_secret(&self, id: &str) -> StoreResult<SecretString> {
        // The error text names the secret id, never its value.
        let out = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("read secret {id}"), e))?;
        out.secret_string.map(SecretString::new).ok_or_else(|| {
            StoreError::Invalid(format!("secret {id} holds binary data, not a string"))
        })
    }
}

#[async_trait]
impl SecretWriter for SecretsManagerSource {
    /// Stores a new version of the secret, and creates it only when it does not exist yet (the
    /// template creates the token secrets; a hand-made local stack may not have them). The
    /// version is written first because on AWS `id` is often an ARN, which `PutSecretValue`
    /// accepts but `CreateSecret` refuses as a name.
    async fn put_secret(&self, id: &str, value: &SecretString) -> StoreResult<()> {
        let put = self
            .client
            .put_secret_value()
            .secret_id(id)
            .secret_string(value.expose())
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e) if super::error_code(&e) == Some("ResourceNotFoundException") => {
                self.client
                    .create_secret()
                    .name(id)
                    .secret_string(value.expose())
                    .send()
                    .await
                    .map_err(|e| sdk_error(&format!("create secret {id}"), e))?;
                Ok(())
            }
            Err(e) => Err(sdk_error(&format!("write secret {id}"), e)),
        }
    }
}
