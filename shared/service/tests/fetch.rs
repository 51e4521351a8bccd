//! scheduled-fetch on the in-memory adapters against the real Zammad simulator on a random
//! loopback port: discovery (global listing, fallback to ticket search), watermark overlap and
//! non-advance on failure, the lease policies, deduplication and the verify sweep; the console's
//! hand-off of a date range, and a run killed partway.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use std::sync::Arc;
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, ZammadUserId};
use sync_core::units::TimeUnit;
use sync_service::console::access::Actor;
use sync_service::console::error::ConsoleError;
use sync_service::console::runs::{self, StartRun};
use sync_service::events::Publisher;
use sync_service::fetch::{
    FetchDeps, FetchError, FetchOutcome, FetchReport, FetchRequest, LEASE, ModeName,
    STALL_MARGIN_SECS, WATERMARK, run_fetch,
};
use sync_service::settings::{
    self, ConcurrencyPolicy, DiscoveryMode, FetchSettings, SettingsError, ZammadConnection,
};
use sync_store::audit::AuditRetention;
use sync_store::clock::{Clock, ManualClock, SystemClock};
use sync_store::control::{
    ControlStore, ExpectedVersion, LeaseOutcome, RunState, RunTrigger, SyncRun,
};
use sync_store::entries::{EntriesStore, EntryRecord, EntryStatus};
use sync_store::memory::{
    MemoryAuditLog, MemoryControl, MemoryEntries, MemoryEventBus, MemoryLauncher, MemoryQueue,
    MemorySecrets,
};
use sync_store::queue::{MessageQueue, SyncReason, SyncWindow, TicketSyncMessage, decode};
use test_support::datasets;
use test_support::sims;
use test_support::stores::audit_today;
use zammad_sim::{FaultConfig, FaultRule, NewAccounting, RunningSim, ZammadVersion};

const TOKEN_SECRET: &str = "zammad-token";
const ADMIN: &str = "demo-admin-token";
/// Bernd Koch (user 4): sees the tickets of groups 2 and 3 (101, 103, 105, 106).
const AGENT: &str = "demo-agent-token";
const GLOBAL_ROUTE: &str = "GET /api/v1/time_accountings";
const SEARCH_ROUTE: &str = "GET /api/v1/tickets/search";

struct World {
    sim: RunningSim,
    control: MemoryControl,
    entries: MemoryEntries,
    queue: MemoryQueue<TicketSyncMessage>,
    audit: MemoryAuditLog,
    secrets: MemorySecrets,
    clock: Arc<dyn Clock>,
    bus: Arc<MemoryEventBus>,
    events: Publisher,
}

impl World {
    async fn new(token: &str) -> Self {
        Self::with_settings(token, FetchSettings::default()).await
    }

    async fn with_settings(token: &str, fetch: FetchSettings) -> Self {
        Self::with_clock(token, fetch, Arc::new(SystemClock)).await
    }

    async fn with_clock(token: &str, fetch: FetchSettings, clock: Arc<dyn Clock>) -> Self {
        let sim = sims::zammad(ZammadVersion::V6_5, datasets::zammad::demo()).await;
        let bus = Arc::new(MemoryEventBus::new());
        let world = World {
            events: Publisher::new(bus.clone()),
            bus,
            control: MemoryControl::new(),
            entries: MemoryEntries::new(),
            queue: MemoryQueue::new(),
            audit: MemoryAuditLog::new(AuditRetention::default()),
            secrets: MemorySecrets::new(),
            clock,
            sim,
        };
        world.secrets.set(TOKEN_SECRET, token);
        let now = Utc::now();
        let connection =
            ZammadConnection::new(world.sim.base_url(), TimeUnit::Minutes, "Europe/Berlin");
        settings::save_zammad(&world.control, &connection, ExpectedVersion::Any, now)
            .await
            .unwrap();
        settings::save_fetch(&world.control, &fetch, ExpectedVersion::Any, now)
            .await
            .unwrap();
        world
    }

