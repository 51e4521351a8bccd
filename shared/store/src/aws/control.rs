use super::item::{
    Item, get_json, get_n, get_s, get_time, json, key_of_token, n, names, s, time, token_of,
};
use super::{is_condition_failed, sdk_error};
use crate::control::{
    AccountAttempt, DEAD_LETTER_DAYS, DeadLetterRecord, Lockout, check_document_size,
    next_account_attempt, oldest_dead_letters,
};
use crate::control::{
    CLAIM_RETENTION_DAYS, CallSlot, ClaimOutcome, CompleteOutcome, ConsoleUser, ControlStore,
    DeliveryOutcome, Document, DocumentKind, DocumentWrite, ExpectedVersion, FinishOutcome, Lease,
    LeaseOutcome, OperationId, Outage, PlanTurn, RenewOutcome, RunCounters, RunId, RunState,
    RunTrigger, SyncRun, TICKET_COUNT_RETENTION_DAYS, TicketCount, UserWrite, WatermarkOutcome,
    pace_second, window_start,
};
use crate::control::{ClaimsWrite, DAY_CLAIMS_RETENTION_DAYS, DayClaims};
use crate::env;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::{TTL_ATTRIBUTE, control as schema};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    DeleteRequest, PutRequest, ReturnValue, TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::HashMap;

/// Item kinds of the control table, as (pk, sk). Listable kinds share a partition; the rest
/// get one partition per item, so their conditional writes never contend.
fn doc_key(kind: DocumentKind, id: &str) -> (String, String) {
    (format!("doc#{}", kind.as_str()), id.to_string())
}
const RUNS_PK: &str = "run";
/// `BatchWriteItem` takes at most 25 requests.
const BATCH_WRITE_MAX: usize = 25;
/// Calls per batch before what DynamoDB keeps leaving unprocessed is an error.
const BATCH_WRITE_ROUNDS: u32 = 6;
const WATERMARK_PK: &str = "watermark";
const USERS_PK: &str = "user";
fn lease_key(name: &str) -> (String, String) {
    (format!("lease#{name}"), "lease".into())
}
fn delivery_key(id: &str) -> (String, String) {
    (format!("delivery#{id}"), "delivery".into())
}
fn claim_key(id: &OperationId) -> (String, String) {
    (format!("op#{id}"), "claim".into())
}
fn pace_key(name: &str) -> (String, String) {
    (format!("pace#{name}"), "pace".into())
}
fn outage_key(name: &str) -> (String, String) {
    (format!("outage#{name}"), "outage".into())
}
fn ticket_count_key(run: &RunId, ticket: u64) -> (String, String) {
    (format!("counted#{run}"), ticket.to_string())
}
fn day_claims_key(user: u64, day: NaiveDate) -> (String, String) {
    (format!("slots#{user}#{day}"), "claims".into())
}
fn plan_turn_key(ticket: u64) -> (String, String) {
    (format!("plan#{ticket}"), "turn".into())
}
fn dead_letter_key(queue: &str, message_id: &str) -> (String, String) {
    (format!("deadletter#{queue}"), message_id.to_owned())
}
fn login_account_key(username: &str) -> (String, String) {
    (
        format!("login-account#{}", username.to_lowercase()),
        "account".into(),
    )
}
/// How often a per-account attempt is tried again when another attempt changed the count
/// between the read and the conditional write; past that the attempt is refused (a burst of
/// that many parallel guesses at one account is the attack the lockout is for).
const ACCOUNT_ATTEMPT_TRIES: usize = 8;
fn login_key(subject: &str, window: Duration, now: DateTime<Utc>) -> (String, String) {
    (
        format!("login#{subject}"),
        window_start(window, now).to_string(),
    )
}

const IN_FLIGHT: &str = "in_flight";
const DONE: &str = "done";
/// How many times an outcome is re-read when the item changed between a failed condition and
/// the read (it was deleted or expired in between).
const RECHECKS: usize = 3;

/// The control table in DynamoDB (`pk`, `sk`, TTL on `expires_at`).
#[derive(Clone)]
pub struct DynamoControl {
    client: Client,
    table: String,
}

impl DynamoControl {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoControl {
            client,
            table: table.into(),
        }
    }

    /// Table name from `CONTROL_TABLE`.
    pub fn from_env(config: &aws_config::SdkConfig) -> StoreResult<Self> {
        Ok(Self::new(
            Client::new(config),
            env::required(env::CONTROL_TABLE)?,
        ))
    }

    fn key((pk, sk): (String, String)) -> Item {
        Item::from([
            (schema::PK.name.to_string(), s(pk)),
            (schema::SK.name.to_string(), s(sk)),
        ])
    }

    async fn get_item(&self, key: (String, String)) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("read control item", e))?;
        Ok(out.item)
    }

    async fn delete_item(&self, key: (String, String)) -> StoreResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(key)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error("delete control item", e))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    /// Every item of one partition, in sort-key order.
    /// `BatchWriteItem`, 25 requests a call (DynamoDB's limit), the calls one after another;
    /// what DynamoDB leaves unprocessed (throttled) is sent again after a growing pause.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> StoreResult<()> {
        for chunk in requests.chunks(BATCH_WRITE_MAX) {
            let mut pending = chunk.to_vec();
            let mut round = 0;
            while !pending.is_empty() {
                if round == BATCH_WRITE_ROUNDS {
                    return Err(StoreError::Unavailable(format!(
                        "{} writes to the control table left unprocessed",
                        pending.len()
                    )));
                }
                if round > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << round)).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| sdk_error("batch write control table", e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut left| left.remove(&self.table))
                    .unwrap_or_default();
                round += 1;
            }
        }
        Ok(())
    }

    async fn query_all(&self, pk: &str) -> StoreResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", schema::PK.name)
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("query control table", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(items),
            }
        }
    }
}

