//! How Zammad (Rails) prints values on the wire.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;

/// Rails prints BigDecimal without trailing zeros but with at least one decimal place:
/// `15` → `"15.0"`, `12.30` → `"12.3"`, `1.23` → `"1.23"`.
pub fn decimal(value: Decimal) -> String {
    let normalized = value.normalize();
    if normalized.scale() == 0 {
        format!("{normalized}.0")
    } else {
        normalized.to_string()
    }
}

/// UTC with milliseconds and `Z`: `2024-03-17T19:03:13.234Z`.
pub fn timestamp(value: DateTime<Utc>) -> String {
    value.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The current time at Zammad's precision (milliseconds), so what we store is what we print.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn decimals_print_like_rails() {
        for (input, printed) in [
            ("15", "15.0"),
            ("12.30", "12.3"),
            ("1.23", "1.23"),
            ("0", "0.0"),
            ("-0.50", "-0.5"),
            ("9999.99", "9999.99"),
        ] {
            assert_eq!(
                decimal(Decimal::from_str(input).unwrap()),
                printed,
                "{input}"
            );
        }
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = DateTime::parse_from_rfc3339("2024-03-17T20:03:13.2345+01:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(timestamp(t), "2024-03-17T19:03:13.234Z");
    }
}
