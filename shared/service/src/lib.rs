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

pub mod approvals;
pub mod console;
pub mod fetch;
pub mod gdpr;
pub mod ingest;
pub mod kimai_write;
pub mod ledger;
pub mod resolution;
pub mod runs;
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
pub mod writer;
