//! Builds the Zammad and Kimai clients from the connection settings and a token: the one place
//! that knows how a settings document and a secret become a client.

use crate::settings::{KimaiConnection, ZammadConnection};
use call_pacing::Pacer;
use kimai_client::{KimaiClient, KimaiConfig};
use std::sync::Arc;
use std::time::Duration;
use zammad_client::{ClientConfig, ZammadClient};

/// The longest a console request waits for a connection, whatever its overall timeout.
const INTERACTIVE_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a client waits for an answer, and whether it tries again.
#[derive(Debug, Clone)]
pub enum Timeouts {
    /// The clients' own timeouts, with retries and backoff: the functions run unattended and a
    /// transient failure is worth waiting out. Calls keep the shared pace, when there is one.
    Unattended { pace: Option<Arc<dyn Pacer>> },
    /// One attempt within `request` (connecting within at most 5 s of it): a person in the
    /// console is waiting, and the answer should say at once what is wrong.
    Interactive { request: Duration },
}

/// A Zammad client for `settings` and `token`; the error says why the two do not make one (a
/// bad base URL, a token that is not a valid header).
pub fn zammad_client(
    settings: &ZammadConnection,
    token: &str,
    timeouts: Timeouts,
) -> Result<ZammadClient, String> {
    let mut config = ClientConfig::new(settings.url()?, token);
    match timeouts {
        Timeouts::Unattended { pace } => config.pace = pace,
        Timeouts::Interactive { request } => {
            config.retry.max_retries = 0;
            config.request_timeout = request;
            config.connect_timeout = request.min(INTERACTIVE_CONNECT_TIMEOUT);
        }
    }
    ZammadClient::new(config).map_err(|e| e.to_string())
}

/// A Kimai client for `settings` and `token`, as [`zammad_client`].
pub fn kimai_client(
    settings: &KimaiConnection,
    token: &str,
    timeouts: Timeouts,
) -> Result<KimaiClient, String> {
    let mut config = KimaiConfig::new(&settings.base_url, kimai_client::ApiToken::new(token))
        .map_err(|e| e.to_string())?;
    match timeouts {
        Timeouts::Unattended { pace } => config.pace = pace,
        Timeouts::Interactive { request } => {
            config.max_retries = 0;
            config.request_timeout = request;
            config.connect_timeout = request.min(INTERACTIVE_CONNECT_TIMEOUT);
        }
    }
    KimaiClient::new(config).map_err(|e| e.to_string())
}
