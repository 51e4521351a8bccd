//! What every handler can reach: the store ports, the secrets, the clock. Built once (Lambda
//! init, test setup, local `main`) and cloned cheaply per request.
//!
//! This is also the one place that hands the ports to the service's console use cases: each
//! `fn` below builds the ports one use-case module takes, so a handler never names a store.

use std::sync::Arc;
use std::time::Duration;
use sync_service::console::access::AccessLog;
use sync_service::console::approvals::ApprovalDeps;
use sync_service::console::audit_log::AuditReader;
use sync_service::console::connection_settings::ConnectionStores;
use sync_service::console::dead_letters::Queues;
use sync_service::console::kpis::KpiStores;
use sync_service::console::ledger::LedgerStores;
use sync_service::console::mappings::MappingStores;
use sync_service::console::policy_settings::PolicyStores;
use sync_service::console::resolution::ResolutionDeps;
use sync_service::console::schedule::ScheduleStores;
use sync_service::console::users::Logins;
use sync_service::events::Publisher;
use sync_service::fetch::FetchDeps;
use sync_service::privacy::PrivacyPorts;
use sync_store::audit::AuditLog;
use sync_store::clock::Clock;
use sync_store::conflicts::ConflictsStore;
use sync_store::control::ControlStore;
use sync_store::entries::EntriesStore;
use sync_store::launch::Launcher;
use sync_store::queue::{KimaiWriteMessage, MessageQueue, TicketSyncMessage};
use sync_store::schedule::ScheduleStore;
use sync_store::secrets::{SecretSource, SecretWriter};

/// Names (or ARNs) of the secrets the console uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSecrets {
    pub zammad_token: String,
    pub kimai_token: String,
    /// The HS256 key of login tokens (at least 32 bytes).
    pub signing_key: String,
    /// The shared secret of CloudFront and the API (`context::ORIGIN_VERIFY_HEADER`); `None`
    /// when the API is reached directly (the local stack, tests).
    pub origin: Option<String>,
}

/// The dead-letter queues of `ticket-sync` and `kimai-write`.
#[derive(Clone)]
pub struct DeadLetterQueues {
    pub ticket_sync: Arc<dyn MessageQueue<TicketSyncMessage>>,
    pub kimai_write: Arc<dyn MessageQueue<KimaiWriteMessage>>,
}

#[derive(Clone)]
pub struct ApiState {
    pub control: Arc<dyn ControlStore>,
    pub audit: Arc<dyn AuditLog>,
    pub conflicts: Arc<dyn ConflictsStore>,
    /// Read by a date-range sync run (the fetch step's backfill looks up known entries).
    pub entries: Arc<dyn EntriesStore>,
    /// Where sync runs and conflict resolutions send their `ticket-sync` messages.
    pub ticket_sync: Arc<dyn MessageQueue<TicketSyncMessage>>,
    /// Where approved entries' creates go (approval mode).
    pub kimai_write: Arc<dyn MessageQueue<KimaiWriteMessage>>,
    /// The two dead-letter queues, listed and replayed by the console.
    pub dead_letters: DeadLetterQueues,
    /// The EventBridge schedule of scheduled-fetch.
    pub schedule: Arc<dyn ScheduleStore>,
    /// Hands a date-range run to scheduled-fetch (too long for this function's 29 s).
    pub fetch_launcher: Arc<dyn Launcher>,
    /// Hands a GDPR purge job to gdpr-purge (it may run far longer than 29 s).
    pub purge_launcher: Arc<dyn Launcher>,
    /// Reads go through a cache (`CachedSecrets`); pass the same cache as `secret_writer` so a
    /// token the console writes is read back at once.
    pub secrets: Arc<dyn SecretSource>,
    pub secret_writer: Arc<dyn SecretWriter>,
    pub secret_names: ConsoleSecrets,
    pub clock: Arc<dyn Clock>,
    /// Where a run the console ends is told (a hand-off that failed).
    pub events: Arc<Publisher>,
    /// Upper bound of the health probe's store read.
    pub health_timeout: Duration,
    /// Timeout of each call to Zammad or Kimai made for the console (test, pickers).
    pub upstream_timeout: Duration,
}

/// Which connection's settings and token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    Zammad,
    Kimai,
}

