//! Typed async client for the Kimai 2.x REST API (`docs/kimai.md`).
//!
//! - [`KimaiClient`]: one method per endpoint the sync uses; timesheets come back as
//!   [`sync_core::kimai::Timesheet`].
//! - [`KimaiError`]: every failure, classified by what the caller should do.
//! - [`ApiToken`]: the bearer token, redacted in every `Debug`/`Display`.

pub mod client;
pub mod config;
pub mod error;
pub mod model;
pub mod token;

pub use client::{KimaiClient, Retries, TimesheetPage};
pub use config::KimaiConfig;
pub use error::{CallKind, KimaiError, ValidationErrors};
pub use model::{
    Activity, CurrentUser, Customer, NewCustomer, NewProject, NewTag, NewTimesheet, Project, Tag,
    TimesheetPatch, TimesheetQuery, User, UserFilter, Version,
};
pub use token::ApiToken;
