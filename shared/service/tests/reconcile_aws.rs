//! Reconcile and the writer on the AWS adapters (DynamoDB, SQS, Secrets Manager) in the local
//! emulator, with the real simulators: the conditional writes (links, claims, conflicts) and
//! the queue are the real ones here.
//!
//! Run through `make test`, or `infra/local-aws/with-emulator.sh cargo nextest run -p
//! sync-service -E 'binary(reconcile_aws)'`. Without `AWS_ENDPOINT_URL` pointing at loopback
//! these fail and say so. Each test creates its own resources under a random prefix.

use chrono::Utc;
use std::sync::Arc;
use sync_service::connections::Connections;
use sync_service::policies::SYNC_POLICY_ID;
use sync_service::reconcile::{InvocationCache, Reconciler};
use sync_service::sync_stores::SyncStores;
use sync_service::writer::{WriteOutcome, Writer, WriterCache};
use sync_store::audit::AuditRetention;
use sync_store::aws::provision::{create_queue, put_secret};
use sync_store::aws::{
    DynamoAuditLog, DynamoConflicts, DynamoControl, DynamoEntries, SecretsManagerSource, SqsQueue,
};
use sync_store::clock::SystemClock;
use sync_store::control::{ControlStore, DocumentKind, ExpectedVersion};
use sync_store::entries::{EntriesStore, EntryStatus};
use sync_store::queue::{KimaiWriteMessage, MessageQueue, SyncReason, TicketSyncMessage};
use sync_store::schema;
use sync_store::secrets::CachedSecrets;
use test_support::aws::{emulator_config, table, unique};
use test_support::datasets::{kimai::acme_two_activities, zammad::printer_jam_two_accountings};
use test_support::pipeline::{TICKET, policy, reconciler, save_connections};
use test_support::sims::{self, ZammadVersion};
use test_support::stores::SECRET_CACHE_TTL;

struct Stack {
    _zammad: zammad_sim::RunningSim,
    kimai: kimai_sim::RunningSim,
    entries: Arc<DynamoEntries>,
    writes: Arc<SqsQueue<KimaiWriteMessage>>,
    reconciler: Reconciler,
    writer: Writer,
}

impl Stack {
    async fn new() -> Stack {
        let config = emulator_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&config);
        let control = Arc::new(DynamoControl::new(
            dynamo.clone(),
            table(&dynamo, &schema::control::TABLE).await,
        ));
        let entries = Arc::new(DynamoEntries::new(
            dynamo.clone(),
            table(&dynamo, &schema::entries::TABLE).await,
        ));
        let conflicts = Arc::new(DynamoConflicts::new(
            dynamo.clone(),
            table(&dynamo, &schema::conflicts::TABLE).await,
        ));
        let audit = Arc::new(DynamoAuditLog::new(
            dynamo.clone(),
            table(&dynamo, &schema::audit::TABLE).await,
            AuditRetention::default(),
        ));
        let sqs = aws_sdk_sqs::Client::new(&config);
        let urls = create_queue(&sqs, &schema::KIMAI_WRITE_QUEUE, &unique("kimai-write"))
            .await
            .expect("create queue");
        let writes = Arc::new(SqsQueue::<KimaiWriteMessage>::new(sqs, urls.url));

        let secrets_admin = aws_sdk_secretsmanager::Client::new(&config);
        let zammad_secret = unique("zammad-token");
        let kimai_secret = unique("kimai-token");
        put_secret(&secrets_admin, &zammad_secret, "zammad-admin-token")
            .await
            .expect("secret");
        put_secret(&secrets_admin, &kimai_secret, "kimai-admin-token")
            .await
            .expect("secret");
        let secrets = Arc::new(CachedSecrets::new(
            SecretsManagerSource::from_config(&config),
            Arc::new(SystemClock),
            SECRET_CACHE_TTL,
        ));

        let zammad = sims::zammad(ZammadVersion::V6_5, printer_jam_two_accountings()).await;
        let kimai = sims::kimai(1, acme_two_activities()).await;
        save_connections(control.as_ref(), &zammad, &kimai).await;
        let now = Utc::now();
        control
            .put_document(
                DocumentKind::Policy,
                SYNC_POLICY_ID,
                &policy(false),
                ExpectedVersion::Any,
                now,
            )
            .await
            .expect("policy");

