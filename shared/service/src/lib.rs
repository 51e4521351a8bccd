//! The pipeline steps of the sync and (later) the console use-cases, written against the ports
//! of `sync-store`. Lambda functions are thin `main`s over these modules; tests run the same
//! code on the in-memory adapters.
//!
//! - [`settings`]: the settings documents the pipeline reads, their defaults and validation.
//! - [`ingest`]: the Zammad webhook: verify, drop replays, enqueue one ticket.
//! - [`fetch`]: the scheduled discovery of changed tickets (watermark, verify sweep, lease).
//! - [`runtime`]: builds the AWS adapters and shared dependencies from the environment.
//!
//! The console's use cases (the API only translates HTTP to these and back):
//!
//! - [`console_users`]: login with throttling, the user behind a token, the first admin
//!   (password hashes in [`passwords`]).
//! - [`connection_settings`]: the Zammad and Kimai connections, their tokens, the connection test.
//! - [`mappings`], [`policy_settings`]: the mappings and policies inside the sync policy document
//!   ([`policies::SyncPolicyDocument`]).
//! - [`schedule`]: the fetch schedule, its concurrency policy and notifications.
//! - [`dead_letters`]: list and replay dead letters.
//! - [`kpis`], [`audit_log`], [`pickers`], [`health`]: dashboard numbers, the History section,
//!   picker lists, health probes.
//! - [`console_error`]: their errors; [`access_audit`]: the audit record of each console action.

pub mod access_audit;
pub mod audit_log;
pub mod connection_settings;
pub mod console_error;
pub mod console_users;
pub mod dead_letters;
pub mod fetch;
pub mod health;
pub mod ingest;
pub mod kpis;
pub mod mappings;
pub mod passwords;
pub mod pickers;
pub mod policy_settings;
pub mod runtime;
pub mod schedule;
pub mod settings;

// Reconcile and kimai-writer (the planning and writing steps).
pub mod batch;
pub mod connections;
pub mod decisions;
pub mod identity;
pub mod policies;
pub mod provision;
pub mod reconcile;
pub mod sync_stores;
pub mod writer;
