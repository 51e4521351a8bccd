//! Typed async client for the Kimai 2.x REST API (`docs/kimai.md`).
//!
//! - [`KimaiClient`]: one method per endpoint the sync uses; timesheets come back as
//!   [`sync_core::kimai::Timesheet`], catalog records (customers, projects, activities, users)
//!   as the types of [`sync_core::catalog`], parsed from the wire by [`catalog_wire`].
//! - [`KimaiError`]: every failure, classified by what the caller should do.
//! - [`ApiToken`]: the bearer token, redacted in every `Debug`/`Display`.

pub mod catalog_wire;
pub mod client;
pub mod config;
pub mod error;
pub mod model;
pub mod token;

pub use catalog_wire::FromWire;
pub use client::{KimaiClient, Retries, TimesheetPage};
pub use config::KimaiConfig;
pub use error::{CallKind, KimaiError, ValidationErrors};
pub use model::{
    CurrentUser, NewCustomer, NewProject, NewTag, NewTimesheet, Tag, TimesheetPatch,
    TimesheetQuery, UserFilter, Version,
};
pub use token::ApiToken;