    fn deps(&self) -> FetchDeps<'_> {
        self.deps_with_queue(&self.queue)
    }

    fn deps_with_queue<'a>(
        &'a self,
        queue: &'a dyn MessageQueue<TicketSyncMessage>,
    ) -> FetchDeps<'a> {
        FetchDeps {
            control: &self.control,
            entries: &self.entries,
            queue,
            audit: &self.audit,
            secrets: &self.secrets,
            zammad_token_secret: TOKEN_SECRET,
            clock: self.clock.as_ref(),
            zammad_pace: None,
            events: &self.events,
        }
    }

    async fn set_discovery(&self, mode: DiscoveryMode) {
        let mut connection = settings::load_zammad(&self.control).await.unwrap();
        connection.discovery = mode;
        settings::save_zammad(&self.control, &connection, ExpectedVersion::Any, Utc::now())
            .await
            .unwrap();
    }

    /// An agent books time now (moves the ticket's `updated_at`).
    fn book(&self, ticket: u64, agent: u64) {
        self.sim
            .sim()
            .add_accounting(NewAccounting {
                ticket_id: ticket,
                created_by_id: agent,
                time_unit: Decimal::from(15),
                type_id: None,
                with_article: false,
                article_body: None,
                created_at: None,
            })
            .expect("book time in the simulator");
    }

    async fn run(&self, request: FetchRequest) -> FetchReport {
        match run_fetch(&self.deps(), &request).await.expect("fetch runs") {
            FetchOutcome::Ran(report) => report,
            other => panic!("expected a run, got {other:?}"),
        }
    }

    /// Takes the queued messages off the queue.
    async fn drain(&self) -> Vec<TicketSyncMessage> {
        let bodies = self.queue.waiting_bodies();
        let mut out = Vec::new();
        loop {
            let got = self.queue.receive(10, 0).await.unwrap();
            if got.is_empty() {
                break;
            }
            for m in got {
                self.queue.delete(&m.receipt).await.unwrap();
            }
        }
        for b in bodies {
            out.push(decode(&b).unwrap());
        }
        out
    }

    /// Every run recorded (a test records a few), newest first.
    async fn runs(&self) -> Vec<SyncRun> {
        let page = sync_store::PageRequest::first(50);
        self.control.list_runs(&page).await.unwrap().items
    }

    async fn watermark(&self) -> Option<DateTime<Utc>> {
        self.control.get_watermark(WATERMARK).await.unwrap()
    }
}

fn incremental() -> FetchRequest {
    FetchRequest::default()
}

fn verify() -> FetchRequest {
    FetchRequest {
        mode: ModeName::Verify,
        ..Default::default()
    }
}

fn tickets(messages: &[TicketSyncMessage]) -> Vec<u64> {
    messages.iter().map(|m| m.ticket_id.0).collect()
}

fn fail_route(route: &str) -> FaultConfig {
    FaultConfig {
        seed: 1,
        rules: vec![FaultRule {
            route: route.into(),
            latency_ms: 0,
            error_rate: 1.0,
            error_statuses: vec![500],
            rate_limit_rate: 0.0,
            retry_after_secs: 1,
            timeout_rate: 0.0,
            hold_ms: 0,
            malformed_rate: 0.0,
            times: None,
        }],
    }
}

fn entry(ticket: u64, key: &str, day: NaiveDate) -> EntryRecord {
    EntryRecord {
        ticket_id: TicketId(ticket),
        key: EntryKey(key.into()),
        agent_id: ZammadUserId(4),
        day,
        status: EntryStatus::Synced,
        desired: None,
        base: None,
        updated_at: Utc::now(),
        create_sent_at: None,
    }
}

