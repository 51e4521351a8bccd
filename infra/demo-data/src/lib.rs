//! Larger, reproducible demo data for the Zammad and Kimai simulators: the same agents in both
//! (matched by e-mail), Kimai customers numbered `OID-<org id>`, activities named like Zammad's
//! time accounting types, and tickets whose booked time covers the cases the sync must handle.
//! See `docs/demo-data.md`.

pub mod cast;
mod generate;
pub mod spec;

pub use generate::{amount, generate};
pub use spec::{DemoSpec, SpecError, Unit};
