//! One representative first event per function, and how to tell that it succeeded.
//!
//! Representative means: the path a fresh instance most often meets, touching every client the
//! function built in its init (so peak memory includes them), and succeeding, so no error path
//! is measured by mistake.
//!
//! | function | event |
//! |---|---|
//! | webhook-ingest | a Zammad webhook for a real ticket, signed with the deployed secret → 202 queued |
//! | scheduled-fetch | the scheduler's `{"mode":"incremental"}` → a run that succeeded |
//! | reconcile | a `ticket-sync` batch of one real, already synced ticket → no failed record |
//! | kimai-writer | a `kimai-write` batch of one create, prepared as reconcile prepares it → created |
//! | api | `POST /api/auth/login` as the first admin → 200 (argon2 verify, the heaviest request) |

use crate::cold_init::Check;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha1::Sha1;
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::{AccountingId, ActivityId, KimaiUserId, ProjectId, TicketId, ZammadUserId};
use sync_core::kimai::KimaiLocalDateTime;
use sync_core::marker::Marker;
use sync_core::plan::Operation;
use sync_store::control::OperationId;
use sync_store::entries::{EntryRecord, EntryStatus};
use sync_store::queue::{KimaiWriteMessage, SyncReason, TicketSyncMessage};

/// An event and the check of its answer.
pub struct Representative {
    pub event: Value,
    pub check: Box<Check>,
}

/// `{"mode":"incremental"}`, what the schedule sends.
pub fn scheduled_fetch() -> Representative {
    Representative {
        event: json!({"mode": "incremental"}),
        check: Box::new(|answer| {
            let outcome = answer.get("outcome").and_then(Value::as_str);
            let state = answer.get("state").and_then(Value::as_str);
            if outcome == Some("ran") && state == Some("succeeded") {
                Ok(())
            } else {
                Err(format!("outcome {outcome:?}, state {state:?}"))
            }
        }),
    }
}

/// A `ticket-sync` batch of one ticket.
pub fn reconcile(ticket_id: u64, message_id: &str) -> Representative {
    let message = TicketSyncMessage::new(TicketId(ticket_id), SyncReason::Webhook, None);
    let body = serde_json::to_string(&message).expect("a message serialises");
    Representative {
        event: sqs_event("ticket-sync", message_id, &body),
        check: Box::new(no_batch_item_failures),
    }
}

/// A `kimai-write` batch of one message.
pub fn kimai_writer(message: &KimaiWriteMessage, message_id: &str) -> Representative {
    let body = serde_json::to_string(message).expect("a message serialises");
    Representative {
        event: sqs_event("kimai-write", message_id, &body),
        check: Box::new(no_batch_item_failures),
    }
}

/// A webhook as Zammad's trigger sends it through the HTTP API, signed with `secret`.
pub fn webhook_ingest(secret: &str, ticket_id: u64, delivery_id: &str) -> Representative {
    let body = json!({
        "ticket": {"id": ticket_id, "number": format!("{}", 50_000 + ticket_id), "title": "time changed"},
        "article": {"id": 1, "accounted_time": 15}
    })
    .to_string();
    let signature = sign(secret, body.as_bytes());
    let headers = json!({
        "content-type": "application/json; charset=utf-8",
        "user-agent": "Zammad User Agent",
        "x-zammad-trigger": "time changed",
        "x-hub-signature": format!("sha1={signature}"),
        "x-zammad-delivery": delivery_id,
    });
    Representative {
        event: http_event(
            "POST",
            "/webhooks/zammad",
            "POST /webhooks/zammad",
            headers,
            &body,
        ),
        check: Box::new(|answer| status_is(answer, 202)),
    }
}

/// The console's login, as API Gateway passes it to the api function.
pub fn api_login(user: &str, password: &str) -> Representative {
    let body = json!({"username": user, "password": password}).to_string();
    let headers = json!({"content-type": "application/json", "user-agent": "stack-bench"});
    Representative {
        event: http_event(
            "POST",
            "/api/auth/login",
            "ANY /api/{proxy+}",
            headers,
            &body,
        ),
        check: Box::new(|answer| status_is(answer, 200)),
    }
}

