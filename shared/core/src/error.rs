use thiserror::Error;

/// Input from Zammad or Kimai that does not fit the wire format we rely on.
/// Always a value, never a panic: the caller decides whether to skip, park or fail.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("field `{field}`: {value:?} is not a decimal number")]
    Decimal { field: &'static str, value: String },
    #[error("field `{field}`: {value:?} is not a timestamp in the expected format ({expected})")]
    Timestamp {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("field `{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("malformed JSON: {0}")]
    Json(String),
}