#[tokio::test]
async fn an_admin_token_discovers_through_the_global_listing_one_message_per_ticket() {
    let world = World::new(ADMIN).await;
    // Two bookings on 101, one on 104: two tickets, not three messages.
    world.book(101, 4);
    world.book(101, 5);
    world.book(104, 3);
    let before = Utc::now();

    let report = world.run(incremental()).await;
    assert_eq!(report.state, RunState::Succeeded, "{report:?}");
    assert_eq!(report.discovery, Some(DiscoveryMode::GlobalListing));
    assert_eq!((report.found, report.enqueued, report.failed), (2, 2, 0));
    assert_eq!(world.sim.sim().count(SEARCH_ROUTE), 0);

    let messages = world.drain().await;
    assert_eq!(tickets(&messages), vec![101, 104]);
    assert!(messages.iter().all(|m| m.reason == SyncReason::Schedule));
    assert!(
        messages.iter().all(|m| m.window.is_none()),
        "changed tickets read their own days"
    );
    assert!(
        messages
            .iter()
            .all(|m| m.run_id.as_ref() == Some(&report.run_id))
    );

    // The watermark moved to when discovery started; the run is recorded with its counters.
    let watermark = world.watermark().await.expect("watermark set");
    assert!(watermark >= before - Duration::seconds(1) && watermark <= Utc::now());
    let run = world
        .control
        .get_run(&report.run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.state, RunState::Succeeded);
    assert_eq!(run.trigger, RunTrigger::Schedule);
    assert_eq!(run.counters.tickets_queued, 2);
    assert_eq!(run.counters.failed, 0);
    let audit = audit_today(&world.audit).await;
    let finished = audit
        .iter()
        .find(|r| r.event.action == "fetch.finished")
        .expect("run audited");
    assert_eq!(finished.event.detail["found"], 2);
}

#[tokio::test]
async fn an_agent_token_falls_back_to_ticket_search_and_remembers_it() {
    let world = World::new(AGENT).await;
    world.book(103, 4);
    world.book(106, 4);

    let report = world.run(incremental()).await;
    assert_eq!(report.state, RunState::Succeeded, "{report:?}");
    assert_eq!(report.discovery, Some(DiscoveryMode::TicketSearch));
    assert_eq!(tickets(&world.drain().await), vec![103, 106]);
    assert_eq!(world.sim.sim().count(GLOBAL_ROUTE), 1, "probed once");
    let memory = settings::load_discovery_memory(&world.control)
        .await
        .unwrap()
        .expect("fallback remembered");
    assert_eq!(memory.use_mode, DiscoveryMode::TicketSearch);

    // The next run goes straight to ticket search.
    world.book(101, 4);
    let report = world.run(incremental()).await;
    assert_eq!(report.discovery, Some(DiscoveryMode::TicketSearch));
    assert_eq!(world.sim.sim().count(GLOBAL_ROUTE), 1, "not probed again");
    assert_eq!(tickets(&world.drain().await), vec![101, 103, 106]);
}

#[tokio::test]
async fn an_agent_token_with_global_listing_configured_fails_the_run() {
    let world = World::new(AGENT).await;
    world.set_discovery(DiscoveryMode::GlobalListing).await;
    world.book(103, 4);

    let report = world.run(incremental()).await;
    assert_eq!(report.state, RunState::Failed);
    assert!(
        report.error.as_deref().unwrap().contains("global"),
        "{report:?}"
    );
    assert!(world.drain().await.is_empty());
    assert_eq!(world.watermark().await, None);
}

#[tokio::test]
async fn ticket_search_mode_never_touches_the_global_listing() {
    let world = World::new(ADMIN).await;
    world.set_discovery(DiscoveryMode::TicketSearch).await;
    world.book(102, 3);
    let report = world.run(incremental()).await;
    assert_eq!(report.discovery, Some(DiscoveryMode::TicketSearch));
    assert_eq!(world.sim.sim().count(GLOBAL_ROUTE), 0);
    assert_eq!(tickets(&world.drain().await), vec![102]);
}

#[tokio::test]
async fn the_overlap_catches_changes_just_behind_the_watermark() {
    // GIVEN a watermark a few minutes ahead of a change (clocks and commits are not exact)
    let world = World::new(ADMIN).await;
    world.book(105, 4);
    world
        .control
        .advance_watermark(WATERMARK, Utc::now() + Duration::minutes(3))
        .await
        .unwrap();
    // WHEN the incremental fetch runs with a 10-minute overlap THEN the change is seen
    let report = world.run(incremental()).await;
    assert_eq!(report.found, 1, "{report:?}");
    assert_eq!(tickets(&world.drain().await), vec![105]);

    // GIVEN the same without overlap THEN it is not
    let world = World::with_settings(
        ADMIN,
        FetchSettings {
            overlap_minutes: 0,
            ..FetchSettings::default()
        },
    )
    .await;
    world.book(105, 4);
    let ahead = Utc::now() + Duration::minutes(3);
    world
        .control
        .advance_watermark(WATERMARK, ahead)
        .await
        .unwrap();
    let report = world.run(incremental()).await;
    assert_eq!(report.found, 0, "{report:?}");
    // A watermark ahead of the run's start is not moved back.
    assert_eq!(world.watermark().await, Some(ahead));
}