/// What the kimai-writer's event needs in the entries table first: reconcile saves the entry
/// (status pending, its desired state) before it sends the create, and the writer links the
/// new timesheet to that entry. Each run gets its own ticket (far above real ids), day and
/// accounting, so runs never meet each other or the synced data.
pub fn writer_create(
    run: u32,
    user: u64,
    project: u64,
    activity: u64,
    now: DateTime<Utc>,
) -> (EntryRecord, KimaiWriteMessage) {
    let ticket = TicketId(9_000_000 + u64::from(run));
    let accounting = AccountingId(90_000_000 + u64::from(run));
    let key = EntryKey::for_accounting(accounting);
    let day = NaiveDate::from_ymd_opt(2026, 11, 2).expect("a date") + Duration::days(run.into());
    let begin_local = day.and_time(NaiveTime::from_hms_opt(10, 0, 0).expect("a time"));
    let end_local = begin_local + Duration::minutes(30);
    let utc = |local| {
        Berlin
            .from_local_datetime(&local)
            .single()
            .expect("10:00 in November is unambiguous")
            .with_timezone(&Utc)
    };
    let marker = Marker::for_key(&key).expect("an accounting key has a marker");
    let desired = DesiredTimesheet {
        key: key.clone(),
        ticket_id: ticket,
        agent_id: ZammadUserId(3),
        accounting_ids: vec![accounting],
        zone: "Europe/Berlin".to_owned(),
        day,
        begin: KimaiLocalDateTime(begin_local),
        end: KimaiLocalDateTime(end_local),
        begin_utc: utc(begin_local),
        end_utc: utc(end_local),
        duration_secs: 1800,
        user: KimaiUserId(user),
        project: ProjectId(project),
        activity: ActivityId(activity),
        description: format!("{} stack-bench cold start {run}", marker.render()),
        tags: vec!["zammad".to_owned()],
        billable: None,
    };
    let record = EntryRecord {
        ticket_id: ticket,
        key: key.clone(),
        agent_id: desired.agent_id,
        day,
        status: EntryStatus::Pending,
        desired: Some(desired.clone()),
        base: None,
        updated_at: now,
        create_sent_at: None,
    };
    let message = KimaiWriteMessage::new(
        OperationId(format!("op-stack-bench-{}", uuid::Uuid::new_v4())),
        ticket,
        None,
        Operation::Create { desired },
    );
    (record, message)
}

/// HMAC-SHA1 of the body, hex: Zammad's `X-Hub-Signature` value after `sha1=`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn sqs_event(queue: &str, message_id: &str, body: &str) -> Value {
    let now_ms = Utc::now().timestamp_millis().to_string();
    json!({
        "Records": [{
            "messageId": message_id,
            "receiptHandle": format!("stack-bench-{message_id}"),
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": now_ms,
                "SenderId": "000000000000",
                "ApproximateFirstReceiveTimestamp": now_ms
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": format!("arn:aws:sqs:us-east-1:000000000000:{queue}"),
            "awsRegion": "us-east-1"
        }]
    })
}

fn http_event(method: &str, path: &str, route_key: &str, headers: Value, body: &str) -> Value {
    let now = Utc::now();
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "stackbench",
            "domainName": "stackbench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "stackbench",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "stack-bench"
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.timestamp_millis()
        },
        "body": body,
        "isBase64Encoded": false
    })
}

fn no_batch_item_failures(answer: &Value) -> Result<(), String> {
    match answer.get("batchItemFailures").and_then(Value::as_array) {
        Some(failures) if failures.is_empty() => Ok(()),
        Some(failures) => Err(format!("{} failed record(s)", failures.len())),
        None => Err("no batchItemFailures in the answer".to_owned()),
    }
}

