//! Each client call against the simulator on a random local port.

mod common;

use chrono::{Duration as ChronoDuration, Utc};
use common::{ADMIN_TOKEN, ANNA_TOKEN, client, config, start_sim};
use kimai_client::{
    KimaiClient, KimaiError, NewTag, NewTimesheet, Retries, TimesheetPatch, TimesheetQuery,
    UserFilter,
};
use kimai_sim::HandEdit;
use sync_core::ids::{ActivityId, CustomerId, KimaiUserId, ProjectId, TimesheetId};
use sync_core::kimai::KimaiLocalDateTime;

fn local(s: &str) -> KimaiLocalDateTime {
    KimaiLocalDateTime::parse(s).unwrap()
}

fn new_sheet(begin: &str, end: &str, description: &str) -> NewTimesheet {
    NewTimesheet {
        begin: local(begin),
        end: local(end),
        project: ProjectId(1),
        activity: ActivityId(1),
        description: Some(description.to_owned()),
        tags: None,
        user: None,
        billable: None,
    }
}

#[tokio::test]
async fn status_calls_and_the_api_user() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    kimai.ping().await.unwrap();
    let v = kimai.version().await.unwrap();
    assert_eq!((v.version.as_str(), v.version_id), ("2.65.0", 26500));
    assert!(v.has_user_email());
    let me = kimai.me().await.unwrap();
    assert_eq!(me.id, KimaiUserId(1));
    assert_eq!(me.timezone, "Europe/Berlin");
}

#[tokio::test]
async fn catalog_lists_include_hidden_records_and_filter_by_term() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);

    let customers = kimai.customers(None).await.unwrap();
    assert_eq!(customers.len(), 2, "hidden customers are listed too");
    let huber = customers.iter().find(|c| c.id == CustomerId(2)).unwrap();
    assert!(!huber.visible);
    assert_eq!(huber.number.as_deref(), Some("C-1002"));
    let acme = kimai.customers(Some("acme")).await.unwrap();
    assert_eq!(acme.len(), 1);

    let projects = kimai.projects(Some(CustomerId(1)), None).await.unwrap();
    assert_eq!(projects.len(), 2);
    assert!(
        !projects
            .iter()
            .find(|p| p.id == ProjectId(2))
            .unwrap()
            .global_activities
    );

    // Project 2 forbids global activities: only its own one is offered.
    let acts = kimai.activities(Some(ProjectId(2)), None).await.unwrap();
    assert_eq!(
        acts.iter().map(|a| a.id).collect::<Vec<_>>(),
        [ActivityId(3)]
    );
    let acts = kimai.activities(Some(ProjectId(1)), None).await.unwrap();
    assert!(acts.iter().all(|a| a.project.is_none()), "{acts:?}");

    let by_email = kimai.users(Some("ben.carter@example.org")).await.unwrap();
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].id, KimaiUserId(3));
    assert_eq!(by_email[0].email.as_deref(), Some("ben.carter@example.org"));
    assert_eq!(by_email[0].timezone.as_deref(), Some("America/New_York"));
}

#[tokio::test]
async fn tags_are_listed_created_and_unknown_ones_dropped_from_timesheets() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let mut new = new_sheet(
        "2026-04-01T09:00:00",
        "2026-04-01T09:30:00",
        "tags [zammad:ta=77]",
    );
    new.tags = Some(vec!["zammad".into(), "billing-q2".into()]);
    let t = kimai.create_timesheet(&new).await.unwrap();
    assert_eq!(t.tags, ["zammad"], "Kimai drops tags it does not know");

    let tag = kimai
        .create_tag(&NewTag::named("billing-q2"))
        .await
        .unwrap();
    assert_eq!(tag.name, "billing-q2");
    assert_eq!(kimai.tags(Some("billing")).await.unwrap(), vec![tag]);
    let again = kimai
        .create_tag(&NewTag::named("billing-q2"))
        .await
        .unwrap_err();
    assert!(
        !again.validation().unwrap().field("name").is_empty(),
        "{again:?}"
    );

    let t = kimai.create_timesheet(&new).await.unwrap();
    assert_eq!(t.tags, ["zammad", "billing-q2"]);
}