#[tokio::test]
async fn a_zammad_failure_fails_the_run_and_keeps_the_watermark() {
    let world = World::new(ADMIN).await;
    let earlier = Utc::now() - Duration::hours(1);
    world
        .control
        .advance_watermark(WATERMARK, earlier)
        .await
        .unwrap();
    world.book(101, 4);
    world.sim.sim().set_faults(fail_route(GLOBAL_ROUTE));

    let report = world.run(incremental()).await;
    assert_eq!(report.state, RunState::Failed);
    let error = report.error.clone().unwrap();
    assert!(error.contains("Zammad") && error.contains("500"), "{error}");
    assert_eq!(world.watermark().await, Some(earlier));
    assert!(world.drain().await.is_empty());
    let run = world
        .control
        .get_run(&report.run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.state, RunState::Failed);
    let audit = audit_today(&world.audit).await;
    let failed = audit
        .iter()
        .find(|r| r.event.action == "fetch.failed")
        .expect("failure audited");
    assert!(
        failed.event.detail["error"]
            .as_str()
            .unwrap()
            .contains("500")
    );

    // Zammad is back: the next run reads from the old watermark and moves it.
    world.sim.sim().set_faults(FaultConfig::default());
    let report = world.run(incremental()).await;
    assert_eq!(report.state, RunState::Succeeded);
    assert_eq!(tickets(&world.drain().await), vec![101]);
    assert!(world.watermark().await.unwrap() > earlier);
}

#[tokio::test]
async fn a_failure_on_a_later_page_enqueues_nothing_and_keeps_the_watermark() {
    // GIVEN more changes than one page of the global listing (500) holds
    let world = World::new(ADMIN).await;
    let earlier = Utc::now() - Duration::hours(1);
    world
        .control
        .advance_watermark(WATERMARK, earlier)
        .await
        .unwrap();
    for i in 0..501u64 {
        world.book([101, 102, 104][(i % 3) as usize], 3 + (i % 3));
    }
    // WHEN page 1 is answered and every later request fails
    let mut faults = fail_route(GLOBAL_ROUTE);
    let mut first_page_ok = faults.rules[0].clone();
    first_page_ok.error_rate = 0.0;
    first_page_ok.times = Some(1);
    faults.rules.insert(0, first_page_ok);
    world.sim.sim().set_faults(faults);

    let report = world.run(incremental()).await;
    // THEN the run failed, nothing half-discovered was sent, and the watermark stayed
    assert_eq!(report.state, RunState::Failed, "{report:?}");
    assert!(
        world.sim.sim().count(GLOBAL_ROUTE) >= 2,
        "page 2 was asked for"
    );
    assert_eq!((report.found, report.enqueued), (0, 0));
    assert!(world.drain().await.is_empty());
    assert_eq!(world.watermark().await, Some(earlier));
}

#[tokio::test]
async fn a_search_failure_after_the_fallback_fails_the_run_too() {
    let world = World::new(AGENT).await;
    world.book(103, 4);
    world.sim.sim().set_faults(fail_route(SEARCH_ROUTE));
    let report = world.run(incremental()).await;
    assert_eq!(report.state, RunState::Failed);
    assert!(report.error.unwrap().contains("ticket search"));
    assert_eq!(world.watermark().await, None);
}

#[tokio::test]
async fn an_unsent_message_fails_the_run_and_keeps_the_watermark() {
    let world = World::new(ADMIN).await;
    world.book(101, 4);
    let down = test_support::aws::unreachable_queue::<TicketSyncMessage>("ticket-sync");
    let outcome = run_fetch(&world.deps_with_queue(&down), &incremental())
        .await
        .unwrap();
    let FetchOutcome::Ran(report) = outcome else {
        panic!("expected a run: {outcome:?}")
    };
    assert_eq!(report.state, RunState::Failed);
    assert_eq!((report.found, report.enqueued, report.failed), (1, 0, 1));
    assert!(report.error.unwrap().contains("not sent"));
    assert_eq!(world.watermark().await, None);
    let run = world
        .control
        .get_run(&report.run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.counters.failed, 1);
}

