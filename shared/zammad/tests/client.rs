//! The client against the simulator, started in-process on a random loopback port.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::time::{Duration, Instant};
use sync_core::ids::{OrganisationId, TicketId, ZammadUserId};
use test_support::datasets::zammad::{DEMO_ADMIN_TOKEN as ADMIN, DEMO_AGENT_TOKEN as AGENT, demo};
use url::Url;
use zammad_client::{ClientConfig, ForbiddenReason, RetryPolicy, ZammadClient, ZammadError};
use zammad_sim::{FaultConfig, FaultRule, RunningSim, ZammadVersion};

async fn start(version: ZammadVersion) -> RunningSim {
    test_support::sims::zammad(version, demo()).await
}

fn config(sim: &RunningSim, token: &str) -> ClientConfig {
    let mut config = ClientConfig::new(Url::parse(&sim.base_url()).unwrap(), token);
    config.request_timeout = Duration::from_secs(5);
    config.retry = RetryPolicy {
        max_retries: 3,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
    };
    config
}

fn client(sim: &RunningSim, token: &str) -> ZammadClient {
    ZammadClient::new(config(sim, token)).unwrap()
}

fn fault(route: &str) -> FaultRule {
    FaultRule {
        route: route.to_owned(),
        latency_ms: 0,
        error_rate: 0.0,
        error_statuses: vec![500, 502, 503],
        rate_limit_rate: 0.0,
        retry_after_secs: 1,
        timeout_rate: 0.0,
        hold_ms: 60_000,
        malformed_rate: 0.0,
        times: None,
    }
}

