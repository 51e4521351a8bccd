//! The "ticket updated" trigger with a webhook action, as Zammad sends it.
//!
//! POST of the default `{ticket, article}` payload, signed with `X-Hub-Signature: sha1=<hex>`
//! over the exact body bytes, retried on any non-2xx or transport error: 5 attempts in all,
//! 10 s, 20 s, 30 s and 40 s apart (divided by `time_scale`, so tests need not wait).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha1::Sha1;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const MAX_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST.
    pub url: String,
    /// HMAC key for `X-Hub-Signature`; without it the header is not sent (as in Zammad).
    #[serde(default)]
    pub signature_token: Option<String>,
    /// The trigger's name, sent as `X-Zammad-Trigger`.
    #[serde(default = "default_trigger_name")]
    pub trigger_name: String,
    /// Divides the waits between attempts (1 = Zammad's real 10/20/30/40 s).
    #[serde(default = "default_time_scale")]
    pub time_scale: f64,
}

fn default_trigger_name() -> String {
    "time accounting changed".to_owned()
}

fn default_time_scale() -> f64 {
    1.0
}

/// One attempt to deliver, for `GET /__admin/webhook/deliveries`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub delivery_id: String,
    pub ticket_id: u64,
    pub attempt: u32,
    /// The receiver's status, or `None` when the request failed (refused, timeout, …).
    pub status: Option<u16>,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

pub type DeliveryLog = Arc<Mutex<Vec<DeliveryAttempt>>>;

/// `sha1=` + lowercase hex HMAC-SHA1 of `body` under `token`.
pub fn signature(token: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The wait before attempt `n + 1` after attempt `n` failed: `n * 10 s / time_scale`.
pub fn wait_after(attempt: u32, time_scale: f64) -> Duration {
    let scale = if time_scale.is_finite() && time_scale > 0.0 {
        time_scale
    } else {
        1.0
    };
    Duration::from_secs_f64(f64::from(attempt) * 10.0 / scale)
}

pub fn payload(ticket: Value, article: Option<Value>) -> Value {
    json!({ "ticket": ticket, "article": article.unwrap_or_else(|| json!({})) })
}

/// Sends one payload with Zammad's retry schedule. Runs as its own task; never panics on a
/// receiver's behaviour.
pub async fn deliver(
    http: reqwest::Client,
    config: WebhookConfig,
    ticket_id: u64,
    payload: Value,
    log: DeliveryLog,
) {
    let delivery_id = uuid::Uuid::new_v4().to_string();
    let body = serde_json::to_vec(&payload).expect("JSON values always serialise");
    let signature = config
        .signature_token
        .as_deref()
        .map(|t| signature(t, &body));
    for attempt in 1..=MAX_ATTEMPTS {
        let mut request = http
            .post(&config.url)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("User-Agent", "Zammad User Agent")
            .header("X-Zammad-Trigger", &config.trigger_name)
            .header("X-Zammad-Delivery", &delivery_id)
            .body(body.clone());
        if let Some(sig) = &signature {
            request = request.header("X-Hub-Signature", sig);
        }
        let outcome = request.send().await;
        let (status, error) = match &outcome {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        tracing::info!(delivery_id, attempt, ?status, ?error, "webhook attempt");
        log.lock()
            .expect("delivery log lock")
            .push(DeliveryAttempt {
                delivery_id: delivery_id.clone(),
                ticket_id,
                attempt,
                status,
                error,
                at: Utc::now(),
            });
        if delivered || attempt == MAX_ATTEMPTS {
            return;
        }
        tokio::time::sleep(wait_after(attempt, config.time_scale)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hex_hmac_sha1_with_prefix() {
        // RFC 2202 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn waits_follow_zammads_schedule_scaled() {
        let waits: Vec<u64> = (1..MAX_ATTEMPTS)
            .map(|n| wait_after(n, 1.0).as_secs())
            .collect();
        assert_eq!(waits, vec![10, 20, 30, 40]);
        assert_eq!(wait_after(2, 100.0), Duration::from_millis(200));
        assert_eq!(wait_after(1, 0.0), Duration::from_secs(10));
    }
}
