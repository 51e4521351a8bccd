//! The console API on a random 127.0.0.1 port over in-memory stores, with both simulators
//! beside it: the `spawn_app` of the API's tests.
//!
//! [`api_state`] is the one place a test builds an `ApiState`: when the state gains or loses a
//! field, this function is the one fix.

use crate::datasets;
use crate::launch::{InProcessFetch, InProcessPurge};
use crate::sims::{self, RunningKimai, RunningZammad, ZammadVersion};
use crate::stores::{MemoryStores, SECRET_CACHE_TTL};
use console_api::{ApiState, ConsoleSecrets, DeadLetterQueues};
use std::sync::Arc;
use sync_service::fetch::FetchPorts;
use sync_store::clock::Clock;
use sync_store::control::{ConsoleUser, Role};
use sync_store::memory::MemoryLauncher;
use sync_store::secrets::{CachedSecrets, SecretString};

/// Secret id of the Zammad API token the console saves.
pub const ZAMMAD_TOKEN_SECRET: &str = "zammad-token";
/// Secret id of the Kimai API token the console saves.
pub const KIMAI_TOKEN_SECRET: &str = "kimai-token";
/// Secret id of the key login tokens are signed with.
pub const SIGNING_KEY_SECRET: &str = "console-signing-key";
/// The signing key [`api_state`] stores (at least 32 bytes, as the console demands).
pub const SIGNING_KEY: &str = "test signing key of at least 32 bytes!";

/// The console's state over `stores`, on their manual clock, with the signing key stored in
/// their secrets under [`SIGNING_KEY_SECRET`]. No user exists yet: see [`add_admin`].
pub fn api_state(stores: &MemoryStores) -> ApiState {
    api_state_on(stores, stores.clock())
}

/// [`api_state`] on another clock (the system clock for a console beside a pipeline that
/// stamps with the real time). A test needing another store or queue sets that field after.
pub fn api_state_on(stores: &MemoryStores, clock: Arc<dyn Clock>) -> ApiState {
    stores.secrets.set(SIGNING_KEY_SECRET, SIGNING_KEY);
    // One cache for reads and writes, so a token the console saves is read back at once.
    let cached = Arc::new(CachedSecrets::new(
        stores.secrets.clone(),
        clock.clone(),
        SECRET_CACHE_TTL,
    ));
    let mut state = ApiState {
        control: stores.control.clone(),
        audit: stores.audit.clone(),
        conflicts: stores.conflicts.clone(),
        entries: stores.entries.clone(),
        ticket_sync: stores.ticket_sync.clone(),
        kimai_write: stores.kimai_write.clone(),
        dead_letters: DeadLetterQueues {
            ticket_sync: stores.ticket_sync_dlq.clone(),
            kimai_write: stores.kimai_write_dlq.clone(),
        },
        schedule: stores.schedule.clone(),
        fetch_launcher: Arc::new(MemoryLauncher::new()),
        purge_launcher: Arc::new(MemoryLauncher::new()),
        secrets: cached.clone(),
        secret_writer: cached,
        secret_names: ConsoleSecrets {
            zammad_token: ZAMMAD_TOKEN_SECRET.into(),
            kimai_token: KIMAI_TOKEN_SECRET.into(),
            signing_key: SIGNING_KEY_SECRET.into(),
            origin: None,
        },
        clock,
        events: stores.events.clone(),
        health_timeout: std::time::Duration::from_secs(2),
        upstream_timeout: std::time::Duration::from_secs(5),
    };
    state.fetch_launcher = in_process_fetch(&state);
    state.purge_launcher = in_process_purge(&state);
    state
}

/// Runs a handed-off GDPR purge in this process over `state`'s own stores, as gdpr-purge
/// would. Set it again after replacing one of those stores.
pub fn in_process_purge(state: &ApiState) -> Arc<InProcessPurge> {
    Arc::new(InProcessPurge(state.privacy_ports()))
}

