//! Explicit IANA time zones: local wall-clock time ↔ UTC instants, total over DST gaps and folds.
//!
//! Rules (never a panic):
//! - a wall-clock time inside a fold (it happens twice) means its **earlier** instant;
//! - a wall-clock time inside a gap (it never happens) is read with the offset in force just
//!   before the gap, which lands the same distance after the gap (02:30 on a Berlin
//!   spring-forward day → 03:30 CEST). Midnight in a gap thus maps to the first instant of the day.

use crate::kimai::KimaiLocalDateTime;
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ZoneError {
    /// Configuration or Kimai data problem: the name is not an IANA zone.
    #[error("{0:?} is not an IANA time zone name")]
    Unknown(String),
}

pub fn parse_zone(name: &str) -> Result<Tz, ZoneError> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| ZoneError::Unknown(name.to_owned()))
}

/// The instant a local wall-clock time denotes in `zone` (see the module rules for gaps and folds).
pub fn local_to_utc(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => {
            // Find the offset in force before the gap by stepping back (gaps are at most a day,
            // as when Samoa skipped 2011-12-30), then read the wall time with it.
            let before = (1..=97)
                .map(|i| local - Duration::minutes(15 * i))
                .find_map(|t| match zone.from_local_datetime(&t) {
                    LocalResult::Single(x) | LocalResult::Ambiguous(_, x) => Some(x.offset().fix()),
                    LocalResult::None => None,
                })
                .unwrap_or_else(|| zone.offset_from_utc_datetime(&local).fix());
            let utc = local - Duration::seconds(i64::from(before.local_minus_utc()));
            Utc.from_utc_datetime(&utc)
        }
    }
}

/// The UTC instant rendered as wall-clock time in `zone`, as Kimai wants it on input.
pub fn utc_to_local(zone: Tz, t: DateTime<Utc>) -> KimaiLocalDateTime {
    KimaiLocalDateTime(t.with_timezone(&zone).naive_local())
}

/// Whether the wall-clock rendering of `t` leads back to `t`. False for instants in the second
/// pass of a fold (e.g. 02:30 CET on a Berlin fall-back day): Kimai reads local times without an
/// offset, so such a time would be booked an hour off. See `docs/core.md`.
pub fn reads_back(zone: Tz, t: DateTime<Utc>) -> bool {
    local_to_utc(zone, utc_to_local(zone, t).0) == t
}

/// The local calendar day of an instant.
pub fn local_date(zone: Tz, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&zone).date_naive()
}

