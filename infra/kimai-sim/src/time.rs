//! Wall-clock input and offset output, the way Kimai (PHP `DateTime`) does them.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use sync_core::kimai::{KimaiLocalDateTime, format_kimai_datetime};

/// Read a local `YYYY-MM-DDTHH:MM[:SS]` in `tz`. In a DST gap PHP moves the time forward by the
/// gap (02:30 on the spring-forward day in Berlin becomes 03:30+02:00); in a fold it takes the
/// first (summer-time) occurrence. We do the same.
pub fn parse_local(value: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let naive = KimaiLocalDateTime::parse(value).ok()?.0;
    resolve_local(naive, tz)
}

pub fn resolve_local(naive: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => {
            // Gaps are at most a few hours wide; step forward until we leave it.
            (1..=4).find_map(|h| {
                tz.from_local_datetime(&(naive + Duration::hours(h)))
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
            })
        }
    }
}

/// `2026-03-29T03:30:00+0200`: the instant in the zone the record belongs to.
pub fn format_in(t: DateTime<Utc>, tz: Tz) -> String {
    format_kimai_datetime(&t.with_timezone(&tz).fixed_offset())
}

/// `modified_after` is a UTC wall-clock string without offset (`Y-m-d\TH:i:s`).
pub fn parse_utc(value: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spring_forward_gap_moves_forward_and_offsets_change() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let before = parse_local("2026-03-29T01:30:00", tz).unwrap();
        assert_eq!(format_in(before, tz), "2026-03-29T01:30:00+0100");
        let in_gap = parse_local("2026-03-29T02:30:00", tz).unwrap();
        assert_eq!(format_in(in_gap, tz), "2026-03-29T03:30:00+0200");
        let fold = parse_local("2026-10-25T02:30:00", tz).unwrap();
        assert_eq!(format_in(fold, tz), "2026-10-25T02:30:00+0200");
        assert!(parse_local("yesterday", tz).is_none());
    }

    #[test]
    fn modified_after_is_strict_utc() {
        assert_eq!(
            parse_utc("2026-01-02T03:04:05").unwrap().to_rfc3339(),
            "2026-01-02T03:04:05+00:00"
        );
        assert!(parse_utc("2026-01-02T03:04:05+0100").is_none());
        assert!(parse_utc("2026-01-02").is_none());
    }

    proptest::proptest! {
        /// Reading a local time and printing it in the same zone gives the same wall clock,
        /// except inside a DST gap, where the time moves forward by at most a few hours.
        #[test]
        fn local_times_round_trip_outside_gaps(
            secs in 1_700_000_000i64..1_900_000_000,
            zone in proptest::sample::select(vec![
                "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC",
            ]),
        ) {
            let tz: Tz = zone.parse().unwrap();
            let naive = DateTime::from_timestamp(secs, 0).unwrap().naive_utc();
            let text = naive.format("%Y-%m-%dT%H:%M:%S").to_string();
            let instant = parse_local(&text, tz).unwrap();
            let shown = instant.with_timezone(&tz).naive_local();
            let shift = shown - naive;
            proptest::prop_assert!(shift >= Duration::zero() && shift <= Duration::hours(4));
            if tz.from_local_datetime(&naive).single().is_some() {
                proptest::prop_assert_eq!(shown, naive);
            }
        }
    }
}
