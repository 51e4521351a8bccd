//! How workers coordinate through the control store: the fetch watermark, the fetch lease,
//! duplicate webhook deliveries and claims on a write operation.

use crate::contract::data::*;
use chrono::Duration;
use sync_store::control::*;

pub async fn control_watermark(store: &impl ControlStore) {
    let at = now();
    assert_eq!(store.get_watermark("zammad").await.unwrap(), None);
    assert_eq!(
        store.advance_watermark("zammad", at).await.unwrap(),
        WatermarkOutcome::Advanced
    );
    assert_eq!(
        store
            .advance_watermark("zammad", at - Duration::minutes(5))
            .await
            .unwrap(),
        WatermarkOutcome::NotNewer { current: at }
    );
    assert_eq!(
        store.advance_watermark("zammad", at).await.unwrap(),
        WatermarkOutcome::NotNewer { current: at }
    );
    let later = at + Duration::minutes(5);
    assert_eq!(
        store.advance_watermark("zammad", later).await.unwrap(),
        WatermarkOutcome::Advanced
    );
    assert_eq!(store.get_watermark("zammad").await.unwrap(), Some(later));
}

pub async fn control_held_lease(store: &impl ControlStore) {
    let at = now();
    let ttl = Duration::seconds(60);
    let LeaseOutcome::Acquired(lease) = store
        .acquire_lease("fetch", "worker-a", ttl, at)
        .await
        .unwrap()
    else {
        panic!("a free lease is acquired")
    };
    assert_eq!(lease.expires_at, at + ttl);
    let held = store
        .acquire_lease("fetch", "worker-b", ttl, at + Duration::seconds(10))
        .await
        .unwrap();
    assert_eq!(
        held,
        LeaseOutcome::Held {
            holder: "worker-a".into(),
            expires_at: at + ttl
        }
    );
    // The holder may take it again (idempotent) and renew it.
    assert!(matches!(
        store
            .acquire_lease("fetch", "worker-a", ttl, at)
            .await
            .unwrap(),
        LeaseOutcome::Acquired(_)
    ));
    let renewed = store
        .renew_lease(&lease, ttl, at + Duration::seconds(50))
        .await
        .unwrap();
    assert_eq!(
        renewed,
        RenewOutcome::Renewed(Lease {
            expires_at: at + Duration::seconds(110),
            ..lease.clone()
        })
    );
    // After expiry somebody else takes it; the old holder can neither renew nor release it.
    let later = at + Duration::seconds(111);
    let LeaseOutcome::Acquired(taken) = store
        .acquire_lease("fetch", "worker-b", ttl, later)
        .await
        .unwrap()
    else {
        panic!("an expired lease is free")
    };
    assert_eq!(
        store.renew_lease(&lease, ttl, later).await.unwrap(),
        RenewOutcome::Lost
    );
    assert!(!store.release_lease(&lease).await.unwrap());
    assert!(store.release_lease(&taken).await.unwrap());
    assert!(matches!(
        store
            .acquire_lease("fetch", "worker-c", ttl, later)
            .await
            .unwrap(),
        LeaseOutcome::Acquired(_)
    ));
}

pub async fn control_duplicate_delivery(store: &impl ControlStore) {
    let at = now();
    let keep = Duration::hours(24);
    assert_eq!(
        store.record_delivery("d-1", keep, at).await.unwrap(),
        DeliveryOutcome::First
    );
    assert_eq!(
        store
            .record_delivery("d-1", keep, at + Duration::minutes(1))
            .await
            .unwrap(),
        DeliveryOutcome::Duplicate
    );
    assert_eq!(
        store.record_delivery("d-2", keep, at).await.unwrap(),
        DeliveryOutcome::First
    );
    // After the retention window a (not yet reaped) id counts as new.
    assert_eq!(
        store
            .record_delivery("d-1", keep, at + Duration::hours(25))
            .await
            .unwrap(),
        DeliveryOutcome::First
    );
}

