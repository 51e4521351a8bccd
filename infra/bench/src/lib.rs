//! Benchmarks of the deployed stack (see `docs/benchmarks.md`, section "Deployed stack"):
//! - cold init and peak memory of each function's bootstrap, started behind a local Lambda
//!   Runtime API ([`runtime_api`], [`cold_init`], [`cold_bench`], [`events`]);
//! - a sync of an exact number of accountings ([`dataset`]) through the local stack, with its
//!   Kimai and Zammad calls ([`sync_run`]);
//! - the limits harness: a console backfill against a slow, rate-limiting Kimai, checked against
//!   the world it was given ([`soak`]);
//! - the chaos soak's driver: Zammad changes, repeated and late webhooks, and hand edits in
//!   Kimai while a backfill runs ([`chaos`]).

pub mod aws_usage;
pub mod chaos;
pub mod cold_bench;
pub mod cold_init;
pub mod cost;
pub mod dataset;
pub mod error;
pub mod events;
pub mod function_env;
pub mod report;
pub mod runtime_api;
pub mod soak;
pub mod stats;
pub mod sync_run;
