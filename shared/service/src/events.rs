//! The sync's domain events: what happened that people or other systems may want to hear about
//! without opening the console. They go to the stack's EventBridge bus (source
//! `zammad-kimai-sync`); the template's rules deliver them by e-mail and to a chat webhook, and
//! anyone may add rules of their own. `docs/operations.md` gives each event's schema.
//!
//! Every detail carries `version` ([`DETAIL_VERSION`]): a change that removes or renames a
//! field is a new version, so a rule or consumer written against one keeps working until it
//! moves on.
//!
//! [`Publisher`] is the one place that publishes. Publishing is best effort: a bus that fails
//! is logged and counted, never a failed sync, because the sync's own records (runs,
//! conflicts, dead letters) stay the truth and the console shows them either way.

use crate::connection_check::{Cause, System};
use crate::expiring::Expiring;
use crate::settings;
use serde::Serialize;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use sync_core::plan::Conflict;
use sync_store::control::{ControlStore, RunCounters, RunId, RunState, RunTrigger, SyncRun};
use sync_store::events::{BusEvent, EventBus};

/// The detail types a person may be told about (by e-mail and in the chat). Each event carries
/// `notify`: true for these unless `policy/notifications` mutes the type. template.yaml's two
/// notification rules match exactly these types with `notify: true` (a test of the template
/// checks it), so muting needs no change to the stack.
pub const NOTIFIED: &[&str] = &[
    "SyncRun Failed",
    "Conflict Opened",
    "DeadLetters Arrived",
    "Connection Failing",
    "ConflictBacklog ThresholdCrossed",
    "Approval Awaiting",
    "Notification Test",
];

/// The test event an admin sends from the console: always told, whatever is muted, because it
/// is how one checks that telling works.
pub const TEST_EVENT: &str = "Notification Test";

/// Whether people are told about an event of `detail_type` when `muted` are muted.
pub fn notifies(detail_type: &str, muted: &[String]) -> bool {
    detail_type == TEST_EVENT
        || (NOTIFIED.contains(&detail_type) && !muted.iter().any(|m| m == detail_type))
}

/// How long a publisher trusts the muted types it read: a change in the console reaches
/// every function within this.
pub const MUTED_TTL: chrono::Duration = chrono::Duration::seconds(60);

/// The version of every detail below.
pub const DETAIL_VERSION: u32 = 1;

/// A run ended, in `SyncRun Finished` (succeeded, or cancelled by a person) or `SyncRun
/// Failed`. A scheduled, verify or backfill run ends when its tickets are queued, so its
/// counters are what discovery did; a manual run ends when every ticket it queued is done.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunEnded {
    pub version: u32,
    pub run_id: RunId,
    pub trigger: RunTrigger,
    pub state: RunState,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub counters: RunCounters,
    /// Why it failed, when it did and the reason is known.
    pub error: Option<String>,
    /// One line for a person (the chat message).
    pub summary: String,
}

impl RunEnded {
    pub fn of(run: &SyncRun, error: Option<String>) -> Self {
        let c = &run.counters;
        let mut summary = format!(
            "{} run {} {}: {} tickets queued, {} done, {} created, {} updated, {} deleted, {} conflicts, {} failed",
            trigger_name(run.trigger),
            run.id,
            run.state.as_str(),
            c.tickets_queued,
            c.tickets_done,
            c.created,
            c.updated,
            c.deleted,
            c.conflicts,
            c.failed
        );
        if let Some(error) = &error {
            summary.push_str(&format!(". {error}"));
        }
        RunEnded {
            summary: one_line(&summary),
            version: DETAIL_VERSION,
            run_id: run.id.clone(),
            trigger: run.trigger,
            state: run.state,
            started_at: run.started_at,
            finished_at: run.finished_at,
            counters: run.counters,
            error,
        }
    }
}

/// A summary EventBridge can put into a JSON template as it is: its input transformer inserts
/// strings unescaped, so a double quote, a backslash or a line break (Kimai's messages have
/// them) would break the chat's JSON. Those become `'`, `/` and spaces.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// The metrics of a run that ended: its trigger, state and how long it ran.
pub fn measure_run(run: &SyncRun) {
    let took = run
        .finished_at
        .map(|end| (end - run.started_at).to_std().unwrap_or_default())
        .unwrap_or_default();
    sync_metrics::run_ended(trigger_name(run.trigger), run.state.as_str(), took);
}

