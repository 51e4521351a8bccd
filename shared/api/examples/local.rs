//! The console API on a laptop: in-memory stores, the Zammad and Kimai simulators with their
//! demo data, 127.0.0.1 only.
//!
//! `cargo run -p console-api --example local -- [PORT]` (default 8090). The admin is `admin`
//! with the password from `CONSOLE_ADMIN_PASSWORD` (at least 12 characters), else a random
//! one printed once at start. State is lost when it stops.

use chrono::Duration;
use console_api::{ApiState, ConsoleSecrets};
use std::sync::Arc;
use sync_store::audit::AuditRetention;
use sync_store::clock::SystemClock;
use sync_store::memory::{MemoryAuditLog, MemoryConflicts, MemoryControl, MemorySecrets};
use sync_store::secrets::{CachedSecrets, SecretString};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(8090);

    let secrets = Arc::new(MemorySecrets::new());
    secrets.set("console-signing-key", &random(48));
    let cached = Arc::new(CachedSecrets::new(
        secrets,
        Arc::new(SystemClock),
        Duration::minutes(5),
    ));
    let state = ApiState {
        control: Arc::new(MemoryControl::new()),
        audit: Arc::new(MemoryAuditLog::new(AuditRetention::default())),
        conflicts: Arc::new(MemoryConflicts::new()),
        entries: Arc::new(sync_store::memory::MemoryEntries::new()),
        ticket_sync: Arc::new(sync_store::memory::MemoryQueue::new()),
        kimai_write: Arc::new(sync_store::memory::MemoryQueue::new()),
        dead_letters: console_api::DeadLetterQueues {
            ticket_sync: Arc::new(sync_store::memory::MemoryQueue::new()),
            kimai_write: Arc::new(sync_store::memory::MemoryQueue::new()),
        },
        schedule: Arc::new(sync_store::memory::MemorySchedule::new()),
        secrets: cached.clone(),
        secret_writer: cached,
        secret_names: ConsoleSecrets {
            zammad_token: "zammad-token".into(),
            kimai_token: "kimai-token".into(),
            signing_key: "console-signing-key".into(),
        },
        clock: Arc::new(SystemClock),
        health_timeout: std::time::Duration::from_secs(2),
        upstream_timeout: std::time::Duration::from_secs(10),
    };
    let (password, generated) = match std::env::var("CONSOLE_ADMIN_PASSWORD") {
        Ok(p) => (p, false),
        Err(_) => (random(16), true),
    };
    console_api::auth::bootstrap_admin(&state, "admin", &SecretString::new(password.clone()))
        .await
        .map_err(|e| e.to_string())?;

    let zammad = zammad_sim::serve(
        zammad_sim::SimConfig {
            port: 0,
            ..Default::default()
        },
        zammad_sim::Dataset::demo(),
    )
    .await?;
    let kimai = kimai_sim::serve(
        kimai_sim::SimConfig { port: 0, seed: 0 },
        kimai_sim::Dataset::from_json(include_str!("../../../infra/kimai-sim/data/demo.json"))?,
    )
    .await?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "console API: http://{}/api (OpenAPI: /api/openapi.json)",
        listener.local_addr()?
    );
    if generated {
        println!("admin password (shown once): {password}");
    }
    println!(
        "Zammad simulator: {} (token demo-admin-token)",
        zammad.base_url()
    );
    println!(
        "Kimai simulator:  {} (token demo-admin-token)",
        kimai.base_url()
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