/// Runs a handed-off date-range run in this process over `state`'s own stores, as
/// scheduled-fetch would. Set it again after replacing one of those stores.
pub fn in_process_fetch(state: &ApiState) -> Arc<InProcessFetch> {
    Arc::new(InProcessFetch(FetchPorts {
        control: state.control.clone(),
        entries: state.entries.clone(),
        queue: state.ticket_sync.clone(),
        audit: state.audit.clone(),
        secrets: state.secrets.clone(),
        zammad_token_secret: state.secret_names.zammad_token.clone(),
        clock: state.clock.clone(),
        call_rates: Default::default(),
        events: state.events.clone(),
    }))
}

/// Creates the first admin the way a fresh deployment does; panics if one existed already.
pub async fn add_admin(state: &ApiState, username: &str, password: &str) {
    let created = console_api::auth::bootstrap_admin(state, username, &SecretString::new(password))
        .await
        .expect("bootstrap the admin");
    assert!(created, "a fresh store has no admin yet");
}

/// Adds an enabled console user with `role`, created now on the state's clock.
pub async fn add_user(state: &ApiState, username: &str, password: &str, role: Role) {
    state
        .control
        .create_user(&ConsoleUser {
            username: username.into(),
            password_hash: console_api::auth::password::hash(password),
            role,
            disabled: false,
            created_at: state.clock.now(),
            last_login_at: None,
            must_change_password: false,
            sessions_valid_from: None,
        })
        .await
        .expect("create the user");
}

/// Serves the console over `state` on a new random port until the test ends; its base URL
/// (`http://127.0.0.1:<port>`, no trailing slash).
pub async fn serve(state: ApiState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound address"));
    tokio::spawn(console_api::serve(listener, console_api::router(state)));
    base
}

/// A served console with its stores and both simulators. The connections to the simulators
/// are not saved yet: a test saves them through the API (or the service) as a user would.
pub struct SpawnedApp {
    /// `http://127.0.0.1:<port>` of the console.
    pub base: String,
    pub state: ApiState,
    pub stores: MemoryStores,
    pub zammad: RunningZammad,
    pub kimai: RunningKimai,
}

/// The console over fresh stores, Zammad (6.5) serving its demo data, Kimai its shipped demo
/// data (fault seed 1). Log in after [`add_admin`].
pub async fn spawn_app() -> SpawnedApp {
    spawn_app_with(datasets::zammad::demo(), datasets::kimai::demo()).await
}

/// [`spawn_app`] with other simulator data.
pub async fn spawn_app_with(zammad: zammad_sim::Dataset, kimai: kimai_sim::Dataset) -> SpawnedApp {
    spawn_app_edited(zammad, kimai, |_, _| {}).await
}

/// [`spawn_app_with`], the state changed by `edit` before the console serves it.
pub async fn spawn_app_edited(
    zammad: zammad_sim::Dataset,
    kimai: kimai_sim::Dataset,
    edit: impl FnOnce(&mut ApiState, &MemoryStores),
) -> SpawnedApp {
    let stores = MemoryStores::new();
    let mut state = api_state(&stores);
    edit(&mut state, &stores);
    let base = serve(state.clone()).await;
    SpawnedApp {
        base,
        state,
        stores,
        zammad: sims::zammad(ZammadVersion::V6_5, zammad).await,
        kimai: sims::kimai(1, kimai).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[tokio::test]
    async fn the_spawned_console_logs_in_its_admin_and_the_simulators_answer() {
        let app = spawn_app().await;
        add_admin(&app.state, "admin", "first admin password 1").await;
        add_user(&app.state, "vera", "viewer password 12", Role::Viewer).await;
        let http = reqwest::Client::new();
        for (user, password) in [
            ("admin", "first admin password 1"),
            ("vera", "viewer password 12"),
        ] {
            let reply = http
                .post(format!("{}/api/auth/login", app.base))
                .json(&json!({"username": user, "password": password}))
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 200, "{user}");
            let body: Value = reply.json().await.unwrap();
            assert!(body["token"].is_string(), "{body}");
        }

        let zammad = http
            .get(format!("{}/api/v1/users/me", app.zammad.base_url()))
            .header(
                "Authorization",
                format!("Token token={}", datasets::zammad::DEMO_ADMIN_TOKEN),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(zammad.status(), 200);
        let kimai = http
            .get(format!("{}api/version", app.kimai.base_url()))
            .bearer_auth(datasets::kimai::DEMO_ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(kimai.status(), 200);
    }
}
