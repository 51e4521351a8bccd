//! Turning Zammad's unitless `time_unit` decimal into a duration.
//!
//! Zammad stores a bare number; only the connection knows whether it means minutes, hours,
//! quarter hours or something custom. All arithmetic is decimal; the result is whole seconds,
//! rounded half away from zero so that a correction of `-x` cancels a booking of `+x` exactly.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What one unit of a Zammad `time_unit` means, configured per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", rename_all = "snake_case")]
pub enum TimeUnit {
    Minutes,
    Hours,
    QuarterHours,
    /// A custom number of minutes per unit, e.g. `7.5`. Must be positive.
    MinutesPerUnit {
        minutes: Decimal,
    },
}

/// The longest single accounting we accept: a year. Anything longer is a data error, and the
/// bound keeps all later date arithmetic far from overflow.
pub const MAX_SECONDS: i64 = 366 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnitError {
    /// Configuration error: fix the connection settings.
    #[error("minutes per unit must be positive, got {0}")]
    NonPositiveFactor(Decimal),
    /// Input error: the amount is longer than [`MAX_SECONDS`] (data problem in Zammad or a wrong
    /// unit in the connection settings).
    #[error("amount {amount} is too large to be the duration of one accounting")]
    Overflow { amount: Decimal },
}

impl TimeUnit {
    /// A custom unit, validated: zero or negative factors would silently erase or invert time.
    pub fn minutes_per_unit(minutes: Decimal) -> Result<Self, UnitError> {
        if minutes <= Decimal::ZERO {
            return Err(UnitError::NonPositiveFactor(minutes));
        }
        Ok(TimeUnit::MinutesPerUnit { minutes })
    }

    pub fn minutes_per_one(&self) -> Decimal {
        match self {
            TimeUnit::Minutes => Decimal::ONE,
            TimeUnit::Hours => Decimal::from(60),
            TimeUnit::QuarterHours => Decimal::from(15),
            TimeUnit::MinutesPerUnit { minutes } => *minutes,
        }
    }

    /// Signed whole seconds for `amount` units. Fractional seconds are rounded half away from
    /// zero (`0.5 s` → `1 s`, `-0.5 s` → `-1 s`).
    pub fn to_seconds(&self, amount: Decimal) -> Result<i64, UnitError> {
        if let TimeUnit::MinutesPerUnit { minutes } = self
            && *minutes <= Decimal::ZERO
        {
            // A deserialised config can bypass the constructor; refuse it here too.
            return Err(UnitError::NonPositiveFactor(*minutes));
        }
        let overflow = || UnitError::Overflow { amount };
        let seconds = amount
            .checked_mul(self.minutes_per_one())
            .and_then(|m| m.checked_mul(Decimal::from(60)))
            .ok_or_else(overflow)?;
        seconds
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
            .to_i64()
            .filter(|s| s.abs() <= MAX_SECONDS)
            .ok_or_else(overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn hours_with_a_decimal_fraction() {
        assert_eq!(TimeUnit::Hours.to_seconds(d("1.25")).unwrap(), 75 * 60);
    }

    #[test]
    fn minutes_and_quarter_hours() {
        assert_eq!(TimeUnit::Minutes.to_seconds(d("12.5")).unwrap(), 750);
        assert_eq!(TimeUnit::QuarterHours.to_seconds(d("3")).unwrap(), 45 * 60);
    }

    #[test]
    fn custom_factor() {
        let unit = TimeUnit::minutes_per_unit(d("7.5")).unwrap();
        assert_eq!(unit.to_seconds(d("2")).unwrap(), 15 * 60);
    }

    #[test]
    fn fractional_seconds_round_half_away_from_zero_symmetrically() {
        // 0.01 min = 0.6 s → 1 s; 0.0125 min = 0.75 s → 1 s.
        assert_eq!(TimeUnit::Minutes.to_seconds(d("0.01")).unwrap(), 1);
        let half_second = TimeUnit::minutes_per_unit(d("0.005")).unwrap();
        assert_eq!(half_second.to_seconds(d("1")).unwrap(), 0);
        assert_eq!(half_second.to_seconds(d("5")).unwrap(), 2);
        assert_eq!(TimeUnit::Minutes.to_seconds(d("0.0125")).unwrap(), 1);
        assert_eq!(TimeUnit::Minutes.to_seconds(d("-0.0125")).unwrap(), -1);
        assert_eq!(TimeUnit::Minutes.to_seconds(d("0.00833333")).unwrap(), 0);
        // Exactly half a second: away from zero, both signs.
        let unit = TimeUnit::minutes_per_unit(d("0.0125")).unwrap(); // 0.75 s per unit
        assert_eq!(unit.to_seconds(d("2")).unwrap(), 2); // 1.5 s
        assert_eq!(unit.to_seconds(d("-2")).unwrap(), -2);
    }

    #[test]
    fn negative_amounts_stay_negative() {
        assert_eq!(TimeUnit::Hours.to_seconds(d("-0.5")).unwrap(), -1800);
    }

    #[test]
    fn rejects_non_positive_factors() {
        assert_eq!(
            TimeUnit::minutes_per_unit(d("0")).unwrap_err(),
            UnitError::NonPositiveFactor(d("0"))
        );
        let smuggled = TimeUnit::MinutesPerUnit { minutes: d("-1") };
        assert!(matches!(
            smuggled.to_seconds(d("1")),
            Err(UnitError::NonPositiveFactor(_))
        ));
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let err = TimeUnit::Hours.to_seconds(Decimal::MAX).unwrap_err();
        assert!(matches!(err, UnitError::Overflow { .. }));
        let huge = TimeUnit::minutes_per_unit(d("1000000000000000")).unwrap();
        assert!(matches!(
            huge.to_seconds(d("100000000")),
            Err(UnitError::Overflow { .. })
        ));
        // A year is the limit, in both directions.
        assert_eq!(TimeUnit::Hours.to_seconds(d("8784")).unwrap(), MAX_SECONDS);
        assert!(TimeUnit::Hours.to_seconds(d("8784.01")).is_err());
        assert!(TimeUnit::Hours.to_seconds(d("-8784.01")).is_err());
    }

    #[test]
    fn serde_shape_of_the_config() {
        let u: TimeUnit =
            serde_json::from_str(r#"{"unit":"minutes_per_unit","minutes":"7.5"}"#).unwrap();
        assert_eq!(u, TimeUnit::MinutesPerUnit { minutes: d("7.5") });
        let u: TimeUnit = serde_json::from_str(r#"{"unit":"hours"}"#).unwrap();
        assert_eq!(u, TimeUnit::Hours);
    }
}
