//! The console API over in-memory stores, with a known admin, for the api function's tests.

use console_api::ApiState;
use std::sync::Arc;
use sync_store::clock::SystemClock;
use sync_store::control::ControlStore;
use sync_store::memory::MemoryControl;
use test_support::apps::{add_admin, api_state_on, in_process_fetch};
use test_support::stores::MemoryStores;

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "correct horse battery";

/// In-memory state on the system clock whose control store is `control`; no user exists yet.
pub async fn state_with(control: Arc<dyn ControlStore>) -> ApiState {
    let mut state = api_state_on(&MemoryStores::new(), Arc::new(SystemClock));
    state.control = control;
    state.fetch_launcher = in_process_fetch(&state);
    state
}

/// In-memory state on the system clock; `admin` exists with [`PASSWORD`].
pub async fn state() -> ApiState {
    let state = state_with(Arc::new(MemoryControl::new())).await;
    add_admin(&state, ADMIN, PASSWORD).await;
    state
}
