//! Shared set-up of the client tests: the simulator on a random port with the client tests'
//! dataset (`test_support::datasets::kimai::logistics`), and a client with quick backoff.
#![allow(dead_code)]

use kimai_client::{ApiToken, KimaiClient, KimaiConfig};
use kimai_sim::RunningSim;
use std::time::Duration;
use test_support::datasets::kimai as datasets;

/// Admin API user `sync`.
pub const ADMIN_TOKEN: &str = datasets::LOGISTICS_ADMIN_TOKEN;
/// Anna, a plain user.
pub const ANNA_TOKEN: &str = datasets::LOGISTICS_ANNA_TOKEN;

pub async fn start_sim() -> RunningSim {
    test_support::sims::kimai(42, datasets::logistics()).await
}

/// A client with quick backoff so retry tests stay fast.
pub fn config(sim: &RunningSim, token: &str) -> KimaiConfig {
    let mut c = KimaiConfig::new(&sim.base_url(), ApiToken::new(token)).unwrap();
    c.min_backoff = Duration::from_millis(10);
    c.max_backoff = Duration::from_millis(50);
    c.request_timeout = Duration::from_secs(5);
    c
}

pub fn client(sim: &RunningSim, token: &str) -> KimaiClient {
    KimaiClient::new(config(sim, token)).unwrap()
}
