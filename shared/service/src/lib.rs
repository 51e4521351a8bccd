//! The pipeline steps of the sync and (later) the console use-cases, written against the ports
//! of `sync-store`. The Lambda functions reach them through the Lambda glue (`sync-lambda`);
//! tests run the same code on the in-memory adapters.
//!
//! - [`settings`]: the settings documents the pipeline reads, their defaults and validation.
//! - [`ingest`]: the Zammad webhook: verify, drop replays, enqueue one ticket.
//! - [`fetch`]: the scheduled discovery of changed tickets (watermark, verify sweep, lease).

pub mod fetch;
pub mod ingest;
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
