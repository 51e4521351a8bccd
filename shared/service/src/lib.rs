//! The sync's use cases, written against the ports of `sync-store`: the pipeline steps the
//! Lambda functions run (through the Lambda glue, `sync-lambda`), and the console's use cases
//! the console API runs. Tests run the same code on the in-memory adapters.
//!
//! The pipeline, in the order a time accounting travels:
//! - [`ingest`]: the Zammad webhook: verify, drop replays, enqueue one ticket.
//! - [`fetch`]: the scheduled discovery of changed tickets (watermark, verify sweep, lease).
//! - [`reconcile`]: plan one ticket and hand its writes to the `kimai-write` queue
//!   ([`autocreate`] makes missing Kimai customers and projects).
//! - [`writer`]: apply one planned operation to Kimai, exactly once.
//!
//! What the pipeline steps read and share:
//! - [`settings`], [`policies`]: the settings documents and the sync policy document.
//! - [`decisions`]: a person's decisions on a ticket's conflicts. The console writes them, but
//!   they live here, beside the policy document: they are an input of reconcile's plan, and
//!   their format is what reconcile must keep reading.
//! - [`kimai_write`]: the one constructor of a `kimai-write` message, the writer's input (reconcile
//!   plans them, a console approval sends one); here for the same reason, beside [`writer`] and
//!   the [`idempotency`] ids it derives from.
//! - [`connections`]: the pipeline's Zammad and Kimai clients; [`sync_stores`]: the ports of
//!   reconcile and the writer; [`batch`]: one delivery of a queue message.
//!
//! [`upstream`] holds the ports of Zammad and Kimai (what fetch, reconcile, auto-create and the
//! writer call) and the one builder of each client; [`connections`] is the functions' cached
//! front that reads the token secrets and builds through it.
//!
//! [`connection_check`]: the daily check of both tokens and their permissions.
//! [`events`]: the domain events the pipeline publishes on the stack's bus (one publisher).
//! [`privacy`]: forgetting a person: what is held about them, the background purge (the
//! gdpr-purge function) and the suppression that keeps reconcile from bringing them back.
//!
//! [`console`]: the console's use cases, one module each (users, connections, mappings,
//! policies, schedule, conflicts and their resolution, the ledger and approvals, runs, dead
//! letters, GDPR, dashboard numbers, the audit log, pickers, health).

pub mod autocreate;
pub mod batch;
pub mod connection_check;
pub mod connections;
pub mod console;
pub mod decisions;
pub mod events;
mod expiring;
pub mod fetch;
pub mod idempotency;
pub mod ingest;
pub mod kimai_write;
pub mod outage;
pub mod policies;
pub mod privacy;
pub mod reconcile;
pub mod settings;
pub mod sync_stores;
pub mod upstream;
pub mod writer;
