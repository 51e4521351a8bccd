//! What every ticket of one invocation shares: the Kimai API user and its zone, the Kimai
//! catalog, the sync policy, the people purged for GDPR and the Zammad connection's default
//! zone ([`Context`]), and the names of Zammad's accounting types. The first ticket of a batch
//! builds the context; the others reuse it ([`InvocationCache`]). The policy and the purged
//! people are read once per invocation; the API user,
//! the catalog and the type names come from the instance's cache ([`ReconcileCache`]) while it
//! is fresh, and the catalog is read again on a miss (`desired`).

use super::instance::{KimaiFacts, ReconcileCache};
use super::{ReconcileError, Reconciler};
use crate::policies::{SyncPolicy, load_sync_policy};
use crate::privacy::suppression::Suppressed;
use chrono_tz::Tz;
use kimai_client::CurrentUser;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use sync_core::catalog::Catalog;
use sync_core::ids::AccountingTypeId;
use sync_core::zone::parse_zone;
use tokio::sync::Mutex;

/// Kimai facts and the policy, as one invocation sees them.
pub struct Context {
    pub api_user: CurrentUser,
    pub api_zone: Tz,
    pub catalog: Arc<Catalog>,
    pub policy: SyncPolicy,
    pub default_zone: Tz,
    /// The catalog came from the instance's cache, read by an earlier invocation: a ticket it
    /// cannot resolve reads it again before reporting anything.
    pub catalog_cached: bool,
    /// People purged for GDPR: their time is left out.
    pub suppressed: Suppressed,
}

/// One per invocation (batch): the first ticket builds the [`Context`], the others reuse it.
pub struct InvocationCache {
    /// What the function instance keeps across invocations.
    pub(super) instance: Arc<ReconcileCache>,
    /// Built by the first ticket; built again after the catalog was read again.
    context: Mutex<Option<Arc<Context>>>,
}

impl Default for InvocationCache {
    fn default() -> Self {
        Self::new()
    }
}

impl InvocationCache {
    /// An invocation with nothing cached from earlier ones (tests).
    pub fn new() -> Self {
        Self::within(Arc::new(ReconcileCache::new()))
    }

    /// An invocation of the function instance that keeps `instance`.
    pub fn within(instance: Arc<ReconcileCache>) -> Self {
        InvocationCache {
            instance,
            context: Mutex::new(None),
        }
    }
}

impl Reconciler {
    pub async fn context(&self, cache: &InvocationCache) -> Result<Arc<Context>, ReconcileError> {
        // Held across the load so concurrent tickets of a batch load it once.
        let mut slot = cache.context.lock().await;
        if let Some(ctx) = slot.as_ref() {
            return Ok(ctx.clone());
        }
        let ctx = Arc::new(self.load_context(cache, false).await?);
        *slot = Some(ctx.clone());
        Ok(ctx)
    }

    /// Reads the catalog (and policy) again, for this ticket, the rest of the batch and the
    /// instance's later invocations: after a creation, or a miss, the old catalog would block
    /// the same entries again.
    pub(super) async fn refresh_context(
        &self,
        cache: &InvocationCache,
    ) -> Result<Arc<Context>, ReconcileError> {
        let mut slot = cache.context.lock().await;
        let ctx = Arc::new(self.load_context(cache, true).await?);
        *slot = Some(ctx.clone());
        Ok(ctx)
    }

    /// A ticket could not be resolved against a catalog an earlier invocation read: the
    /// catalog is read again, once per invocation (the tickets after it use the new one).
    pub(super) async fn catalog_missed(
        &self,
        cache: &InvocationCache,
    ) -> Result<Arc<Context>, ReconcileError> {
        let mut slot = cache.context.lock().await;
        if let Some(ctx) = slot.as_ref().filter(|c| !c.catalog_cached) {
            return Ok(ctx.clone());
        }
        tracing::info!("a ticket missed the cached Kimai catalog; reading it again");
        let ctx = Arc::new(self.load_context(cache, true).await?);
        *slot = Some(ctx.clone());
        Ok(ctx)
    }

    async fn load_context(
        &self,
        cache: &InvocationCache,
        fresh: bool,
    ) -> Result<Context, ReconcileError> {
        let instance = &cache.instance;
        let key = self.kimai.base_url().to_owned();
        if fresh {
            instance.kimai.clear();
        }
        let read_now = AtomicBool::new(false);
        let facts = instance
            .kimai
            .get_or_fetch(&key, self.stores.now(), instance.ttl, || async {
                read_now.store(true, Ordering::SeqCst);
                self.read_kimai_facts().await.map(Arc::new)
            })
            .await?;
        let me = facts.api_user.clone();
        let api_zone = parse_zone(&me.timezone)
            .map_err(|_| ReconcileError::ApiUserZone(me.timezone.clone()))?;
        let policy = load_sync_policy(self.stores.control.as_ref(), me.id).await?;
        let suppressed = Suppressed::load(self.stores.control.as_ref()).await?;
        let default_zone = self
            .zammad_settings
            .zone()
            .map_err(ReconcileError::ZammadSettings)?;
        Ok(Context {
            api_user: me,
            api_zone,
            catalog: facts.catalog.clone(),
            policy,
            default_zone,
            catalog_cached: !read_now.load(Ordering::SeqCst),
            suppressed,
        })
    }

    async fn read_kimai_facts(&self) -> Result<KimaiFacts, ReconcileError> {
        let k = &self.kimai;
        let (me, customers, projects, activities, users) = tokio::try_join!(
            k.me(),
            k.customers(),
            k.projects(None),
            k.activities(),
            k.users(),
        )?;
        Ok(KimaiFacts {
            api_user: me,
            catalog: Arc::new(Catalog::new(&customers, &projects, &activities, &users)),
        })
    }

    /// Names of accounting types for the description template. Reading them needs an admin
    /// token; without one the template's `{type}` stays empty rather than failing the ticket.
    pub(super) async fn type_names(
        &self,
        cache: &InvocationCache,
    ) -> Result<Arc<HashMap<AccountingTypeId, String>>, ReconcileError> {
        let instance = &cache.instance;
        let key = self.zammad.base_url().to_owned();
        instance
            .type_names
            .get_or_fetch(&key, self.stores.now(), instance.ttl, || async {
                match self.zammad.accounting_types().await {
                    Ok(types) => Ok(Arc::new(
                        types.into_iter().map(|t| (t.id, t.name)).collect(),
                    )),
                    Err(e) if e.is_permission_denied() => {
                        tracing::info!(
                            "accounting types need an admin token; {{type}} stays empty"
                        );
                        Ok(Arc::new(HashMap::new()))
                    }
                    Err(e) => Err(ReconcileError::Zammad(e)),
                }
            })
            .await
    }
}
