//! Cron rules of the schedule. The stored form is EventBridge's six fields (`minutes hours
//! day-of-month month day-of-week year`, one of the day fields `?`, weekdays 1-7 = SUN-SAT). The
//! common five-field form (`minutes hours day-of-month month day-of-week`, weekdays 0-7 with 0
//! and 7 = Sunday) is accepted and converted: year `*`; a `*` day field becomes `?`
//! (day-of-week when both are `*`); weekday numbers are shifted by one (0 → 1, 1 → 2, …, 6 → 7,
//! 7 → 1); both day fields restricted is refused (EventBridge cannot say "either").

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use sync_store::schedule::ScheduleSettings;

/// The EventBridge form of `cron`, or why it is not valid.
pub fn to_eventbridge(cron: &str) -> Result<String, String> {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let six = match fields.len() {
        6 => fields.join(" "),
        5 => {
            CronParser::builder()
                .seconds(Seconds::Disallowed)
                .year(Year::Disallowed)
                .build()
                .parse(cron)
                .map_err(|e| format!("not a valid cron expression: {e}"))?;
            let free = |f: &str| f == "*" || f == "?";
            let (dom, dow) = match (free(fields[2]), free(fields[4])) {
                (true, true) => ("*".to_owned(), "?".to_owned()),
                (false, true) => (fields[2].to_owned(), "?".to_owned()),
                (true, false) => ("?".to_owned(), shift_weekdays(fields[4])?),
                (false, false) => {
                    return Err(
                        "cron: give day-of-month or day-of-week, not both (EventBridge cannot \
                         run on either)"
                            .into(),
                    );
                }
            };
            format!(
                "{} {} {} {} {} *",
                fields[0], fields[1], dom, fields[3], dow
            )
        }
        n => {
            return Err(format!(
                "cron needs 6 fields (EventBridge) or 5 (common form), got {n}"
            ));
        }
    };
    eventbridge_cron(&six)?;
    Ok(six)
}

/// Common weekday numbers (0-7, Sunday 0 or 7) to EventBridge's (1-7, Sunday 1). Counts after
/// `/` (step) and `#` (nth) are left alone; names stay names.
fn shift_weekdays(field: &str) -> Result<String, String> {
    let shift_head = |head: &str| -> Result<String, String> {
        let mut out = String::new();
        let mut digits = String::new();
        let flush = |digits: &mut String, out: &mut String| -> Result<(), String> {
            if !digits.is_empty() {
                let n: u32 = digits
                    .parse()
                    .map_err(|_| format!("bad weekday {digits}"))?;
                if n > 7 {
                    return Err(format!("weekday {n} is not 0-7"));
                }
                out.push_str(&(n % 7 + 1).to_string());
                digits.clear();
            }
            Ok(())
        };
        for c in head.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
            } else {
                flush(&mut digits, &mut out)?;
                out.push(c);
            }
        }
        flush(&mut digits, &mut out)?;
        Ok(out)
    };
    field
        .split(',')
        .map(|item| {
            let cut = item.find(['/', '#']).unwrap_or(item.len());
            let (head, tail) = item.split_at(cut);
            Ok(format!("{}{tail}", shift_head(head)?))
        })
        .collect::<Result<Vec<_>, String>>()
        .map(|items| items.join(","))
}

/// Parses the six EventBridge fields as croner reads them (seconds 0 in front, Quartz
/// weekdays), after the store's own shape checks.
fn eventbridge_cron(six: &str) -> Result<Cron, String> {
    ScheduleSettings {
        cron: six.to_owned(),
        time_zone: "UTC".into(),
        enabled: true,
    }
    .validate()
    .map_err(|e| e.to_string().replace("invalid request to the store: ", ""))?;
    CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Required)
        .alternative_weekdays(true)
        .build()
        .parse(&format!("0 {six}"))
        .map_err(|e| format!("not a valid cron expression: {e}"))
}

/// The next `count` runs after `now`, as local times in `zone` with their offset. Local times
/// that do not exist on a DST change are resolved by croner (moved into the new offset).
pub fn next_runs(
    six: &str,
    zone: Tz,
    now: DateTime<Utc>,
    count: usize,
) -> Result<Vec<String>, String> {
    let cron = eventbridge_cron(six)?;
    let mut at = now.with_timezone(&zone);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        match cron.find_next_occurrence(&at, false) {
            Ok(next) => {
                out.push(next.to_rfc3339());
                at = next;
            }
            // No further match (a year in the past): fewer runs, not an error.
            Err(_) => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_fields_become_eventbridge_six() {
        assert_eq!(to_eventbridge("0 6 * * *").unwrap(), "0 6 * * ? *");
        assert_eq!(
            to_eventbridge("*/15 7-18 * * 1-5").unwrap(),
            "*/15 7-18 ? * 2-6 *"
        );
        assert_eq!(to_eventbridge("0 6 * * 0,7").unwrap(), "0 6 ? * 1,1 *");
        assert_eq!(
            to_eventbridge("0 6 * * MON-FRI").unwrap(),
            "0 6 ? * MON-FRI *"
        );
        assert_eq!(to_eventbridge("0 6 1 * *").unwrap(), "0 6 1 * ? *");
        assert_eq!(to_eventbridge("0 6 * * 5#2").unwrap(), "0 6 ? * 6#2 *");
        assert_eq!(
            to_eventbridge("0 7-18 ? * MON-FRI *").unwrap(),
            "0 7-18 ? * MON-FRI *"
        );
        assert!(
            to_eventbridge("0 6 1 * 1")
                .unwrap_err()
                .contains("not both")
        );
        assert!(to_eventbridge("0 6 * *").unwrap_err().contains("got 4"));
        assert!(to_eventbridge("61 6 * * *").is_err());
        assert!(to_eventbridge("0 6 * * ? 1999x").is_err());
        assert!(to_eventbridge("0 6 1 * MON *").unwrap_err().contains('?'));
    }

    #[test]
    fn next_runs_follow_the_zone_across_dst() {
        let zone: Tz = "Europe/Berlin".parse().unwrap();
        let now = "2026-03-27T12:00:00Z".parse().unwrap();
        let runs = next_runs("0 9 * * ? *", zone, now, 3).unwrap();
        assert_eq!(
            runs,
            [
                "2026-03-28T09:00:00+01:00",
                "2026-03-29T09:00:00+02:00",
                "2026-03-30T09:00:00+02:00"
            ]
        );
        // EventBridge weekdays: 2-6 = MON-FRI. 2026-03-27 is a Friday.
        let runs = next_runs("30 8 ? * 2-6 *", zone, now, 2).unwrap();
        assert_eq!(
            runs,
            ["2026-03-30T08:30:00+02:00", "2026-03-31T08:30:00+02:00"]
        );
        let zone: Tz = "America/New_York".parse().unwrap();
        let now = "2026-10-31T12:00:00Z".parse().unwrap();
        let runs = next_runs("0 1 * * ? *", zone, now, 2).unwrap();
        assert_eq!(
            runs,
            ["2026-11-01T01:00:00-04:00", "2026-11-02T01:00:00-05:00"]
        );
    }
}
