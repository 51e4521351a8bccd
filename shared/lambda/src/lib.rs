//! The Lambda glue: everything between a function's `main` and the service.
//!
//! ```text
//! functions/*  (one main each: tracing, adapters, run)
//!     └── sync-lambda  (this crate: AWS adapters from the environment, Lambda events in,
//!         │             Lambda responses out)
//!         └── sync-service / console-api  (the use cases, written against the store ports)
//! ```
//!
//! Why a crate of its own: the service must not know Lambda (its tests run the use cases on
//! the in-memory adapters, and a console or a script may call them too), and six `main`s must
//! not each know how to build DynamoDB, SQS and Secrets Manager adapters or how an SQS batch
//! reports partial failures. Both live here once, so a function crate is only its `main`, and
//! the handlers are tested here on Lambda event files, over in-memory stores.
//!
//! - [`adapters`]: builds every AWS adapter from the configuration and the environment, for all
//!   six functions (one secret cache per process).
//! - [`sqs`]: the one SQS-batch helper of the two queue consumers (typed records, processed
//!   concurrently, partial batch failures).
//! - [`deadline`]: when an invocation's work must end (Lambda's deadline minus margins).
//! - [`metrics`]: the metrics, flushed in CloudWatch embedded metric format after each
//!   invocation.
//! - [`xray`]: X-Ray subsegments around the calls to Zammad and Kimai.
//! - One module per function, with its handler and what it needs:
//!   [`ingest`] (webhook-ingest), [`fetch`] (scheduled-fetch), [`reconcile`], [`writer`]
//!   (kimai-writer), [`api`] (the console API), [`purge`] (gdpr-purge).

pub mod adapters;
pub mod api;
pub mod deadline;
pub mod fetch;
pub mod ingest;
pub mod metrics;
pub mod purge;
pub mod reconcile;
pub mod sqs;
pub mod writer;
pub mod xray;
