//! The console API on a laptop: in-memory stores, the Zammad and Kimai simulators with their
//! demo data, 127.0.0.1 only. Built from the tests' scaffolding (`test-support`), so it runs
//! the same console the API's tests run.
//!
//! `cargo run -p console-api --example local -- [PORT]` (default 8090). The admin is `admin`
//! with the password from `CONSOLE_ADMIN_PASSWORD` (at least 12 characters), else a random
//! one printed once at start. State is lost when it stops.

use std::sync::Arc;
use sync_store::clock::SystemClock;
use sync_store::secrets::SecretString;
use test_support::apps::{SIGNING_KEY_SECRET, api_state_on};
use test_support::datasets;
use test_support::sims::{self, ZammadVersion};
use test_support::stores::MemoryStores;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(8090);

    // The tests' console state over fresh in-memory stores, on the real clock, with a signing
    // key of this run's own (set before the first read, so the cache never saw the tests' key)
    // and the longer upstream timeout of a deployment.
    let stores = MemoryStores::new();
    let mut state = api_state_on(&stores, Arc::new(SystemClock));
    stores.secrets.set(SIGNING_KEY_SECRET, &random(48));
    state.upstream_timeout = std::time::Duration::from_secs(10);
    let (password, generated) = match std::env::var("CONSOLE_ADMIN_PASSWORD") {
        Ok(p) => (p, false),
        Err(_) => (random(16), true),
    };
    console_api::auth::bootstrap_admin(&state, "admin", &SecretString::new(password.clone()))
        .await
        .map_err(|e| e.to_string())?;

    let zammad = sims::zammad(ZammadVersion::V6_5, datasets::zammad::demo()).await;
    let kimai = sims::kimai(0, datasets::kimai::demo()).await;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "console API: http://{}/api (OpenAPI: /api/openapi.json)",
        listener.local_addr()?
    );
    if generated {
        println!("admin password (shown once): {password}");
    }
    println!(
        "Zammad simulator: {} (token {})",
        zammad.base_url(),
        datasets::zammad::DEMO_ADMIN_TOKEN
    );
    println!(
        "Kimai simulator:  {} (token {})",
        kimai.base_url(),
        datasets::kimai::DEMO_ADMIN_TOKEN
    );
    console_api::serve(listener, console_api::router(state)).await?;
    Ok(())
}

fn random(len: usize) -> String {
    let mut s = String::new();
    while s.len() < len {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    s.truncate(len);
    s
}