#[tokio::test]
async fn a_held_lease_skips_the_run_and_records_it() {
    let world = World::new(ADMIN).await;
    world.book(101, 4);
    let held = world
        .control
        .acquire_lease(LEASE, "earlier-run", Duration::minutes(15), Utc::now())
        .await
        .unwrap();
    assert!(matches!(held, LeaseOutcome::Acquired(_)));

    let outcome = run_fetch(&world.deps(), &incremental()).await.unwrap();
    let FetchOutcome::Skipped { run_id, holder, .. } = outcome else {
        panic!("expected a skip: {outcome:?}")
    };
    assert_eq!(holder, "earlier-run");
    let run = world.control.get_run(&run_id).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Cancelled);
    assert_eq!(run.params["skipped"]["holder"], "earlier-run");
    assert!(world.drain().await.is_empty());
    assert_eq!(world.sim.sim().count(GLOBAL_ROUTE), 0, "Zammad not called");
    assert_eq!(world.watermark().await, None);
}

#[tokio::test]
async fn the_queue_policy_waits_for_the_lease_then_runs() {
    let world = World::with_settings(
        ADMIN,
        FetchSettings {
            concurrency: ConcurrencyPolicy::Queue,
            queue_wait_secs: 10,
            lease_poll_millis: 50,
            ..FetchSettings::default()
        },
    )
    .await;
    world.book(101, 4);
    let LeaseOutcome::Acquired(lease) = world
        .control
        .acquire_lease(LEASE, "earlier-run", Duration::minutes(15), Utc::now())
        .await
        .unwrap()
    else {
        panic!("lease free at start")
    };

    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(world.control.release_lease(&lease).await.unwrap());
    };
    let deps = world.deps();
    let request = incremental();
    let (outcome, ()) = tokio::join!(run_fetch(&deps, &request), release);
    let FetchOutcome::Ran(report) = outcome.unwrap() else {
        panic!("expected a run")
    };
    assert_eq!(report.state, RunState::Succeeded);
    assert_eq!(tickets(&world.drain().await), vec![101]);
}

#[tokio::test]
async fn the_queue_policy_gives_up_visibly_after_its_bound() {
    let world = World::with_settings(
        ADMIN,
        FetchSettings {
            concurrency: ConcurrencyPolicy::Queue,
            queue_wait_secs: 1,
            lease_poll_millis: 100,
            ..FetchSettings::default()
        },
    )
    .await;
    world
        .control
        .acquire_lease(LEASE, "stuck-run", Duration::minutes(15), Utc::now())
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let outcome = run_fetch(&world.deps(), &incremental()).await.unwrap();
    let FetchOutcome::GaveUp { run_id, waited_ms } = outcome else {
        panic!("expected to give up: {outcome:?}")
    };
    assert!(waited_ms >= 800 && started.elapsed() < std::time::Duration::from_secs(5));
    let run = world.control.get_run(&run_id).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Failed);
    assert!(run.params["gave_up"]["waited_ms"].as_u64().is_some());
    let audit = audit_today(&world.audit).await;
    assert!(audit.iter().any(|r| r.event.action == "fetch.failed"));

    // The request's own policy wins over the settings.
    let request = FetchRequest {
        concurrency: Some(ConcurrencyPolicy::Skip),
        ..Default::default()
    };
    assert!(matches!(
        run_fetch(&world.deps(), &request).await.unwrap(),
        FetchOutcome::Skipped { .. }
    ));
}