pub async fn control_double_claim(store: &impl ControlStore) {
    let at = now();
    let op = OperationId("op-1".into());
    let lease = Duration::seconds(90);
    assert_eq!(
        store
            .claim_operation(&op, "writer-a", lease, at)
            .await
            .unwrap(),
        ClaimOutcome::Claimed {
            attempt: 1,
            lease_until: at + lease
        }
    );
    assert_eq!(
        store
            .claim_operation(&op, "writer-b", lease, at + Duration::seconds(1))
            .await
            .unwrap(),
        ClaimOutcome::InFlight {
            holder: "writer-a".into(),
            lease_until: at + lease
        }
    );
    // writer-a's lease runs out without a result: the next claim is attempt 2.
    let later = at + Duration::seconds(91);
    assert_eq!(
        store
            .claim_operation(&op, "writer-b", lease, later)
            .await
            .unwrap(),
        ClaimOutcome::Claimed {
            attempt: 2,
            lease_until: later + lease
        }
    );
    let result = serde_json::json!({ "kimai_id": 4711 });
    assert_eq!(
        store
            .complete_operation(&op, "writer-a", &result, later)
            .await
            .unwrap(),
        CompleteOutcome::NotHolder
    );
    assert_eq!(
        store
            .complete_operation(&op, "writer-b", &result, later)
            .await
            .unwrap(),
        CompleteOutcome::Completed
    );
    assert_eq!(
        store
            .claim_operation(&op, "writer-c", lease, later + Duration::hours(1))
            .await
            .unwrap(),
        ClaimOutcome::Done {
            result: result.clone()
        }
    );
    assert_eq!(
        store
            .complete_operation(&op, "writer-b", &result, later)
            .await
            .unwrap(),
        CompleteOutcome::NotHolder
    );

    // Releasing ends an attempt at once.
    let op2 = OperationId("op-2".into());
    store
        .claim_operation(&op2, "writer-a", lease, at)
        .await
        .unwrap();
    assert!(!store.release_operation(&op2, "writer-b", at).await.unwrap());
    assert!(store.release_operation(&op2, "writer-a", at).await.unwrap());
    assert!(matches!(
        store
            .claim_operation(&op2, "writer-b", lease, at)
            .await
            .unwrap(),
        ClaimOutcome::Claimed { attempt: 2, .. }
    ));
}

