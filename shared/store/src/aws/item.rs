//! Reading and writing DynamoDB items and page tokens.

use crate::error::{StoreError, StoreResult};
use crate::page::PageToken;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::str::FromStr;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn json(value: &impl Serialize) -> AttributeValue {
    // Our stored types are plain data with string keys; serialising them cannot fail.
    AttributeValue::S(serde_json::to_string(value).expect("stored types always serialise"))
}

/// Fixed-width UTC time, so string order is time order (used in sort keys).
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> StoreResult<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        other => Err(StoreError::corrupt(format!(
            "attribute {name} is not a string: {other:?}"
        ))),
    }
}

pub(crate) fn get_n<T: FromStr>(item: &Item, name: &str) -> StoreResult<T> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|_| StoreError::corrupt(format!("attribute {name} is not a number: {v}"))),
        other => Err(StoreError::corrupt(format!(
            "attribute {name} is not a number: {other:?}"
        ))),
    }
}

pub(crate) fn get_time(item: &Item, name: &str) -> StoreResult<DateTime<Utc>> {
    let v = get_s(item, name)?;
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::corrupt(format!("attribute {name} is not a time: {v}")))
}

pub(crate) fn get_day(item: &Item, name: &str) -> StoreResult<NaiveDate> {
    let v = get_s(item, name)?;
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| StoreError::corrupt(format!("attribute {name} is not a day: {v}")))
}

pub(crate) fn get_json<T: DeserializeOwned>(item: &Item, name: &str) -> StoreResult<T> {
    let v = get_s(item, name)?;
    serde_json::from_str(v).map_err(|e| StoreError::corrupt(format!("attribute {name}: {e}")))
}

pub(crate) fn get_opt_json<T: DeserializeOwned>(item: &Item, name: &str) -> StoreResult<Option<T>> {
    if item.contains_key(name) {
        get_json(item, name).map(Some)
    } else {
        Ok(None)
    }
}

/// A `LastEvaluatedKey` as an opaque, URL-safe token (hex of a small JSON object).
pub(crate) fn token_of(key: &Item) -> StoreResult<PageToken> {
    Ok(PageToken(hex::encode(
        serde_json::to_vec(&key_to_json(key)?).expect("json of strings"),
    )))
}

pub(crate) fn key_to_json(key: &Item) -> StoreResult<serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (name, value) in key {
        let v = match value {
            AttributeValue::S(v) => serde_json::json!({ "S": v }),
            AttributeValue::N(v) => serde_json::json!({ "N": v }),
            other => {
                return Err(StoreError::corrupt(format!(
                    "key attribute {name}: {other:?}"
                )));
            }
        };
        out.insert(name.clone(), v);
    }
    Ok(serde_json::Value::Object(out))
}

pub(crate) fn key_from_json(value: &serde_json::Value) -> StoreResult<Item> {
    let bad = || StoreError::Invalid("page token is not one this store issued".into());
    let object = value.as_object().ok_or_else(bad)?;
    let mut key = Item::new();
    for (name, v) in object {
        let attr = if let Some(s) = v.get("S").and_then(|s| s.as_str()) {
            AttributeValue::S(s.to_string())
        } else if let Some(n) = v.get("N").and_then(|n| n.as_str()) {
            AttributeValue::N(n.to_string())
        } else {
            return Err(bad());
        };
        key.insert(name.clone(), attr);
    }
    Ok(key)
}

pub(crate) fn key_of_token(token: &PageToken) -> StoreResult<Item> {
    key_from_json(&token_json(token)?)
}

pub(crate) fn token_json(token: &PageToken) -> StoreResult<serde_json::Value> {
    let bad = || StoreError::Invalid("page token is not one this store issued".into());
    let bytes = hex::decode(&token.0).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// Builds `#n0`-style expression attribute names so reserved words (`status`, `day`) never
/// clash.
pub(crate) fn names(list: &[&str]) -> HashMap<String, String> {
    list.iter()
        .map(|n| (format!("#{n}"), (*n).to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_string_and_number_keys() {
        let key = Item::from([
            ("ticket".to_string(), n(42)),
            ("entry_key".to_string(), s("ta:1")),
        ]);
        let token = token_of(&key).unwrap();
        assert!(token.0.chars().all(|c| c.is_ascii_hexdigit()), "URL-safe");
        assert_eq!(key_of_token(&token).unwrap(), key);
    }

    #[test]
    fn foreign_tokens_are_invalid() {
        for raw in ["zz", "7b7d7b", hex::encode(r#"{"a":{"B":"x"}}"#).as_str()] {
            let err = key_of_token(&PageToken(raw.into())).unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{raw}: {err:?}");
        }
    }

    #[test]
    fn times_have_a_fixed_width() {
        let a = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let b = a + chrono::Duration::microseconds(1);
        assert_eq!(time(a).len(), time(b).len());
        assert!(time(a) < time(b));
    }

    #[test]
    fn unreadable_attributes_are_corrupt() {
        let item = Item::from([("n".to_string(), s("x")), ("j".to_string(), s("{"))]);
        assert!(matches!(
            get_n::<u64>(&item, "n"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            get_json::<serde_json::Value>(&item, "j"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            get_s(&item, "missing"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
