//! Both entry points on the AWS adapters (DynamoDB, SQS, Secrets Manager) in the local emulator.
//!
//! Run through `make test`, or `infra/local-aws/with-emulator.sh cargo nextest run -p
//! sync-service`. Without `AWS_ENDPOINT_URL` pointing at loopback these fail and say so: they
//! never talk to a real AWS account. Each test creates its own resources under a random prefix.

use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use std::sync::Arc;
use sync_service::events::Publisher;
use sync_service::fetch::{FetchDeps, FetchOutcome, FetchRequest, LEASE, WATERMARK, run_fetch};
use sync_service::ingest::{IngestDeps, IngestOutcome, WebhookRequest, ingest, signature_for};
use sync_service::settings;
use sync_store::audit::AuditRetention;
use sync_store::aws::provision::{BusTap, create_bus_with_tap, create_queue, put_secret};
use sync_store::aws::{
    DynamoAuditLog, DynamoControl, DynamoEntries, EventBridgeBus, SecretsManagerSource, SqsQueue,
};
use sync_store::clock::SystemClock;
use sync_store::control::{ControlStore, ExpectedVersion, RunState};
use sync_store::queue::{MessageQueue, SyncReason, TicketSyncMessage};
use sync_store::schema;
use sync_store::secrets::CachedSecrets;
use test_support::aws::{emulator_config, table, unique};
use test_support::datasets;
use test_support::pipeline::zammad_connection;
use test_support::sims;
use test_support::stores::SECRET_CACHE_TTL;
use test_support::stores::audit_today;
use zammad_sim::{NewAccounting, ZammadVersion};

/// Tables, queue and secrets of one test.
struct Stack {
    control: DynamoControl,
    entries: DynamoEntries,
    audit: DynamoAuditLog,
    queue: SqsQueue<TicketSyncMessage>,
    secrets: CachedSecrets<SecretsManagerSource>,
    secret_prefix: String,
    secrets_admin: aws_sdk_secretsmanager::Client,
    clock: SystemClock,
    /// Publishes on a bus of the test's own, whose every event a rule copies to `tap`.
    events: Publisher,
    tap: BusTap,
    sqs: aws_sdk_sqs::Client,
}

impl Stack {
    async fn new() -> Self {
        let config = emulator_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&config);
        let control = DynamoControl::new(
            dynamo.clone(),
            table(&dynamo, &schema::control::TABLE).await,
        );
        let entries = DynamoEntries::new(
            dynamo.clone(),
            table(&dynamo, &schema::entries::TABLE).await,
        );
        let audit = DynamoAuditLog::new(
            dynamo.clone(),
            table(&dynamo, &schema::audit::TABLE).await,
            AuditRetention::default(),
        );
        let sqs = aws_sdk_sqs::Client::new(&config);
        let urls = create_queue(&sqs, &schema::TICKET_SYNC_QUEUE, &unique("ticket-sync"))
            .await
            .expect("create queue");
        let bridge = aws_sdk_eventbridge::Client::new(&config);
        let tap = create_bus_with_tap(&bridge, &sqs, &unique("bus"))
            .await
            .expect("create the bus");
        Stack {
            control,
            entries,
            audit,
            queue: SqsQueue::new(sqs.clone(), urls.url),
            events: Publisher::new(Arc::new(EventBridgeBus::new(bridge, &tap.bus))),
            tap,
            sqs,
            secrets: CachedSecrets::new(
                SecretsManagerSource::from_config(&config),
                Arc::new(SystemClock),
                SECRET_CACHE_TTL,
            ),
            secret_prefix: unique("secret"),
            secrets_admin: aws_sdk_secretsmanager::Client::new(&config),
            clock: SystemClock,
        }
    }

    async fn put_secret(&self, name: &str, value: &str) -> String {
        let id = format!("{}-{name}", self.secret_prefix);
        put_secret(&self.secrets_admin, &id, value)
            .await
            .expect("write secret");
        id
    }

    async fn received(&self) -> Vec<TicketSyncMessage> {
        let mut out = Vec::new();
        loop {
            let got = self.queue.receive(10, 1).await.expect("receive");
            if got.is_empty() {
                return out;
            }
            for m in got {
                self.queue.delete(&m.receipt).await.expect("delete");
                out.push(m.message.expect("decodes"));
            }
        }
    }
}

#[tokio::test]
async fn webhook_ingest_on_the_emulator() {
    let stack = Stack::new().await;
    let secret_id = stack.put_secret("webhook", "emulator-secret").await;
    let deps = IngestDeps {
        control: &stack.control,
        queue: &stack.queue,
        audit: &stack.audit,
        secrets: &stack.secrets,
        secret_id: &secret_id,
        clock: &stack.clock,
        rejections: &sync_service::ingest::RejectionSampler::default(),
    };
    let body = r#"{"ticket":{"id":4711,"number":"34711"},"article":{}}"#;
    let request = |secret: &str| WebhookRequest {
        headers: vec![
            (
                "X-Hub-Signature".into(),
                signature_for(secret, body.as_bytes()),
            ),
            (
                "X-Zammad-Delivery".into(),
                "4c1e3b2a-0f5d-4e7a-9b8c-1d2e3f4a5b6c".into(),
            ),
        ],
        body: Some(body.into()),
        source_ip: Some("192.0.2.10".into()),
        user_agent: Some("Zammad User Agent".into()),
        ..Default::default()
    };

    // A forged request first: rejected, audited in DynamoDB, and the delivery id stays free.
    let forged = ingest(&deps, &request("wrong")).await;
    assert!(matches!(forged, IngestOutcome::Rejected(_)), "{forged:?}");
    let accepted = ingest(&deps, &request("emulator-secret")).await;
    assert!(
        matches!(accepted, IngestOutcome::Accepted { .. }),
        "{accepted:?}"
    );
    let again = ingest(&deps, &request("emulator-secret")).await;
    assert!(
        matches!(again, IngestOutcome::Duplicate { .. }),
        "{again:?}"
    );

    let messages = stack.received().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].ticket_id.0, 4711);
    assert_eq!(messages[0].reason, SyncReason::Webhook);
    let audit = audit_today(&stack.audit).await;
    assert!(
        audit
            .iter()
            .any(|r| r.event.action == "webhook.reject"
                && r.event.ip.as_deref() == Some("192.0.2.10"))
    );
}

