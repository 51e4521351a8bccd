//! Builds every adapter of the six functions from the AWS configuration and the environment,
//! once per Lambda instance (the Init phase); handlers then borrow what they were given.
//!
//! [`Aws`] holds what a process has once: the configuration, the wall clock and the one secret
//! cache, so every part of a function that reads a secret shares it. Its builders make one port
//! each, so a function reads only the variables of the ports it uses (the webhook needs no
//! entries table); a missing variable is `StoreError::MissingConfig(name)`. The functions below
//! it assemble what each function is given. Variable names live in `sync_store::env`, the
//! queues' definitions in `sync_store::schema`.

use crate::{fetch, ingest, reconcile, writer};
use chrono::Duration;
use console_api::{ApiState, ConsoleSecrets, DeadLetterQueues};
use std::sync::Arc;
use sync_service::connections::Connections;
use sync_service::events::Publisher;
use sync_service::fetch::FetchPorts;
use sync_service::privacy::PrivacyPorts;
use sync_service::sync_stores::SyncStores;
use sync_service::upstream::CallRates;
use sync_store::aws::{
    DynamoAuditLog, DynamoConflicts, DynamoControl, DynamoEntries, EventBridgeBus, LambdaLauncher,
    SchedulerSchedule, SecretsManagerSource, SqsQueue,
};
use sync_store::clock::{Clock, SystemClock};
use sync_store::queue::{KimaiWriteMessage, QueueMessage, TicketSyncMessage};
use sync_store::schema::{KIMAI_WRITE_QUEUE, QueueDef, TICKET_SYNC_QUEUE};
use sync_store::secrets::CachedSecrets;
use sync_store::{StoreError, StoreResult, env};

/// How long a secret is kept in memory before it is read again (rotation shows within this).
pub const SECRET_CACHE_TTL: Duration = Duration::minutes(5);

/// Secrets Manager behind the process's cache.
pub type Secrets = CachedSecrets<SecretsManagerSource>;

/// The AWS side of one process: configuration, clock and secret cache, and a builder per port.
pub struct Aws {
    config: aws_config::SdkConfig,
    clock: Arc<dyn Clock>,
    secrets: Arc<Secrets>,
}

impl Aws {
    /// Region, credentials and endpoint from the standard chain (`AWS_ENDPOINT_URL` locally).
    pub async fn load() -> Self {
        Self::new(sync_store::aws::load_config().await)
    }

    pub fn new(config: aws_config::SdkConfig) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let secrets = Arc::new(CachedSecrets::new(
            SecretsManagerSource::from_config(&config),
            clock.clone(),
            SECRET_CACHE_TTL,
        ));
        Aws {
            config,
            clock,
            secrets,
        }
    }

    /// The wall clock, shared.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The process's one secret cache.
    pub fn secrets(&self) -> Arc<Secrets> {
        self.secrets.clone()
    }

    /// `CONTROL_TABLE`.
    pub fn control(&self) -> StoreResult<Arc<DynamoControl>> {
        Ok(Arc::new(DynamoControl::from_env(&self.config)?))
    }

    /// `ENTRIES_TABLE`.
    pub fn entries(&self) -> StoreResult<Arc<DynamoEntries>> {
        Ok(Arc::new(DynamoEntries::from_env(&self.config)?))
    }

    /// `CONFLICTS_TABLE`.
    pub fn conflicts(&self) -> StoreResult<Arc<DynamoConflicts>> {
        Ok(Arc::new(DynamoConflicts::from_env(&self.config)?))
    }

    /// `AUDIT_TABLE` (and `AUDIT_SYNC_RETENTION_DAYS`, optional).
    pub fn audit(&self) -> StoreResult<Arc<DynamoAuditLog>> {
        Ok(Arc::new(DynamoAuditLog::from_env(&self.config)?))
    }

    /// `SCHEDULE_NAME`, `SCHEDULE_GROUP`, `SCHEDULE_TARGET_ARN`, `SCHEDULE_ROLE_ARN`.
    pub fn schedule(&self) -> StoreResult<Arc<SchedulerSchedule>> {
        Ok(Arc::new(SchedulerSchedule::from_env(&self.config)?))
    }

    /// scheduled-fetch, invoked asynchronously (`SCHEDULE_TARGET_ARN`: the schedule's target).
    pub fn fetch_launcher(&self) -> StoreResult<Arc<LambdaLauncher>> {
        Ok(Arc::new(LambdaLauncher::from_env(
            &self.config,
            env::SCHEDULE_TARGET_ARN,
        )?))
    }

    /// The work queue `queue` (its URL variable, e.g. `TICKET_SYNC_QUEUE_URL`).
    pub fn queue<M: QueueMessage>(&self, queue: QueueDef) -> StoreResult<Arc<SqsQueue<M>>> {
        Ok(Arc::new(SqsQueue::from_env(&self.config, queue.env_var)?))
    }

    /// The dead-letter queue of `queue` (e.g. `TICKET_SYNC_DLQ_URL`).
    pub fn dead_letter_queue<M: QueueMessage>(
        &self,
        queue: QueueDef,
    ) -> StoreResult<Arc<SqsQueue<M>>> {
        Ok(Arc::new(SqsQueue::from_env(
            &self.config,
            queue.dlq_env_var,
        )?))
    }

    /// A publisher of domain events on the stack's bus (`EVENT_BUS_NAME`), reading the muted
    /// types from the control table. Build one per process: it gathers an invocation's
    /// conflicts until its flush.
    pub fn events(&self) -> StoreResult<Arc<Publisher>> {
        let bus = Arc::new(EventBridgeBus::from_env(&self.config)?);
        Ok(Arc::new(Publisher::new(bus).with_settings(self.control()?)))
    }

    /// The four tables of the pipeline's later steps, with the clock and the event publisher.
    pub fn sync_stores(&self) -> StoreResult<SyncStores> {
        Ok(SyncStores {
            entries: self.entries()?,
            conflicts: self.conflicts()?,
            audit: self.audit()?,
            control: self.control()?,
            clock: self.clock(),
            events: self.events()?,
        })
    }

    /// The Zammad and Kimai clients from the settings in `stores` and the token secrets named
    /// by `ZAMMAD_TOKEN_SECRET` and `KIMAI_TOKEN_SECRET` (each only when `true`).
    fn connections(
        &self,
        stores: &SyncStores,
        zammad: bool,
        kimai: bool,
    ) -> StoreResult<Connections> {
        let secret = |wanted: bool, name| wanted.then(|| env::required(name)).transpose();
        Ok(Connections::new(
            stores.control.clone(),
            self.secrets(),
            secret(zammad, env::ZAMMAD_TOKEN_SECRET)?,
            secret(kimai, env::KIMAI_TOKEN_SECRET)?,
        )
        .with_call_rates(call_rates()?))
    }
}

