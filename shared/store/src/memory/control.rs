use crate::control::{
    AccountAttempt, DeadLetterRecord, Lockout, check_document_size, next_account_attempt,
    oldest_dead_letters,
};
use crate::control::{
    CallSlot, ClaimOutcome, CompleteOutcome, ConsoleUser, ControlStore, DeliveryOutcome, Document,
    DocumentKind, DocumentWrite, ExpectedVersion, FinishOutcome, Lease, LeaseOutcome, OperationId,
    Outage, PlanTurn, RenewOutcome, RunCounters, RunId, RunState, RunTrigger, SyncRun, TicketCount,
    UserWrite, WatermarkOutcome, pace_second, window_start,
};
use crate::control::{ClaimsWrite, DayClaims};
use crate::error::StoreResult;
use crate::memory::page_of;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Debug, Clone)]
enum ClaimState {
    InFlight {
        holder: String,
        lease_until: DateTime<Utc>,
        attempt: u32,
    },
    Done {
        result: serde_json::Value,
    },
}

#[derive(Default)]
struct State {
    documents: BTreeMap<(&'static str, String), Document>,
    runs: BTreeMap<RunId, SyncRun>,
    watermarks: HashMap<String, DateTime<Utc>>,
    leases: HashMap<String, Lease>,
    deliveries: HashMap<String, DateTime<Utc>>,
    claims: HashMap<OperationId, ClaimState>,
    users: BTreeMap<String, ConsoleUser>,
    login_failures: HashMap<(String, i64), u32>,
    /// Per account: attempts since the last success, and the lock.
    login_accounts: HashMap<String, (u32, Option<DateTime<Utc>>)>,
    /// Dead-letter records by (queue, message id).
    dead_letters: BTreeMap<(String, String), DeadLetterRecord>,
    paces: HashMap<String, Pace>,
    outages: HashMap<String, Outage>,
    plan_turns: HashMap<u64, Turn>,
    /// (run, ticket) pairs already counted (the memory store keeps them for its lifetime).
    counted_tickets: std::collections::HashSet<(RunId, u64)>,
    day_claims: HashMap<(u64, chrono::NaiveDate), DayClaims>,
}

/// A ticket's plan turn: the last read time that took it, and who holds it until when.
struct Turn {
    read_at: DateTime<Utc>,
    holder: Option<(String, DateTime<Utc>)>,
}

/// One upstream's call pace: the calls started in `second`, and a pause.
#[derive(Debug, Default)]
struct Pace {
    second: i64,
    calls: u32,
    paused_until: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct MemoryControl {
    state: Mutex<State>,
}

impl MemoryControl {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("control lock poisoned")
    }
}

#[async_trait]
impl ControlStore for MemoryControl {
    async fn get_document(&self, kind: DocumentKind, id: &str) -> StoreResult<Option<Document>> {
        Ok(self
            .state()
            .documents
            .get(&(kind.as_str(), id.to_string()))
            .cloned())
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
        let mut state = self.state();
        let slot = (kind.as_str(), id.to_string());
        let current = state.documents.get(&slot).map(|d| d.version);
        let ok = match expected {
            ExpectedVersion::New => current.is_none(),
            ExpectedVersion::Version(v) => current == Some(v),
            ExpectedVersion::Any => true,
        };
        if !ok {
            return Ok(DocumentWrite::VersionConflict { current });
        }
        let version = current.unwrap_or(0) + 1;
        state.documents.insert(
            slot,
            Document {
                kind,
                id: id.to_string(),
                body: body.clone(),
                version,
                updated_at: at,
            },
        );
        Ok(DocumentWrite::Written { version })
    }

    async fn list_documents(&self, kind: DocumentKind) -> StoreResult<Vec<Document>> {
        Ok(self
            .state()
            .documents
            .values()
            .filter(|d| d.kind == kind)
            .cloned()
            .collect())
    }

    async fn delete_document(&self, kind: DocumentKind, id: &str) -> StoreResult<bool> {
        Ok(self
            .state()
            .documents
            .remove(&(kind.as_str(), id.to_string()))
            .is_some())
    }

    async fn put_documents(
        &self,
        kind: DocumentKind,
        documents: &[(String, serde_json::Value)],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        for (id, body) in documents {
            check_document_size(kind, id, body)?;
        }
        let mut state = self.state();
        for (id, body) in documents {
            state.documents.insert(
                (kind.as_str(), id.clone()),
                Document {
                    kind,
                    id: id.clone(),
                    body: body.clone(),
                    version: 1,
                    updated_at: at,
                },
            );
        }
        Ok(())
    }

