//! The audit log: retention (TTL), paging by day and filter, and the GDPR delete.

use crate::contract::data::*;
use crate::contract::paging::all_pages;
use chrono::Duration;
use std::collections::BTreeSet;
use sync_store::audit::{AuditEvent, AuditFilter, AuditKind, AuditLog, AuditRecord};
use sync_store::{PageRequest, StoreError};

fn event(at: chrono::DateTime<chrono::Utc>, kind: AuditKind, action: &str) -> AuditEvent {
    AuditEvent {
        at,
        kind,
        action: action.into(),
        actor: "alice".into(),
        ip: Some("127.0.0.1".into()),
        detail: serde_json::json!({ "ticket": 31001 }),
    }
}

pub async fn audit_ttl_and_paging(log: &impl AuditLog) {
    // Noon today: events up to 9 minutes earlier stay on the same day whenever the test runs,
    // and the expiries stay in the future (the emulator's TTL reaper is running).
    let at = now().date_naive().and_hms_opt(12, 0, 0).unwrap().and_utc();
    let all = &AuditFilter::default();
    let login = log
        .append(&event(at, AuditKind::Access, "login"))
        .await
        .unwrap();
    assert_eq!(
        login.expires_at,
        at + Duration::days(90),
        "access events: 90 days"
    );
    let write = log
        .append(&event(at, AuditKind::Sync, "timesheet.create"))
        .await
        .unwrap();
    assert_eq!(
        write.expires_at,
        at + Duration::days(30),
        "sync events: the configured days"
    );

    // 9 events on each of three days (one of them today).
    let today = at.date_naive();
    let mut appended: Vec<AuditRecord> = vec![login, write];
    for d in 0..3i64 {
        for i in 0..9i64 {
            let t = at - Duration::days(d) - Duration::minutes(i + 1);
            appended.push(
                log.append(&event(t, AuditKind::Sync, "entry.plan"))
                    .await
                    .unwrap(),
            );
        }
    }
    let from = today - Duration::days(2);
    let (rows, pages) =
        all_pages(4, |p| async move { log.query(from, today, all, &p).await }).await;
    let in_range: Vec<_> = appended
        .iter()
        .filter(|r| r.event.at.date_naive() >= from)
        .collect();
    assert_eq!(rows.len(), in_range.len(), "every event of the range, once");
    assert!(pages >= 7);
    let ids: BTreeSet<_> = rows.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), rows.len());
    assert!(
        rows.windows(2).all(|w| w[0].event.at >= w[1].event.at),
        "newest first"
    );
    let read_login = rows.iter().find(|r| r.event.action == "login").unwrap();
    assert_eq!(
        read_login.expires_at,
        at + Duration::days(90),
        "expiry read back from the store"
    );

    let (yesterday_only, _) = all_pages(50, |p| async move {
        log.query(
            today - Duration::days(1),
            today - Duration::days(1),
            all,
            &p,
        )
        .await
    })
    .await;
    assert!(
        yesterday_only
            .iter()
            .all(|r| r.event.at.date_naive() == today - Duration::days(1))
    );

    // Filters by kind, action, actor and IP (exact matches).
    let mut bob = event(
        at - Duration::days(1),
        AuditKind::Access,
        "conflict.resolve",
    );
    bob.actor = "bob".into();
    bob.ip = Some("192.0.2.7".into());
    log.append(&bob).await.unwrap();
    let cases = [
        (
            AuditFilter {
                actor: Some("bob".into()),
                ..Default::default()
            },
            1,
        ),
        (
            AuditFilter {
                kind: Some(AuditKind::Access),
                ..Default::default()
            },
            2,
        ),
        (
            AuditFilter {
                ip: Some("192.0.2.7".into()),
                ..Default::default()
            },
            1,
        ),
        (
            AuditFilter {
                action: Some("entry.plan".into()),
                ip: Some("127.0.0.1".into()),
                ..Default::default()
            },
            27,
        ),
        (
            AuditFilter {
                actor: Some("carol".into()),
                ..Default::default()
            },
            0,
        ),
    ];
    for (filter, expected) in cases {
        let (rows, _) = all_pages(5, |p| {
            let filter = filter.clone();
            async move { log.query(from, today, &filter, &p).await }
        })
        .await;
        assert_eq!(rows.len(), expected, "{filter:?}");
        assert!(rows.iter().all(|r| filter.matches(&r.event)));
    }

    let reversed = log.query(today, from, all, &PageRequest::first(10)).await;
    assert!(matches!(reversed, Err(StoreError::Invalid(_))));
    let too_long = log
        .query(
            today - Duration::days(1000),
            today,
            all,
            &PageRequest::first(10),
        )
        .await;
    assert!(matches!(too_long, Err(StoreError::Invalid(_))));
}

pub async fn audit_delete(log: &impl AuditLog) {
    let at = now();
    let event = |actor: &str| AuditEvent {
        at,
        kind: AuditKind::Access,
        action: "mapping.set".into(),
        actor: actor.into(),
        ip: None,
        detail: serde_json::json!({}),
    };
    let gone = log.append(&event("alice")).await.unwrap();
    let kept = log.append(&event("bob")).await.unwrap();
    let today = at.date_naive();
    assert!(
        !log.delete(today.pred_opt().unwrap(), &gone.id)
            .await
            .unwrap(),
        "the day is part of the key"
    );
    assert!(log.delete(today, &gone.id).await.unwrap());
    assert!(!log.delete(today, &gone.id).await.unwrap());
    let left = log
        .query(
            today,
            today,
            &AuditFilter::default(),
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(left.items, vec![kept]);
}