/// The second pass of a fall-back on local `day` in `zone`, as UTC `[start, end)`: the instants
/// whose wall-clock time also names an earlier instant, so that [`reads_back`] fails for
/// exactly these. `None` on a day without a fall-back. One change per day at most is looked
/// for (no zone has had two).
pub fn repeated_span(zone: Tz, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let offset = |t: DateTime<Utc>| zone.offset_from_utc_datetime(&t.naive_utc()).fix();
    let (start, end) = day_bounds(zone, day);
    let last = end - Duration::seconds(1);
    let (before, after) = (offset(start), offset(last));
    let repeated = before.local_minus_utc() - after.local_minus_utc();
    if repeated <= 0 {
        return None;
    }
    // The change: the first second with the later offset (`lo` has the earlier, `hi` the later).
    let (mut lo, mut hi) = (start, last);
    while hi - lo > Duration::seconds(1) {
        let mid = lo + Duration::seconds((hi - lo).num_seconds() / 2);
        if offset(mid) == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some((hi, hi + Duration::seconds(i64::from(repeated))))
}

/// `[start, end)` of a local day as UTC instants: 23, 24 or 25 hours long around DST changes.
pub fn day_bounds(zone: Tz, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = local_to_utc(zone, day.and_time(chrono::NaiveTime::MIN));
    let next = day.succ_opt().unwrap_or(day);
    let end = local_to_utc(zone, next.and_time(chrono::NaiveTime::MIN));
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn unknown_zone_is_a_typed_error() {
        assert_eq!(
            parse_zone("Mars/Olympus").unwrap_err(),
            ZoneError::Unknown("Mars/Olympus".into())
        );
        assert_eq!(
            parse_zone(" Europe/Berlin ").unwrap(),
            chrono_tz::Europe::Berlin
        );
    }

    #[test]
    fn berlin_spring_gap_reads_forward() {
        let z = chrono_tz::Europe::Berlin;
        assert_eq!(
            local_to_utc(z, naive("2026-03-29T02:30:00")),
            utc("2026-03-29T01:30:00Z")
        );
        assert_eq!(
            utc_to_local(z, utc("2026-03-29T01:30:00Z")).to_string(),
            "2026-03-29T03:30:00"
        );
        let (s, e) = day_bounds(z, NaiveDate::from_ymd_opt(2026, 3, 29).unwrap());
        assert_eq!((e - s).num_hours(), 23);
    }

    #[test]
    fn berlin_autumn_fold_takes_the_earlier_instant() {
        let z = chrono_tz::Europe::Berlin;
        assert_eq!(
            local_to_utc(z, naive("2026-10-25T02:30:00")),
            utc("2026-10-25T00:30:00Z")
        );
        let (s, e) = day_bounds(z, NaiveDate::from_ymd_opt(2026, 10, 25).unwrap());
        assert_eq!((e - s).num_hours(), 25);
    }

    #[test]
    fn only_the_second_pass_of_a_fold_does_not_read_back() {
        let z = chrono_tz::Europe::Berlin;
        assert!(
            reads_back(z, utc("2026-10-25T00:30:00Z")),
            "02:30 CEST, first pass"
        );
        assert!(
            !reads_back(z, utc("2026-10-25T01:30:00Z")),
            "02:30 CET, second pass"
        );
        assert!(reads_back(z, utc("2026-10-25T02:00:00Z")), "03:00 CET");
        assert!(
            reads_back(z, utc("2026-03-29T01:00:00Z")),
            "03:00 CEST right after the gap"
        );
    }

    #[test]
    fn the_repeated_span_is_exactly_where_times_do_not_read_back() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for (zone, fold_day, span) in [
            (
                chrono_tz::Europe::Berlin,
                "2026-10-25",
                ("2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"),
            ),
            (
                chrono_tz::America::New_York,
                "2026-11-01",
                ("2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"),
            ),
            // Lord Howe falls back by half an hour.
            (
                chrono_tz::Australia::Lord_Howe,
                "2026-04-05",
                ("2026-04-04T15:00:00Z", "2026-04-04T15:30:00Z"),
            ),
        ] {
            let found = repeated_span(zone, day(fold_day)).unwrap();
            assert_eq!(found, (utc(span.0), utc(span.1)), "{zone}");
            let (start, end) = day_bounds(zone, day(fold_day));
            let mut t = start;
            while t < end {
                let inside = t >= found.0 && t < found.1;
                assert_eq!(!reads_back(zone, t), inside, "{zone} {t}");
                t += Duration::minutes(1);
            }
        }
        assert_eq!(
            repeated_span(chrono_tz::Europe::Berlin, day("2026-03-29")),
            None,
            "a gap repeats nothing"
        );
        assert_eq!(
            repeated_span(chrono_tz::Asia::Kolkata, day("2026-10-25")),
            None
        );
    }

    #[test]
    fn new_york_gap_and_fold() {
        let z = chrono_tz::America::New_York;
        assert_eq!(
            local_to_utc(z, naive("2026-03-08T02:15:00")),
            utc("2026-03-08T07:15:00Z")
        );
        assert_eq!(
            local_to_utc(z, naive("2026-11-01T01:30:00")),
            utc("2026-11-01T05:30:00Z")
        );
    }

    #[test]
    fn midnight_in_a_gap_is_the_first_instant_of_the_day() {
        // Santiago (Chile) springs forward at 24:00 → 01:00 (2026-09-06).
        let z = chrono_tz::America::Santiago;
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let (start, end) = day_bounds(z, day);
        assert_eq!(utc_to_local(z, start).to_string(), "2026-09-06T01:00:00");
        assert_eq!((end - start).num_hours(), 23);
    }

    #[test]
    fn a_skipped_day_does_not_panic() {
        let z = chrono_tz::Pacific::Apia;
        let t = local_to_utc(z, naive("2011-12-30T12:00:00"));
        assert_eq!(
            local_date(z, t),
            NaiveDate::from_ymd_opt(2011, 12, 31).unwrap()
        );
    }
}