/// The upstreams' shared call rates (`ZAMMAD_CALLS_PER_SECOND`, `KIMAI_CALLS_PER_SECOND`).
fn call_rates() -> StoreResult<CallRates> {
    CallRates::from_env().map_err(StoreError::Invalid)
}

/// webhook-ingest: control, ticket-sync queue, audit, and the webhook secret `WEBHOOK_SECRET`.
pub fn ingest(aws: &Aws) -> StoreResult<ingest::Ports> {
    Ok(ingest::Ports {
        control: aws.control()?,
        queue: aws.queue::<TicketSyncMessage>(TICKET_SYNC_QUEUE)?,
        audit: aws.audit()?,
        secrets: aws.secrets(),
        secret_id: env::required(env::WEBHOOK_SECRET)?,
        clock: aws.clock(),
        rejections: Default::default(),
    })
}

/// scheduled-fetch: control, entries, ticket-sync queue, audit, the event bus, and
/// `ZAMMAD_TOKEN_SECRET`; for the daily connection check also `KIMAI_TOKEN_SECRET`.
pub fn fetch(aws: &Aws) -> StoreResult<fetch::Ports> {
    let control = aws.control()?;
    let connections = Connections::new(
        control.clone(),
        aws.secrets(),
        Some(env::required(env::ZAMMAD_TOKEN_SECRET)?),
        Some(env::required(env::KIMAI_TOKEN_SECRET)?),
    );
    Ok(fetch::Ports {
        fetch: FetchPorts {
            control,
            entries: aws.entries()?,
            queue: aws.queue::<TicketSyncMessage>(TICKET_SYNC_QUEUE)?,
            audit: aws.audit()?,
            secrets: aws.secrets(),
            zammad_token_secret: env::required(env::ZAMMAD_TOKEN_SECRET)?,
            clock: aws.clock(),
            call_rates: call_rates()?,
            events: aws.events()?,
        },
        connections,
    })
}

/// reconcile: the four tables, the kimai-write queue, both upstreams, the ticket-sync queue's
/// deployed `maxReceiveCount`.
pub fn reconcile(aws: &Aws) -> StoreResult<reconcile::Deps> {
    let stores = aws.sync_stores()?;
    Ok(reconcile::Deps {
        connections: aws.connections(&stores, true, true)?,
        writes: aws.queue::<KimaiWriteMessage>(KIMAI_WRITE_QUEUE)?,
        queue: aws.queue::<TicketSyncMessage>(TICKET_SYNC_QUEUE)?,
        stores,
        concurrency: reconcile::CONCURRENCY,
        max_receive_count: max_receive_count(TICKET_SYNC_QUEUE)?,
        panic_ticket: std::env::var(reconcile::PANIC_TICKET)
            .ok()
            .and_then(|t| t.parse().ok()),
        cache: Default::default(),
    })
}

