//! Typed async client for the Zammad REST API parts the time sync reads.
//!
//! - [`ZammadClient`]: ticket search (both response shapes), tickets, a ticket's time accountings,
//!   the global accounting listing (admin), accounting types, users (cached), organisations,
//!   `/users/me` as connection test and `/version`.
//! - [`ZammadError`]: what failed and what to do (retry, fix the token, fall back, fix the input).
//! - Retries with exponential backoff and jitter for transient failures, honouring `Retry-After`;
//!   bounded concurrency; one connection pool; the token never shows in logs or errors.
//!
//! Wire facts and decisions: `docs/zammad.md`.

mod client;
mod config;
mod error;
mod token;
pub mod wire;

pub use client::{
    INDEX_PAGE_SIZE, MAX_INDEX_PAGES, SEARCH_PAGE_SIZE, ZammadClient, updated_since_query,
};
pub use config::{ClientConfig, RetryPolicy};
pub use error::{ForbiddenReason, ZammadError};
pub use token::ApiToken;