fn document_of(kind: DocumentKind, item: &Item) -> StoreResult<Document> {
    Ok(Document {
        kind,
        id: get_s(item, schema::SK.name)?.to_string(),
        body: get_json(item, "body")?,
        version: get_n(item, "version")?,
        updated_at: get_time(item, "updated_at")?,
    })
}

fn run_of(item: &Item) -> StoreResult<SyncRun> {
    let state = get_s(item, "state")?;
    let trigger: RunTrigger = serde_json::from_value(get_s(item, "trigger")?.into())
        .map_err(|e| StoreError::corrupt(format!("run trigger: {e}")))?;
    let mut counters = RunCounters::default();
    for (field, _) in RunCounters::default().fields() {
        // A counter added after the run was written (e.g. `adopted`) is absent: it is 0.
        if item.contains_key(field) {
            counters.set(field, get_n(item, field)?);
        }
    }
    Ok(SyncRun {
        id: RunId(get_s(item, schema::SK.name)?.to_string()),
        trigger,
        params: get_json(item, "params")?,
        state: RunState::parse(state)
            .ok_or_else(|| StoreError::corrupt(format!("run state {state}")))?,
        started_at: get_time(item, "started_at")?,
        finished_at: if item.contains_key("finished_at") {
            Some(get_time(item, "finished_at")?)
        } else {
            None
        },
        counters,
    })
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn at_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn from_millis(item: &Item, name: &str) -> StoreResult<DateTime<Utc>> {
    let ms: i64 = get_n(item, name)?;
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::corrupt(format!("{name} {ms}")))
}

#[async_trait]
impl ControlStore for DynamoControl {
    async fn get_document(&self, kind: DocumentKind, id: &str) -> StoreResult<Option<Document>> {
        self.get_item(doc_key(kind, id))
            .await?
            .map(|i| document_of(kind, &i))
            .transpose()
    }