#[tokio::test]
async fn the_verify_sweep_re_enqueues_known_tickets_of_the_window_and_zammad_changes() {
    let world = World::new(ADMIN).await;
    let today = Utc::now().date_naive();
    // Known entries: 102 inside the 7-day window (its time type changed in Zammad, which fires
    // no webhook and does not move the ticket), 107 far outside it.
    for record in [
        entry(102, "ta:11", today - Duration::days(2)),
        entry(102, "ta:12", today - Duration::days(3)),
        entry(107, "ta:13", today - Duration::days(40)),
    ] {
        world.entries.save(&record).await.unwrap();
    }
    // And a change Zammad reports (also known to the entries store: one message only).
    world.book(104, 3);
    world.book(102, 3);
    let watermark_before = world.watermark().await;

    let report = world.run(verify()).await;
    assert_eq!(report.state, RunState::Succeeded, "{report:?}");
    let messages = world.drain().await;
    assert_eq!(tickets(&messages), vec![102, 104]);
    assert!(messages.iter().all(|m| m.reason == SyncReason::Verify));
    let window = messages[0].window.expect("a verify sweep has a window");
    assert_eq!(window.to - window.from, Duration::days(7));
    assert!(messages.iter().all(|m| m.window == Some(window)));
    assert_eq!(
        world.watermark().await,
        watermark_before,
        "verify never moves it"
    );
    let run = world
        .control
        .get_run(&report.run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.trigger, RunTrigger::Verify);
}

#[tokio::test]
async fn a_backfill_covers_its_range_and_passes_dry_run_on() {
    let world = World::new(ADMIN).await;
    let day = |s: &str| s.parse::<NaiveDate>().unwrap();
    world
        .entries
        .save(&entry(103, "ta:1", day("2024-03-05")))
        .await
        .unwrap();
    world
        .entries
        .save(&entry(105, "ta:2", day("2024-05-20")))
        .await
        .unwrap();

    let request = FetchRequest {
        mode: ModeName::Backfill,
        from: Some("2024-03-01T00:00:00Z".parse().unwrap()),
        to: Some("2024-04-01T00:00:00Z".parse().unwrap()),
        dry_run: true,
        ..Default::default()
    };
    let report = world.run(request).await;
    assert_eq!(report.state, RunState::Succeeded, "{report:?}");
    let messages = world.drain().await;
    let found: BTreeSet<u64> = tickets(&messages).into_iter().collect();
    // 103 from the entries store; every demo ticket changed after 2024-03-01 from Zammad.
    assert!(found.contains(&103));
    assert!(
        messages
            .iter()
            .all(|m| m.reason == SyncReason::Backfill && m.dry_run)
    );
    let window = SyncWindow {
        from: "2024-03-01T00:00:00Z".parse().unwrap(),
        to: "2024-04-01T00:00:00Z".parse().unwrap(),
    };
    assert!(
        messages.iter().all(|m| m.window == Some(window)),
        "reconcile reads Kimai once for the run's window"
    );
    assert_eq!(world.watermark().await, None);
}

