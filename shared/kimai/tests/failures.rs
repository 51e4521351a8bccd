//! Every error path and the retry policy, against the simulator with injected faults.

mod common;

use common::{ADMIN_TOKEN, ANNA_TOKEN, client, config, start_sim};
use kimai_client::{
    KimaiClient, KimaiError, NewTimesheet, Retries, TimesheetPatch, TimesheetQuery,
};
use kimai_sim::{FaultKind, FaultRule, RouteFaults, Settings};
use std::time::{Duration, Instant};
use sync_core::ids::{ActivityId, KimaiUserId, ProjectId, TimesheetId};
use sync_core::kimai::KimaiLocalDateTime;

fn local(s: &str) -> KimaiLocalDateTime {
    KimaiLocalDateTime::parse(s).unwrap()
}

fn new_sheet(description: &str) -> NewTimesheet {
    NewTimesheet {
        begin: local("2026-05-04T09:00:00"),
        end: local("2026-05-04T10:00:00"),
        project: ProjectId(1),
        activity: ActivityId(1),
        description: Some(description.to_owned()),
        tags: None,
        user: None,
        billable: None,
    }
}

fn rule(kind: FaultKind, times: u32) -> FaultRule {
    FaultRule {
        kind,
        probability: 1.0,
        times: Some(times),
        skip: 0,
    }
}

fn faults(rules: Vec<FaultRule>) -> RouteFaults {
    RouteFaults {
        latency_ms: 0,
        rules,
    }
}

#[tokio::test]
async fn a_bad_token_is_unauthorized() {
    let sim = start_sim().await;
    let e = client(&sim, "not-a-token").version().await.unwrap_err();
    assert_eq!(e, KimaiError::Unauthorized);
    assert!(!e.is_retryable());
    assert_eq!(
        sim.admin().call_count("GET /api/version"),
        1,
        "401 is not retried"
    );
}

#[tokio::test]
async fn exported_timesheets_are_locked_for_patch_and_delete() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let patch = TimesheetPatch {
        description: Some("late change".into()),
        ..Default::default()
    };
    let e = kimai
        .update_timesheet(TimesheetId(6), &patch, Retries::Allowed)
        .await
        .unwrap_err();
    assert_eq!(e, KimaiError::Locked);
    let e = kimai
        .delete_timesheet(TimesheetId(6), Retries::Allowed)
        .await
        .unwrap_err();
    assert_eq!(e, KimaiError::Locked);
    assert_eq!(sim.admin().call_count("PATCH /api/timesheets/{id}"), 1);
    assert_eq!(sim.admin().call_count("DELETE /api/timesheets/{id}"), 1);
    assert!(sim.admin().timesheet(6).is_some());

    // Exporting a record later locks it too.
    sim.admin().set_exported(1, true).unwrap();
    let e = kimai
        .delete_timesheet(TimesheetId(1), Retries::Never)
        .await
        .unwrap_err();
    assert_eq!(e, KimaiError::Locked);
}

#[tokio::test]
async fn form_validation_errors_come_back_per_field() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let mut bad = new_sheet("backwards");
    bad.end = local("2026-05-04T08:00:00");
    bad.project = ProjectId(99);
    let e = kimai.create_timesheet(&bad).await.unwrap_err();
    let KimaiError::Validation(v) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(v.message, "Validation Failed");
    assert_eq!(v.field("project"), ["The selected choice is invalid."]);
    assert!(v.field("begin").is_empty());
    assert!(v.accepted_fields.contains(&"user".to_owned()));
    assert!(
        e.to_string()
            .contains("project: The selected choice is invalid."),
        "{e}"
    );

    let mut mismatch = new_sheet("wrong activity");
    mismatch.activity = ActivityId(3);
    let e = kimai.create_timesheet(&mismatch).await.unwrap_err();
    assert!(e.validation().unwrap().field("activity")[0].starts_with("Project mismatch"));

    let mut backwards = new_sheet("backwards");
    backwards.end = local("2026-05-04T08:00:00");
    let e = kimai.create_timesheet(&backwards).await.unwrap_err();
    assert_eq!(
        e.validation().unwrap().field("end"),
        ["The end date must not be earlier than the start date."]
    );
}