fn trigger_name(trigger: RunTrigger) -> &'static str {
    match trigger {
        RunTrigger::Schedule => "scheduled",
        RunTrigger::Manual => "manual",
        RunTrigger::Backfill => "backfill",
        RunTrigger::Verify => "verify",
    }
}

/// One conflict in `Conflict Opened`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenedConflict {
    pub conflict_id: String,
    pub reason: &'static str,
    pub ticket_id: u64,
    pub key: String,
    /// The Zammad agent whose time it is, when the conflict knows it.
    pub agent_id: Option<u64>,
    pub detail: String,
}

impl OpenedConflict {
    pub fn of(id: &str, conflict: &Conflict) -> Self {
        OpenedConflict {
            conflict_id: id.to_owned(),
            reason: conflict.reason.as_str(),
            ticket_id: conflict.ticket_id.0,
            key: conflict.key.0.clone(),
            agent_id: conflict.desired.as_ref().map(|d| d.agent_id.0),
            detail: conflict.detail.clone(),
        }
    }
}

/// At most this many conflicts are listed in one `Conflict Opened`; `count` has them all.
/// Keeps the event far below the bus's 256 KB and a chat message readable.
pub const MAX_LISTED_CONFLICTS: usize = 20;

/// Conflicts one invocation opened for one run (or outside any run: `run_id` null).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictsOpened {
    pub version: u32,
    pub run_id: Option<RunId>,
    pub count: usize,
    /// The first [`MAX_LISTED_CONFLICTS`] of them.
    pub conflicts: Vec<OpenedConflict>,
    /// One line for a person: how many, for which reasons.
    pub summary: String,
}

impl ConflictsOpened {
    pub fn of(run_id: Option<RunId>, mut conflicts: Vec<OpenedConflict>) -> Self {
        let count = conflicts.len();
        let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
        for c in &conflicts {
            *reasons.entry(c.reason).or_default() += 1;
        }
        let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        let within = match &run_id {
            Some(run) => format!(" in run {run}"),
            None => String::new(),
        };
        let noun = if count == 1 { "conflict" } else { "conflicts" };
        let summary = format!(
            "{count} {noun} opened{within} ({}); resolve them in the console",
            reasons.join(", ")
        );
        conflicts.truncate(MAX_LISTED_CONFLICTS);
        ConflictsOpened {
            version: DETAIL_VERSION,
            run_id,
            count,
            conflicts,
            summary: one_line(&summary),
        }
    }
}

/// A queue message failed for good and is in its dead-letter queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLettersArrived {
    pub version: u32,
    /// `ticket-sync` or `kimai-write`.
    pub queue: String,
    pub message_id: String,
    pub run_id: Option<RunId>,
    pub ticket_id: Option<u64>,
    pub error: String,
    /// One line for a person.
    pub summary: String,
}

impl DeadLettersArrived {
    pub fn of(
        queue: &str,
        message_id: &str,
        run_id: Option<RunId>,
        ticket_id: Option<u64>,
        error: &str,
    ) -> Self {
        let ticket = ticket_id
            .map(|t| format!(" (ticket {t})"))
            .unwrap_or_default();
        DeadLettersArrived {
            version: DETAIL_VERSION,
            summary: one_line(&format!(
                "a {queue} message{ticket} failed for good and is in its dead-letter queue: {error}; replay it from the console once the cause is fixed"
            )),
            queue: queue.to_owned(),
            message_id: message_id.to_owned(),
            run_id,
            ticket_id,
            error: error.to_owned(),
        }
    }
}

/// Creates held for a person's approval (approval mode), new since the last flush, per run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalAwaiting {
    pub version: u32,
    pub run_id: Option<RunId>,
    /// Timesheets newly waiting for approval.
    pub entries: u64,
    /// Their tickets (the first [`MAX_LISTED_CONFLICTS`]).
    pub tickets: Vec<u64>,
    pub summary: String,
}

/// An admin's "send a test event" from the console: delivered like the others, so a person
/// sees that the e-mail and the chat work.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotificationTest {
    pub version: u32,
    pub sent_by: String,
    pub sent_at: chrono::DateTime<chrono::Utc>,
    pub summary: String,
}