#[tokio::test]
async fn ensure_tag_finds_or_creates_and_reports_bad_names() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let existing = kimai.ensure_tag("ZAMMAD").await.unwrap();
    assert_eq!((existing.id, existing.name.as_str()), (1, "zammad"));
    let created = kimai.ensure_tag("overtime").await.unwrap();
    assert_eq!(kimai.ensure_tag("overtime").await.unwrap(), created);
    assert_eq!(sim.admin().call_count("POST /api/tags"), 1);
    let e = kimai.ensure_tag("a,b").await.unwrap_err();
    assert!(!e.validation().unwrap().field("name").is_empty(), "{e:?}");
}

#[tokio::test]
async fn create_get_patch_delete_round_trip() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let mut new = new_sheet(
        "2026-04-07T13:00:00",
        "2026-04-07T14:15:00",
        "VPN [zammad:ta=10]",
    );
    new.user = Some(KimaiUserId(2));
    new.billable = Some(false);
    new.tags = Some(vec!["zammad".into()]);
    let created = kimai.create_timesheet(&new).await.unwrap();
    assert_eq!(created.user, KimaiUserId(2));
    assert_eq!(created.begin.to_rfc3339(), "2026-04-07T13:00:00+02:00");
    assert_eq!(created.duration_secs, 75 * 60);
    assert!(!created.billable);

    let fetched = kimai.timesheet(created.id).await.unwrap();
    assert_eq!(fetched, created);

    let patch = TimesheetPatch {
        end: Some(local("2026-04-07T14:30:00")),
        description: Some("VPN, certificate renewed [zammad:ta=10]".into()),
        ..Default::default()
    };
    let patched = kimai
        .update_timesheet(created.id, &patch, Retries::Allowed)
        .await
        .unwrap();
    assert_eq!(patched.duration_secs, 90 * 60);
    assert_eq!(
        patched.begin, created.begin,
        "unsent fields keep their value"
    );
    assert_eq!(patched.tags, ["zammad"]);

    kimai
        .delete_timesheet(created.id, Retries::Never)
        .await
        .unwrap();
    assert_eq!(
        kimai.timesheet(created.id).await.unwrap_err(),
        KimaiError::NotFound
    );
    assert_eq!(sim.admin().call_count("DELETE /api/timesheets/{id}"), 1);
}

#[tokio::test]
async fn post_reads_the_api_users_zone_and_answers_in_the_owners_zone() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    // Spring forward in Berlin: 01:30 is +0100, 03:30 is +0200, one real hour apart.
    let t = kimai
        .create_timesheet(&new_sheet(
            "2026-03-29T01:30:00",
            "2026-03-29T03:30:00",
            "DST",
        ))
        .await
        .unwrap();
    let raw = sim.admin().timesheet(t.id.0).unwrap();
    assert_eq!(raw.begin, "2026-03-29T01:30:00+0100");
    assert_eq!(raw.end.as_deref(), Some("2026-03-29T03:30:00+0200"));
    assert_eq!(t.begin.offset().local_minus_utc(), 3600);
    assert_eq!(t.end.unwrap().offset().local_minus_utc(), 7200);
    assert_eq!(t.duration_secs, 3600);

    // 02:30 does not exist that night; like PHP, Kimai moves it forward by the gap.
    let t = kimai
        .create_timesheet(&new_sheet(
            "2026-03-29T02:30:00",
            "2026-03-29T04:00:00",
            "gap",
        ))
        .await
        .unwrap();
    assert_eq!(t.begin.to_rfc3339(), "2026-03-29T03:30:00+02:00");
    assert_eq!(t.duration_secs, 1800);

    // For Ben (New York) the times are still read in the API user's zone (Berlin), and shown in
    // Ben's: 10:00 Berlin (+0200 after the change) is 04:00 in New York (-0400).
    let mut for_ben = new_sheet("2026-03-30T10:00:00", "2026-03-30T11:00:00", "for ben");
    for_ben.user = Some(KimaiUserId(3));
    let t = kimai.create_timesheet(&for_ben).await.unwrap();
    assert_eq!(
        sim.admin().timesheet(t.id.0).unwrap().begin,
        "2026-03-30T04:00:00-0400"
    );
}

