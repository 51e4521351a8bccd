//! The fuzz targets. Each is a property over inputs from `inputs`; every one holds that our
//! code never panics on what it is sent, plus what that input must (or must not) lead to.

use crate::inputs::{json_bodies, noise, text_bodies};
use base64::Engine;
use chrono::{TimeZone, Utc};
use kimai_client::FromWire;
use kimai_client::error::{
    CallKind, classify_response, form_errors_in_success, parse_retry_after, parse_validation_body,
};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use sync_core::catalog::{KimaiActivity, KimaiCustomer, KimaiProject, KimaiUser};
use sync_core::kimai::Timesheet;
use sync_core::normalise::{TimePolicy, Zones, normalise};
use sync_core::placement::Taken;
use sync_core::units::TimeUnit;
use sync_core::zammad::{AccountingType, Organisation, Ticket, TimeAccounting, ZammadUser};
use sync_service::console::mappings::{Mapping, MappingKind, ZammadKey, parse_csv, to_csv};
use sync_service::ingest::{
    IngestDeps, IngestOutcome, MAX_BODY_BYTES, RejectionSampler, WebhookRequest, ingest,
    signature_for,
};
use sync_store::audit::AuditRetention;
use sync_store::clock::ManualClock;
use sync_store::memory::{MemoryAuditLog, MemoryControl, MemoryQueue, MemorySecrets};
use sync_store::queue::{MessageQueue, TicketSyncMessage};
use zammad_client::wire::{ErrorBody, TicketSearchResult, parse};

/// One target: its name and a run of `cases` cases on `runner`.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&mut TestRunner, &Tally) -> Result<(), String>,
}

pub const TARGETS: [Target; 4] = [
    Target {
        name: "webhook",
        run: webhook,
    },
    Target {
        name: "zammad-answers",
        run: zammad_answers,
    },
    Target {
        name: "kimai-answers",
        run: kimai_answers,
    },
    Target {
        name: "mappings-csv",
        run: mappings_csv,
    },
];

/// What a target counts besides its cases (the webhook's kinds of request), by name.
#[derive(Default)]
pub struct Tally(Mutex<BTreeMap<&'static str, u64>>);

impl Tally {
    pub fn add(&self, what: &'static str) {
        *self.0.lock().unwrap().entry(what).or_default() += 1;
    }

    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        self.0.lock().unwrap().clone()
    }
}

fn failed<T: std::fmt::Debug>(e: proptest::test_runner::TestError<T>) -> String {
    e.to_string()
}

// ------------------------------------------------------------------------------------ Zammad

fn zammad_seeds() -> Vec<Value> {
    let accounting = json!({
        "id": 41, "ticket_id": 7, "ticket_article_id": 90, "time_unit": "15.0", "type_id": 2,
        "created_by_id": 3, "created_at": "2026-03-02T09:15:00.000Z",
        "updated_at": "2026-03-02T09:15:00.000Z"
    });
    let ticket = json!({
        "id": 7, "number": "31007", "title": "VPN drops after sleep", "group_id": 1,
        "organization_id": 4, "customer_id": 12, "updated_at": "2026-03-02T09:20:11.512Z"
    });
    vec![
        json!([accounting.clone(), accounting.clone()]),
        ticket.clone(),
        json!([ticket.clone()]),
        json!({"tickets": [7], "tickets_count": 1, "assets": {"Ticket": {"7": ticket}}}),
        json!({"id": 3, "login": "anna@example.com", "firstname": "Anna", "lastname": "Berg",
               "email": "anna@example.com", "organization_id": 4, "active": true}),
        json!([{"id": 4, "name": "Acme GmbH", "active": true}]),
        json!([{"id": 2, "name": "Remote support", "active": true}]),
        json!({"error": "Not authorized", "error_human": "Authorization failed"}),
    ]
}

/// Every parser of a Zammad answer, and accountings on through the time pipeline.
fn zammad_answers(runner: &mut TestRunner, _: &Tally) -> Result<(), String> {
    let zones = Zones::new(chrono_tz::Europe::Berlin);
    runner
        .run(&json_bodies(zammad_seeds()), |body| {
            let _ = parse::<Ticket>(&body);
            let _ = parse::<TicketSearchResult>(&body);
            let _ = parse::<ZammadUser>(&body);
            let _ = parse::<Vec<Organisation>>(&body);
            let _ = parse::<Vec<AccountingType>>(&body);
            let message = ErrorBody::message_from(&body);
            prop_assert!(!message.is_empty());
            if let Ok(accountings) = parse::<Vec<TimeAccounting>>(&body) {
                for unit in [TimeUnit::Minutes, TimeUnit::Hours, TimeUnit::QuarterHours] {
                    let _ = normalise(
                        &accountings,
                        &TimePolicy::new(unit),
                        &zones,
                        &Taken::default(),
                    );
                }
            }
            Ok(())
        })
        .map_err(failed)
}

