//! The chaos soak's driver (`infra/soak/soak-chaos.sh`, docs/reliability.md "Chaos soak"):
//! while a backfill runs, Zammad changes under it and people edit Kimai by hand.
//!
//! - Zammad: an accounting's time edited, an accounting deleted, a negative correction booked
//!   beside one, a new booking on the same ticket and day. Each change is announced by a
//!   signed webhook, as Zammad's trigger would post it; every webhook is delivered twice with
//!   the same delivery id, and every other one's second copy is held back until after the next
//!   change's webhook (out of order).
//! - Kimai: the descriptions of some synced timesheets are edited by hand (the marker kept).
//!   Those tickets are never changed in Zammad, so the sync must keep the hand edit, and the
//!   oracle still applies to them (minutes, day, user and activity are untouched).
//!
//! Everything is drawn from one seed, so a run can be repeated.

use crate::error::BenchError;
use chrono::{DateTime, Duration as Span, Utc};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Rounds of 5 s in which the last hand edits wait for timesheets of the kept tickets.
const HAND_EDIT_TRIES: usize = 24;

/// Where the driver acts.
pub struct Targets {
    pub zammad_url: String,
    pub kimai_url: String,
    /// The stack's `POST /webhooks/zammad`.
    pub webhook_url: String,
    pub webhook_secret: String,
}

/// How much chaos, and how fast.
pub struct Plan {
    pub seed: u64,
    pub changes: usize,
    pub pause: Duration,
    /// Timesheets edited by hand in Kimai, once the sync has created some.
    pub hand_edits: usize,
}

/// What the driver did, for the soak's report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Log {
    pub edited: usize,
    pub deleted: usize,
    pub corrected: usize,
    pub added: usize,
    /// Webhooks posted (every copy), by the status the stack answered (0: no answer).
    pub webhook_posts: BTreeMap<u16, u64>,
    pub webhooks_repeated: usize,
    pub webhooks_out_of_order: usize,
    /// Kimai timesheets whose description was edited by hand.
    pub hand_edited: Vec<u64>,
    pub changed_tickets: BTreeSet<u64>,
}

/// One accounting as zammad-sim's admin list shows it.
#[derive(Debug, Clone, Deserialize)]
struct Accounting {
    id: u64,
    ticket_id: u64,
    time_unit: Value,
    #[serde(default)]
    type_id: Option<u64>,
    created_by_id: u64,
    created_at: DateTime<Utc>,
}

/// One signed webhook, ready to post.
struct Webhook {
    body: String,
    signature: String,
    delivery: String,
}