#[tokio::test]
async fn missing_settings_or_token_are_reported() {
    // No connection document: nothing runs, and the error names the document.
    let control = MemoryControl::new();
    let world = World::new(ADMIN).await;
    let deps = FetchDeps {
        control: &control,
        ..world.deps()
    };
    let err = run_fetch(&deps, &incremental()).await.unwrap_err();
    assert!(
        matches!(err, FetchError::Settings(SettingsError::NotConfigured(_))),
        "{err}"
    );
    assert!(!err.is_retryable());

    // No token secret: the run fails and says why.
    let deps = FetchDeps {
        zammad_token_secret: "no-such-secret",
        ..world.deps()
    };
    let outcome = run_fetch(&deps, &incremental()).await.unwrap();
    let FetchOutcome::Ran(report) = outcome else {
        panic!("expected a run: {outcome:?}")
    };
    assert_eq!(report.state, RunState::Failed);
    let error = report.error.unwrap();
    assert!(error.contains("Zammad token"));
    // The bus heard it, with the reason.
    let failed = world.bus.of_type("SyncRun Failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].detail["run_id"], report.run_id.0);
    assert_eq!(failed[0].detail["error"], error.as_str());
    // The lease was released: the next run is not skipped.
    assert!(matches!(
        run_fetch(&world.deps(), &incremental()).await.unwrap(),
        FetchOutcome::Ran(_)
    ));
}

fn march_2024() -> StartRun {
    StartRun {
        from: Some("2024-03-01T00:00:00Z".parse().unwrap()),
        to: Some("2024-04-01T00:00:00Z".parse().unwrap()),
        ..Default::default()
    }
}

fn console_admin() -> Actor {
    Actor {
        username: "admin".into(),
        ip: None,
        user_agent: None,
    }
}

#[tokio::test]
async fn a_console_date_range_is_recorded_handed_off_and_carried_on_by_fetch() {
    let world = World::new(ADMIN).await;
    let launcher = MemoryLauncher::new();
    let run = runs::start(&world.deps(), &launcher, &console_admin(), &march_2024())
        .await
        .unwrap();
    // The console answers before any discovery: the run is recorded, nothing is queued yet.
    assert_eq!(run.state, RunState::Running);
    assert_eq!(run.trigger, RunTrigger::Backfill);
    assert!(world.queue.waiting_bodies().is_empty());
    let launched = launcher.launched();
    assert_eq!(launched.len(), 1);
    assert_eq!(launched[0]["mode"], "backfill");
    assert_eq!(launched[0]["run_id"], run.id.0);

    // scheduled-fetch, invoked with that payload, carries the same run on.
    let request = FetchRequest::from_json(launched[0].clone()).unwrap();
    let report = world.run(request.clone()).await;
    assert_eq!(report.run_id, run.id);
    assert_eq!(report.state, RunState::Succeeded, "{report:?}");
    let messages = world.drain().await;
    assert!(!messages.is_empty());
    assert!(messages.iter().all(|m| m.run_id.as_ref() == Some(&run.id)));
    let stored = world.control.get_run(&run.id).await.unwrap().unwrap();
    assert_eq!(stored.state, RunState::Succeeded);
    assert_eq!(stored.counters.tickets_queued, messages.len() as u64);
    assert_eq!(
        world.runs().await.len(),
        1,
        "one run, not a second one beside it"
    );

    // Delivered again (Lambda's asynchronous retry): the run has ended, nothing happens.
    let again = run_fetch(&world.deps(), &request).await.unwrap();
    assert!(
        matches!(&again, FetchOutcome::Ended { run_id, state } if *run_id == run.id && *state == RunState::Succeeded),
        "{again:?}"
    );
    assert!(world.queue.waiting_bodies().is_empty());
}

#[tokio::test]
async fn a_hand_off_that_is_refused_ends_the_run_and_answers_unavailable() {
    let world = World::new(ADMIN).await;
    let launcher = MemoryLauncher::new();
    launcher.refuse(true);
    let err = runs::start(&world.deps(), &launcher, &console_admin(), &march_2024())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConsoleError::Unavailable(m) if m.contains("recorded as failed")),
        "{err:?}"
    );
    let all = world.runs().await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].state, RunState::Failed);
}

#[tokio::test]
async fn a_handed_off_run_that_cannot_start_is_ended_not_left_running() {
    let world = World::new(ADMIN).await;
    let launcher = MemoryLauncher::new();
    let run = runs::start(&world.deps(), &launcher, &console_admin(), &march_2024())
        .await
        .unwrap();
    let request = FetchRequest::from_json(launcher.launched()[0].clone()).unwrap();
    // Another fetch holds the lease (skip policy): the handed-off run is the skipped one.
    world
        .control
        .acquire_lease(LEASE, "someone-else", Duration::minutes(5), Utc::now())
        .await
        .unwrap();
    let outcome = run_fetch(&world.deps(), &request).await.unwrap();
    assert!(
        matches!(&outcome, FetchOutcome::Skipped { run_id, .. } if *run_id == run.id),
        "{outcome:?}"
    );
    let stored = world.control.get_run(&run.id).await.unwrap().unwrap();
    assert_eq!(stored.state, RunState::Cancelled);

    // Its settings gone by the time it starts: ended as failed, with the reason in the audit.
    let run = runs::start(&world.deps(), &launcher, &console_admin(), &march_2024())
        .await
        .unwrap();
    let request = FetchRequest::from_json(launcher.launched()[1].clone()).unwrap();
    world
        .control
        .delete_document(sync_store::control::DocumentKind::Connection, "zammad")
        .await
        .unwrap();
    let err = run_fetch(&world.deps(), &request).await.unwrap_err();
    assert!(matches!(err, FetchError::Settings(_)), "{err}");
    let stored = world.control.get_run(&run.id).await.unwrap().unwrap();
    assert_eq!(stored.state, RunState::Failed);
    let audit = audit_today(&world.audit).await;
    assert!(
        audit
            .iter()
            .any(|r| r.event.action == "fetch.failed" && r.event.detail["run_id"] == run.id.0)
    );
}

