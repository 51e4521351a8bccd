//! The console's use cases: what a person can do in the console, one module each, written
//! against the store ports. The API only translates HTTP to these and back.
//!
//! Every use case has the same shape: it takes the ports it reaches (one struct per module, or
//! the single port it reads), the [`Actor`] when it changes something, and its input; it
//! answers its result or a [`ConsoleError`]; and a change records its own access event through
//! [`AccessLog`] as part of doing it.
//!
//! What they share:
//! - [`access`]: who acts ([`Actor`]) and the one way to record it ([`AccessLog`]).
//! - [`error`]: [`ConsoleError`], said by whose fault it is, with its [`FieldError`]s.
//! - [`paging`]: the page a listing is asked for.
//!
//! Settings:
//! - [`users`]: login with throttling, the user behind a token, the first admin (password
//!   hashes in [`passwords`]).
//! - [`connection_settings`]: the Zammad and Kimai connections, their tokens, the connection test.
//! - [`mappings`], [`policy_settings`]: the mappings and policies inside the sync policy
//!   document ([`crate::policies::SyncPolicyDocument`]).
//! - [`schedule`]: the fetch schedule, its concurrency policy and notifications.
//!
//! The sync's results and what a person decides about them:
//! - [`conflicts`], [`resolution`]: the conflict list; resolving conflicts, one or many (the
//!   decision goes to [`crate::decisions`], which reconcile reads).
//! - [`ledger`], [`approvals`]: the entries listing; approving entries waiting in approval mode
//!   (their creates are [`crate::kimai_write`] messages).
//! - [`runs`]: manual sync runs (a ticket list or a date range), the run list and export.
//! - [`dead_letters`]: list and replay dead letters.
//! - [`gdpr`]: export and purge of one person's data.
//!
//! Oversight: [`kpis`] (dashboard numbers), [`audit_log`] (the History section), [`pickers`]
//! (live lists from Zammad and Kimai), [`health`] (probes).

pub mod access;
pub mod approvals;
pub mod audit_log;
pub mod conflicts;
pub mod connection_settings;
pub mod dead_letters;
pub mod error;
pub mod gdpr;
pub mod health;
pub mod kpis;
pub mod ledger;
pub mod mappings;
pub mod notifications;
pub mod paging;
pub mod passwords;
pub mod pickers;
pub mod policy_settings;
pub mod resolution;
pub mod runs;
pub mod schedule;
pub mod schemas;
pub mod users;

pub use access::{AccessLog, Actor};
pub use error::{ConsoleError, ConsoleResult, FieldError};