    async fn put_document(
        &self,
        kind: DocumentKind,
        id: &str,
        body: &serde_json::Value,
        expected: ExpectedVersion,
        at: DateTime<Utc>,
    ) -> StoreResult<DocumentWrite> {
        check_document_size(kind, id, body)?;
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(doc_key(kind, id))))
            .update_expression("SET #body = :body, #updated_at = :at ADD #version :one")
            .expression_attribute_values(":body", json(body))
            .expression_attribute_values(":at", s(time(at)))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew);
        let request = match expected {
            ExpectedVersion::Any => request.set_expression_attribute_names(Some(names(&[
                "body",
                "updated_at",
                "version",
            ]))),
            ExpectedVersion::New => request
                .condition_expression("attribute_not_exists(#pk)")
                .set_expression_attribute_names(Some(names(&[
                    "body",
                    "updated_at",
                    "version",
                    "pk",
                ]))),
            ExpectedVersion::Version(v) => request
                .condition_expression("#version = :expected")
                .expression_attribute_values(":expected", n(v))
                .set_expression_attribute_names(Some(names(&["body", "updated_at", "version"]))),
        };
        match request.send().await {
            Ok(out) => {
                let attrs = out.attributes.unwrap_or_default();
                Ok(DocumentWrite::Written {
                    version: get_n(&attrs, "version")?,
                })
            }
            Err(e) if is_condition_failed(&e) => {
                let current = self.get_document(kind, id).await?.map(|d| d.version);
                Ok(DocumentWrite::VersionConflict { current })
            }
            Err(e) => Err(sdk_error("put document", e)),
        }
    }

    async fn list_documents(&self, kind: DocumentKind) -> StoreResult<Vec<Document>> {
        let (pk, _) = doc_key(kind, "");
        self.query_all(&pk)
            .await?
            .iter()
            .map(|i| document_of(kind, i))
            .collect()
    }

    async fn delete_document(&self, kind: DocumentKind, id: &str) -> StoreResult<bool> {
        self.delete_item(doc_key(kind, id)).await
    }

    async fn put_documents(
        &self,
        kind: DocumentKind,
        documents: &[(String, serde_json::Value)],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut requests = Vec::with_capacity(documents.len());
        for (id, body) in documents {
            check_document_size(kind, id, body)?;
            let mut item = Self::key(doc_key(kind, id));
            item.insert("body".into(), json(body));
            item.insert("version".into(), n(1));
            item.insert("updated_at".into(), s(time(at)));
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        self.batch_write(requests).await
    }

    async fn delete_documents(&self, kind: DocumentKind, ids: &[String]) -> StoreResult<()> {
        let mut requests = Vec::with_capacity(ids.len());
        for id in ids {
            let delete = DeleteRequest::builder()
                .set_key(Some(Self::key(doc_key(kind, id))))
                .build()
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }
        self.batch_write(requests).await
    }

    async fn create_run(
        &self,
        trigger: RunTrigger,
        params: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<SyncRun> {
        let run = SyncRun {
            id: RunId::generate(at),
            trigger,
            params: params.clone(),
            state: RunState::Running,
            started_at: at,
            finished_at: None,
            counters: RunCounters::default(),
        };
        let trigger = serde_json::to_value(trigger).expect("enum serialises");
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK.name, s(RUNS_PK))
            .item(schema::SK.name, s(&run.id.0))
            .item("trigger", s(trigger.as_str().unwrap_or_default()))
            .item("params", json(params))
            .item("state", s(run.state.as_str()))
            .item("started_at", s(time(at)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", schema::PK.name);
        for (field, value) in run.counters.fields() {
            request = request.item(field, n(value));
        }
        match request.send().await {
            Ok(_) => Ok(run),
            // Ids carry 32 random bits; a collision is not worth a typed outcome.
            Err(e) if is_condition_failed(&e) => Err(StoreError::Unavailable(format!(
                "run id {} collided, retry",
                run.id
            ))),
            Err(e) => Err(sdk_error("create run", e)),
        }
    }

    async fn get_run(&self, id: &RunId) -> StoreResult<Option<SyncRun>> {
        self.get_item((RUNS_PK.into(), id.0.clone()))
            .await?
            .as_ref()
            .map(run_of)
            .transpose()
    }

    async fn add_to_run(&self, id: &RunId, delta: &RunCounters) -> StoreResult<bool> {
        let Some(add) = CountersAdd::of(delta) else {
            return Ok(self.get_run(id).await?.is_some());
        };
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key((RUNS_PK.into(), id.0.clone()))))
            .update_expression(add.expression)
            .condition_expression("attribute_exists(#pk)")
            .set_expression_attribute_names(Some(add.names))
            .set_expression_attribute_values(Some(add.values));
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error("add to run counters", e)),
        }
    }

    async fn count_ticket(
        &self,
        id: &RunId,
        ticket: u64,
        delta: &RunCounters,
        now: DateTime<Utc>,
    ) -> StoreResult<TicketCount> {
        let invalid = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Invalid(e.to_string());
        // The note: written only if absent (or expired, as TTL deletion lags).
        let note = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(ticket_count_key(id, ticket))))
            .update_expression("SET #expires_at = :expires_at")
            .condition_expression("attribute_not_exists(#pk) OR #expires_at <= :now")
            .set_expression_attribute_names(Some(names(&["pk", "expires_at"])))
            .expression_attribute_values(
                ":expires_at",
                n((now + Duration::days(TICKET_COUNT_RETENTION_DAYS)).timestamp()),
            )
            .expression_attribute_values(":now", n(now.timestamp()))
            .build()
            .map_err(invalid)?;
        // The increment, as add_to_run does it; with nothing to add, only the run must exist.
        let counters = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key((RUNS_PK.into(), id.0.clone()))))
            .condition_expression("attribute_exists(#pk)");
        let counters = match CountersAdd::of(delta) {
            Some(add) => counters
                .update_expression(add.expression)
                .set_expression_attribute_names(Some(add.names))
                .set_expression_attribute_values(Some(add.values)),
            None => counters
                .update_expression("SET #pk = #pk")
                .set_expression_attribute_names(Some(names(&["pk"]))),
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(note).build())
            .transact_items(
                TransactWriteItem::builder()
                    .update(counters.build().map_err(invalid)?)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(TicketCount::Counted),
            Err(e) => match cancelled_by_condition(&e) {
                // The run is the second item; a missing run is the answer even if the ticket
                // was noted too.
                Some([_, true]) => Ok(TicketCount::NoRun),
                Some([true, false]) => Ok(TicketCount::AlreadyCounted),
                _ => Err(sdk_error("count a ticket in its run", e)),
            },
        }
    }

    async fn finish_run(
        &self,
        id: &RunId,
        state: RunState,
        at: DateTime<Utc>,
    ) -> StoreResult<FinishOutcome> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key((RUNS_PK.into(), id.0.clone()))))
            .update_expression("SET #state = :state, #finished_at = :at")
            .condition_expression("#state = :running")
            .set_expression_attribute_names(Some(names(&["state", "finished_at"])))
            .expression_attribute_values(":state", s(state.as_str()))
            .expression_attribute_values(":running", s(RunState::Running.as_str()))
            .expression_attribute_values(":at", s(time(at)))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(FinishOutcome::Finished(run_of(
                &out.attributes.unwrap_or_default(),
            )?)),
            Err(e) if is_condition_failed(&e) => match self.get_run(id).await? {
                None => Ok(FinishOutcome::NotFound),
                Some(run) => Ok(FinishOutcome::AlreadyFinished(run)),
            },
            Err(e) => Err(sdk_error("finish run", e)),
        }
    }

    async fn list_runs(&self, page: &PageRequest) -> StoreResult<Page<SyncRun>> {
        let limit = page.checked_limit()?;
        let start = page.after.as_ref().map(key_of_token).transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", schema::PK.name)
            .expression_attribute_values(":pk", s(RUNS_PK))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("list runs", e))?;
        let items = out
            .items()
            .iter()
            .map(run_of)
            .collect::<StoreResult<Vec<_>>>()?;
        let next = out
            .last_evaluated_key()
            .map(|k| token_of(&k.clone()))
            .transpose()?;
        Ok(Page { items, next })
    }

    async fn get_watermark(&self, name: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let item = self.get_item((WATERMARK_PK.into(), name.into())).await?;
        item.map(|i| get_time(&i, "at")).transpose()
    }

    async fn advance_watermark(
        &self,
        name: &str,
        to: DateTime<Utc>,
    ) -> StoreResult<WatermarkOutcome> {
        // Fixed-width UTC strings compare like the times they spell.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK.name, s(WATERMARK_PK))
            .item(schema::SK.name, s(name))
            .item("at", s(time(to)))
            .condition_expression("attribute_not_exists(#pk) OR #at < :to")
            .set_expression_attribute_names(Some(names(&["pk", "at"])))
            .expression_attribute_values(":to", s(time(to)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(WatermarkOutcome::Advanced),
            Err(e) if is_condition_failed(&e) => match self.get_watermark(name).await? {
                Some(current) => Ok(WatermarkOutcome::NotNewer { current }),
                None => Err(StoreError::Unavailable(format!(
                    "watermark {name} vanished, retry"
                ))),
            },
            Err(e) => Err(sdk_error("advance watermark", e)),
        }
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<LeaseOutcome> {
        let expires_at = now + ttl;
        for _ in 0..RECHECKS {
            let (pk, sk) = lease_key(name);
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .item(schema::PK.name, s(pk))
                .item(schema::SK.name, s(sk))
                .item("holder", s(holder))
                .item("lease_until", n(millis(expires_at)))
                // Leftovers of crashed holders are cleaned up a day after they lapse.
                .item(
                    TTL_ATTRIBUTE,
                    n((expires_at + Duration::days(1)).timestamp()),
                )
                .condition_expression(
                    "attribute_not_exists(#pk) OR #lease_until <= :now OR #holder = :holder",
                )
                .set_expression_attribute_names(Some(names(&["pk", "lease_until", "holder"])))
                .expression_attribute_values(":now", n(millis(now)))
                .expression_attribute_values(":holder", s(holder))
                .send()
                .await;
            match result {
                Ok(_) => {
                    return Ok(LeaseOutcome::Acquired(Lease {
                        name: name.to_string(),
                        holder: holder.to_string(),
                        expires_at,
                    }));
                }
                Err(e) if is_condition_failed(&e) => {
                    if let Some(item) = self.get_item(lease_key(name)).await? {
                        return Ok(LeaseOutcome::Held {
                            holder: get_s(&item, "holder")?.to_string(),
                            expires_at: from_millis(&item, "lease_until")?,
                        });
                    }
                    // Released between our write and our read: try again.
                }
                Err(e) => return Err(sdk_error("acquire lease", e)),
            }
        }
        Err(StoreError::Unavailable(format!(
            "lease {name} keeps changing, retry"
        )))
    }

    async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<RenewOutcome> {
        let expires_at = now + ttl;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(lease_key(&lease.name))))
            .update_expression("SET #lease_until = :until, #expires_at = :ttl")
            .condition_expression("#holder = :holder")
            .set_expression_attribute_names(Some(names(&["lease_until", "expires_at", "holder"])))
            .expression_attribute_values(":until", n(millis(expires_at)))
            .expression_attribute_values(":ttl", n((expires_at + Duration::days(1)).timestamp()))
            .expression_attribute_values(":holder", s(&lease.holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(RenewOutcome::Renewed(Lease {
                expires_at,
                ..lease.clone()
            })),
            Err(e) if is_condition_failed(&e) => Ok(RenewOutcome::Lost),
            Err(e) => Err(sdk_error("renew lease", e)),
        }
    }

    async fn release_lease(&self, lease: &Lease) -> StoreResult<bool> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(lease_key(&lease.name))))
            .condition_expression("#holder = :holder")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_values(":holder", s(&lease.holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error("release lease", e)),
        }
    }

    async fn record_delivery(
        &self,
        delivery_id: &str,
        keep_for: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<DeliveryOutcome> {
        let (pk, sk) = delivery_key(delivery_id);
        // TTL deletion lags by up to days on AWS: an expired item that is still there counts
        // as absent.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK.name, s(pk))
            .item(schema::SK.name, s(sk))
            .item("seen_at", s(time(now)))
            .item(TTL_ATTRIBUTE, n((now + keep_for).timestamp()))
            .condition_expression("attribute_not_exists(#pk) OR #expires_at <= :now")
            .set_expression_attribute_names(Some(names(&["pk", "expires_at"])))
            .expression_attribute_values(":now", n(now.timestamp()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(DeliveryOutcome::First),
            Err(e) if is_condition_failed(&e) => Ok(DeliveryOutcome::Duplicate),
            Err(e) => Err(sdk_error("record delivery", e)),
        }
    }

    async fn claim_operation(
        &self,
        id: &OperationId,
        holder: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<ClaimOutcome> {
        let lease_until = now + lease;
        for _ in 0..RECHECKS {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Self::key(claim_key(id))))
                .update_expression(
                    "SET #state = :in_flight, #holder = :holder, #lease_until = :until, \
                     #expires_at = :ttl ADD #attempt :one",
                )
                .condition_expression(
                    "attribute_not_exists(#pk) OR (#state = :in_flight AND #lease_until <= :now)",
                )
                .set_expression_attribute_names(Some(names(&[
                    "state",
                    "holder",
                    "lease_until",
                    "expires_at",
                    "attempt",
                    "pk",
                ])))
                .expression_attribute_values(":in_flight", s(IN_FLIGHT))
                .expression_attribute_values(":holder", s(holder))
                .expression_attribute_values(":until", n(millis(lease_until)))
                .expression_attribute_values(
                    ":ttl",
                    n((now + Duration::days(CLAIM_RETENTION_DAYS)).timestamp()),
                )
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(millis(now)))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match result {
                Ok(out) => {
                    let attrs = out.attributes.unwrap_or_default();
                    return Ok(ClaimOutcome::Claimed {
                        attempt: get_n(&attrs, "attempt")?,
                        lease_until,
                    });
                }
                Err(e) if is_condition_failed(&e) => {
                    if let Some(item) = self.get_item(claim_key(id)).await? {
                        return match get_s(&item, "state")? {
                            DONE => Ok(ClaimOutcome::Done {
                                result: get_json(&item, "result")?,
                            }),
                            _ => Ok(ClaimOutcome::InFlight {
                                holder: get_s(&item, "holder")?.to_string(),
                                lease_until: from_millis(&item, "lease_until")?,
                            }),
                        };
                    }
                }
                Err(e) => return Err(sdk_error("claim operation", e)),
            }
        }
        Err(StoreError::Unavailable(format!(
            "claim of {id} keeps changing, retry"
        )))
    }

    async fn complete_operation(
        &self,
        id: &OperationId,
        holder: &str,
        result: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> StoreResult<CompleteOutcome> {
        let outcome = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(claim_key(id))))
            .update_expression(
                "SET #state = :done, #result = :result, #completed_at = :at, #expires_at = :ttl",
            )
            .condition_expression("#state = :in_flight AND #holder = :holder")
            .set_expression_attribute_names(Some(names(&[
                "state",
                "result",
                "completed_at",
                "expires_at",
                "holder",
            ])))
            .expression_attribute_values(":done", s(DONE))
            .expression_attribute_values(":in_flight", s(IN_FLIGHT))
            .expression_attribute_values(":holder", s(holder))
            .expression_attribute_values(":result", json(result))
            .expression_attribute_values(":at", s(time(now)))
            .expression_attribute_values(
                ":ttl",
                n((now + Duration::days(CLAIM_RETENTION_DAYS)).timestamp()),
            )
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(CompleteOutcome::Completed),
            Err(e) if is_condition_failed(&e) => Ok(CompleteOutcome::NotHolder),
            Err(e) => Err(sdk_error("complete operation", e)),
        }
    }

    async fn release_operation(
        &self,
        id: &OperationId,
        holder: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let outcome = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(claim_key(id))))
            .update_expression("SET #lease_until = :now")
            .condition_expression("#state = :in_flight AND #holder = :holder")
            .set_expression_attribute_names(Some(names(&["lease_until", "state", "holder"])))
            .expression_attribute_values(":now", n(millis(now)))
            .expression_attribute_values(":in_flight", s(IN_FLIGHT))
            .expression_attribute_values(":holder", s(holder))
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error("release operation", e)),
        }
    }

    async fn create_user(&self, user: &ConsoleUser) -> StoreResult<UserWrite> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK.name, s(USERS_PK))
            .item(schema::SK.name, s(&user.username))
            .item("user", json(user))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", schema::PK.name)
            .send()
            .await;
        match result {
            Ok(_) => Ok(UserWrite::Written),
            Err(e) if is_condition_failed(&e) => Ok(UserWrite::AlreadyExists),
            Err(e) => Err(sdk_error("create user", e)),
        }
    }

    async fn update_user(&self, user: &ConsoleUser) -> StoreResult<bool> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK.name, s(USERS_PK))
            .item(schema::SK.name, s(&user.username))
            .item("user", json(user))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", schema::PK.name)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error("update user", e)),
        }
    }

    async fn get_user(&self, username: &str) -> StoreResult<Option<ConsoleUser>> {
        let item = self.get_item((USERS_PK.into(), username.into())).await?;
        item.map(|i| get_json(&i, "user")).transpose()
    }

    async fn list_users(&self) -> StoreResult<Vec<ConsoleUser>> {
        self.query_all(USERS_PK)
            .await?
            .iter()
            .map(|i| get_json(i, "user"))
            .collect()
    }

    async fn delete_user(&self, username: &str) -> StoreResult<bool> {
        self.delete_item((USERS_PK.into(), username.into())).await
    }

    async fn take_login_attempt(
        &self,
        subject: &str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<u32>> {
        let window_end = window_start(window, now) + window.num_seconds().max(1);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(login_key(subject, window, now))))
            .update_expression("ADD #failures :one SET #expires_at = :ttl")
            .condition_expression("attribute_not_exists(#failures) OR #failures < :max")
            .set_expression_attribute_names(Some(names(&["failures", "expires_at"])))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(i64::from(max)))
            .expression_attribute_values(":ttl", n(window_end))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match out {
            Ok(out) => get_n(&out.attributes.unwrap_or_default(), "failures").map(Some),
            Err(e) if is_condition_failed(&e) => Ok(None),
            Err(e) => Err(sdk_error("take a login attempt", e)),
        }
    }

    /// Read, decide ([`next_account_attempt`]), then write on the condition that the count is
    /// still the one read: of parallel attempts exactly one wins each count, and the lock is
    /// written with the count that reaches it.
    async fn put_dead_letter(&self, record: &DeadLetterRecord) -> StoreResult<()> {
        let (pk, sk) = dead_letter_key(&record.queue, &record.message_id);
        let expires = record.failed_at + Duration::days(DEAD_LETTER_DAYS);
        self.client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK.name, s(pk))
            .item(schema::SK.name, s(sk))
            .item("record", json(record))
            .item(TTL_ATTRIBUTE, n(expires.timestamp()))
            .send()
            .await
            .map_err(|e| sdk_error("put dead letter", e))?;
        Ok(())
    }

    /// All of the queue's records, sorted here: a DLQ holds at most what failed in its 14 days
    /// of retention, and an outage that fails thousands is a page to read once.
    async fn dead_letters(&self, queue: &str, limit: usize) -> StoreResult<Vec<DeadLetterRecord>> {
        let records = self
            .query_all(&format!("deadletter#{queue}"))
            .await?
            .iter()
            .map(|item| get_json::<DeadLetterRecord>(item, "record"))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(oldest_dead_letters(records, limit))
    }

    async fn delete_dead_letter(&self, queue: &str, message_id: &str) -> StoreResult<bool> {
        self.delete_item(dead_letter_key(queue, message_id)).await
    }

    async fn take_account_attempt(
        &self,
        username: &str,
        lockout: &Lockout,
        now: DateTime<Utc>,
    ) -> StoreResult<AccountAttempt> {
        let key = login_account_key(username);
        for _ in 0..ACCOUNT_ATTEMPT_TRIES {
            let item = self.get_item(key.clone()).await?;
            let (seen, locked_until) = match &item {
                Some(item) => (
                    get_n::<u32>(item, "attempts")?,
                    DateTime::from_timestamp(get_n::<i64>(item, "locked_until")?, 0)
                        .filter(|t| t.timestamp() > 0),
                ),
                None => (0, None),
            };
            let (attempts, lock) = match next_account_attempt(lockout, seen, locked_until, now) {
                Ok(next) => next,
                Err(until) => return Ok(AccountAttempt::Locked { until }),
            };
            let locked_until = lock.map_or(0, |t| t.timestamp());
            let forget_at = (lock.unwrap_or(now) + Duration::days(1)).timestamp();
            let condition = if item.is_some() {
                "#attempts = :seen"
            } else {
                "attribute_not_exists(#attempts)"
            };
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Self::key(key.clone())))
                .update_expression(
                    "SET #attempts = :attempts, #locked_until = :locked_until, #expires_at = :ttl",
                )
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names(&[
                    "attempts",
                    "locked_until",
                    "expires_at",
                ])))
                .expression_attribute_values(":attempts", n(attempts))
                .expression_attribute_values(":locked_until", n(locked_until))
                .expression_attribute_values(":ttl", n(forget_at));
            if item.is_some() {
                update = update.expression_attribute_values(":seen", n(seen));
            }
            match update.send().await {
                Ok(_) => return Ok(AccountAttempt::Granted { attempts }),
                Err(e) if is_condition_failed(&e) => continue,
                Err(e) => return Err(sdk_error("take an account's login attempt", e)),
            }
        }
        // Lost every race: refuse this one for a second rather than let it past the count.
        Ok(AccountAttempt::Locked {
            until: now + Duration::seconds(1),
        })
    }

    async fn clear_account_attempts(&self, username: &str) -> StoreResult<()> {
        self.delete_item(login_account_key(username))
            .await
            .map(|_| ())
    }

    async fn login_failures(
        &self,
        subject: &str,
        window: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<u32> {
        match self.get_item(login_key(subject, window, now)).await? {
            Some(item) => get_n(&item, "failures"),
            None => Ok(0),
        }
    }

    async fn clear_login_failures(
        &self,
        subject: &str,
        window: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.delete_item(login_key(subject, window, now))
            .await
            .map(|_| ())
    }

    /// One item per connection: the second being counted, its calls, and the pause. Two
    /// conditional writes decide: count one more call in the current second, or start a new
    /// second. When both are refused, the item says when a slot frees up.
    async fn take_call_slot(
        &self,
        name: &str,
        per_second: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<CallSlot> {
        const NOT_PAUSED: &str = "(attribute_not_exists(#paused_until) OR #paused_until <= :now)";
        let (second, next_ms) = pace_second(now);
        let ttl = (now + Duration::days(1)).timestamp();
        let attempts = [
            (
                "SET #calls = #calls + :one, #expires_at = :ttl",
                format!("#second = :second AND #calls < :max AND {NOT_PAUSED}"),
            ),
            (
                "SET #second = :second, #calls = :one, #expires_at = :ttl",
                format!("(attribute_not_exists(#second) OR #second < :second) AND {NOT_PAUSED}"),
            ),
        ];
        // DynamoDB refuses a value the expressions do not use: `:max` only for the first.
        let values = |condition: &str| {
            let mut v = HashMap::from([
                (":second".to_string(), n(second)),
                (":one".to_string(), n(1)),
                (":now".to_string(), n(millis(now))),
                (":ttl".to_string(), n(ttl)),
            ]);
            if condition.contains(":max") {
                v.insert(":max".to_string(), n(per_second));
            }
            v
        };
        for _ in 0..RECHECKS {
            for (update, condition) in &attempts {
                let result = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(Self::key(pace_key(name))))
                    .update_expression(*update)
                    .condition_expression(condition)
                    .set_expression_attribute_names(Some(names(&[
                        "second",
                        "calls",
                        "paused_until",
                        "expires_at",
                    ])))
                    .set_expression_attribute_values(Some(values(condition)))
                    .send()
                    .await;
                match result {
                    Ok(_) => return Ok(CallSlot::Taken),
                    Err(e) if is_condition_failed(&e) => continue,
                    Err(e) => return Err(sdk_error("take call slot", e)),
                }
            }
            // Both refused: the second is full (or another instance's clock is ahead), or a
            // pause runs. Read which, and when it ends.
            let Some(item) = self.get_item(pace_key(name)).await? else {
                continue;
            };
            let paused_until: i64 = get_n(&item, "paused_until").unwrap_or(0);
            if paused_until > millis(now) {
                return Ok(CallSlot::FreeAt(at_millis(paused_until)));
            }
            let counted: i64 = get_n(&item, "second").unwrap_or(0);
            let calls: u32 = get_n(&item, "calls").unwrap_or(0);
            if counted > second || (counted == second && calls >= per_second) {
                return Ok(CallSlot::FreeAt(at_millis(
                    next_ms.max((counted + 1) * 1000),
                )));
            }
            // Changed between the writes and the read: try again.
        }
        Err(StoreError::Unavailable(format!(
            "call pace {name} keeps changing, retry"
        )))
    }

    async fn record_outage(&self, name: &str, at: DateTime<Utc>, detail: &str) -> StoreResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(outage_key(name))))
            .update_expression(
                "SET #since = if_not_exists(#since, :at), #last_failure = :at, #detail = :detail \
                 ADD #failures :one",
            )
            .set_expression_attribute_names(Some(names(&[
                "since",
                "last_failure",
                "detail",
                "failures",
            ])))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":at", n(millis(at)))
            .expression_attribute_values(":detail", s(detail))
            .send()
            .await
            .map_err(|e| sdk_error("record outage", e))?;
        Ok(())
    }

    async fn get_outage(&self, name: &str) -> StoreResult<Option<Outage>> {
        let Some(item) = self.get_item(outage_key(name)).await? else {
            return Ok(None);
        };
        Ok(Some(Outage {
            since: from_millis(&item, "since")?,
            last_failure: from_millis(&item, "last_failure")?,
            detail: get_s(&item, "detail")?.to_string(),
            failures: get_n(&item, "failures").unwrap_or(1),
        }))
    }

    async fn end_outage(&self, name: &str) -> StoreResult<bool> {
        self.delete_item(outage_key(name)).await
    }

    async fn pause_calls(&self, name: &str, until: DateTime<Utc>) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pace_key(name))))
            .update_expression("SET #paused_until = :until, #expires_at = :ttl")
            .condition_expression("attribute_not_exists(#paused_until) OR #paused_until < :until")
            .set_expression_attribute_names(Some(names(&["paused_until", "expires_at"])))
            .expression_attribute_values(":until", n(millis(until)))
            .expression_attribute_values(":ttl", n((until + Duration::days(1)).timestamp()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A longer pause is recorded already.
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error("pause calls", e)),
        }
    }

    /// One item per ticket: the read time of the last plan that took a turn, and the holder
    /// with its lease. One conditional write takes the turn; a refusal reads the item to say
    /// why.
    async fn take_plan_turn(
        &self,
        ticket: u64,
        read_at: DateTime<Utc>,
        holder: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<PlanTurn> {
        let until = now + ttl;
        for _ in 0..RECHECKS {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Self::key(plan_turn_key(ticket))))
                .update_expression(
                    "SET #read_at = :read_at, #holder = :holder, #lease_until = :until, \
                     #expires_at = :ttl",
                )
                .condition_expression(
                    "(attribute_not_exists(#read_at) OR #read_at <= :read_at) AND \
                     (attribute_not_exists(#holder) OR #lease_until <= :now OR #holder = :holder)",
                )
                .set_expression_attribute_names(Some(names(&[
                    "read_at",
                    "holder",
                    "lease_until",
                    "expires_at",
                ])))
                .expression_attribute_values(":read_at", n(millis(read_at)))
                .expression_attribute_values(":holder", s(holder))
                .expression_attribute_values(":until", n(millis(until)))
                .expression_attribute_values(":now", n(millis(now)))
                // Plans run for minutes at most: a day later nothing older can come.
                .expression_attribute_values(":ttl", n((until + Duration::days(1)).timestamp()))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(PlanTurn::Ours),
                Err(e) if is_condition_failed(&e) => {}
                Err(e) => return Err(sdk_error("take plan turn", e)),
            }
            let Some(item) = self.get_item(plan_turn_key(ticket)).await? else {
                continue;
            };
            let newer: i64 = get_n(&item, "read_at")?;
            if newer > millis(read_at) {
                return Ok(PlanTurn::Stale {
                    newer: at_millis(newer),
                });
            }
            if item.contains_key("holder") {
                let until: i64 = get_n(&item, "lease_until")?;
                if until > millis(now) {
                    return Ok(PlanTurn::Busy {
                        until: at_millis(until),
                    });
                }
            }
            // Given back or lapsed between the write and the read: try again.
        }
        Err(StoreError::Unavailable(format!(
            "plan turn of ticket {ticket} keeps changing, retry"
        )))
    }

    async fn day_claims(&self, user: u64, day: NaiveDate) -> StoreResult<DayClaims> {
        let Some(item) = self.get_item(day_claims_key(user, day)).await? else {
            return Ok(DayClaims::default());
        };
        Ok(DayClaims {
            version: get_n(&item, "version")?,
            claims: get_json(&item, "claims")?,
        })
    }

    async fn put_day_claims(
        &self,
        user: u64,
        day: NaiveDate,
        claims: &DayClaims,
    ) -> StoreResult<ClaimsWrite> {
        let (pk, sk) = day_claims_key(user, day);
        let expires = day.and_time(chrono::NaiveTime::MIN).and_utc()
            + Duration::days(DAY_CLAIMS_RETENTION_DAYS);
        let condition = if claims.version == 0 {
            "attribute_not_exists(#pk)"
        } else {
            "#version = :version"
        };
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK.name, s(pk))
            .item(schema::SK.name, s(sk))
            .item("version", n(claims.version + 1))
            .item("claims", json(&claims.claims))
            .item(TTL_ATTRIBUTE, n(expires.timestamp()))
            .condition_expression(condition);
        request = if claims.version == 0 {
            request.set_expression_attribute_names(Some(names(&["pk"])))
        } else {
            request
                .set_expression_attribute_names(Some(names(&["version"])))
                .expression_attribute_values(":version", n(claims.version))
        };
        match request.send().await {
            Ok(_) => Ok(ClaimsWrite::Written),
            Err(e) if is_condition_failed(&e) => Ok(ClaimsWrite::Changed),
            Err(e) => Err(sdk_error("put day claims", e)),
        }
    }

    async fn end_plan_turn(&self, ticket: u64, holder: &str) -> StoreResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(plan_turn_key(ticket))))
            .update_expression("REMOVE #holder, #lease_until")
            .condition_expression("#holder = :holder")
            .set_expression_attribute_names(Some(names(&["holder", "lease_until"])))
            .expression_attribute_values(":holder", s(holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error("end plan turn", e)),
        }
    }
}