    async fn delete_documents(&self, kind: DocumentKind, ids: &[String]) -> StoreResult<()> {
        let mut state = self.state();
        for id in ids {
            state.documents.remove(&(kind.as_str(), id.clone()));
        }
        Ok(())
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
        self.state().runs.insert(run.id.clone(), run.clone());
        Ok(run)
    }

    async fn get_run(&self, id: &RunId) -> StoreResult<Option<SyncRun>> {
        Ok(self.state().runs.get(id).cloned())
    }

    async fn add_to_run(&self, id: &RunId, delta: &RunCounters) -> StoreResult<bool> {
        match self.state().runs.get_mut(id) {
            Some(run) => {
                run.counters.add(delta);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn count_ticket(
        &self,
        id: &RunId,
        ticket: u64,
        delta: &RunCounters,
        _now: DateTime<Utc>,
    ) -> StoreResult<TicketCount> {
        let mut all = self.state();
        let State {
            runs,
            counted_tickets,
            ..
        } = &mut *all;
        let Some(run) = runs.get_mut(id) else {
            return Ok(TicketCount::NoRun);
        };
        if !counted_tickets.insert((id.clone(), ticket)) {
            return Ok(TicketCount::AlreadyCounted);
        }
        run.counters.add(delta);
        Ok(TicketCount::Counted)
    }

    async fn finish_run(
        &self,
        id: &RunId,
        state: RunState,
        at: DateTime<Utc>,
    ) -> StoreResult<FinishOutcome> {
        let mut all = self.state();
        let Some(run) = all.runs.get_mut(id) else {
            return Ok(FinishOutcome::NotFound);
        };
        if run.state != RunState::Running {
            return Ok(FinishOutcome::AlreadyFinished(run.clone()));
        }
        run.state = state;
        run.finished_at = Some(at);
        Ok(FinishOutcome::Finished(run.clone()))
    }

    async fn list_runs(&self, page: &PageRequest) -> StoreResult<Page<SyncRun>> {
        let items: Vec<(String, SyncRun)> = self
            .state()
            .runs
            .values()
            .rev()
            .map(|r| (r.id.0.clone(), r.clone()))
            .collect();
        page_of(&items, true, page)
    }

    async fn get_watermark(&self, name: &str) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self.state().watermarks.get(name).copied())
    }

    async fn advance_watermark(
        &self,
        name: &str,
        to: DateTime<Utc>,
    ) -> StoreResult<WatermarkOutcome> {
        let mut state = self.state();
        match state.watermarks.get(name) {
            Some(current) if *current >= to => Ok(WatermarkOutcome::NotNewer { current: *current }),
            _ => {
                state.watermarks.insert(name.to_string(), to);
                Ok(WatermarkOutcome::Advanced)
            }
        }
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<LeaseOutcome> {
        let mut state = self.state();
        if let Some(current) = state.leases.get(name) {
            if current.holder != holder && current.expires_at > now {
                return Ok(LeaseOutcome::Held {
                    holder: current.holder.clone(),
                    expires_at: current.expires_at,
                });
            }
        }
        let lease = Lease {
            name: name.to_string(),
            holder: holder.to_string(),
            expires_at: now + ttl,
        };
        state.leases.insert(name.to_string(), lease.clone());
        Ok(LeaseOutcome::Acquired(lease))
    }

    async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<RenewOutcome> {
        let mut state = self.state();
        match state.leases.get_mut(&lease.name) {
            Some(current) if current.holder == lease.holder => {
                current.expires_at = now + ttl;
                Ok(RenewOutcome::Renewed(current.clone()))
            }
            _ => Ok(RenewOutcome::Lost),
        }
    }

    async fn release_lease(&self, lease: &Lease) -> StoreResult<bool> {
        let mut state = self.state();
        match state.leases.get(&lease.name) {
            Some(current) if current.holder == lease.holder => {
                state.leases.remove(&lease.name);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn record_delivery(
        &self,
        delivery_id: &str,
        keep_for: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<DeliveryOutcome> {
        let mut state = self.state();
        match state.deliveries.get(delivery_id) {
            Some(expires_at) if *expires_at > now => Ok(DeliveryOutcome::Duplicate),
            _ => {
                state
                    .deliveries
                    .insert(delivery_id.to_string(), now + keep_for);
                Ok(DeliveryOutcome::First)
            }
        }
    }

    async fn claim_operation(
        &self,
        id: &OperationId,
        holder: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<ClaimOutcome> {
        let mut state = self.state();
        let attempt = match state.claims.get(id) {
            None => 1,
            Some(ClaimState::Done { result }) => {
                return Ok(ClaimOutcome::Done {
                    result: result.clone(),
                });
            }
            Some(ClaimState::InFlight {
                holder: h,
                lease_until,
                attempt,
            }) => {
                if *lease_until > now {
                    return Ok(ClaimOutcome::InFlight {
                        holder: h.clone(),
                        lease_until: *lease_until,
                    });
                }
                attempt + 1
            }
        };
        let lease_until = now + lease;
        state.claims.insert(
            id.clone(),
            ClaimState::InFlight {
                holder: holder.to_string(),
                lease_until,
                attempt,
            },
        );
        Ok(ClaimOutcome::Claimed {
            attempt,
            lease_until,
        })
    }

    async fn complete_operation(
        &self,
        id: &OperationId,
        holder: &str,
        result: &serde_json::Value,
        _now: DateTime<Utc>,
    ) -> StoreResult<CompleteOutcome> {
        let mut state = self.state();
        match state.claims.get(id) {
            Some(ClaimState::InFlight { holder: h, .. }) if h == holder => {
                state.claims.insert(
                    id.clone(),
                    ClaimState::Done {
                        result: result.clone(),
                    },
                );
                Ok(CompleteOutcome::Completed)
            }
            _ => Ok(CompleteOutcome::NotHolder),
        }
    }

    async fn release_operation(
        &self,
        id: &OperationId,
        holder: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut state = self.state();
        match state.claims.get_mut(id) {
            Some(ClaimState::InFlight {
                holder: h,
                lease_until,
                ..
            }) if h == holder => {
                *lease_until = now;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn create_user(&self, user: &ConsoleUser) -> StoreResult<UserWrite> {
        let mut state = self.state();
        if state.users.contains_key(&user.username) {
            return Ok(UserWrite::AlreadyExists);
        }
        state.users.insert(user.username.clone(), user.clone());
        Ok(UserWrite::Written)
    }

    async fn update_user(&self, user: &ConsoleUser) -> StoreResult<bool> {
        let mut state = self.state();
        match state.users.get_mut(&user.username) {
            Some(stored) => {
                *stored = user.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn get_user(&self, username: &str) -> StoreResult<Option<ConsoleUser>> {
        Ok(self.state().users.get(username).cloned())
    }

    async fn list_users(&self) -> StoreResult<Vec<ConsoleUser>> {
        Ok(self.state().users.values().cloned().collect())
    }

    async fn delete_user(&self, username: &str) -> StoreResult<bool> {
        Ok(self.state().users.remove(username).is_some())
    }

    async fn take_login_attempt(
        &self,
        subject: &str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<u32>> {
        let mut state = self.state();
        let count = state
            .login_failures
            .entry((subject.to_string(), window_start(window, now)))
            .or_insert(0);
        if *count >= max {
            return Ok(None);
        }
        *count += 1;
        Ok(Some(*count))
    }

    async fn put_dead_letter(&self, record: &DeadLetterRecord) -> StoreResult<()> {
        let key = (record.queue.clone(), record.message_id.clone());
        self.state().dead_letters.insert(key, record.clone());
        Ok(())
    }

    async fn dead_letters(&self, queue: &str, limit: usize) -> StoreResult<Vec<DeadLetterRecord>> {
        let state = self.state();
        let records: Vec<DeadLetterRecord> = state
            .dead_letters
            .values()
            .filter(|r| r.queue == queue)
            .cloned()
            .collect();
        Ok(oldest_dead_letters(records, limit))
    }

    async fn delete_dead_letter(&self, queue: &str, message_id: &str) -> StoreResult<bool> {
        let key = (queue.to_owned(), message_id.to_owned());
        Ok(self.state().dead_letters.remove(&key).is_some())
    }

    async fn take_account_attempt(
        &self,
        username: &str,
        lockout: &Lockout,
        now: DateTime<Utc>,
    ) -> StoreResult<AccountAttempt> {
        let mut state = self.state();
        let account = state
            .login_accounts
            .entry(username.to_lowercase())
            .or_insert((0, None));
        Ok(
            match next_account_attempt(lockout, account.0, account.1, now) {
                Ok((attempts, locked_until)) => {
                    *account = (attempts, locked_until);
                    AccountAttempt::Granted { attempts }
                }
                Err(until) => AccountAttempt::Locked { until },
            },
        )
    }

    async fn clear_account_attempts(&self, username: &str) -> StoreResult<()> {
        self.state().login_accounts.remove(&username.to_lowercase());
        Ok(())
    }

    async fn login_failures(
        &self,
        subject: &str,
        window: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<u32> {
        let state = self.state();
        let key = (subject.to_string(), window_start(window, now));
        Ok(state.login_failures.get(&key).copied().unwrap_or(0))
    }

    async fn clear_login_failures(
        &self,
        subject: &str,
        window: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let key = (subject.to_string(), window_start(window, now));
        self.state().login_failures.remove(&key);
        Ok(())
    }

    async fn take_call_slot(
        &self,
        name: &str,
        per_second: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<CallSlot> {
        let mut state = self.state();
        let pace = state.paces.entry(name.to_string()).or_default();
        if let Some(until) = pace.paused_until.filter(|u| *u > now) {
            return Ok(CallSlot::FreeAt(until));
        }
        let (second, next_ms) = pace_second(now);
        if pace.second < second {
            pace.second = second;
            pace.calls = 0;
        }
        if pace.second > second || pace.calls >= per_second {
            let next = DateTime::from_timestamp_millis(next_ms.max((pace.second + 1) * 1000));
            return Ok(CallSlot::FreeAt(next.unwrap_or(now)));
        }
        pace.calls += 1;
        Ok(CallSlot::Taken)
    }

    async fn record_outage(&self, name: &str, at: DateTime<Utc>, detail: &str) -> StoreResult<()> {
        let mut state = self.state();
        let outage = state.outages.entry(name.to_string()).or_insert(Outage {
            since: at,
            last_failure: at,
            detail: String::new(),
            failures: 0,
        });
        outage.failures += 1;
        outage.last_failure = at;
        outage.detail = detail.to_string();
        Ok(())
    }

    async fn get_outage(&self, name: &str) -> StoreResult<Option<Outage>> {
        Ok(self.state().outages.get(name).cloned())
    }

    async fn end_outage(&self, name: &str) -> StoreResult<bool> {
        Ok(self.state().outages.remove(name).is_some())
    }

    async fn pause_calls(&self, name: &str, until: DateTime<Utc>) -> StoreResult<()> {
        let mut state = self.state();
        let pace = state.paces.entry(name.to_string()).or_default();
        pace.paused_until = pace.paused_until.max(Some(until));
        Ok(())
    }

    async fn take_plan_turn(
        &self,
        ticket: u64,
        read_at: DateTime<Utc>,
        holder: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<PlanTurn> {
        let mut state = self.state();
        if let Some(turn) = state.plan_turns.get(&ticket) {
            if turn.read_at > read_at {
                return Ok(PlanTurn::Stale {
                    newer: turn.read_at,
                });
            }
            if let Some((other, until)) = &turn.holder {
                if other != holder && *until > now {
                    return Ok(PlanTurn::Busy { until: *until });
                }
            }
        }
        state.plan_turns.insert(
            ticket,
            Turn {
                read_at,
                holder: Some((holder.to_string(), now + ttl)),
            },
        );
        Ok(PlanTurn::Ours)
    }

    async fn end_plan_turn(&self, ticket: u64, holder: &str) -> StoreResult<bool> {
        let mut state = self.state();
        match state.plan_turns.get_mut(&ticket) {
            Some(turn) if turn.holder.as_ref().is_some_and(|(h, _)| h == holder) => {
                turn.holder = None;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn day_claims(&self, user: u64, day: chrono::NaiveDate) -> StoreResult<DayClaims> {
        Ok(self
            .state()
            .day_claims
            .get(&(user, day))
            .cloned()
            .unwrap_or_default())
    }

    async fn put_day_claims(
        &self,
        user: u64,
        day: chrono::NaiveDate,
        claims: &DayClaims,
    ) -> StoreResult<ClaimsWrite> {
        let mut all = self.state();
        let stored = all.day_claims.entry((user, day)).or_default();
        if stored.version != claims.version {
            return Ok(ClaimsWrite::Changed);
        }
        *stored = DayClaims {
            version: claims.version + 1,
            claims: claims.claims.clone(),
        };
        Ok(ClaimsWrite::Written)
    }
}