impl NotificationTest {
    pub fn by(user: &str, at: chrono::DateTime<chrono::Utc>) -> Self {
        NotificationTest {
            version: DETAIL_VERSION,
            sent_by: user.to_owned(),
            sent_at: at,
            summary: one_line(&format!(
                "a test event sent by {user} from the console at {}; notifications reach you",
                at.format("%Y-%m-%d %H:%M UTC")
            )),
        }
    }
}

impl ApprovalAwaiting {
    /// `held`: (ticket, timesheets newly held) of one run, in the order they were noted.
    pub fn of(run_id: Option<RunId>, held: Vec<Held>) -> Self {
        let entries: u64 = held.iter().map(|(_, n)| *n as u64).sum();
        let ticket_count = held.len();
        let mut tickets: Vec<u64> = held.into_iter().map(|(t, _)| t).collect();
        tickets.truncate(MAX_LISTED_CONFLICTS);
        ApprovalAwaiting {
            version: DETAIL_VERSION,
            summary: format!(
                "{entries} timesheets of {ticket_count} tickets wait for approval; approve them in the console"
            ),
            run_id,
            entries,
            tickets,
        }
    }
}

/// A ticket and how many of its timesheets were newly held for approval.
type Held = (u64, usize);

/// Groups what an invocation noted by run, runs in the order first noted.
fn by_run<T>(noted: Vec<(Option<RunId>, T)>) -> Vec<(Option<RunId>, Vec<T>)> {
    let mut grouped: Vec<(Option<RunId>, Vec<T>)> = Vec::new();
    for (run, item) in noted {
        match grouped.iter_mut().find(|(r, _)| *r == run) {
            Some((_, list)) => list.push(item),
            None => grouped.push((run, vec![item])),
        }
    }
    grouped
}

/// New conflicts took the open ones to the threshold of `policy/notifications` or past it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacklogCrossed {
    pub version: u32,
    /// Open conflicts now (counted up to the threshold plus those just opened).
    pub open_conflicts: u64,
    pub threshold: u32,
    /// How many of them this invocation opened.
    pub opened_now: u64,
    pub summary: String,
}

impl BacklogCrossed {
    pub fn of(open_conflicts: u64, threshold: u32, opened_now: u64) -> Self {
        BacklogCrossed {
            version: DETAIL_VERSION,
            open_conflicts,
            threshold,
            opened_now,
            summary: format!(
                "{open_conflicts} conflicts are open, the threshold is {threshold}; resolve them in the console"
            ),
        }
    }
}

/// Zammad or Kimai cannot be used as the sync needs (the daily connection check).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionFailing {
    pub version: u32,
    pub system: System,
    pub cause: Cause,
    /// What was tried and what came back.
    pub detail: String,
    /// One line for a person: what fails and what to do.
    pub summary: String,
}

impl ConnectionFailing {
    pub fn of(system: System, cause: Cause, detail: &str) -> Self {
        let name = match system {
            System::Zammad => "Zammad",
            System::Kimai => "Kimai",
        };
        let todo = match cause {
            Cause::Unreachable => format!("check that {name} is up and reachable"),
            Cause::TokenRejected => {
                format!(
                    "the {name} token is expired, revoked or wrong: set a new one in the console"
                )
            }
            Cause::TokenMissing => format!("set the {name} token in the console"),
            Cause::PermissionMissing => {
                format!("give the {name} API user the missing permission")
            }
            Cause::Misconfigured => format!("check the {name} connection in the console"),
        };
        ConnectionFailing {
            version: DETAIL_VERSION,
            system,
            cause,
            detail: detail.to_owned(),
            summary: one_line(&format!("{name} connection failing ({detail}); {todo}")),
        }
    }
}

/// What the sync tells the bus.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    RunEnded(RunEnded),
    ConflictsOpened(ConflictsOpened),
    DeadLettersArrived(DeadLettersArrived),
    ConnectionFailing(ConnectionFailing),
    BacklogCrossed(BacklogCrossed),
    ApprovalAwaiting(ApprovalAwaiting),
    NotificationTest(NotificationTest),
}