#[tokio::test]
async fn patch_reads_times_in_the_owners_zone() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let patch = TimesheetPatch {
        begin: Some(local("2026-03-03T08:00:00")),
        ..Default::default()
    };
    let t = kimai
        .update_timesheet(TimesheetId(7), &patch, Retries::Never)
        .await
        .unwrap();
    assert_eq!(t.begin.to_rfc3339(), "2026-03-03T08:00:00-05:00");
    assert_eq!(t.duration_secs, 3 * 3600);
}

#[tokio::test]
async fn list_filters_by_owner_project_term_and_begin() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let all = kimai
        .list_timesheets(&TimesheetQuery::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 7);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "stable id order");

    let bens = TimesheetQuery {
        user: UserFilter::One(KimaiUserId(3)),
        ..Default::default()
    };
    assert_eq!(kimai.list_timesheets(&bens).await.unwrap().len(), 2);
    let migration = TimesheetQuery {
        project: Some(ProjectId(2)),
        ..Default::default()
    };
    assert_eq!(kimai.list_timesheets(&migration).await.unwrap().len(), 1);
    let acme = TimesheetQuery {
        customer: Some(CustomerId(1)),
        begin: Some(local("2026-03-03T00:00:00")),
        end: Some(local("2026-03-04T23:59:59")),
        ..Default::default()
    };
    let ids: Vec<u64> = kimai
        .list_timesheets(&acme)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id.0)
        .collect();
    assert_eq!(ids, [3, 4, 7]);
    let term = TimesheetQuery {
        term: Some("entry 4".into()),
        ..Default::default()
    };
    assert_eq!(
        kimai.list_timesheets(&term).await.unwrap()[0].id,
        TimesheetId(4)
    );

    // A plain user sees only their own records, even with user=all.
    let anna = client(&sim, ANNA_TOKEN);
    assert_eq!(
        anna.list_timesheets(&TimesheetQuery::default())
            .await
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn modified_after_finds_records_changed_since_an_instant() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let since = Utc::now() - ChronoDuration::seconds(1);
    let q = TimesheetQuery {
        modified_after: Some(since),
        ..Default::default()
    };
    assert!(kimai.list_timesheets(&q).await.unwrap().is_empty());
    sim.admin()
        .edit_by_hand(
            3,
            HandEdit {
                description: Some("edited in the UI".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let changed = kimai.list_timesheets(&q).await.unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].description.as_deref(), Some("edited in the UI"));
}

#[tokio::test]
async fn paging_walks_three_pages() {
    let sim = start_sim().await;
    let mut cfg = config(&sim, ADMIN_TOKEN);
    cfg.page_size = 3;
    let kimai = KimaiClient::new(cfg).unwrap();
    let first = kimai
        .timesheets_page(&TimesheetQuery::default(), 1)
        .await
        .unwrap();
    assert_eq!((first.total_pages, first.total_count), (Some(3), Some(7)));
    let all = kimai
        .list_timesheets(&TimesheetQuery::default())
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|t| t.id.0).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6, 7]
    );
    assert_eq!(sim.admin().call_count("GET /api/timesheets"), 4);
}

#[tokio::test]
async fn an_older_kimai_without_break_and_user_emails_still_parses() {
    let dataset =
        test_support::datasets::kimai::logistics_json().replace("\"2.65.0\"", "\"2.40.0\"");
    let sim = test_support::sims::kimai(1, kimai_sim::Dataset::from_json(&dataset).unwrap()).await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let v = kimai.version().await.unwrap();
    assert!(!v.has_user_email());
    let t = kimai.timesheet(TimesheetId(1)).await.unwrap();
    assert_eq!(t.break_secs, 0);
    let users = kimai.users(Some("anna.berger@example.org")).await.unwrap();
    assert_eq!(users.len(), 1, "term still finds the user by email");
    assert_eq!(users[0].email, None);
}

#[tokio::test]
async fn a_page_past_the_end_is_not_found() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let e = kimai
        .timesheets_page(&TimesheetQuery::default(), 2)
        .await
        .unwrap_err();
    assert_eq!(e, KimaiError::NotFound);
}