// ------------------------------------------------------------------------------------- Kimai

fn kimai_seeds() -> Vec<Value> {
    let timesheet = json!({
        "id": 501, "begin": "2026-03-02T10:00:00+0100", "end": "2026-03-02T10:15:00+0100",
        "duration": 900, "break": 0, "description": "#31007 VPN drops [zks:41]",
        "activity": 2, "project": 3, "user": 2, "tags": ["zammad"], "exported": false,
        "billable": true, "internalRate": 0, "hourlyRate": 80.0
    });
    vec![
        timesheet.clone(),
        json!([
            timesheet.clone(),
            json!({"id": 502, "begin": "2026-03-02T11:00:00+0100",
            "end": null, "duration": 0, "activity": {"id": 2}, "project": {"id": 3},
            "user": {"id": 2}, "tags": [], "exported": true})
        ]),
        json!({"code": 400, "message": "Validation Failed", "errors": {"errors": [],
            "children": {"begin": {"errors": ["This value should not be blank."]},
            "project": {}, "activity": {"errors": ["This value is not valid."]}}}}),
        json!({"code": 400, "message": "Validation Failed", "errors": {"errors":
            ["This form should not contain extra fields."], "children": {}}}),
        json!({"code": 403, "message": "Forbidden"}),
        json!({"message": "Too many requests"}),
        json!([{"id": 4, "name": "Acme GmbH", "number": "C-4", "visible": true}]),
        json!([{"id": 3, "name": "Support 2026", "customer": 4, "visible": true}]),
        json!([{"id": 2, "name": "Remote support", "project": null, "visible": true}]),
        json!([{"id": 2, "username": "anna", "alias": "Anna Berg", "enabled": true,
            "timezone": "Europe/Berlin"}]),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(vec![
            200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503
        ]),
        any::<u16>(),
    ]
}

fn retry_after() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        Just("Wed, 21 Oct 2026 07:28:00 GMT".to_owned()),
        ".{0,40}",
    ])
}

/// Kimai's records and error bodies: parsers never panic, a timesheet that parses writes back
/// to the same timesheet, and a non-success answer is always a typed error.
fn kimai_answers(runner: &mut TestRunner, _: &Tally) -> Result<(), String> {
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let kinds = [
        CallKind::Read,
        CallKind::Create,
        CallKind::ChangeTimesheet,
        CallKind::OtherWrite,
    ];
    let inputs = (
        json_bodies(kimai_seeds()),
        status(),
        retry_after(),
        0..kinds.len(),
    );
    runner
        .run(&inputs, |(body, status, retry, kind)| {
            let kind = kinds[kind];
            if let Ok(sheet) = serde_json::from_slice::<Timesheet>(&body) {
                let written = serde_json::to_vec(&sheet).expect("a timesheet serialises");
                let again: Timesheet = serde_json::from_slice(&written)
                    .map_err(|e| TestCaseError::fail(format!("written back, unreadable: {e}")))?;
                prop_assert_eq!(again, sheet);
            }
            let _ = serde_json::from_slice::<Vec<Timesheet>>(&body);
            if let Ok(json) = serde_json::from_slice::<Value>(&body) {
                let _ = KimaiCustomer::from_wire(json.clone());
                let _ = KimaiProject::from_wire(json.clone());
                let _ = KimaiActivity::from_wire(json.clone());
                let _ = KimaiUser::from_wire(json);
            }
            let _ = parse_validation_body(&body);
            let _ = form_errors_in_success(kind, &body);
            if !(200..300).contains(&status) {
                let error = classify_response(kind, status, retry.as_deref(), &body);
                // Displaying it must not panic either (it reaches logs and problem bodies).
                let _ = error.to_string();
            }
            if let Some(value) = &retry {
                let _ = parse_retry_after(value, now);
            }
            Ok(())
        })
        .map_err(failed)
}

// -------------------------------------------------------------------------------- CSV import