impl DomainEvent {
    /// The event's `detail-type`: what rules match on.
    pub fn detail_type(&self) -> &'static str {
        match self {
            DomainEvent::RunEnded(run) if run.state == RunState::Failed => "SyncRun Failed",
            DomainEvent::RunEnded(_) => "SyncRun Finished",
            DomainEvent::ConflictsOpened(_) => "Conflict Opened",
            DomainEvent::DeadLettersArrived(_) => "DeadLetters Arrived",
            DomainEvent::ConnectionFailing(_) => "Connection Failing",
            DomainEvent::BacklogCrossed(_) => "ConflictBacklog ThresholdCrossed",
            DomainEvent::ApprovalAwaiting(_) => "Approval Awaiting",
            DomainEvent::NotificationTest(_) => TEST_EVENT,
        }
    }

    /// The event as the bus takes it, its detail with `notify` (see [`NOTIFIED`]).
    pub fn to_bus(&self, notify: bool) -> BusEvent {
        let mut detail = match self {
            DomainEvent::RunEnded(d) => serde_json::to_value(d),
            DomainEvent::ConflictsOpened(d) => serde_json::to_value(d),
            DomainEvent::DeadLettersArrived(d) => serde_json::to_value(d),
            DomainEvent::ConnectionFailing(d) => serde_json::to_value(d),
            DomainEvent::BacklogCrossed(d) => serde_json::to_value(d),
            DomainEvent::ApprovalAwaiting(d) => serde_json::to_value(d),
            DomainEvent::NotificationTest(d) => serde_json::to_value(d),
        }
        .expect("event details serialise");
        if let Some(fields) = detail.as_object_mut() {
            fields.insert("notify".into(), serde_json::Value::Bool(notify));
        }
        BusEvent {
            detail_type: self.detail_type().to_owned(),
            detail,
        }
    }
}

/// Publishes domain events, and gathers the conflicts an invocation opens so that they go out
/// as one `Conflict Opened` per run ([`Publisher::flush`], at the end of each invocation).
/// One per process, shared by everything in it.
pub struct Publisher {
    bus: Arc<dyn EventBus>,
    opened: Mutex<Vec<(Option<RunId>, OpenedConflict)>>,
    /// (run, (ticket, timesheets newly held for approval)).
    awaiting: Mutex<Vec<(Option<RunId>, Held)>>,
    unpublished: AtomicU64,
    /// Where `policy/notifications` lives; without it nothing is muted.
    settings: Option<Arc<dyn ControlStore>>,
    /// The muted types last read (the instance caches' single-flight expiry, one key).
    muted: Expiring<(), Arc<Vec<String>>>,
}

impl Publisher {
    pub fn new(bus: Arc<dyn EventBus>) -> Self {
        Publisher {
            bus,
            opened: Mutex::new(Vec::new()),
            awaiting: Mutex::new(Vec::new()),
            unpublished: AtomicU64::new(0),
            settings: None,
            muted: Expiring::new(),
        }
    }

    /// Reads the muted types from `policy/notifications` in `control` (at most every
    /// [`MUTED_TTL`]).
    pub fn with_settings(mut self, control: Arc<dyn ControlStore>) -> Self {
        self.settings = Some(control);
        self
    }

    /// The muted types. Settings that cannot be read mute nothing: better one message too
    /// many than a failure nobody hears of.
    async fn muted(&self) -> Arc<Vec<String>> {
        let Some(control) = &self.settings else {
            return Arc::default();
        };
        let read = self
            .muted
            .get_or_fetch(&(), chrono::Utc::now(), MUTED_TTL, || async {
                settings::load_notifications(control.as_ref())
                    .await
                    .map(|s| Arc::new(s.muted))
            })
            .await;
        read.unwrap_or_else(|error| {
            tracing::warn!(%error, "notification settings unreadable; nothing is muted");
            Arc::default()
        })
    }

    async fn to_bus(&self, events: &[DomainEvent]) -> Vec<BusEvent> {
        let muted = self.muted().await;
        events
            .iter()
            .map(|e| e.to_bus(notifies(e.detail_type(), &muted)))
            .collect()
    }

    /// Publishes `events` now and says whether the bus took them (the console's test event:
    /// a person waits for the answer).
    pub async fn try_publish(&self, events: &[DomainEvent]) -> sync_store::StoreResult<()> {
        let bus_events = self.to_bus(events).await;
        self.bus.publish(&bus_events).await
    }