        let connections = Connections::new(
            control.clone(),
            secrets,
            Some(zammad_secret),
            Some(kimai_secret),
        );
        let (zammad_client, zammad_settings) = connections.zammad().await.expect("zammad");
        let kimai_client = connections.kimai().await.expect("kimai");
        let stores = SyncStores {
            entries: entries.clone(),
            conflicts,
            audit,
            control,
            clock: Arc::new(SystemClock),
            events: Arc::new(sync_service::events::Publisher::new(Arc::new(
                sync_store::memory::MemoryEventBus::new(),
            ))),
        };
        let reconciler = reconciler(
            zammad_client,
            zammad_settings,
            kimai_client.clone(),
            stores.clone(),
            writes.clone(),
        );
        let writer = Writer::new(kimai_client, stores, "aws-test-writer");
        Stack {
            _zammad: zammad,
            kimai,
            entries,
            writes,
            reconciler,
            writer,
        }
    }

    async fn reconcile(&self) -> sync_service::reconcile::ReconcileReport {
        self.reconciler
            .reconcile(
                &InvocationCache::new(),
                &TicketSyncMessage::new(TICKET, SyncReason::Webhook, None),
            )
            .await
            .expect("reconcile")
    }

    /// Receives everything queued and applies it; failures are made visible again at once.
    async fn write_all(&self) -> Vec<Result<WriteOutcome, String>> {
        let cache = WriterCache::new();
        let mut out = Vec::new();
        loop {
            let got = self.writes.receive(10, 1).await.expect("receive");
            if got.is_empty() {
                return out;
            }
            let mut failed = false;
            for m in got {
                match self.writer.apply_body(&cache, &m.message_id, &m.body).await {
                    Ok(o) => {
                        self.writes.delete(&m.receipt).await.expect("delete");
                        out.push(Ok(o));
                    }
                    Err(e) => {
                        self.writes.release(&m.receipt).await.expect("release");
                        out.push(Err(e.to_string()));
                        failed = true;
                    }
                }
            }
            if failed {
                return out;
            }
        }
    }
}

#[tokio::test]
async fn a_ticket_syncs_through_dynamodb_and_sqs_and_a_second_pass_writes_nothing() {
    let s = Stack::new().await;
    let report = s.reconcile().await;
    assert_eq!(report.enqueued, 2, "{report:?}");
    let results = s.write_all().await;
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(WriteOutcome::Created { .. })))
    );
    assert_eq!(s.kimai.admin().timesheets().len(), 2);

    let records = s.entries.load_ticket(TICKET).await.unwrap();
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|r| r.status == EntryStatus::Synced && r.base.is_some())
    );

    let again = s.reconcile().await;
    assert_eq!(again.enqueued, 0, "{again:?}");
    assert!(s.write_all().await.is_empty());
    assert_eq!(s.kimai.admin().call_count("POST /api/timesheets"), 2);
    // Nor any entry record: what DynamoDB gives back compares equal to what the plan wants.
    let unchanged = s.entries.load_ticket(TICKET).await.unwrap();
    for (before, after) in records.iter().zip(&unchanged) {
        assert_eq!(before.key, after.key);
        assert_eq!(
            before.updated_at, after.updated_at,
            "rewritten:\n{before:?}\n{after:?}"
        );
    }
}

#[tokio::test]
async fn a_create_answered_500_is_adopted_through_the_dynamodb_claim() {
    let s = Stack::new().await;
    s.kimai.admin().set_faults(
        "POST /api/timesheets",
        kimai_sim::RouteFaults {
            latency_ms: 0,
            rules: vec![kimai_sim::FaultRule {
                kind: kimai_sim::FaultKind::CommitThen500,
                probability: 1.0,
                times: Some(1),
                skip: 0,
            }],
        },
    );
    s.reconcile().await;
    let first = s.write_all().await;
    assert_eq!(first.iter().filter(|r| r.is_err()).count(), 1, "{first:?}");
    let second = s.write_all().await;
    assert!(
        matches!(second[..], [Ok(WriteOutcome::Adopted { .. })]),
        "{second:?}"
    );
    assert_eq!(s.kimai.admin().timesheets().len(), 2);
    assert_eq!(s.kimai.admin().call_count("POST /api/timesheets"), 2);
}