/// The `ADD` of the counters a delta changes, applied atomically by DynamoDB, so concurrent
/// workers never lose an increment. Its names hold `pk` too, for the run-exists condition.
struct CountersAdd {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
}

impl CountersAdd {
    /// `None` when the delta changes nothing.
    fn of(delta: &RunCounters) -> Option<CountersAdd> {
        let changed: Vec<(&str, u64)> =
            delta.fields().into_iter().filter(|(_, v)| *v > 0).collect();
        if changed.is_empty() {
            return None;
        }
        let add = changed
            .iter()
            .map(|(f, _)| format!("#{f} :{f}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut attr_names: Vec<&str> = changed.iter().map(|(f, _)| *f).collect();
        attr_names.push("pk");
        Some(CountersAdd {
            expression: format!("ADD {add}"),
            names: names(&attr_names),
            values: changed
                .iter()
                .map(|(f, v)| (format!(":{f}"), n(*v)))
                .collect(),
        })
    }
}

/// For a transaction cancelled because conditions failed: which of its two items' conditions
/// failed. `None` for any other failure (throttling, a conflict with another transaction).
fn cancelled_by_condition<R>(
    err: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, R>,
) -> Option<[bool; 2]> {
    let aws_sdk_dynamodb::error::SdkError::ServiceError(service) = err else {
        return None;
    };
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = service.err() else {
        return None;
    };
    let reasons = cancelled.cancellation_reasons();
    let failed = |i: usize| {
        reasons
            .get(i)
            .and_then(|r| r.code())
            .is_some_and(|code| code == "ConditionalCheckFailed")
    };
    let codes = [failed(0), failed(1)];
    let only_conditions = reasons.iter().all(|r| {
        matches!(
            r.code(),
            None | Some("None") | Some("ConditionalCheckFailed")
        )
    });
    (only_conditions && codes.iter().any(|&c| c)).then_some(codes)
}