fn inject(sim: &RunningSim, rule: FaultRule) {
    sim.sim().set_faults(FaultConfig {
        seed: 7,
        rules: vec![rule],
    });
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

#[tokio::test]
async fn connection_test_and_version() {
    let sim = start(ZammadVersion::V6_5).await;
    let c = client(&sim, ADMIN);
    let me = c.connection_test().await.unwrap();
    assert_eq!(me.id, ZammadUserId(2));
    assert_eq!(me.email_key().as_deref(), Some("admin@support.example"));
    let version = c.version().await.unwrap();
    assert!(version.starts_with("6.5.0-"), "{version}");
    sim.shutdown().await;
}

#[tokio::test]
async fn ticket_and_its_accountings_keep_decimals_and_milliseconds() {
    let sim = start(ZammadVersion::V6_5).await;
    let c = client(&sim, ADMIN);
    let ticket = c.ticket(TicketId(101)).await.unwrap();
    assert_eq!(ticket.number, "31101");
    assert_eq!(ticket.organization_id, Some(OrganisationId(1)));
    let accountings = c.ticket_time_accountings(TicketId(101)).await.unwrap();
    let amounts: Vec<Decimal> = accountings.iter().map(|a| a.amount).collect();
    assert_eq!(amounts, vec![dec("15"), dec("30"), dec("12.5")]);
    assert_eq!(accountings[0].created_at, at("2024-03-04T08:03:13.234Z"));
    assert_eq!(accountings[2].type_id, None);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_global_listing_pages_until_a_short_page() {
    let sim = start(ZammadVersion::V6_5).await;
    let c = client(&sim, ADMIN);
    let all = c.time_accountings_updated_since(None, 4).await.unwrap();
    assert_eq!(all.len(), 15);
    // 15 records in pages of 4: 4 + 4 + 4 + 3, the short page ends it.
    assert_eq!(sim.sim().count("GET /api/v1/time_accountings"), 4);
    // Newest change first.
    assert!(all.windows(2).all(|w| w[0].updated_at >= w[1].updated_at));
    assert_eq!(all[0].id.0, 7, "accounting 7 was edited last");

    sim.sim().reset_counters();
    let recent = c
        .time_accountings_updated_since(Some(at("2024-03-07T12:00:00.000Z")), 4)
        .await
        .unwrap();
    let ids: Vec<u64> = recent.iter().map(|a| a.id.0).collect();
    assert_eq!(ids, vec![7, 15, 14, 13, 12, 11]);
    // The second page already reaches back before `since`: no third call.
    assert_eq!(sim.sim().count("GET /api/v1/time_accountings"), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_tickets_accountings_are_read_past_zammads_first_page_of_500() {
    // Zammad renders a ticket's accountings as an index: 500 a page unless asked otherwise.
    // A long-running ticket with 1,003 bookings needs three pages.
    let sim = start(ZammadVersion::V6_5).await;
    let before = client(&sim, ADMIN)
        .ticket_time_accountings(TicketId(101))
        .await
        .unwrap()
        .len();
    for _ in 0..1000 {
        sim.sim()
            .add_accounting(zammad_sim::NewAccounting {
                ticket_id: 101,
                created_by_id: 3,
                time_unit: dec("1"),
                type_id: None,
                with_article: false,
                article_body: None,
                created_at: None,
            })
            .unwrap();
    }
    sim.sim().reset_counters();
    let all = client(&sim, ADMIN)
        .ticket_time_accountings(TicketId(101))
        .await
        .unwrap();
    assert_eq!(all.len(), before + 1000);
    let ids: std::collections::BTreeSet<u64> = all.iter().map(|a| a.id.0).collect();
    assert_eq!(ids.len(), all.len(), "no accounting twice");
    assert_eq!(
        sim.sim().count("GET /api/v1/tickets/{id}/time_accountings"),
        3
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_exact_multiple_of_the_page_size_ends_on_an_empty_page() {
    let sim = start(ZammadVersion::V6_5).await;
    let c = client(&sim, ADMIN);
    let all = c.time_accountings_updated_since(None, 5).await.unwrap();
    assert_eq!(all.len(), 15);
    assert_eq!(sim.sim().count("GET /api/v1/time_accountings"), 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn types_users_and_organisations() {
    let sim = start(ZammadVersion::V6_5).await;
    let c = client(&sim, ADMIN);
    let types = c.accounting_types().await.unwrap();
    assert_eq!(types.len(), 4);
    assert!(!types[3].active);
    assert_eq!(types[1].name, "On site");

    let anna = c.user(ZammadUserId(3)).await.unwrap();
    assert_eq!(
        anna.email_key().as_deref(),
        Some("anna.schmidt@support.example")
    );
    let again = c.user(ZammadUserId(3)).await.unwrap();
    assert_eq!(anna, again);
    assert_eq!(
        sim.sim().count("GET /api/v1/users/{id}"),
        2,
        "the client caches nothing: reconcile's cache expires"
    );

    let orgs = c.organisations().await.unwrap();
    assert_eq!(orgs.len(), 3);
    let cafe = c.organisation(OrganisationId(2)).await.unwrap();
    assert_eq!(cafe.name, "Café Adler");
    sim.shutdown().await;
}

#[tokio::test]
async fn search_finds_changed_tickets_in_both_versions() {
    for version in [ZammadVersion::V6_2, ZammadVersion::V6_5] {
        let sim = start(version).await;
        let c = client(&sim, ADMIN);
        let tickets = c
            .tickets_updated_since(at("2024-03-07T00:00:00.000Z"))
            .await
            .unwrap();
        let ids: Vec<u64> = tickets.iter().map(|t| t.id.0).collect();
        // Newest change first; 103's accounting 7 was edited on 2024-03-09.
        assert_eq!(ids, vec![103, 107, 106, 105], "{version}");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn search_sees_only_the_agents_groups() {
    let sim = start(ZammadVersion::V6_5).await;
    let c = client(&sim, AGENT);
    let tickets = c.search_tickets("*", 1, 50).await.unwrap();
    let mut ids: Vec<u64> = tickets.iter().map(|t| t.id.0).collect();
    ids.sort();
    assert_eq!(ids, vec![101, 103, 105, 106], "groups 2 and 3 only");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_old_and_new_search_shapes_both_parse() {
    // The client always sends expand=true (an array everywhere); the old shape still parses,
    // e.g. behind a proxy that strips parameters. Ask the simulator for both shapes directly.
    for (version, expect_old) in [(ZammadVersion::V6_2, true), (ZammadVersion::V6_5, false)] {
        let sim = start(version).await;
        let body = reqwest::Client::new()
            .get(format!(
                "{}/api/v1/tickets/search?query=*&per_page=3",
                sim.base_url()
            ))
            .header("Authorization", format!("Token token={ADMIN}"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let raw: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(raw.get("tickets").is_some(), expect_old, "{version}: {raw}");
        let parsed: zammad_client::wire::TicketSearchResult =
            zammad_client::wire::parse(&body).unwrap();
        let ids: Vec<u64> = parsed.0.iter().map(|t| t.id.0).collect();
        assert_eq!(ids, vec![101, 102, 103], "{version}");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn an_unknown_token_is_unauthorised() {
    let sim = start(ZammadVersion::V6_5).await;
    let err = client(&sim, "not-a-token")
        .ticket(TicketId(101))
        .await
        .unwrap_err();
    assert!(matches!(err, ZammadError::Unauthorised { .. }), "{err:?}");
    assert!(err.is_credentials_problem());
    assert!(!err.is_retryable());
    assert_eq!(
        sim.sim().count("GET /api/v1/tickets/{id}"),
        1,
        "not retried"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn no_credentials_is_forbidden_authentication_required() {
    let sim = start(ZammadVersion::V6_5).await;
    let err = client(&sim, "").connection_test().await.unwrap_err();
    match &err {
        ZammadError::Forbidden {
            message, reason, ..
        } => {
            assert_eq!(message, "Authentication required");
            assert_eq!(*reason, ForbiddenReason::MissingCredentials);
        }
        other => panic!("expected 403, got {other:?}"),
    }
    assert!(err.is_credentials_problem());
    assert!(!err.is_permission_denied());
    sim.shutdown().await;
}

#[tokio::test]
async fn an_agent_on_admin_routes_is_told_to_fall_back() {
    let sim = start(ZammadVersion::V6_5).await;
    let c = client(&sim, AGENT);
    let err = c.time_accountings_page(1, 10).await.unwrap_err();
    assert!(err.is_permission_denied(), "{err:?}");
    assert_eq!(err.status(), Some(403));
    let err = c.accounting_types().await.unwrap_err();
    assert!(err.is_permission_denied(), "{err:?}");
    // The fallback the caller takes works for the same token.
    let tickets = c
        .tickets_updated_since(at("2024-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(tickets.len(), 4);
    let err = c.ticket(TicketId(102)).await.unwrap_err();
    assert!(
        err.is_permission_denied(),
        "ticket in another group: {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_missing_ticket_is_not_found_with_zammads_message() {
    let sim = start(ZammadVersion::V6_5).await;
    let err = client(&sim, ADMIN).ticket(TicketId(999)).await.unwrap_err();
    match err {
        ZammadError::NotFound { message, path } => {
            assert_eq!(message, "Couldn't find Ticket with 'id'=999");
            assert_eq!(path, "tickets/999");
        }
        other => panic!("expected 404, got {other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn an_invalid_search_is_a_validation_error() {
    let sim = start(ZammadVersion::V6_5).await;
    let err = client(&sim, ADMIN)
        .search_tickets("updated_at:[2024-01-01 TO", 1, 10)
        .await
        .unwrap_err();
    assert!(matches!(err, ZammadError::Validation { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(sim.sim().count("GET /api/v1/tickets/search"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limited_then_success_honours_retry_after() {
    let sim = start(ZammadVersion::V6_5).await;
    inject(
        &sim,
        FaultRule {
            rate_limit_rate: 1.0,
            retry_after_secs: 1,
            times: Some(1),
            ..fault("*")
        },
    );
    let started = Instant::now();
    let ticket = client(&sim, ADMIN).ticket(TicketId(101)).await.unwrap();
    assert_eq!(ticket.id, TicketId(101));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(sim.sim().count("GET /api/v1/tickets/{id}"), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limited_for_good_reports_retry_after() {
    let sim = start(ZammadVersion::V6_5).await;
    inject(
        &sim,
        FaultRule {
            rate_limit_rate: 1.0,
            retry_after_secs: 0,
            ..fault("*")
        },
    );
    let err = client(&sim, ADMIN).ticket(TicketId(101)).await.unwrap_err();
    match err {
        ZammadError::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::ZERO))
        }
        other => panic!("expected 429, got {other:?}"),
    }
    assert_eq!(
        sim.sim().count("GET /api/v1/tickets/{id}"),
        4,
        "1 try + 3 retries"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let sim = start(ZammadVersion::V6_5).await;
    inject(
        &sim,
        FaultRule {
            error_rate: 1.0,
            times: Some(2),
            ..fault("GET /api/v1/tickets/{id}/time_accountings")
        },
    );
    let accountings = client(&sim, ADMIN)
        .ticket_time_accountings(TicketId(105))
        .await
        .unwrap();
    assert_eq!(accountings.len(), 3);
    assert_eq!(
        sim.sim().count("GET /api/v1/tickets/{id}/time_accountings"),
        3
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_exhaust_the_retries() {
    let sim = start(ZammadVersion::V6_5).await;
    inject(
        &sim,
        FaultRule {
            error_rate: 1.0,
            error_statuses: vec![502],
            ..fault("*")
        },
    );
    let mut cfg = config(&sim, ADMIN);
    cfg.retry.max_retries = 2;
    let err = ZammadClient::new(cfg)
        .unwrap()
        .ticket(TicketId(101))
        .await
        .unwrap_err();
    match &err {
        ZammadError::Server {
            status, message, ..
        } => {
            assert_eq!(*status, 502);
            assert!(message.contains("Bad Gateway"), "{message}");
        }
        other => panic!("expected 5xx, got {other:?}"),
    }
    assert!(err.is_retryable(), "the caller may try again later");
    assert_eq!(sim.sim().count("GET /api/v1/tickets/{id}"), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_zammad_500_carries_its_error_message() {
    let sim = start(ZammadVersion::V6_5).await;
    inject(
        &sim,
        FaultRule {
            error_rate: 1.0,
            error_statuses: vec![500],
            ..fault("*")
        },
    );
    let mut cfg = config(&sim, ADMIN);
    cfg.retry.max_retries = 0;
    let err = ZammadClient::new(cfg).unwrap().version().await.unwrap_err();
    match err {
        ZammadError::Server {
            status: 500,
            message,
            ..
        } => assert!(message.starts_with("Error ID"), "{message}"),
        other => panic!("expected 500, got {other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_held_request_times_out_and_is_retried() {
    let sim = start(ZammadVersion::V6_5).await;
    inject(
        &sim,
        FaultRule {
            timeout_rate: 1.0,
            hold_ms: 10_000,
            ..fault("*")
        },
    );
    let mut cfg = config(&sim, ADMIN);
    cfg.request_timeout = Duration::from_millis(300);
    cfg.retry.max_retries = 1;
    let started = Instant::now();
    let err = ZammadClient::new(cfg)
        .unwrap()
        .ticket(TicketId(101))
        .await
        .unwrap_err();
    assert!(matches!(err, ZammadError::Timeout { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up in time: {:?}",
        started.elapsed()
    );
    assert_eq!(sim.sim().count("GET /api/v1/tickets/{id}"), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn under_an_invocation_deadline_a_held_request_ends_with_it_and_is_not_retried() {
    let sim = start(ZammadVersion::V6_5).await;
    inject(
        &sim,
        FaultRule {
            timeout_rate: 1.0,
            hold_ms: 30_000,
            ..fault("*")
        },
    );
    // The configured timeout (5 s) and 3 retries would take 20 s; the deadline is 1.5 s.
    let client = ZammadClient::new(config(&sim, ADMIN)).unwrap();
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1_500);
    let err = call_deadline::run_until(deadline, client.ticket(TicketId(101)))
        .await
        .unwrap_err();
    assert!(matches!(err, ZammadError::Timeout { .. }), "{err:?}");
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(2_500),
        "ended at the deadline: {took:?}"
    );
    assert_eq!(sim.sim().count("GET /api/v1/tickets/{id}"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_truncated_body_is_malformed_and_not_retried() {
    let sim = start(ZammadVersion::V6_5).await;
    inject(
        &sim,
        FaultRule {
            malformed_rate: 1.0,
            ..fault("*")
        },
    );
    let err = client(&sim, ADMIN)
        .ticket_time_accountings(TicketId(101))
        .await
        .unwrap_err();
    match &err {
        ZammadError::MalformedBody { path, detail } => {
            assert_eq!(path, "tickets/101/time_accountings");
            assert!(detail.contains("EOF"), "{detail}");
        }
        other => panic!("expected a malformed body, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(
        sim.sim().count("GET /api/v1/tickets/{id}/time_accountings"),
        1
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_connection_error() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = ClientConfig::new(
        Url::parse(&format!("http://127.0.0.1:{port}")).unwrap(),
        ADMIN,
    );
    cfg.retry.max_retries = 1;
    cfg.retry.min_delay = Duration::from_millis(5);
    let err = ZammadClient::new(cfg).unwrap().version().await.unwrap_err();
    assert!(matches!(err, ZammadError::Connection { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let sim = start(ZammadVersion::V6_5).await;
    inject(
        &sim,
        FaultRule {
            latency_ms: 150,
            ..fault("*")
        },
    );
    let mut cfg = config(&sim, ADMIN);
    cfg.max_concurrency = 1;
    let c = ZammadClient::new(cfg).unwrap();
    let started = Instant::now();
    let (a, b, d) = tokio::join!(c.version(), c.version(), c.version());
    a.unwrap();
    b.unwrap();
    d.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "three calls through one slot take three latencies, took {:?}",
        started.elapsed()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_listing_that_never_ends_is_reported_incomplete_not_read_forever() {
    // A proxy that drops the query string serves page 1 again and again: the read stops at
    // the cap and says it is incomplete, so nothing is decided from part of a ticket.
    let sim = start(ZammadVersion::V6_5).await;
    let one = sim.sim().accountings()[0].clone();
    sim.shutdown().await;
    let page: Vec<serde_json::Value> = (1..=500u64)
        .map(|id| {
            let mut a = one.clone();
            a["id"] = id.into();
            a
        })
        .collect();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = calls.clone();
    let app = axum::Router::new().route(
        "/api/v1/tickets/{id}/time_accountings",
        axum::routing::get(move || {
            let page = page.clone();
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { axum::Json(page) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let c = ZammadClient::new(ClientConfig::new(Url::parse(&base).unwrap(), "t")).unwrap();
    let err = c.ticket_time_accountings(TicketId(1)).await.unwrap_err();
    assert!(
        matches!(err, ZammadError::TooManyPages { pages, .. } if pages == zammad_client::MAX_INDEX_PAGES),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        zammad_client::MAX_INDEX_PAGES
    );
}