/// The import never panics, and what it accepts exports to a CSV that imports to the same.
fn mappings_csv(runner: &mut TestRunner, _: &Tally) -> Result<(), String> {
    let seeds = vec![
        "zammad,kimai\n3,2\n4,3\n",
        "zammad,kimai\nnone,7\n2,9\n",
        "zammad,kimai\r\n\"12\", 40\r\n",
        "kimai,zammad\n1,2\n",
        "zammad,kimai\n",
    ];
    let inputs = (
        text_bodies(seeds),
        prop::sample::select(MappingKind::ALL.to_vec()),
    );
    runner
        .run(&inputs, |(body, kind)| {
            let Ok(entries) = parse_csv(kind, &body) else {
                return Ok(());
            };
            let mappings: Vec<Mapping> = entries
                .iter()
                .map(|(key, kimai)| Mapping {
                    zammad: match key {
                        ZammadKey::NoType => "none".to_owned(),
                        ZammadKey::Id(id) => id.to_string(),
                    },
                    kimai: *kimai,
                })
                .collect();
            let exported = to_csv(&mappings).expect("export of accepted mappings");
            let again = parse_csv(kind, &exported)
                .map_err(|e| TestCaseError::fail(format!("export does not import: {e:?}")))?;
            prop_assert_eq!(again, entries);
            Ok(())
        })
        .map_err(failed)
}

// ---------------------------------------------------------------------------------- Webhook

const SECRET_ID: &str = "webhook-hmac";
const SECRET: &str = "fuzz-trigger-secret";

/// How a request is signed.
#[derive(Debug, Clone, Copy)]
enum Signing {
    /// Right secret, over the body sent.
    Valid,
    /// Right secret, over a body one byte different from the one sent.
    Tampered,
    /// Another secret.
    Forged,
    Missing,
    /// Not `sha1=<hex>`: any text.
    Malformed,
}

#[derive(Debug, Clone, Copy)]
enum Delivery {
    Fresh,
    /// The id of the last accepted delivery, again.
    Replayed,
    Missing,
    Invalid,
}

fn webhook_seeds() -> Vec<Value> {
    vec![
        json!({"ticket": {"id": 7, "number": "31007", "title": "VPN drops"},
               "article": {"id": 90, "accounted_time": 15}}),
        json!({"ticket": {"id": "8", "number": "31008"}}),
        json!({"ticket": {"id": 9}}),
    ]
}

#[derive(Debug, Clone)]
struct Sent {
    body: Vec<u8>,
    signing: Signing,
    delivery: Delivery,
    base64: bool,
    junk: String,
}

fn sent() -> impl Strategy<Value = Sent> {
    let body = prop_oneof![
        8 => json_bodies(webhook_seeds()),
        1 => (MAX_BODY_BYTES + 1..MAX_BODY_BYTES + 64).prop_map(|n| vec![b' '; n]),
        1 => noise(),
    ];
    let signing = prop::sample::select(vec![
        Signing::Valid,
        Signing::Valid,
        Signing::Tampered,
        Signing::Forged,
        Signing::Missing,
        Signing::Malformed,
    ]);
    let delivery = prop::sample::select(vec![
        Delivery::Fresh,
        Delivery::Fresh,
        Delivery::Replayed,
        Delivery::Missing,
        Delivery::Invalid,
    ]);
    (body, signing, delivery, any::<bool>(), ".{0,60}").prop_map(
        |(body, signing, delivery, base64, junk)| Sent {
            body,
            signing,
            delivery,
            base64,
            junk,
        },
    )
}

/// The ticket id Zammad's payload names, read independently of the code under test.
fn ticket_in(body: &[u8]) -> Option<u64> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let id = match &json["ticket"]["id"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    (id > 0).then_some(id)
}

struct World {
    control: MemoryControl,
    queue: MemoryQueue<TicketSyncMessage>,
    audit: MemoryAuditLog,
    secrets: MemorySecrets,
    clock: ManualClock,
    rejections: RejectionSampler,
    runtime: tokio::runtime::Runtime,
    deliveries: Mutex<(u64, Option<String>)>,
}

