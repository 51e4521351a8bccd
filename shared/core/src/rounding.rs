//! Rounding of durations to a step of N minutes, applied after netting and aggregation.

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    #[default]
    None,
    Up,
    Down,
    /// Half a step or more rounds up.
    Nearest,
}

/// Rounding policy of a connection. `minimum_minutes` lifts any positive result to at least that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rounding {
    pub mode: RoundingMode,
    pub step_minutes: u32,
    pub minimum_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RoundingError {
    /// Configuration error: a rounding mode needs a positive step.
    #[error("rounding mode {0:?} needs a step of at least one minute")]
    ZeroStep(RoundingMode),
}

impl Rounding {
    pub const NONE: Rounding = Rounding {
        mode: RoundingMode::None,
        step_minutes: 0,
        minimum_minutes: None,
    };

    pub fn new(
        mode: RoundingMode,
        step_minutes: u32,
        minimum_minutes: Option<u32>,
    ) -> Result<Self, RoundingError> {
        let r = Rounding {
            mode,
            step_minutes,
            minimum_minutes,
        };
        r.validate()?;
        Ok(r)
    }

    pub fn validate(&self) -> Result<(), RoundingError> {
        if self.mode != RoundingMode::None && self.step_minutes == 0 {
            return Err(RoundingError::ZeroStep(self.mode));
        }
        Ok(())
    }

    /// Round a net duration in seconds. Zero or negative input stays as it is (no timesheet);
    /// a positive result of zero (rounded down) stays zero, so the caller drops it; the minimum
    /// applies to any positive input. An invalid policy (zero step) rounds nothing.
    pub fn apply(&self, secs: i64) -> i64 {
        if secs <= 0 {
            return secs;
        }
        let step = i64::from(self.step_minutes) * 60;
        let rounded = if step == 0 {
            secs
        } else {
            let down = secs / step * step;
            let rest = secs - down;
            match self.mode {
                RoundingMode::None => secs,
                RoundingMode::Down => down,
                RoundingMode::Up if rest == 0 => down,
                RoundingMode::Up => down.saturating_add(step),
                RoundingMode::Nearest if rest * 2 >= step => down.saturating_add(step),
                RoundingMode::Nearest => down,
            }
        };
        match self.minimum_minutes {
            Some(min) => rounded.max(i64::from(min) * 60),
            None => rounded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(mode: RoundingMode, step: u32, min: Option<u32>) -> Rounding {
        Rounding::new(mode, step, min).unwrap()
    }

    #[test]
    fn none_keeps_the_seconds() {
        assert_eq!(Rounding::NONE.apply(61), 61);
        assert_eq!(r(RoundingMode::None, 0, None).apply(1), 1);
    }

    #[test]
    fn up_down_nearest_to_fifteen_minutes() {
        let m = |x: i64| x * 60;
        assert_eq!(r(RoundingMode::Up, 15, None).apply(m(16)), m(30));
        assert_eq!(r(RoundingMode::Up, 15, None).apply(m(15)), m(15));
        assert_eq!(r(RoundingMode::Up, 15, None).apply(1), m(15));
        assert_eq!(r(RoundingMode::Down, 15, None).apply(m(29)), m(15));
        assert_eq!(r(RoundingMode::Down, 15, None).apply(m(14)), 0);
        assert_eq!(r(RoundingMode::Nearest, 15, None).apply(m(22)), m(15));
        assert_eq!(r(RoundingMode::Nearest, 15, None).apply(m(22) + 30), m(30));
        assert_eq!(r(RoundingMode::Nearest, 15, None).apply(m(7)), 0);
    }

    #[test]
    fn minimum_lifts_small_positive_durations_only() {
        let p = r(RoundingMode::Down, 15, Some(15));
        assert_eq!(p.apply(5 * 60), 15 * 60);
        assert_eq!(p.apply(0), 0);
        assert_eq!(p.apply(-600), -600);
        assert_eq!(r(RoundingMode::None, 0, Some(10)).apply(60), 600);
    }

    #[test]
    fn zero_step_is_rejected() {
        assert_eq!(
            Rounding::new(RoundingMode::Up, 0, None).unwrap_err(),
            RoundingError::ZeroStep(RoundingMode::Up)
        );
    }
}