impl ApiState {
    /// Where the console's access events go.
    pub fn access_log(&self) -> AccessLog<'_> {
        AccessLog {
            log: self.audit.as_ref(),
            clock: self.clock.as_ref(),
        }
    }

    pub fn logins(&self) -> Logins<'_> {
        Logins {
            control: self.control.as_ref(),
            access: self.access_log(),
        }
    }

    pub fn connection_stores(&self, upstream: Upstream) -> ConnectionStores<'_> {
        let token_secret = match upstream {
            Upstream::Zammad => &self.secret_names.zammad_token,
            Upstream::Kimai => &self.secret_names.kimai_token,
        };
        ConnectionStores {
            control: self.control.as_ref(),
            secrets: self.secrets.as_ref(),
            secret_writer: self.secret_writer.as_ref(),
            access: self.access_log(),
            token_secret,
        }
    }

    pub fn mapping_stores(&self) -> MappingStores<'_> {
        MappingStores {
            control: self.control.as_ref(),
            access: self.access_log(),
        }
    }

    pub fn policy_stores(&self) -> PolicyStores<'_> {
        PolicyStores {
            control: self.control.as_ref(),
            access: self.access_log(),
        }
    }

    pub fn ledger_stores(&self) -> LedgerStores<'_> {
        LedgerStores {
            entries: self.entries.as_ref(),
            clock: self.clock.as_ref(),
        }
    }

    pub fn schedule_stores(&self) -> ScheduleStores<'_> {
        ScheduleStores {
            schedule: self.schedule.as_ref(),
            control: self.control.as_ref(),
            access: self.access_log(),
        }
    }

    pub fn resolution_deps(&self) -> ResolutionDeps<'_> {
        ResolutionDeps {
            conflicts: self.conflicts.as_ref(),
            control: self.control.as_ref(),
            ticket_sync: self.ticket_sync.as_ref(),
            access: self.access_log(),
        }
    }

    pub fn approval_deps(&self) -> ApprovalDeps<'_> {
        ApprovalDeps {
            entries: self.entries.as_ref(),
            kimai_write: self.kimai_write.as_ref(),
            access: self.access_log(),
        }
    }

    /// A manual run: the fetch step's run record and hand-off (a date range), or its
    /// enqueueing (a ticket list).
    pub fn fetch_deps(&self) -> FetchDeps<'_> {
        FetchDeps {
            control: self.control.as_ref(),
            entries: self.entries.as_ref(),
            queue: self.ticket_sync.as_ref(),
            audit: self.audit.as_ref(),
            secrets: self.secrets.as_ref(),
            zammad_token_secret: &self.secret_names.zammad_token,
            clock: self.clock.as_ref(),
            zammad_pace: None,
            events: &self.events,
        }
    }

    /// Every store a person's data can be in (the export reads them; the purge job runs on
    /// gdpr-purge, or in this process in tests).
    pub fn privacy_ports(&self) -> PrivacyPorts {
        PrivacyPorts {
            entries: self.entries.clone(),
            conflicts: self.conflicts.clone(),
            control: self.control.clone(),
            audit: self.audit.clone(),
            clock: self.clock.clone(),
            ticket_sync: self.ticket_sync.clone(),
            ticket_sync_dead: self.dead_letters.ticket_sync.clone(),
            kimai_write: self.kimai_write.clone(),
            kimai_write_dead: self.dead_letters.kimai_write.clone(),
        }
    }

    pub fn dead_letter_queues(&self) -> Queues<'_> {
        Queues {
            records: self.control.as_ref(),
            ticket_sync: self.ticket_sync.as_ref(),
            ticket_sync_dead: self.dead_letters.ticket_sync.as_ref(),
            kimai_write: self.kimai_write.as_ref(),
            kimai_write_dead: self.dead_letters.kimai_write.as_ref(),
        }
    }

    pub fn kpi_stores(&self) -> KpiStores<'_> {
        KpiStores {
            control: self.control.as_ref(),
            conflicts: self.conflicts.as_ref(),
            entries: self.entries.as_ref(),
            clock: self.clock.as_ref(),
        }
    }

    pub fn audit_reader(&self) -> AuditReader<'_> {
        AuditReader {
            log: self.audit.as_ref(),
            clock: self.clock.as_ref(),
        }
    }
}