impl World {
    fn new() -> World {
        let secrets = MemorySecrets::new();
        secrets.set(SECRET_ID, SECRET);
        World {
            control: MemoryControl::new(),
            queue: MemoryQueue::new(),
            audit: MemoryAuditLog::new(AuditRetention::default()),
            secrets,
            clock: ManualClock::new(Utc::now()),
            rejections: RejectionSampler::default(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
            deliveries: Mutex::new((0, None)),
        }
    }

    /// Messages queued since the last call (they are taken off the queue).
    fn queued(&self) -> usize {
        let mut taken = 0;
        loop {
            let batch = self
                .runtime
                .block_on(self.queue.receive(10, 0))
                .expect("the memory queue answers");
            if batch.is_empty() {
                return taken;
            }
            taken += batch.len();
        }
    }

    fn request(&self, s: &Sent) -> WebhookRequest {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        let signature = match s.signing {
            Signing::Valid => Some(signature_for(SECRET, &s.body)),
            Signing::Tampered => {
                let mut other = s.body.clone();
                match other.first_mut() {
                    Some(b) => *b ^= 1,
                    None => other.push(b'{'),
                }
                Some(signature_for(SECRET, &other))
            }
            Signing::Forged => Some(signature_for("not-the-secret", &s.body)),
            Signing::Missing => None,
            Signing::Malformed => Some(s.junk.clone()),
        };
        if let Some(sig) = signature {
            headers.push(("X-Hub-Signature".to_owned(), sig));
        }
        let mut deliveries = self.deliveries.lock().unwrap();
        let delivery = match s.delivery {
            Delivery::Fresh => {
                deliveries.0 += 1;
                Some(format!("fuzz-{}", deliveries.0))
            }
            Delivery::Replayed => deliveries.1.clone(),
            Delivery::Missing => None,
            Delivery::Invalid => Some(format!("{} \u{7f}", s.junk)),
        };
        if let Some(id) = delivery {
            headers.push(("X-Zammad-Delivery".to_owned(), id));
        }
        let (body, is_base64_encoded) = match (s.base64, std::str::from_utf8(&s.body)) {
            (false, Ok(text)) => (text.to_owned(), false),
            _ => (
                base64::engine::general_purpose::STANDARD.encode(&s.body),
                true,
            ),
        };
        WebhookRequest {
            headers,
            body: Some(body),
            is_base64_encoded,
            source_ip: Some("203.0.113.77".into()),
            user_agent: Some("fuzz".into()),
            request_id: None,
        }
    }
}

/// Whatever arrives: only a request signed with the secret over the very body sent, naming a
/// ticket, is queued, once per delivery id; everything else gets its status and queues nothing.
fn webhook(runner: &mut TestRunner, tally: &Tally) -> Result<(), String> {
    let world = World::new();
    let deps = IngestDeps {
        control: &world.control,
        queue: &world.queue,
        audit: &world.audit,
        secrets: &world.secrets,
        secret_id: SECRET_ID,
        clock: &world.clock,
        rejections: &world.rejections,
    };
    runner
        .run(&sent(), |s| {
            let request = world.request(&s);
            let outcome = world.runtime.block_on(ingest(&deps, &request));
            let queued = world.queued();
            let oversized = s.body.len() > MAX_BODY_BYTES;
            let kind = match (oversized, s.signing, s.delivery, ticket_in(&s.body)) {
                (true, ..) => "oversized",
                (_, Signing::Tampered, ..) => "tampered",
                (_, Signing::Forged | Signing::Missing, ..) => "forged",
                (_, Signing::Malformed, ..) => "malformed signature",
                (_, _, Delivery::Invalid, _) => "bad delivery id",
                (_, _, _, None) => "malformed body",
                (_, _, Delivery::Replayed, _) => "replayed",
                _ => "valid",
            };
            tally.add(kind);
            match kind {
                "valid" => {
                    let IngestOutcome::Accepted { ticket_id, .. } = outcome else {
                        return Err(TestCaseError::fail(format!(
                            "valid, not accepted: {outcome:?}"
                        )));
                    };
                    prop_assert_eq!(Some(ticket_id.0), ticket_in(&s.body));
                    prop_assert_eq!(queued, 1, "one message per accepted delivery");
                    if let Some((_, id)) = request
                        .headers
                        .iter()
                        .find(|(n, _)| n == "X-Zammad-Delivery")
                    {
                        world.deliveries.lock().unwrap().1 = Some(id.clone());
                    }
                }
                "replayed" => {
                    // The first of its id is new (no delivery accepted yet), later ones not.
                    prop_assert!(
                        matches!(
                            outcome,
                            IngestOutcome::Duplicate { .. } | IngestOutcome::Accepted { .. }
                        ),
                        "{:?}",
                        outcome
                    );
                    let accepted = matches!(outcome, IngestOutcome::Accepted { .. });
                    prop_assert_eq!(queued, usize::from(accepted));
                }
                _ => {
                    let expected: &[u16] = match kind {
                        "oversized" => &[413],
                        // The body is decoded before the signature is checked.
                        "tampered" | "forged" | "malformed signature" => &[401],
                        _ => &[400],
                    };
                    prop_assert!(
                        expected.contains(&outcome.status()),
                        "{} answered {:?}",
                        kind,
                        outcome
                    );
                    prop_assert!(
                        matches!(outcome, IngestOutcome::Rejected(_)),
                        "{:?}",
                        outcome
                    );
                    prop_assert_eq!(queued, 0, "{} queued nothing", kind);
                }
            }
            Ok(())
        })
        .map_err(failed)
}