#[tokio::test]
async fn an_invalid_patch_answered_200_with_form_errors_is_a_validation_failure() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    sim.admin().set_faults(
        "PATCH /api/timesheets/{id}",
        faults(vec![rule(FaultKind::InvalidFormOk, 5)]),
    );
    let backwards = TimesheetPatch {
        end: Some(local("2020-01-01T08:00:00")),
        ..Default::default()
    };
    let e = kimai
        .update_timesheet(TimesheetId(1), &backwards, Retries::Allowed)
        .await
        .unwrap_err();
    let KimaiError::Validation(v) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        v.field("end"),
        ["The end date must not be earlier than the start date."]
    );
    // Not retried (the answer was Kimai's word on the form), and nothing changed.
    assert_eq!(sim.admin().call_count("PATCH /api/timesheets/{id}"), 1);
    assert_ne!(
        sim.admin().timesheet(1).unwrap().end.as_deref(),
        Some("2020-01-01T08:00:00")
    );
    // A valid change answered 200 is the timesheet, as always.
    let fine = TimesheetPatch {
        description: Some("checked".into()),
        ..Default::default()
    };
    let sheet = kimai
        .update_timesheet(TimesheetId(1), &fine, Retries::Allowed)
        .await
        .unwrap();
    assert_eq!(sheet.description.as_deref(), Some("checked"));
}

#[tokio::test]
async fn service_validation_with_a_string_code_is_parsed_per_field() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let mut long = new_sheet("eleven hours");
    long.end = local("2026-05-04T20:00:00");
    let e = kimai.create_timesheet(&long).await.unwrap_err();
    let KimaiError::Validation(v) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        v.field("duration"),
        ["Maximum duration of 10 hours exceeded."]
    );
    assert_eq!(v.message, "Maximum duration of 10 hours exceeded.");
}

#[tokio::test]
async fn overlaps_are_rejected_when_kimai_is_configured_so() {
    let sim = start_sim().await;
    sim.admin().set_settings(Settings {
        reject_overlaps: true,
        ..sim.admin().settings()
    });
    let kimai = client(&sim, ADMIN_TOKEN);
    kimai.create_timesheet(&new_sheet("first")).await.unwrap();
    let e = kimai
        .create_timesheet(&new_sheet("second"))
        .await
        .unwrap_err();
    assert_eq!(
        e.validation().unwrap().field("begin"),
        ["You already have an entry for this time."]
    );
}

#[tokio::test]
async fn fields_the_api_user_may_not_set_are_extra_fields() {
    let sim = start_sim().await;
    let anna = client(&sim, ANNA_TOKEN);
    let mut for_other = new_sheet("for ben");
    for_other.user = Some(KimaiUserId(3));
    let e = anna.create_timesheet(&for_other).await.unwrap_err();
    let KimaiError::ExtraFields(v) = &e else {
        panic!("{e:?}")
    };
    assert!(!v.accepted_fields.contains(&"user".to_owned()));

    let mut billable = new_sheet("billable");
    billable.billable = Some(false);
    assert!(matches!(
        anna.create_timesheet(&billable).await.unwrap_err(),
        KimaiError::ExtraFields(_)
    ));
    // Without those fields the same user may create the record.
    let ok = anna.create_timesheet(&new_sheet("own")).await.unwrap();
    assert_eq!(ok.user, KimaiUserId(2));
}