/// gdpr-purge: the four tables, both work queues and both dead-letter queues.
pub fn privacy(aws: &Aws) -> StoreResult<PrivacyPorts> {
    Ok(PrivacyPorts {
        entries: aws.entries()?,
        conflicts: aws.conflicts()?,
        control: aws.control()?,
        audit: aws.audit()?,
        clock: aws.clock(),
        ticket_sync: aws.queue::<TicketSyncMessage>(TICKET_SYNC_QUEUE)?,
        ticket_sync_dead: aws.dead_letter_queue::<TicketSyncMessage>(TICKET_SYNC_QUEUE)?,
        kimai_write: aws.queue::<KimaiWriteMessage>(KIMAI_WRITE_QUEUE)?,
        kimai_write_dead: aws.dead_letter_queue::<KimaiWriteMessage>(KIMAI_WRITE_QUEUE)?,
    })
}

/// kimai-writer: the four tables, Kimai, the kimai-write queue's deployed `maxReceiveCount`.
pub fn writer(aws: &Aws) -> StoreResult<writer::Deps> {
    let stores = aws.sync_stores()?;
    Ok(writer::Deps {
        connections: aws.connections(&stores, false, true)?,
        stores,
        holder: writer::holder_name(),
        concurrency: writer::CONCURRENCY,
        max_receive_count: max_receive_count(KIMAI_WRITE_QUEUE)?,
        cache: Arc::new(sync_service::writer::WriterCache::new()),
        queue: aws.queue::<KimaiWriteMessage>(KIMAI_WRITE_QUEUE)?,
    })
}

/// The console API's state: every table, both queues and their dead-letter queues, the
/// schedule, and the secret names it reads and writes (see `console_api::runtime`).
pub fn console_api(aws: &Aws) -> StoreResult<ApiState> {
    let secrets = aws.secrets();
    Ok(ApiState {
        control: aws.control()?,
        audit: aws.audit()?,
        conflicts: aws.conflicts()?,
        entries: aws.entries()?,
        ticket_sync: aws.queue::<TicketSyncMessage>(TICKET_SYNC_QUEUE)?,
        kimai_write: aws.queue::<KimaiWriteMessage>(KIMAI_WRITE_QUEUE)?,
        dead_letters: DeadLetterQueues {
            ticket_sync: aws.dead_letter_queue::<TicketSyncMessage>(TICKET_SYNC_QUEUE)?,
            kimai_write: aws.dead_letter_queue::<KimaiWriteMessage>(KIMAI_WRITE_QUEUE)?,
        },
        schedule: aws.schedule()?,
        fetch_launcher: aws.fetch_launcher()?,
        purge_launcher: Arc::new(LambdaLauncher::from_env(
            &aws.config,
            env::GDPR_PURGE_FUNCTION,
        )?),
        secrets: secrets.clone(),
        // The same cache, so a token the console writes is read back at once.
        secret_writer: secrets,
        secret_names: ConsoleSecrets::from_lookup(env::optional)?,
        clock: aws.clock(),
        events: aws.events()?,
        health_timeout: std::time::Duration::from_secs(2),
        upstream_timeout: std::time::Duration::from_secs(10),
    })
}

/// The deployed `maxReceiveCount` of `queue` (`QUEUE_MAX_RECEIVE_COUNT`, the same for both
/// queues), or the schema's when it is unset or empty. Anything but a whole number from 1 to
/// 1000 (SQS's range) is a configuration error.
pub fn max_receive_count(queue: QueueDef) -> StoreResult<u32> {
    parse_max_receive_count(
        env::optional(env::QUEUE_MAX_RECEIVE_COUNT).as_deref(),
        queue.max_receive_count,
    )
}

fn parse_max_receive_count(value: Option<&str>, default: u32) -> StoreResult<u32> {
    let Some(value) = value else {
        return Ok(default);
    };
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| {
            StoreError::Invalid(format!(
                "{}={value:?} is not a whole number from 1 to 1000",
                env::QUEUE_MAX_RECEIVE_COUNT
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_max_receive_count_defaults_and_rejects_nonsense() {
        assert_eq!(parse_max_receive_count(None, 5).unwrap(), 5);
        assert_eq!(parse_max_receive_count(Some("3"), 5).unwrap(), 3);
        assert_eq!(parse_max_receive_count(Some(" 2 "), 5).unwrap(), 2);
        for bad in ["0", "1001", "-1", "three", "2.5"] {
            let err = parse_max_receive_count(Some(bad), 5).unwrap_err();
            assert!(
                matches!(&err, StoreError::Invalid(m) if m.contains(env::QUEUE_MAX_RECEIVE_COUNT)),
                "{bad}: {err}"
            );
        }
    }
}
