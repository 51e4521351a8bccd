//! For any seed, size, span and start (DST weeks included), the data is valid and every special
//! case is there exactly once.

use chrono::{Duration, NaiveDate, Timelike};
use chrono_tz::Tz;
use demo_data::{DemoSpec, Unit, generate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use sync_core::marker::Marker;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_spec_gives_valid_data_with_each_case(
        seed in any::<u64>(),
        tickets in 6usize..120,
        weeks in 1u32..10,
        offset in 0i64..36_000,
        hours in any::<bool>(),
    ) {
        let start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + Duration::days(offset);
        let unit = if hours { Unit::Hours } else { Unit::Minutes };
        let spec = DemoSpec::new(seed, tickets, weeks, unit, start).unwrap();
        let (zammad, kimai) = generate(&spec);
        prop_assert!(zammad.validate().is_ok());
        prop_assert!(kimai.check().is_ok());
        prop_assert_eq!(zammad.tickets.len(), tickets);
        prop_assert_eq!(
            zammad.tickets.iter().filter(|t| t.organization_id.is_none()).count(),
            1
        );
        prop_assert!(zammad.accountings.iter().any(|a| a.type_id.is_none()));
        prop_assert!(zammad.accountings.iter().any(|a| a.time_unit < Decimal::ZERO));
        let at_midnight = zammad
            .accountings
            .iter()
            // Every agent but Dan (user 6, New York) works in Berlin.
            .filter(|a| a.created_by_id != 6)
            .filter(|a| a.created_at.with_timezone(&Tz::Europe__Berlin).hour() == 0)
            .count();
        prop_assert_eq!(at_midnight, 1);
        let legacy = kimai
            .timesheets
            .iter()
            .filter(|t| matches!(
                Marker::parse(t.description.as_deref().unwrap_or("")),
                Some(Marker::Legacy { .. })
            ))
            .count();
        prop_assert_eq!(legacy, 1);
    }
}