#[tokio::test]
async fn forbidden_and_not_found() {
    let sim = start_sim().await;
    let anna = client(&sim, ANNA_TOKEN);
    assert_eq!(anna.users(None).await.unwrap_err(), KimaiError::Forbidden);
    assert_eq!(
        anna.timesheet(TimesheetId(7)).await.unwrap_err(),
        KimaiError::Forbidden
    );
    let admin = client(&sim, ADMIN_TOKEN);
    assert_eq!(
        admin.timesheet(TimesheetId(404)).await.unwrap_err(),
        KimaiError::NotFound
    );
    assert_eq!(
        sim.admin().call_count("GET /api/timesheets/{id}"),
        2,
        "404 is not retried"
    );
}

#[tokio::test]
async fn a_404_past_the_last_page_ends_paging() {
    let sim = start_sim().await;
    // Records vanish between pages: page 3 of 3 answers 404 like Kimai does past the end.
    sim.admin().set_faults(
        "GET /api/timesheets",
        faults(vec![FaultRule {
            skip: 2,
            ..rule(
                FaultKind::Error {
                    statuses: vec![404],
                },
                1,
            )
        }]),
    );
    let mut cfg = config(&sim, ADMIN_TOKEN);
    cfg.page_size = 3;
    let kimai = KimaiClient::new(cfg).unwrap();
    let got = kimai
        .list_timesheets(&TimesheetQuery::default())
        .await
        .unwrap();
    assert_eq!(got.len(), 6);
    assert_eq!(sim.admin().call_count("GET /api/timesheets"), 3);
}

