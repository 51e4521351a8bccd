//! The pipeline steps of the sync and (later) the console use-cases, written against the ports
//! of `sync-store`. The Lambda functions reach them through the Lambda glue (`sync-lambda`);
//! tests run the same code on the in-memory adapters.
//!
//! - [`settings`]: the settings documents the pipeline reads, their defaults and validation.
//! - [`ingest`]: the Zammad webhook: verify, drop replays, enqueue one ticket.
//! - [`fetch`]: the scheduled discovery of changed tickets (watermark, verify sweep, lease).
//!
//! The console's use cases (each records its own audit event, see [`console`]):
//! - [`resolution`]: resolve conflicts, one or many; [`decisions`] is the document it writes
//!   and reconcile reads.
//! - [`approvals`]: approve entries waiting in approval mode; [`ledger`]: the entries listing.
//! - [`runs`]: manual sync runs (a ticket list or a date range), the run list and export.
//! - [`gdpr`]: export and purge of one person's data.
//!
//! [`kimai_write`] builds every `kimai-write` message (reconcile's and approvals').
//!
//! [`upstream`] holds the ports of Zammad and Kimai (what fetch, reconcile, auto-create and the
//! writer call) and the one builder of each client; [`connections`] is the functions' cached
//! front that reads the token secrets and builds through it.
//!
//! The console's settings and oversight use cases (the API only translates HTTP to these and back):
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
pub mod approvals;
pub mod audit_log;
pub mod connection_settings;
pub mod console;
pub mod console_error;
pub mod console_users;
pub mod dead_letters;
pub mod fetch;
pub mod gdpr;
pub mod health;
pub mod ingest;
pub mod kimai_write;
pub mod kpis;
pub mod ledger;
pub mod mappings;
pub mod passwords;
pub mod pickers;
pub mod policy_settings;
pub mod resolution;
pub mod runs;
pub mod schedule;
pub mod settings;

// Reconcile and kimai-writer (the planning and writing steps).
pub mod autocreate;
pub mod batch;
pub mod connections;
pub mod decisions;
pub mod idempotency;
pub mod policies;
pub mod reconcile;
pub mod sync_stores;
pub mod upstream;
pub mod writer;
