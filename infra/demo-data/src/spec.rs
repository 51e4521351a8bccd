//! What to generate: seed, size, time span and the unit Zammad amounts are written in.

use crate::cast::{MAX_AGENTS, NAMED_AGENTS};
use chrono::{Datelike, NaiveDate};
use thiserror::Error;

/// The unit of `time_unit` on the generated Zammad instance. The durations are the same either
/// way; only their notation changes (`"90.0"` minutes or `"1.5"` hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Minutes,
    Hours,
}

impl std::str::FromStr for Unit {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Unit, SpecError> {
        match s {
            "minutes" => Ok(Unit::Minutes),
            "hours" => Ok(Unit::Hours),
            other => Err(SpecError::UnknownUnit(other.to_owned())),
        }
    }
}

/// A checked request for a demo dataset. Build it with [`DemoSpec::new`] (or take the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSpec {
    seed: u64,
    tickets: usize,
    weeks: u32,
    unit: Unit,
    start: NaiveDate,
    /// How many agents book time: the named four, or more (see [`crate::cast::agents`]).
    agents: usize,
}

/// Fewer tickets than this cannot hold every special case (one ticket each).
pub const MIN_TICKETS: usize = 6;
/// Keeps ids, numbers and the JSON files in a sensible size.
pub const MAX_TICKETS: usize = 10_000;
pub const MAX_WEEKS: u32 = 104;

/// A request the generator refuses; the caller fixes its arguments.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("tickets must be between {MIN_TICKETS} and {MAX_TICKETS}, not {0}")]
    Tickets(usize),
    #[error("weeks must be between 1 and {MAX_WEEKS}, not {0}")]
    Weeks(u32),
    #[error("unit must be `minutes` or `hours`, not {0:?}")]
    UnknownUnit(String),
    #[error("start must be a date between 2000-01-01 and 2099-12-31, not {0}")]
    Start(NaiveDate),
    #[error("agents must be between {NAMED_AGENTS} and {MAX_AGENTS}, not {0}")]
    Agents(usize),
}

impl DemoSpec {
    pub fn new(
        seed: u64,
        tickets: usize,
        weeks: u32,
        unit: Unit,
        start: NaiveDate,
    ) -> Result<DemoSpec, SpecError> {
        if !(MIN_TICKETS..=MAX_TICKETS).contains(&tickets) {
            return Err(SpecError::Tickets(tickets));
        }
        if !(1..=MAX_WEEKS).contains(&weeks) {
            return Err(SpecError::Weeks(weeks));
        }
        if !(2000..=2099).contains(&start.year()) {
            return Err(SpecError::Start(start));
        }
        Ok(DemoSpec {
            seed,
            tickets,
            weeks,
            unit,
            start,
            agents: NAMED_AGENTS,
        })
    }

    /// The same request with `agents` agents (the special cases need the named four).
    pub fn with_agents(&self, agents: usize) -> Result<DemoSpec, SpecError> {
        if !(NAMED_AGENTS..=MAX_AGENTS).contains(&agents) {
            return Err(SpecError::Agents(agents));
        }
        Ok(DemoSpec {
            agents,
            ..self.clone()
        })
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }
    pub fn tickets(&self) -> usize {
        self.tickets
    }
    pub fn weeks(&self) -> u32 {
        self.weeks
    }
    pub fn unit(&self) -> Unit {
        self.unit
    }
    pub fn start(&self) -> NaiveDate {
        self.start
    }
    pub fn agents(&self) -> usize {
        self.agents
    }

    /// The same request in another unit (the hours variant of a minutes dataset).
    pub fn with_unit(&self, unit: Unit) -> DemoSpec {
        DemoSpec {
            unit,
            ..self.clone()
        }
    }
}

/// A fixed Monday, so that output never depends on the clock.
pub const DEFAULT_START: (i32, u32, u32) = (2026, 3, 2);
pub const DEFAULT_SEED: u64 = 42;
pub const DEFAULT_TICKETS: usize = 60;
pub const DEFAULT_WEEKS: u32 = 4;

pub fn default_start() -> NaiveDate {
    let (y, m, d) = DEFAULT_START;
    NaiveDate::from_ymd_opt(y, m, d).expect("constant date")
}

impl Default for DemoSpec {
    fn default() -> Self {
        DemoSpec::new(
            DEFAULT_SEED,
            DEFAULT_TICKETS,
            DEFAULT_WEEKS,
            Unit::Minutes,
            default_start(),
        )
        .expect("the defaults are in range")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_requests_are_named() {
        let start = default_start();
        assert_eq!(
            DemoSpec::new(1, 5, 4, Unit::Minutes, start),
            Err(SpecError::Tickets(5))
        );
        assert_eq!(
            DemoSpec::new(1, MAX_TICKETS + 1, 4, Unit::Minutes, start),
            Err(SpecError::Tickets(MAX_TICKETS + 1))
        );
        assert_eq!(
            DemoSpec::new(1, 60, 0, Unit::Minutes, start),
            Err(SpecError::Weeks(0))
        );
        assert_eq!(
            DemoSpec::new(1, 60, MAX_WEEKS + 1, Unit::Minutes, start),
            Err(SpecError::Weeks(MAX_WEEKS + 1))
        );
        let old = NaiveDate::from_ymd_opt(1999, 12, 31).unwrap();
        assert_eq!(
            DemoSpec::new(1, 60, 4, Unit::Minutes, old),
            Err(SpecError::Start(old))
        );
        assert_eq!(
            "days".parse::<Unit>(),
            Err(SpecError::UnknownUnit("days".into()))
        );
        assert_eq!("hours".parse::<Unit>(), Ok(Unit::Hours));
        let d = DemoSpec::default();
        assert_eq!(d.with_agents(3), Err(SpecError::Agents(3)));
        assert_eq!(d.with_agents(201), Err(SpecError::Agents(201)));
        assert_eq!(d.with_agents(40).map(|s| s.agents()), Ok(40));
    }

    #[test]
    fn the_default_is_sixty_tickets_over_four_weeks_from_a_fixed_monday() {
        let d = DemoSpec::default();
        assert_eq!((d.tickets(), d.weeks(), d.unit()), (60, 4, Unit::Minutes));
        assert_eq!(d.agents(), 4);
        assert_eq!(d.start().weekday(), chrono::Weekday::Mon);
    }
}
