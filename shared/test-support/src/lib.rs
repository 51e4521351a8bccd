//! Scaffolding the workspace's tests share, so each piece is written once. Dev-only: crates
//! take it as a `[dev-dependency]`, nothing shipped depends on it, and it is never published.
//!
//! - [`logs`]: capture what the code under test logs, to assert on it (or on what it must not
//!   say, like a token).
//! - [`datasets`]: the small, named simulator datasets; each test keeps the exact data it asserts
//!   on, so datasets that differ are kept apart under names that say how.
//! - [`sims`]: the Zammad and Kimai simulators on random loopback ports.
//! - [`stores`]: every in-memory store adapter in one value, on a manual clock, and the
//!   pipeline's `SyncStores` over them.
//! - [`records`]: a desired timesheet, its entry record and a conflict, as the console's tests
//!   store them before they act.
//! - [`pipeline`]: reconcile and the writer over those stores between both simulators; the one
//!   place that builds a `Reconciler` for tests.
//! - [`aws`]: the local AWS emulator's configuration, fresh resource names, and a queue that is
//!   never reachable.
//! - `apps` (feature `console`, on by default): the console API served over those stores with
//!   both simulators beside it, the `spawn_app` of the API's tests; the one place that builds an
//!   `ApiState` for tests. The service's own tests go without it: nothing above the service is
//!   built for them.

#[cfg(feature = "console")]
pub mod apps;
pub mod aws;
pub mod datasets;
pub mod launch;
pub mod logs;
pub mod pipeline;
pub mod records;
pub mod sims;
pub mod stores;