#[tokio::test]
async fn a_run_killed_partway_is_marked_failed_and_its_lease_frees_itself() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let world = World::with_clock(ADMIN, FetchSettings::default(), clock.clone()).await;
    // Discovery hangs on Zammad long enough to be killed in the middle of it.
    let mut slow = fail_route(GLOBAL_ROUTE);
    slow.rules[0].error_rate = 0.0;
    slow.rules[0].latency_ms = 10_000;
    world.sim.sim().set_faults(slow);
    let backfill = FetchRequest {
        mode: ModeName::Backfill,
        from: Some("2024-03-01T00:00:00Z".parse().unwrap()),
        to: Some("2024-04-01T00:00:00Z".parse().unwrap()),
        ..Default::default()
    };
    // The process dies: the future is dropped where it stands, nothing after it runs.
    let killed = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        run_fetch(&world.deps(), &backfill),
    )
    .await;
    assert!(killed.is_err(), "the run was still in discovery");
    let runs_now = world.runs().await;
    assert_eq!(runs_now.len(), 1);
    let dead = runs_now[0].clone();
    assert_eq!(dead.state, RunState::Running, "nobody ended it");
    world.sim.sim().set_faults(FaultConfig::default());

    // While its lease lasts, the next scheduled run is skipped.
    let outcome = run_fetch(&world.deps(), &incremental()).await.unwrap();
    assert!(
        matches!(outcome, FetchOutcome::Skipped { .. }),
        "{outcome:?}"
    );

    // Past the lease (and the start slack), the next run takes the lease, ends the dead run
    // as failed and runs itself.
    clock.advance(FetchSettings::default().lease_ttl() + Duration::seconds(STALL_MARGIN_SECS + 1));
    let report = world.run(incremental()).await;
    assert_eq!(report.state, RunState::Succeeded, "{report:?}");
    let dead = world.control.get_run(&dead.id).await.unwrap().unwrap();
    assert_eq!(dead.state, RunState::Failed);
    let audit = audit_today(&world.audit).await;
    let reaped = audit
        .iter()
        .find(|r| r.event.action == "fetch.failed" && r.event.detail["run_id"] == dead.id.0)
        .expect("the dead run's end is audited");
    assert!(
        reaped.event.detail["error"]
            .as_str()
            .unwrap()
            .contains("stopped before it finished"),
        "{:?}",
        reaped.event.detail
    );
}

#[tokio::test]
async fn a_run_younger_than_a_lease_is_never_taken_for_dead() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let world = World::with_clock(ADMIN, FetchSettings::default(), clock.clone()).await;
    let launcher = MemoryLauncher::new();
    // A handed-off run whose function has not started yet.
    let waiting = runs::start(&world.deps(), &launcher, &console_admin(), &march_2024())
        .await
        .unwrap();
    clock.advance(FetchSettings::default().lease_ttl());
    let report = world.run(incremental()).await;
    assert_eq!(report.state, RunState::Succeeded, "{report:?}");
    let waiting = world.control.get_run(&waiting.id).await.unwrap().unwrap();
    assert_eq!(waiting.state, RunState::Running);
}

#[tokio::test]
async fn a_failing_event_bus_does_not_fail_the_run() {
    let world = World::new(ADMIN).await;
    world.bus.fail(true);
    let outcome = run_fetch(&world.deps(), &incremental()).await.unwrap();
    let FetchOutcome::Ran(report) = outcome else {
        panic!("expected a run: {outcome:?}")
    };
    assert_eq!(report.state, RunState::Succeeded, "{report:?}");
    assert_eq!(
        world.events.unpublished(),
        1,
        "the run's event, counted as lost"
    );
    assert!(world.bus.published().is_empty());
}