#[tokio::test]
async fn scheduled_fetch_on_the_emulator() {
    let stack = Stack::new().await;
    let sim = sims::zammad(ZammadVersion::V6_5, datasets::zammad::demo()).await;
    let token_secret = stack.put_secret("zammad", "demo-agent-token").await;
    let connection = zammad_connection(&sim);
    settings::save_zammad(
        &stack.control,
        &connection,
        ExpectedVersion::New,
        Utc::now(),
    )
    .await
    .expect("save settings");
    sim.sim()
        .add_accounting(NewAccounting {
            ticket_id: 103,
            created_by_id: 4,
            time_unit: Decimal::from(30),
            type_id: None,
            with_article: true,
            article_body: None,
            created_at: None,
        })
        .unwrap();
    let deps = FetchDeps {
        control: &stack.control,
        entries: &stack.entries,
        queue: &stack.queue,
        audit: &stack.audit,
        secrets: &stack.secrets,
        zammad_token_secret: &token_secret,
        clock: &stack.clock,
        zammad_pace: None,
        events: &stack.events,
    };

    let outcome = run_fetch(&deps, &FetchRequest::default()).await.unwrap();
    let FetchOutcome::Ran(report) = outcome else {
        panic!("expected a run: {outcome:?}")
    };
    assert_eq!(report.state, RunState::Succeeded, "{report:?}");
    assert_eq!(
        report.discovery,
        Some(settings::DiscoveryMode::TicketSearch)
    );
    let messages = stack.received().await;
    assert_eq!(
        messages.iter().map(|m| m.ticket_id.0).collect::<Vec<_>>(),
        vec![103]
    );
    assert_eq!(messages[0].run_id.as_ref(), Some(&report.run_id));
    assert_eq!(
        stack.control.get_watermark(WATERMARK).await.unwrap(),
        report.watermark
    );
    let run = stack
        .control
        .get_run(&report.run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (run.state, run.counters.tickets_queued),
        (RunState::Succeeded, 1)
    );
    // The bus was told, with the run's counters, and a rule on the sync's source matched it.
    let told = stack.tap.drain(&stack.sqs).await.unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["detail-type"], "SyncRun Finished");
    assert_eq!(told[0]["detail"]["run_id"], report.run_id.0);
    assert_eq!(told[0]["detail"]["counters"]["tickets_queued"], 1);
    assert_eq!(told[0]["detail"]["version"], 1);

    // Another run holds the lease: this one is skipped and recorded.
    stack
        .control
        .acquire_lease(LEASE, "other", Duration::minutes(15), Utc::now())
        .await
        .unwrap();
    let outcome = run_fetch(&deps, &FetchRequest::default()).await.unwrap();
    let FetchOutcome::Skipped { run_id, .. } = outcome else {
        panic!("expected a skip: {outcome:?}")
    };
    let run = stack.control.get_run(&run_id).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Cancelled);
    let told = stack.tap.drain(&stack.sqs).await.unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(
        (&told[0]["detail-type"], &told[0]["detail"]["state"]),
        (&"SyncRun Finished".into(), &"cancelled".into())
    );
    sim.shutdown().await;
}

/// Two admins demote each other at the same instant, on DynamoDB: both may pass the read
/// before either writes, so each change checks again after its write and undoes itself when
/// no enabled admin is left. Repeated, because the interleaving is the network's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_admins_demoting_each_other_at_once_leave_an_admin() {
    use sync_service::console::users::{UserChange, change_user};
    use sync_service::console::{AccessLog, Actor};
    use sync_store::control::{ConsoleUser, Role};
    let s = Stack::new().await;
    let clock = SystemClock;
    let access = AccessLog {
        log: &s.audit,
        clock: &clock,
    };
    let logins = sync_service::console::users::Logins {
        control: &s.control,
        access,
    };
    let admin = |name: &str| ConsoleUser {
        username: name.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role: Role::Admin,
        disabled: false,
        created_at: Utc::now(),
        last_login_at: None,
        must_change_password: false,
        sessions_valid_from: None,
    };
    let actor = |name: &str| Actor {
        username: name.into(),
        ip: None,
        user_agent: None,
    };
    let demote = UserChange {
        role: Some(Role::Viewer),
        disabled: None,
    };
    for round in 0..10 {
        let (a, b) = (format!("ada{round}"), format!("bea{round}"));
        for name in [&a, &b] {
            s.control.create_user(&admin(name)).await.unwrap();
        }
        let (by_a, by_b) = (actor(&a), actor(&b));
        let (first, second) = tokio::join!(
            change_user(logins, &by_a, &b, &demote),
            change_user(logins, &by_b, &a, &demote),
        );
        let admins = s
            .control
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .filter(|u| (u.username == a || u.username == b) && u.role == Role::Admin)
            .count();
        assert!(
            admins >= 1,
            "round {round}: no admin left ({:?}, {:?})",
            first.map(|_| ()),
            second.map(|_| ())
        );
        assert!(
            first.is_err() || second.is_err(),
            "round {round}: both demotions went through"
        );
        for name in [&a, &b] {
            s.control.delete_user(name).await.unwrap();
        }
    }
}
