//! The pure domain of the Zammad → Kimai sync.
//!
//! No IO, no async, no clock: every input is a value and every output is a value, so each rule
//! can be tested on its own and the planner can be property-tested.
//!
//! Where things live:
//! - [`ids`]: typed identifiers of both systems.
//! - [`zammad`], [`kimai`]: domain types parsed from the real wire formats (see `docs/`).
//! - [`desired`]: the timesheet we want Kimai to hold, and its stable key.
//! - [`plan`]: what the planner outputs (operations and conflicts) and its inputs' base records.

pub mod desired;
pub mod error;
pub mod ids;
pub mod kimai;
pub mod plan;
pub mod zammad;

pub use error::ParseError;
