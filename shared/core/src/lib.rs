//! The pure domain of the Zammad → Kimai sync.
//!
//! No IO, no async, no clock: every input is a value and every output is a value, so each rule
//! can be tested on its own and the planner can be property-tested.
//!
//! Where things live:
//! - [`ids`]: typed identifiers of both systems.
//! - [`zammad`], [`kimai`]: domain types parsed from the real wire formats (see `docs/`).
//! - Time policy: [`units`] (amount → seconds), [`zone`] (IANA zones, DST), [`netting`]
//!   (corrections), [`aggregation`], [`rounding`], [`placement`] (overlap-free), and
//!   [`normalise`], the pipeline that chains them.
//! - [`catalog`] and [`mapping`]: the Kimai catalog (its one set of types and lookup tables) and
//!   the resolution of a timed entry into a [`desired::DesiredTimesheet`] or a named reason why
//!   not; [`needed_action`]: the Kimai records to create first (auto-create).
//! - [`marker`]: the description markers that make timesheets findable (ours and the legacy one).
//! - [`desired`]: the timesheet we want Kimai to hold, and its stable key.
//! - [`plan`] and [`planner`]: the three-way planner and what it outputs.
//!
//! Modules depend one way: `mapping` uses `plan`'s conflict reasons, `plan` and `mapping` use
//! `needed_action`, and `planner` uses them all.

pub mod aggregation;
pub mod catalog;
pub mod desired;
pub mod error;
pub mod ids;
pub mod kimai;
pub mod mapping;
pub mod marker;
pub mod needed_action;
pub mod netting;
pub mod normalise;
pub mod placement;
pub mod plan;
pub mod planner;
pub mod rounding;
pub mod subject;
pub mod units;
pub mod zammad;
pub mod zone;

pub use error::ParseError;
