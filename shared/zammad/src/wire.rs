//! Response bodies as Zammad sends them, and how they become domain types.
//!
//! Public so the conformance suite can feed recorded responses straight into the same parsers the
//! client uses.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use sync_core::zammad::Ticket;

/// Parse one response body into `T`, with the serde message as the error.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// `GET /api/v1/version` → `{"version":"6.2.0-1709189301.4a2dd7d0.focal"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VersionInfo {
    pub version: String,
}

/// Zammad's error body: `{"error":"…","error_human":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_human: Option<String>,
}

impl ErrorBody {
    /// The most helpful message in an error response, or a short excerpt of a non-JSON body.
    pub fn message_from(body: &[u8]) -> String {
        if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body)
            && let Some(msg) = [parsed.error_human, parsed.error]
                .into_iter()
                .flatten()
                .find(|m| !m.trim().is_empty())
        {
            return msg;
        }
        let text = String::from_utf8_lossy(body);
        let excerpt: String = text.chars().take(200).collect();
        if excerpt.trim().is_empty() {
            "(empty body)".to_owned()
        } else {
            excerpt
        }
    }
}

/// The tickets of one search page, whichever shape the server used:
/// - newer Zammad, or any version with `expand=true`: a bare array of tickets;
/// - Zammad ≤ 6.4 without `expand`: `{"tickets":[ids],"tickets_count":n,"assets":{"Ticket":{…}}}`,
///   where the ids give the order and the assets hold the records;
/// - `with_total_count=true`: `{"records":[…],"total_count":n}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSearchResult(pub Vec<Ticket>);

/// The old shape's `assets`: records by model name, then by id as a string key.
#[derive(Default, Deserialize)]
struct Assets {
    #[serde(rename = "Ticket", default)]
    ticket: HashMap<String, Value>,
}

#[derive(Deserialize)]
struct IdsAndAssets {
    tickets: Vec<u64>,
    #[serde(default)]
    assets: Assets,
}

impl<'de> Deserialize<'de> for TicketSearchResult {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // Look at the shape first; an untagged enum would hide why a ticket inside failed.
        let value = Value::deserialize(deserializer)?;
        let tickets = match value {
            Value::Array(_) => Vec::<Ticket>::deserialize(value).map_err(D::Error::custom)?,
            Value::Object(mut map) if map.contains_key("records") => {
                let records = map.remove("records").unwrap_or(Value::Null);
                Vec::<Ticket>::deserialize(records).map_err(D::Error::custom)?
            }
            Value::Object(ref map) if map.contains_key("tickets") => {
                let old = IdsAndAssets::deserialize(value).map_err(D::Error::custom)?;
                let mut out = Vec::with_capacity(old.tickets.len());
                for id in old.tickets {
                    let record = old.assets.ticket.get(&id.to_string()).ok_or_else(|| {
                        D::Error::custom(format!(
                            "search listed ticket {id} but its asset is missing"
                        ))
                    })?;
                    out.push(Ticket::deserialize(record).map_err(D::Error::custom)?);
                }
                out
            }
            other => {
                return Err(D::Error::custom(format!(
                    "expected a ticket array, {{\"tickets\":…}} or {{\"records\":…}}, got {}",
                    kind_of(&other)
                )));
            }
        };
        Ok(TicketSearchResult(tickets))
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object without tickets or records",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICKET: &str = r#"{"id":7,"number":"31007","title":"VPN","group_id":1,"organization_id":2,
        "customer_id":5,"time_unit":"15.0","updated_at":"2024-03-18T22:50:04.383Z"}"#;

    #[test]
    fn search_accepts_the_bare_array() {
        let body = format!("[{TICKET}]");
        let parsed: TicketSearchResult = parse(body.as_bytes()).unwrap();
        assert_eq!(parsed.0.len(), 1);
        assert_eq!(parsed.0[0].number, "31007");
    }

    #[test]
    fn search_accepts_ids_with_assets_in_id_order() {
        let other = TICKET
            .replace("\"id\":7", "\"id\":8")
            .replace("31007", "31008");
        let body = format!(
            r#"{{"tickets":[8,7],"tickets_count":2,"assets":{{"Ticket":{{"7":{TICKET},"8":{other}}},"User":{{}}}}}}"#
        );
        let parsed: TicketSearchResult = parse(body.as_bytes()).unwrap();
        let ids: Vec<u64> = parsed.0.iter().map(|t| t.id.0).collect();
        assert_eq!(ids, vec![8, 7]);
    }

    #[test]
    fn search_with_a_missing_asset_is_an_error_not_a_silent_gap() {
        let body = format!(
            r#"{{"tickets":[7,9],"tickets_count":2,"assets":{{"Ticket":{{"7":{TICKET}}}}}}}"#
        );
        let err = parse::<TicketSearchResult>(body.as_bytes()).unwrap_err();
        assert!(err.contains("ticket 9"), "{err}");
    }

    #[test]
    fn search_accepts_records_with_total_count() {
        let body = format!(r#"{{"records":[{TICKET}],"total_count":1}}"#);
        let parsed: TicketSearchResult = parse(body.as_bytes()).unwrap();
        assert_eq!(parsed.0[0].id.0, 7);
    }

    #[test]
    fn a_bad_ticket_inside_the_search_says_why() {
        let err =
            parse::<TicketSearchResult>(br#"[{"id":1,"number":"1","updated_at":"yesterday"}]"#)
                .unwrap_err();
        assert!(err.contains("updated_at"), "{err}");
    }

    #[test]
    fn error_message_prefers_error_human_then_error_then_text() {
        assert_eq!(
            ErrorBody::message_from(br#"{"error":"a","error_human":"b"}"#),
            "b"
        );
        assert_eq!(ErrorBody::message_from(br#"{"error":"a"}"#), "a");
        assert_eq!(
            ErrorBody::message_from(b"<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
        assert_eq!(ErrorBody::message_from(b""), "(empty body)");
        // Found by the fuzzer: an empty message is no message; fall back to the other field,
        // then to the body itself.
        assert_eq!(
            ErrorBody::message_from(br#"{"error":"a","error_human":" "}"#),
            "a"
        );
        assert_eq!(
            ErrorBody::message_from(br#"{"error_human":""}"#),
            r#"{"error_human":""}"#
        );
    }
}
