//! The API token never shows up in logs, `Debug` output or error messages.

mod common;

use common::{ADMIN_TOKEN, config, start_sim};
use kimai_client::{KimaiClient, NewTimesheet, Retries, TimesheetPatch};
use kimai_sim::{FaultKind, FaultRule, RouteFaults};
use std::time::Duration;
use sync_core::ids::{ActivityId, ProjectId, TimesheetId};
use sync_core::kimai::KimaiLocalDateTime;
use test_support::logs::LogCapture;

#[tokio::test]
async fn the_token_is_in_no_log_debug_output_or_error() {
    let (logs, _guard) = LogCapture::this_thread();

    let sim = start_sim().await;
    let mut cfg = config(&sim, ADMIN_TOKEN);
    cfg.request_timeout = Duration::from_millis(200);
    cfg.max_retries = 1;
    let kimai = KimaiClient::new(cfg.clone()).unwrap();
    sim.admin().set_faults(
        "GET /api/timesheets/{id}",
        RouteFaults {
            latency_ms: 0,
            rules: vec![FaultRule {
                kind: FaultKind::Error {
                    statuses: vec![503],
                },
                probability: 1.0,
                times: Some(5),
                skip: 0,
            }],
        },
    );
    sim.admin().set_faults(
        "GET /api/version",
        RouteFaults {
            latency_ms: 0,
            rules: vec![FaultRule {
                kind: FaultKind::Timeout { hang_ms: 5_000 },
                probability: 1.0,
                times: Some(5),
                skip: 0,
            }],
        },
    );

    let mut errors = vec![
        kimai.timesheet(TimesheetId(1)).await.unwrap_err(),
        kimai.version().await.unwrap_err(),
        kimai
            .update_timesheet(TimesheetId(6), &TimesheetPatch::default(), Retries::Never)
            .await
            .unwrap_err(),
        kimai
            .create_timesheet(&NewTimesheet {
                begin: KimaiLocalDateTime::parse("2026-05-04T09:00:00").unwrap(),
                end: KimaiLocalDateTime::parse("2026-05-04T08:00:00").unwrap(),
                project: ProjectId(1),
                activity: ActivityId(1),
                description: None,
                tags: None,
                user: None,
                billable: None,
            })
            .await
            .unwrap_err(),
    ];
    // A wrong token of the same shape must not leak either.
    let wrong = KimaiClient::new(config(&sim, "tok-wrong-000000")).unwrap();
    errors.push(wrong.ping().await.unwrap_err());

    let mut seen = format!("{kimai:?}\n{cfg:?}\n{wrong:?}\n");
    for e in &errors {
        seen.push_str(&format!("{e}\n{e:?}\n"));
    }
    let logs = logs.text();
    assert!(
        logs.contains("kimai call failed"),
        "the failures were logged: {logs}"
    );
    for text in [&seen, &logs] {
        assert!(!text.contains(ADMIN_TOKEN), "token leaked: {text}");
        assert!(!text.contains("tok-wrong-000000"), "token leaked: {text}");
    }
    assert!(seen.contains("<redacted>"), "{seen}");
}
