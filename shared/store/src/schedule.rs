//! The sync schedule: a cron expression in a time zone, on or off (EventBridge Scheduler).

use crate::error::{StoreError, StoreResult};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleSettings {
    /// The six fields of an EventBridge cron expression, without `cron(...)`:
    /// minutes hours day-of-month month day-of-week year, e.g. `0 7-18 ? * MON-FRI *`.
    pub cron: String,
    /// IANA time zone the cron fields are read in, e.g. `Europe/Berlin`.
    pub time_zone: String,
    pub enabled: bool,
}

impl ScheduleSettings {
    /// Checks what can be checked without the service: six fields, one of day-of-month and
    /// day-of-week is `?`, and a known IANA zone. The service validates the rest.
    pub fn validate(&self) -> StoreResult<()> {
        let fields: Vec<&str> = self.cron.split_whitespace().collect();
        if fields.len() != 6 {
            return Err(StoreError::Invalid(format!(
                "cron needs 6 fields (minutes hours day-of-month month day-of-week year), got {}",
                fields.len()
            )));
        }
        if fields[2] != "?" && fields[4] != "?" {
            return Err(StoreError::Invalid(
                "cron: day-of-month or day-of-week must be `?`".into(),
            ));
        }
        if self.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(StoreError::Invalid(format!(
                "unknown time zone {:?}",
                self.time_zone
            )));
        }
        Ok(())
    }

    pub fn expression(&self) -> String {
        format!("cron({})", self.cron)
    }

    /// Parses `cron(...)` back into the six fields.
    pub fn fields_of(expression: &str) -> StoreResult<String> {
        expression
            .strip_prefix("cron(")
            .and_then(|rest| rest.strip_suffix(')'))
            .map(|f| f.trim().to_string())
            .ok_or_else(|| StoreError::corrupt(format!("schedule expression {expression:?}")))
    }
}

#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// The schedule, or `None` if it was never written.
    async fn get_schedule(&self) -> StoreResult<Option<ScheduleSettings>>;
    /// Creates or replaces the schedule. Invalid settings are `StoreError::Invalid`.
    async fn put_schedule(&self, settings: &ScheduleSettings) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(cron: &str, zone: &str) -> ScheduleSettings {
        ScheduleSettings {
            cron: cron.into(),
            time_zone: zone.into(),
            enabled: true,
        }
    }

    #[test]
    fn validation_names_what_is_wrong() {
        assert!(
            settings("0/15 7-18 ? * MON-FRI *", "Europe/Berlin")
                .validate()
                .is_ok()
        );
        let err = settings("0 6 * *", "UTC")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("6 fields"), "{err}");
        let err = settings("0 6 1 * MON *", "UTC")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains('?'), "{err}");
        let err = settings("0 6 * * ? *", "Europe/Atlantis")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("Europe/Atlantis"), "{err}");
    }

    #[test]
    fn expression_round_trips() {
        let s = settings("0 6 * * ? *", "UTC");
        assert_eq!(s.expression(), "cron(0 6 * * ? *)");
        assert_eq!(
            ScheduleSettings::fields_of(&s.expression()).unwrap(),
            s.cron
        );
        assert!(matches!(
            ScheduleSettings::fields_of("rate(5 minutes)"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