    /// Publishes `events` now. A failure is logged and counted, never returned.
    pub async fn publish(&self, events: &[DomainEvent]) {
        if events.is_empty() {
            return;
        }
        let bus_events = self.to_bus(events).await;
        match self.bus.publish(&bus_events).await {
            Ok(()) => {
                for e in &bus_events {
                    tracing::info!(detail_type = %e.detail_type, "event published");
                }
            }
            Err(error) => {
                sync_metrics::events_unpublished(bus_events.len());
                let lost = bus_events.len() as u64;
                let total = self.unpublished.fetch_add(lost, Ordering::Relaxed) + lost;
                tracing::warn!(%error, events = lost, unpublished_total = total, "events not published; the sync goes on");
            }
        }
    }

    /// Notes a conflict opened now; it is published with the others of its run at
    /// [`Publisher::flush`].
    pub fn conflict_opened(&self, run: Option<&RunId>, conflict: OpenedConflict) {
        self.opened.lock().unwrap().push((run.cloned(), conflict));
    }

    /// Notes `count` timesheets of `ticket` newly held for approval; published with the others
    /// of its run at [`Publisher::flush`]. Nothing for 0.
    pub fn approvals_awaiting(&self, run: Option<&RunId>, ticket: u64, count: usize) {
        if count > 0 {
            self.awaiting
                .lock()
                .unwrap()
                .push((run.cloned(), (ticket, count)));
        }
    }

    /// Publishes the conflicts noted since the last flush: one `Conflict Opened` per run. How
    /// many conflicts that was.
    pub async fn flush(&self) -> usize {
        let opened = std::mem::take(&mut *self.opened.lock().unwrap());
        let flushed = opened.len();
        let awaiting = std::mem::take(&mut *self.awaiting.lock().unwrap());
        let mut events: Vec<DomainEvent> = by_run(opened)
            .into_iter()
            .map(|(run_id, conflicts)| {
                DomainEvent::ConflictsOpened(ConflictsOpened::of(run_id, conflicts))
            })
            .collect();
        events.extend(by_run(awaiting).into_iter().map(|(run_id, held)| {
            DomainEvent::ApprovalAwaiting(ApprovalAwaiting::of(run_id, held))
        }));
        self.publish(&events).await;
        flushed
    }

    /// Events the bus did not take since the process started.
    pub fn unpublished(&self) -> u64 {
        self.unpublished.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sync_store::memory::MemoryEventBus;

    fn run(state: RunState) -> SyncRun {
        let at = chrono::Utc.with_ymd_and_hms(2026, 12, 6, 3, 0, 0).unwrap();
        SyncRun {
            id: RunId("20261206T030000.000Z-abcdef12".into()),
            trigger: RunTrigger::Verify,
            params: serde_json::json!({}),
            state,
            started_at: at,
            finished_at: Some(at + chrono::Duration::seconds(9)),
            counters: RunCounters {
                tickets_queued: 12,
                ..RunCounters::default()
            },
        }
    }

    fn conflict(n: u64) -> OpenedConflict {
        OpenedConflict {
            conflict_id: format!("c{n}"),
            reason: "unmapped_user",
            ticket_id: n,
            key: format!("ta:{n}"),
            agent_id: Some(7),
            detail: String::new(),
        }
    }

    #[test]
    fn a_run_ends_as_finished_or_failed_with_a_versioned_detail() {
        let ok = DomainEvent::RunEnded(RunEnded::of(&run(RunState::Succeeded), None)).to_bus(false);
        assert_eq!(ok.detail_type, "SyncRun Finished");
        assert_eq!(ok.detail["version"], 1);
        assert_eq!(ok.detail["trigger"], "verify");
        assert_eq!(ok.detail["counters"]["tickets_queued"], 12);
        let failed = DomainEvent::RunEnded(RunEnded::of(
            &run(RunState::Failed),
            Some("Zammad: 401".into()),
        ))
        .to_bus(true);
        assert_eq!(failed.detail_type, "SyncRun Failed");
        assert_eq!(failed.detail["error"], "Zammad: 401");
        let summary = failed.detail["summary"].as_str().unwrap();
        assert!(
            summary
                .starts_with("verify run 20261206T030000.000Z-abcdef12 failed: 12 tickets queued"),
            "{summary}"
        );
        assert!(summary.ends_with("Zammad: 401"), "{summary}");
    }

    #[test]
    fn a_summary_fits_into_a_json_string_as_it_is() {
        let ended = RunEnded::of(
            &run(RunState::Failed),
            Some("Kimai said: \"end\" must be after \\ begin\n(line 2)".into()),
        );
        let chat = format!(r#"{{"text": "{}"}}"#, ended.summary);
        let parsed: serde_json::Value = serde_json::from_str(&chat).expect("valid JSON");
        assert!(
            parsed["text"]
                .as_str()
                .unwrap()
                .ends_with("Kimai said: 'end' must be after / begin (line 2)"),
            "{parsed}"
        );
    }

    #[tokio::test]
    async fn conflicts_go_out_as_one_event_per_run_at_flush() {
        let bus = Arc::new(MemoryEventBus::new());
        let publisher = Publisher::new(bus.clone());
        let a = RunId("a".into());
        let b = RunId("b".into());
        for n in 0..25 {
            publisher.conflict_opened(Some(&a), conflict(n));
        }
        publisher.conflict_opened(Some(&b), conflict(99));
        assert!(bus.published().is_empty(), "nothing before the flush");
        publisher.flush().await;
        let events = bus.of_type("Conflict Opened");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].detail["run_id"], "a");
        assert_eq!(events[0].detail["count"], 25);
        assert_eq!(
            events[0].detail["conflicts"].as_array().unwrap().len(),
            MAX_LISTED_CONFLICTS
        );
        assert_eq!(events[1].detail["conflicts"][0]["ticket_id"], 99);
        assert_eq!(
            events[1].detail["summary"],
            "1 conflict opened in run b (1 unmapped_user); resolve them in the console"
        );
        publisher.flush().await;
        assert_eq!(
            bus.published().len(),
            2,
            "a second flush has nothing to send"
        );
    }