fn status_is(answer: &Value, expected: u64) -> Result<(), String> {
    match answer.get("statusCode").and_then(Value::as_u64) {
        Some(code) if code == expected => Ok(()),
        other => Err(format!("status {other:?}, expected {expected}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
    use aws_lambda_events::sqs::SqsEvent;
    use sync_store::queue::decode;

    #[test]
    fn the_webhook_is_an_http_api_event_signed_over_its_exact_body() {
        let r = webhook_ingest("s3cret", 1042, "delivery-1");
        let request: ApiGatewayV2httpRequest = serde_json::from_value(r.event).unwrap();
        let body = request.body.unwrap();
        let header = request.headers["x-hub-signature"].to_str().unwrap();
        assert_eq!(header, format!("sha1={}", sign("s3cret", body.as_bytes())));
        assert_ne!(header, format!("sha1={}", sign("other", body.as_bytes())));
        assert_eq!(request.headers["x-zammad-delivery"], "delivery-1");
        let payload: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(payload["ticket"]["id"], 1042);
        assert_eq!(
            request.request_context.http.path.as_deref(),
            Some("/webhooks/zammad")
        );
    }

    #[test]
    fn known_hmac_sha1_vector() {
        // RFC 2202, test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn the_reconcile_batch_carries_a_decodable_ticket_sync_message() {
        let r = reconcile(1007, "m-1");
        let event: SqsEvent = serde_json::from_value(r.event).unwrap();
        assert_eq!(event.records.len(), 1);
        let body = event.records[0].body.as_deref().unwrap();
        let message: TicketSyncMessage = decode(body).unwrap();
        assert_eq!(message.ticket_id, TicketId(1007));
        assert!(!message.dry_run);
        assert_eq!(event.records[0].message_id.as_deref(), Some("m-1"));
    }

    #[test]
    fn the_writer_create_matches_its_entry_and_differs_per_run() {
        let now = Utc::now();
        let (record, message) = writer_create(2, 2, 1, 1, now);
        let r = kimai_writer(&message, "m-2");
        let event: SqsEvent = serde_json::from_value(r.event).unwrap();
        let decoded: KimaiWriteMessage = decode(event.records[0].body.as_deref().unwrap()).unwrap();
        assert_eq!(decoded, message);
        let Operation::Create { desired } = &decoded.operation else {
            panic!("a create")
        };
        assert_eq!(record.desired.as_ref(), Some(desired));
        assert_eq!(record.status, EntryStatus::Pending);
        assert_eq!(record.ticket_id, decoded.ticket_id);
        assert_eq!(
            desired.duration_secs,
            (desired.end_utc - desired.begin_utc).num_seconds()
        );
        assert!(desired.description.starts_with("[zammad:ta=90000002]"));
        // Berlin is UTC+1 in November.
        assert_eq!(desired.begin_utc.to_rfc3339(), "2026-11-04T09:00:00+00:00");
        let (other, other_message) = writer_create(3, 2, 1, 1, now);
        assert_ne!(other.ticket_id, record.ticket_id);
        assert_ne!(other.day, record.day);
        assert_ne!(other_message.operation_id, message.operation_id);
    }

    #[test]
    fn the_login_is_a_post_with_the_credentials() {
        let r = api_login("admin", "pw");
        let request: ApiGatewayV2httpRequest = serde_json::from_value(r.event).unwrap();
        assert_eq!(request.raw_path.as_deref(), Some("/api/auth/login"));
        let body: Value = serde_json::from_str(&request.body.unwrap()).unwrap();
        assert_eq!(body, json!({"username": "admin", "password": "pw"}));
    }

    #[test]
    fn checks_accept_success_and_name_the_failure() {
        let fetch = scheduled_fetch();
        assert!((fetch.check)(&json!({"outcome": "ran", "state": "succeeded"})).is_ok());
        let err = (fetch.check)(&json!({"outcome": "ran", "state": "failed"})).unwrap_err();
        assert!(err.contains("failed"), "{err}");
        assert!((fetch.check)(&json!({"outcome": "skipped"})).is_err());

        let batch = reconcile(1, "m");
        assert!((batch.check)(&json!({"batchItemFailures": []})).is_ok());
        let err =
            (batch.check)(&json!({"batchItemFailures": [{"itemIdentifier": "m"}]})).unwrap_err();
        assert!(err.contains("1 failed"), "{err}");
        assert!((batch.check)(&json!({})).is_err());

        let login = api_login("a", "b");
        assert!((login.check)(&json!({"statusCode": 200})).is_ok());
        assert!(
            (login.check)(&json!({"statusCode": 401}))
                .unwrap_err()
                .contains("401")
        );
        let hook = webhook_ingest("s", 1, "d");
        assert!((hook.check)(&json!({"statusCode": 202})).is_ok());
        assert!((hook.check)(&json!({"statusCode": 200})).is_err());
    }
}
