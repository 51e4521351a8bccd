//! The simulator datasets the tests share, each written once, in the simulators' own JSON form.
//!
//! A test asserts on the exact values of its dataset, so two datasets that differ in one detail
//! stay two datasets, named for that detail; none is changed to fit another test. Each comes
//! with the token(s) its API users log in with.
//!
//! The simulators' own larger demo data stays where it is (`zammad_sim::Dataset::demo()`,
//! `infra/kimai-sim/data/demo.json`); [`zammad::demo`] and [`kimai::demo`] name it here.

pub mod kimai;
pub mod zammad;