pub async fn run(
    http: &reqwest::Client,
    targets: &Targets,
    plan: &Plan,
) -> Result<Log, BenchError> {
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let mut log = Log::default();
    let accountings_url = format!("{}/__admin/accountings", targets.zammad_url);
    let mut accountings: Vec<Accounting> = get_json(http, &accountings_url).await?;
    // Tickets set aside for hand edits in Kimai: never changed in Zammad.
    let mut tickets: Vec<u64> = accountings.iter().map(|a| a.ticket_id).collect();
    tickets.sort_unstable();
    tickets.dedup();
    let kept: BTreeSet<u64> = tickets
        .choose_multiple(&mut rng, plan.hand_edits.min(tickets.len() / 4))
        .copied()
        .collect();
    let mut held: Option<Webhook> = None;

    for i in 0..plan.changes {
        let candidates: Vec<&Accounting> = accountings
            .iter()
            .filter(|a| !kept.contains(&a.ticket_id))
            .collect();
        let Some(&target) = candidates.choose(&mut rng) else {
            break;
        };
        let target = target.clone();
        let minutes = |rng: &mut StdRng| rng.random_range(1..=12) * 5;
        match rng.random_range(0..10) {
            0..=3 => {
                let url = format!("{accountings_url}/{}", target.id);
                send(
                    http.patch(&url)
                        .json(&json!({"time_unit": minutes(&mut rng).to_string()})),
                    &url,
                )
                .await?;
                log.edited += 1;
            }
            4..=5 => {
                let url = format!("{accountings_url}/{}", target.id);
                send(http.delete(&url), &url).await?;
                accountings.retain(|a| a.id != target.id);
                log.deleted += 1;
            }
            6..=7 => {
                // Takes back part (or more than all) of the booking: netting within the group.
                let booked = target
                    .time_unit
                    .as_str()
                    .and_then(|s| s.parse::<f64>().ok())
                    .unwrap_or(30.0);
                let back = (booked * rng.random_range(0.2..1.3)).round().max(1.0);
                add(
                    http,
                    &accountings_url,
                    &target,
                    &format!("-{back}"),
                    Span::minutes(1),
                )
                .await?;
                log.corrected += 1;
            }
            _ => {
                let new = add(
                    http,
                    &accountings_url,
                    &target,
                    &minutes(&mut rng).to_string(),
                    Span::minutes(2),
                )
                .await?;
                accountings.push(new);
                log.added += 1;
            }
        }
        log.changed_tickets.insert(target.ticket_id);
        let webhook = sign(targets, target.ticket_id);
        post(http, targets, &webhook, &mut log).await;
        if let Some(late) = held.take() {
            // The previous change's second copy, after this change's first.
            post(http, targets, &late, &mut log).await;
            log.webhooks_repeated += 1;
            log.webhooks_out_of_order += 1;
        }
        if i % 2 == 0 {
            held = Some(webhook);
        } else {
            post(http, targets, &webhook, &mut log).await;
            log.webhooks_repeated += 1;
        }
        if i == plan.changes / 2 {
            hand_edits(
                http,
                targets,
                &accountings,
                &kept,
                plan.hand_edits,
                &mut rng,
                &mut log,
            )
            .await?;
        }
        tokio::time::sleep(plan.pause).await;
    }
    if let Some(late) = held.take() {
        post(http, targets, &late, &mut log).await;
        log.webhooks_repeated += 1;
    }
    // The kept tickets' timesheets may not all exist yet: edit them as they appear, a while.
    for _ in 0..HAND_EDIT_TRIES {
        let missing = plan.hand_edits.saturating_sub(log.hand_edited.len());
        if missing == 0 {
            break;
        }
        hand_edits(
            http,
            targets,
            &accountings,
            &kept,
            missing,
            &mut rng,
            &mut log,
        )
        .await?;
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    Ok(log)
}

/// Books time beside `like`: same ticket, agent and type, `after` its creation.
async fn add(
    http: &reqwest::Client,
    url: &str,
    like: &Accounting,
    time_unit: &str,
    after: Span,
) -> Result<Accounting, BenchError> {
    let body = json!({
        "ticket_id": like.ticket_id,
        "created_by_id": like.created_by_id,
        "time_unit": time_unit,
        "type_id": like.type_id,
        "with_article": false,
        "created_at": like.created_at + after,
    });
    let answer = send(http.post(url).json(&body), url).await?;
    serde_json::from_value(answer).map_err(|e| BenchError::http(url, e.to_string()))
}

/// Edits the description of synced timesheets of the kept tickets, keeping the marker.
async fn hand_edits(
    http: &reqwest::Client,
    targets: &Targets,
    accountings: &[Accounting],
    kept: &BTreeSet<u64>,
    count: usize,
    rng: &mut StdRng,
    log: &mut Log,
) -> Result<(), BenchError> {
    let ticket_of: BTreeMap<u64, u64> = accountings.iter().map(|a| (a.id, a.ticket_id)).collect();
    let url = format!("{}/__admin/timesheets", targets.kimai_url);
    let sheets: Vec<kimai_sim::AdminTimesheet> = get_json(http, &url).await?;
    let ours: Vec<&kimai_sim::AdminTimesheet> = sheets
        .iter()
        .filter(|t| {
            let d = t.description.as_deref().unwrap_or("");
            crate::soak::marked_ids(d)
                .first()
                .and_then(|id| ticket_of.get(id))
                .is_some_and(|ticket| kept.contains(ticket))
                && !log.hand_edited.contains(&t.id)
        })
        .collect();
    for t in ours.choose_multiple(rng, count) {
        let edit_url = format!("{}/__admin/timesheets/{}/edit", targets.kimai_url, t.id);
        let description = format!(
            "{} (checked by hand)",
            t.description.as_deref().unwrap_or("")
        );
        send(
            http.post(&edit_url)
                .json(&json!({"description": description})),
            &edit_url,
        )
        .await?;
        log.hand_edited.push(t.id);
    }
    Ok(())
}

fn sign(targets: &Targets, ticket_id: u64) -> Webhook {
    let body = json!({
        "ticket": {"id": ticket_id, "number": format!("{}", 50_000 + ticket_id), "title": "time changed"},
        "article": {},
    })
    .to_string();
    Webhook {
        signature: format!(
            "sha1={}",
            crate::events::sign(&targets.webhook_secret, body.as_bytes())
        ),
        body,
        delivery: uuid::Uuid::new_v4().to_string(),
    }
}

/// Posts one copy; the answer is counted, never fatal (the stack may be busy or restarting).
async fn post(http: &reqwest::Client, targets: &Targets, webhook: &Webhook, log: &mut Log) {
    let status = http
        .post(&targets.webhook_url)
        .header("Content-Type", "application/json; charset=utf-8")
        .header("User-Agent", "Zammad User Agent")
        .header("X-Zammad-Trigger", "time changed")
        .header("X-Zammad-Delivery", &webhook.delivery)
        .header("X-Hub-Signature", &webhook.signature)
        .body(webhook.body.clone())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    *log.webhook_posts.entry(status).or_default() += 1;
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, BenchError> {
    let answer = send(http.get(url), url).await?;
    serde_json::from_value(answer).map_err(|e| BenchError::http(url, e.to_string()))
}

/// Sends an admin request; anything but 2xx is an error (the simulators' admin routes never
/// fail by design).
async fn send(request: reqwest::RequestBuilder, url: &str) -> Result<Value, BenchError> {
    let response = request.send().await.map_err(|e| BenchError::http(url, e))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| BenchError::http(url, e))?;
    if !status.is_success() {
        return Err(BenchError::http(url, format!("{status}: {text}")));
    }
    Ok(if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).map_err(|e| BenchError::http(url, e.to_string()))?
    })
}