#[tokio::test]
async fn rate_limit_is_waited_out_as_retry_after_says() {
    let sim = start_sim().await;
    sim.admin().set_faults(
        "GET /api/users/me",
        faults(vec![rule(
            FaultKind::RateLimit {
                retry_after_secs: 1,
            },
            1,
        )]),
    );
    let kimai = client(&sim, ADMIN_TOKEN);
    let started = Instant::now();
    let me = kimai.me().await.unwrap();
    assert_eq!(me.id, KimaiUserId(1));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(sim.admin().call_count("GET /api/users/me"), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_goes_back_to_the_caller() {
    let sim = start_sim().await;
    sim.admin().set_faults(
        "GET /api/version",
        faults(vec![rule(
            FaultKind::RateLimit {
                retry_after_secs: 3600,
            },
            1,
        )]),
    );
    let e = client(&sim, ADMIN_TOKEN).version().await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(sim.admin().call_count("GET /api/version"), 1);
}

#[tokio::test]
async fn server_errors_are_retried_for_reads() {
    let sim = start_sim().await;
    sim.admin().set_faults(
        "GET /api/timesheets/{id}",
        faults(vec![rule(
            FaultKind::Error {
                statuses: vec![502, 503],
            },
            3,
        )]),
    );
    let t = client(&sim, ADMIN_TOKEN)
        .timesheet(TimesheetId(1))
        .await
        .unwrap();
    assert_eq!(t.id, TimesheetId(1));
    assert_eq!(sim.admin().call_count("GET /api/timesheets/{id}"), 4);
}

#[tokio::test]
async fn reads_give_up_after_the_configured_retries() {
    let sim = start_sim().await;
    sim.admin().set_faults(
        "GET /api/ping",
        faults(vec![rule(
            FaultKind::Error {
                statuses: vec![500],
            },
            100,
        )]),
    );
    let mut cfg = config(&sim, ADMIN_TOKEN);
    cfg.max_retries = 2;
    let e = KimaiClient::new(cfg).unwrap().ping().await.unwrap_err();
    assert_eq!(e, KimaiError::Server { status: 500 });
    assert_eq!(sim.admin().call_count("GET /api/ping"), 3);
}

#[tokio::test]
async fn patch_and_delete_retry_only_when_the_caller_allows_it() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let patch = TimesheetPatch {
        description: Some("retried".into()),
        ..Default::default()
    };
    let route = "PATCH /api/timesheets/{id}";
    sim.admin().set_faults(
        route,
        faults(vec![rule(
            FaultKind::Error {
                statuses: vec![503],
            },
            1,
        )]),
    );
    let e = kimai
        .update_timesheet(TimesheetId(2), &patch, Retries::Never)
        .await
        .unwrap_err();
    assert_eq!(e, KimaiError::Server { status: 503 });
    assert_eq!(sim.admin().call_count(route), 1);

    sim.admin().set_faults(
        route,
        faults(vec![rule(
            FaultKind::Error {
                statuses: vec![503],
            },
            1,
        )]),
    );
    let t = kimai
        .update_timesheet(TimesheetId(2), &patch, Retries::Allowed)
        .await
        .unwrap();
    assert_eq!(t.description.as_deref(), Some("retried"));
    assert_eq!(sim.admin().call_count(route), 3);
}

#[tokio::test]
async fn a_create_is_never_retried_on_a_server_error() {
    let sim = start_sim().await;
    sim.admin().set_faults(
        "POST /api/timesheets",
        faults(vec![rule(
            FaultKind::Error {
                statuses: vec![502],
            },
            1,
        )]),
    );
    let before = sim.admin().timesheets().len();
    let e = client(&sim, ADMIN_TOKEN)
        .create_timesheet(&new_sheet("not sent twice [zammad:ta=55]"))
        .await
        .unwrap_err();
    assert_eq!(e, KimaiError::Server { status: 502 });
    assert!(
        e.is_retryable(),
        "the writer decides; the error says it may be retried"
    );
    assert_eq!(sim.admin().call_count("POST /api/timesheets"), 1);
    assert_eq!(sim.admin().timesheets().len(), before);
}

#[tokio::test]
async fn a_create_turned_away_with_429_is_sent_again_and_written_once() {
    // A 429 comes from a proxy before Kimai saw the request: sending it again cannot write
    // twice, and the writer should not give the record back to the queue for it.
    let sim = start_sim().await;
    sim.admin().set_faults(
        "POST /api/timesheets",
        faults(vec![rule(
            FaultKind::RateLimit {
                retry_after_secs: 1,
            },
            1,
        )]),
    );
    let before = sim.admin().timesheets().len();
    let started = Instant::now();
    client(&sim, ADMIN_TOKEN)
        .create_timesheet(&new_sheet("after a 429 [zammad:ta=56]"))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(sim.admin().call_count("POST /api/timesheets"), 2);
    assert_eq!(sim.admin().timesheets().len(), before + 1);
}

#[tokio::test]
async fn commit_then_500_leaves_one_timesheet_that_a_term_search_finds() {
    let sim = start_sim().await;
    sim.admin().set_faults(
        "POST /api/timesheets",
        faults(vec![rule(FaultKind::CommitThen500, 1)]),
    );
    let kimai = client(&sim, ADMIN_TOKEN);
    let e = kimai
        .create_timesheet(&new_sheet("Mail server [zammad:ta=9001]"))
        .await
        .unwrap_err();
    assert_eq!(e, KimaiError::Server { status: 500 });
    assert_eq!(sim.admin().call_count("POST /api/timesheets"), 1);

    let found = kimai
        .list_timesheets(&TimesheetQuery {
            term: Some("ta=9001]".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].description.as_deref(),
        Some("Mail server [zammad:ta=9001]")
    );
    let with_marker = sim
        .admin()
        .timesheets()
        .into_iter()
        .filter(|t| {
            t.description
                .as_deref()
                .is_some_and(|d| d.contains("ta=9001]"))
        })
        .count();
    assert_eq!(with_marker, 1);
}

#[tokio::test]
async fn a_hanging_kimai_times_out_and_reads_are_retried() {
    let sim = start_sim().await;
    sim.admin().set_faults(
        "GET /api/version",
        faults(vec![rule(FaultKind::Timeout { hang_ms: 10_000 }, 2)]),
    );
    let mut cfg = config(&sim, ADMIN_TOKEN);
    cfg.request_timeout = Duration::from_millis(200);
    cfg.max_retries = 1;
    let e = KimaiClient::new(cfg).unwrap().version().await.unwrap_err();
    assert_eq!(e, KimaiError::Timeout);
    assert_eq!(sim.admin().call_count("GET /api/version"), 2);
}

#[tokio::test]
async fn a_create_that_times_out_is_not_sent_again() {
    let sim = start_sim().await;
    sim.admin().set_faults(
        "POST /api/timesheets",
        faults(vec![rule(FaultKind::Timeout { hang_ms: 10_000 }, 1)]),
    );
    let mut cfg = config(&sim, ADMIN_TOKEN);
    cfg.request_timeout = Duration::from_millis(200);
    let e = KimaiClient::new(cfg)
        .unwrap()
        .create_timesheet(&new_sheet("slow"))
        .await
        .unwrap_err();
    assert_eq!(e, KimaiError::Timeout);
    assert_eq!(sim.admin().call_count("POST /api/timesheets"), 1);
}

#[tokio::test]
async fn malformed_json_is_reported_not_retried() {
    let sim = start_sim().await;
    sim.admin().set_faults(
        "GET /api/timesheets/{id}",
        faults(vec![rule(FaultKind::MalformedJson, 1)]),
    );
    let e = client(&sim, ADMIN_TOKEN)
        .timesheet(TimesheetId(1))
        .await
        .unwrap_err();
    assert!(
        matches!(e, KimaiError::MalformedBody { status: 200, .. }),
        "{e:?}"
    );
    assert!(!e.is_retryable());
    assert_eq!(sim.admin().call_count("GET /api/timesheets/{id}"), 1);
}

#[tokio::test]
async fn an_unreachable_kimai_is_a_connection_error() {
    // Bind and drop a listener to get a local port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = kimai_client::KimaiConfig::new(
        &format!("http://127.0.0.1:{port}/"),
        kimai_client::ApiToken::new(ADMIN_TOKEN),
    )
    .unwrap();
    cfg.max_retries = 1;
    cfg.min_backoff = Duration::from_millis(5);
    let e = KimaiClient::new(cfg).unwrap().ping().await.unwrap_err();
    assert!(matches!(e, KimaiError::Connection(_)), "{e:?}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn a_redirect_is_reported_not_followed() {
    // A bare HTTP server that redirects everything, like a proxy in front of a moved Kimai.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = socket.read(&mut buf).await.unwrap();
        socket
            .write_all(
                b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://kimai.example.org/api/timesheets\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await
            .unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    let cfg = kimai_client::KimaiConfig::new(
        &format!("http://127.0.0.1:{port}/"),
        kimai_client::ApiToken::new(ADMIN_TOKEN),
    )
    .unwrap();
    let e = KimaiClient::new(cfg)
        .unwrap()
        .create_timesheet(&new_sheet("moved"))
        .await
        .unwrap_err();
    let KimaiError::UnexpectedStatus { status, message } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*status, 301);
    assert!(
        message.contains("https://kimai.example.org/api/timesheets"),
        "{message}"
    );
    let request = server.await.unwrap();
    assert!(
        request.starts_with("POST /api/timesheets HTTP/1.1"),
        "{request}"
    );
}

#[tokio::test]
async fn concurrency_is_bounded_by_the_semaphore() {
    let sim = start_sim().await;
    sim.admin().set_faults(
        "GET /api/ping",
        RouteFaults {
            latency_ms: 150,
            rules: vec![],
        },
    );
    let mut cfg = config(&sim, ADMIN_TOKEN);
    cfg.max_concurrency = 2;
    let kimai = KimaiClient::new(cfg).unwrap();
    let started = Instant::now();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let k = kimai.clone();
            tokio::spawn(async move { k.ping().await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    // Six calls, two at a time, 150 ms each: at least three rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn under_an_invocation_deadline_an_attempt_is_cut_short_and_no_retry_outlives_it() {
    let sim = start_sim().await;
    // Hangs far past the configured 5 s request timeout and the deadline.
    sim.admin().set_faults(
        "GET /api/version",
        faults(vec![rule(FaultKind::Timeout { hang_ms: 30_000 }, 10)]),
    );
    let kimai = client(&sim, ADMIN_TOKEN);
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1_500);
    let e = call_deadline::run_until(deadline, kimai.version())
        .await
        .unwrap_err();
    assert_eq!(e, KimaiError::Timeout);
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(2_500),
        "ends at the deadline, not after 5 s × retries: {took:?}"
    );
    assert_eq!(
        sim.admin().call_count("GET /api/version"),
        1,
        "no retry started with less than an attempt's time left"
    );
}

#[tokio::test]
async fn a_retry_after_that_would_end_past_the_deadline_is_not_waited_for() {
    let sim = start_sim().await;
    sim.admin().set_faults(
        "GET /api/version",
        faults(vec![rule(
            FaultKind::RateLimit {
                retry_after_secs: 3,
            },
            1,
        )]),
    );
    let kimai = client(&sim, ADMIN_TOKEN);
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let e = call_deadline::run_until(deadline, kimai.version())
        .await
        .unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "answered at once"
    );
    assert_eq!(sim.admin().call_count("GET /api/version"), 1);
    // Without a deadline the same answer is waited for and retried.
    assert!(kimai.version().await.is_ok());
}

#[tokio::test]
async fn a_locked_project_refuses_creates_edits_and_deletes_on_its_locked_days() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let booked = kimai
        .create_timesheet(&new_sheet("before the lock"))
        .await
        .unwrap();
    // Someone locks project 1 up to that day in Kimai.
    sim.admin()
        .lock_project(1, chrono::NaiveDate::from_ymd_opt(2026, 5, 4))
        .unwrap();
    let projects = kimai.projects(None, None).await.unwrap();
    let locked = projects.iter().find(|p| p.id == ProjectId(1)).unwrap();
    assert_eq!(
        locked.locked_until,
        chrono::NaiveDate::from_ymd_opt(2026, 5, 4)
    );
    assert!(
        projects
            .iter()
            .filter(|p| p.id != ProjectId(1))
            .all(|p| p.locked_until.is_none())
    );

    // A create on the locked day: 400 with Kimai's message at form level.
    let e = kimai
        .create_timesheet(&new_sheet("on the locked day"))
        .await
        .unwrap_err();
    let message = e.project_locked().unwrap_or_else(|| panic!("{e:?}"));
    assert!(message.contains("2026-05-04"), "{message}");
    // The timesheet in the locked period: edits and deletes are a bare 403, admins included.
    let patch = TimesheetPatch {
        description: Some("late change".into()),
        ..Default::default()
    };
    let e = kimai
        .update_timesheet(booked.id, &patch, Retries::Allowed)
        .await
        .unwrap_err();
    assert_eq!(e, KimaiError::Locked);
    let e = kimai
        .delete_timesheet(booked.id, Retries::Allowed)
        .await
        .unwrap_err();
    assert_eq!(e, KimaiError::Locked);
    assert!(sim.admin().timesheet(booked.id.0).is_some());
    // The day after is open.
    let mut later = new_sheet("the day after");
    later.begin = local("2026-05-05T09:00:00");
    later.end = local("2026-05-05T10:00:00");
    let after = kimai.create_timesheet(&later).await.unwrap();
    // Moving it into the lock is refused like a create.
    let into = TimesheetPatch {
        begin: Some(local("2026-05-04T11:00:00")),
        end: Some(local("2026-05-04T12:00:00")),
        ..Default::default()
    };
    let e = kimai
        .update_timesheet(after.id, &into, Retries::Allowed)
        .await
        .unwrap_err();
    assert!(e.project_locked().is_some(), "{e:?}");
    // Opened again: the old timesheet can be changed.
    sim.admin().lock_project(1, None).unwrap();
    kimai
        .update_timesheet(booked.id, &patch, Retries::Allowed)
        .await
        .unwrap();
}
