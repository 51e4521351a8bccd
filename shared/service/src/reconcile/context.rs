//! What every ticket of one invocation shares: the Kimai API user and its zone, the Kimai
//! catalog, the sync policy and the Zammad connection's default zone ([`Context`]), and the
//! names of Zammad's accounting types. The first ticket of a batch reads them; the others
//! reuse them ([`InvocationCache`]).

use super::{ReconcileError, Reconciler};
use crate::policies::{SyncPolicy, load_sync_policy};
use chrono_tz::Tz;
use kimai_client::CurrentUser;
use std::collections::HashMap;
use std::sync::Arc;
use sync_core::catalog::Catalog;
use sync_core::ids::AccountingTypeId;
use sync_core::zone::parse_zone;
use tokio::sync::{Mutex, OnceCell};

/// Kimai facts and the policy, read once per Lambda invocation.
pub struct Context {
    pub api_user: CurrentUser,
    pub api_zone: Tz,
    pub catalog: Catalog,
    pub policy: SyncPolicy,
    pub default_zone: Tz,
}

/// One per invocation (batch): the first ticket loads the [`Context`], the others reuse it.
#[derive(Default)]
pub struct InvocationCache {
    /// Loaded by the first ticket; loaded again after a customer or project was created.
    context: Mutex<Option<Arc<Context>>>,
    type_names: OnceCell<HashMap<AccountingTypeId, String>>,
}

impl InvocationCache {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Reconciler {
    pub async fn context(&self, cache: &InvocationCache) -> Result<Arc<Context>, ReconcileError> {
        // Held across the load so concurrent tickets of a batch load it once.
        let mut slot = cache.context.lock().await;
        if let Some(ctx) = slot.as_ref() {
            return Ok(ctx.clone());
        }
        let ctx = Arc::new(self.load_context().await?);
        *slot = Some(ctx.clone());
        Ok(ctx)
    }

    /// Reads the catalog (and policy) again, for this ticket and the rest of the batch: after
    /// a creation the old catalog would block the same entries again.
    pub(super) async fn refresh_context(
        &self,
        cache: &InvocationCache,
    ) -> Result<Arc<Context>, ReconcileError> {
        let mut slot = cache.context.lock().await;
        let ctx = Arc::new(self.load_context().await?);
        *slot = Some(ctx.clone());
        Ok(ctx)
    }

    async fn load_context(&self) -> Result<Context, ReconcileError> {
        let k = &self.kimai;
        let (me, customers, projects, activities, users) = tokio::try_join!(
            k.me(),
            k.customers(),
            k.projects(None),
            k.activities(),
            k.users(),
        )?;
        let api_zone = parse_zone(&me.timezone)
            .map_err(|_| ReconcileError::ApiUserZone(me.timezone.clone()))?;
        let policy = load_sync_policy(self.stores.control.as_ref(), me.id).await?;
        let default_zone = self
            .zammad_settings
            .zone()
            .map_err(ReconcileError::ZammadSettings)?;
        Ok(Context {
            api_user: me,
            api_zone,
            catalog: Catalog::new(&customers, &projects, &activities, &users),
            policy,
            default_zone,
        })
    }

    /// Names of accounting types for the description template. Reading them needs an admin
    /// token; without one the template's `{type}` stays empty rather than failing the ticket.
    pub(super) async fn type_names(
        &self,
        cache: &InvocationCache,
    ) -> Result<HashMap<AccountingTypeId, String>, ReconcileError> {
        cache
            .type_names
            .get_or_try_init(|| async {
                match self.zammad.accounting_types().await {
                    Ok(types) => Ok(types.into_iter().map(|t| (t.id, t.name)).collect()),
                    Err(e) if e.is_permission_denied() => {
                        tracing::info!(
                            "accounting types need an admin token; {{type}} stays empty"
                        );
                        Ok(HashMap::new())
                    }
                    Err(e) => Err(ReconcileError::Zammad(e)),
                }
            })
            .await
            .cloned()
    }
}