/// The shared call pace: slots per second, a new second starts afresh, a pause holds every
/// caller and only ever grows, and connections are paced apart.
pub async fn control_call_pace(store: &impl ControlStore) {
    let second = now(); // whole second
    let later_in_it = second + Duration::milliseconds(900);
    let next = second + Duration::seconds(1);
    for _ in 0..3 {
        assert_eq!(
            store.take_call_slot("kimai", 3, second).await.unwrap(),
            CallSlot::Taken
        );
    }
    assert_eq!(
        store.take_call_slot("kimai", 3, later_in_it).await.unwrap(),
        CallSlot::FreeAt(next),
        "the second is full"
    );
    assert_eq!(
        store
            .take_call_slot("zammad", 3, later_in_it)
            .await
            .unwrap(),
        CallSlot::Taken,
        "another connection has its own pace"
    );
    assert_eq!(
        store.take_call_slot("kimai", 3, next).await.unwrap(),
        CallSlot::Taken,
        "a new second starts afresh"
    );
    assert_eq!(
        store.take_call_slot("kimai", 3, second).await.unwrap(),
        CallSlot::FreeAt(next + Duration::seconds(1)),
        "a caller whose clock is behind waits for the counted second to end"
    );

    let until = next + Duration::milliseconds(2500);
    store.pause_calls("kimai", until).await.unwrap();
    store
        .pause_calls("kimai", next + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(
        store
            .take_call_slot("kimai", 3, next + Duration::milliseconds(100))
            .await
            .unwrap(),
        CallSlot::FreeAt(until),
        "a pause holds every caller, and a shorter one does not cut it"
    );
    assert_eq!(
        store.take_call_slot("kimai", 3, until).await.unwrap(),
        CallSlot::Taken,
        "the pause is over"
    );
    assert_eq!(
        store.take_call_slot("zammad", 3, next).await.unwrap(),
        CallSlot::Taken,
        "a pause of one connection leaves the other alone"
    );
}

/// An upstream's outage: the first failure stays its start, the last one and its detail move
/// on, ending it clears it, and a new failure starts a new outage.
pub async fn control_outage(store: &impl ControlStore) {
    let at = now();
    assert_eq!(store.get_outage("kimai").await.unwrap(), None);
    store
        .record_outage("kimai", at, "connection refused")
        .await
        .unwrap();
    store
        .record_outage("kimai", at + Duration::seconds(30), "502")
        .await
        .unwrap();
    assert_eq!(
        store.get_outage("kimai").await.unwrap(),
        Some(Outage {
            since: at,
            last_failure: at + Duration::seconds(30),
            detail: "502".into(),
            failures: 2,
        })
    );
    assert_eq!(store.get_outage("zammad").await.unwrap(), None);
    assert!(store.end_outage("kimai").await.unwrap());
    assert!(!store.end_outage("kimai").await.unwrap());
    let later = at + Duration::minutes(5);
    store
        .record_outage("kimai", later, "timeout")
        .await
        .unwrap();
    let again = store.get_outage("kimai").await.unwrap().unwrap();
    assert_eq!(
        (again.since, again.failures),
        (later, 1),
        "a new outage counts afresh"
    );
}

/// Plans of one ticket take turns in the order of their Zammad reads: a held turn keeps a
/// newer plan waiting, an older plan is refused for good, a lapsed turn is free again, and
/// tickets do not share turns.
pub async fn control_plan_turn(store: &impl ControlStore) {
    let at = now();
    let ttl = Duration::minutes(2);
    let (first_read, second_read) = (at - Duration::seconds(3), at - Duration::seconds(1));
    assert_eq!(
        store
            .take_plan_turn(7, first_read, "a", ttl, at)
            .await
            .unwrap(),
        PlanTurn::Ours
    );
    assert_eq!(
        store
            .take_plan_turn(7, second_read, "b", ttl, at)
            .await
            .unwrap(),
        PlanTurn::Busy { until: at + ttl },
        "a newer plan waits while the turn is held"
    );
    assert_eq!(
        store
            .take_plan_turn(8, first_read, "b", ttl, at)
            .await
            .unwrap(),
        PlanTurn::Ours,
        "another ticket has its own turn"
    );
    assert!(store.end_plan_turn(7, "a").await.unwrap());
    assert!(
        !store.end_plan_turn(7, "a").await.unwrap(),
        "given back once"
    );
    assert_eq!(
        store
            .take_plan_turn(7, second_read, "b", ttl, at)
            .await
            .unwrap(),
        PlanTurn::Ours
    );
    assert!(store.end_plan_turn(7, "b").await.unwrap());
    assert_eq!(
        store
            .take_plan_turn(7, first_read, "c", ttl, at)
            .await
            .unwrap(),
        PlanTurn::Stale { newer: second_read },
        "a plan read before the last one is out of date, even with the turn free"
    );
    // A holder that crashed: its turn lapses.
    let later = at + Duration::seconds(10);
    assert_eq!(
        store
            .take_plan_turn(7, later, "d", ttl, later)
            .await
            .unwrap(),
        PlanTurn::Ours
    );
    let after_lapse = later + ttl + Duration::seconds(1);
    assert_eq!(
        store
            .take_plan_turn(7, after_lapse, "e", ttl, after_lapse)
            .await
            .unwrap(),
        PlanTurn::Ours,
        "a lapsed turn is free"
    );
    assert!(
        !store.end_plan_turn(7, "d").await.unwrap(),
        "the lapsed holder lost it"
    );
}

/// A day's claims are replaced only by a writer that read the current version: of two that
/// read the same version, the second is told the claims changed.
pub async fn control_day_claims(store: &impl ControlStore) {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 5, 4).unwrap();
    let empty = store.day_claims(7, day).await.unwrap();
    assert_eq!(empty, DayClaims::default());
    let at = now();
    let claim = |ticket, minutes| SlotClaim {
        ticket,
        begin: at,
        end: at + Duration::minutes(minutes),
    };
    let mut first = empty.clone();
    first.claims.insert("ta:1".into(), claim(10, 30));
    let mut second = empty.clone();
    second.claims.insert("ta:2".into(), claim(11, 15));
    assert_eq!(
        store.put_day_claims(7, day, &first).await.unwrap(),
        ClaimsWrite::Written
    );
    assert_eq!(
        store.put_day_claims(7, day, &second).await.unwrap(),
        ClaimsWrite::Changed,
        "read before the first write"
    );
    let now_stored = store.day_claims(7, day).await.unwrap();
    assert_eq!(now_stored.version, 1);
    assert_eq!(now_stored.claims, first.claims);
    // Read again, both claims: written.
    let mut both = now_stored.clone();
    both.claims.insert("ta:2".into(), claim(11, 15));
    assert_eq!(
        store.put_day_claims(7, day, &both).await.unwrap(),
        ClaimsWrite::Written
    );
    let stored = store.day_claims(7, day).await.unwrap();
    assert_eq!((stored.version, stored.claims.len()), (2, 2));
    // Another user's day, and another day, are their own.
    assert_eq!(
        store.day_claims(8, day).await.unwrap(),
        DayClaims::default()
    );
    assert_eq!(
        store.day_claims(7, day.succ_opt().unwrap()).await.unwrap(),
        DayClaims::default()
    );
}