    #[tokio::test]
    async fn a_failing_bus_is_counted_not_returned() {
        let bus = Arc::new(MemoryEventBus::new());
        bus.fail(true);
        let publisher = Publisher::new(bus.clone());
        let ended = DomainEvent::RunEnded(RunEnded::of(&run(RunState::Succeeded), None));
        publisher.publish(&[ended.clone(), ended]).await;
        assert_eq!(publisher.unpublished(), 2);
        bus.fail(false);
        publisher.conflict_opened(None, conflict(1));
        publisher.flush().await;
        assert_eq!(publisher.unpublished(), 2);
        assert_eq!(bus.published().len(), 1);
    }

    #[tokio::test]
    async fn muted_types_go_out_with_notify_false_and_the_test_event_is_always_told() {
        let control = Arc::new(sync_store::memory::MemoryControl::new());
        let muted = settings::NotificationSettings {
            muted: vec!["Conflict Opened".into(), TEST_EVENT.into()],
            ..Default::default()
        };
        settings::save_notifications(
            control.as_ref(),
            &muted,
            sync_store::control::ExpectedVersion::Any,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let bus = Arc::new(MemoryEventBus::new());
        let publisher = Publisher::new(bus.clone()).with_settings(control);
        publisher.conflict_opened(None, conflict(1));
        publisher.flush().await;
        let failed = DomainEvent::RunEnded(RunEnded::of(&run(RunState::Failed), None));
        let finished = DomainEvent::RunEnded(RunEnded::of(&run(RunState::Succeeded), None));
        let test = DomainEvent::NotificationTest(NotificationTest::by("ada", chrono::Utc::now()));
        publisher.publish(&[failed, finished, test]).await;
        let notify = |t: &str| bus.of_type(t)[0].detail["notify"].clone();
        assert_eq!(notify("Conflict Opened"), false, "muted");
        assert_eq!(notify("SyncRun Failed"), true, "not muted");
        assert_eq!(notify("SyncRun Finished"), false, "never told");
        assert_eq!(notify(TEST_EVENT), true, "the test cannot be muted");
    }

    #[tokio::test]
    async fn unreadable_settings_mute_nothing() {
        let control = Arc::new(sync_store::memory::MemoryControl::new());
        control
            .put_document(
                settings::NOTIFICATIONS_POLICY.kind,
                settings::NOTIFICATIONS_POLICY.id,
                &serde_json::json!({"schema_version": 1, "muted": "not a list"}),
                sync_store::control::ExpectedVersion::Any,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let bus = Arc::new(MemoryEventBus::new());
        let publisher = Publisher::new(bus.clone()).with_settings(control);
        publisher.conflict_opened(None, conflict(1));
        publisher.flush().await;
        assert_eq!(bus.of_type("Conflict Opened")[0].detail["notify"], true);
    }
}
