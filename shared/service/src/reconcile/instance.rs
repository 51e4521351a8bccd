//! What reconcile keeps for the life of a function instance, across invocations, each value for
//! a short expiry ([`crate::expiring`]): the Kimai API user and catalog, Kimai snapshots of a
//! run's window ([`super::snapshot`]), and Zammad's accounting types, agents and
//! organisations. Every value is keyed by the base URL it came from, so another connection
//! never answers from an old one's values.
//!
//! Why an expiry and not one read per invocation: a backfill's batches of ten tickets each read
//! the catalog and every agent and organisation again, which cost Kimai and Zammad more calls
//! than the timesheets themselves. Why a short one: all of it can change behind our back, and a
//! catalog miss reads the catalog again at once (`desired`).

use super::snapshot::{SNAPSHOT_WAIT, Snapshots};
use crate::expiring::Expiring;
use chrono::Duration;
use kimai_client::CurrentUser;
use std::collections::HashMap;
use std::sync::Arc;
use sync_core::catalog::Catalog;
use sync_core::ids::{AccountingTypeId, OrganisationId, ZammadUserId};
use sync_core::zammad::{Organisation, ZammadUser};

/// How long a value is trusted: as long as the writer's cache and the token secrets' cache.
pub const INSTANCE_CACHE_TTL: Duration = crate::writer::DEFAULT_CACHE_TTL;

/// The API user and the catalog, read together.
pub(super) struct KimaiFacts {
    pub(super) api_user: CurrentUser,
    pub(super) catalog: Arc<Catalog>,
}

/// Keyed by a base URL and a thing of that system.
type Of<K> = (String, K);

/// Kept for the life of a function instance; a test makes one per case.
pub struct ReconcileCache {
    pub(super) ttl: Duration,
    pub(super) kimai: Expiring<String, Arc<KimaiFacts>>,
    pub(super) snapshots: Snapshots,
    pub(super) type_names: Expiring<String, Arc<HashMap<AccountingTypeId, String>>>,
    /// `None`: Zammad answered 404 (a removed agent, or an organisation gone).
    pub(super) agents: Expiring<Of<ZammadUserId>, Option<ZammadUser>>,
    pub(super) organisations: Expiring<Of<OrganisationId>, Option<Organisation>>,
}

impl Default for ReconcileCache {
    fn default() -> Self {
        Self::with_ttl(INSTANCE_CACHE_TTL)
    }
}

impl ReconcileCache {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_ttl(ttl: Duration) -> Self {
        Self::with_ttl_and_wait(ttl, SNAPSHOT_WAIT)
    }

    /// `snapshot_wait`: how long a ticket waits for a window's snapshot being read.
    pub fn with_ttl_and_wait(ttl: Duration, snapshot_wait: std::time::Duration) -> Self {
        ReconcileCache {
            ttl,
            kimai: Expiring::new(),
            snapshots: Snapshots::new(ttl, snapshot_wait),
            type_names: Expiring::new(),
            agents: Expiring::new(),
            organisations: Expiring::new(),
        }
    }
}
