use super::item::{
    Item, get_json, get_opt_json, get_s, get_time, json, key_of_token, names, s, time, token_of,
};
use super::{is_condition_failed, sdk_error};
use crate::conflicts::{
    ConflictFilter, ConflictId, ConflictRecord, ConflictStatus, ConflictsStore, OpenOutcome,
    Resolution, ResolveOutcome,
};
use crate::env;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::conflicts as schema;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use sync_core::plan::Conflict;

/// Conflicts in DynamoDB: one item per conflict id; listed through `by-status-time`.
#[derive(Clone)]
pub struct DynamoConflicts {
    client: Client,
    table: String,
}

impl DynamoConflicts {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoConflicts {
            client,
            table: table.into(),
        }
    }

    /// Table name from `CONFLICTS_TABLE`.
    pub fn from_env(config: &aws_config::SdkConfig) -> StoreResult<Self> {
        Ok(Self::new(
            Client::new(config),
            env::required(env::CONFLICTS_TABLE)?,
        ))
    }

    fn key(id: &ConflictId) -> Item {
        Item::from([(schema::ID.name.to_string(), s(&id.0))])
    }
}

fn record_of(item: &Item) -> StoreResult<ConflictRecord> {
    let status = match get_s(item, "status")? {
        "open" => ConflictStatus::Open,
        "resolved" => ConflictStatus::Resolved,
        other => return Err(StoreError::corrupt(format!("conflict status {other}"))),
    };
    Ok(ConflictRecord {
        id: ConflictId(get_s(item, schema::ID.name)?.to_string()),
        status,
        opened_at: get_time(item, "opened_time")?,
        conflict: get_json(item, "conflict")?,
        resolution: get_opt_json(item, "resolution")?,
    })
}

#[async_trait]
impl ConflictsStore for DynamoConflicts {
    async fn open(
        &self,
        id: &ConflictId,
        conflict: &Conflict,
        at: DateTime<Utc>,
    ) -> StoreResult<OpenOutcome> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(schema::ID.name, s(&id.0))
            .item("status", s(ConflictStatus::Open.as_str()))
            // Sort key of the index: time, then id, so equal times keep a stable order.
            .item("opened_at", s(format!("{}#{}", time(at), id)))
            .item("opened_time", s(time(at)))
            .item("reason", s(conflict.reason.as_str()))
            .item("ticket", s(conflict.ticket_id.to_string()))
            .item("conflict", json(conflict))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", schema::ID.name)
            .send()
            .await;
        match result {
            Ok(_) => Ok(OpenOutcome::Opened),
            Err(e) if is_condition_failed(&e) => Ok(OpenOutcome::AlreadyExists),
            Err(e) => Err(sdk_error("open conflict", e)),
        }
    }

    async fn get(&self, id: &ConflictId) -> StoreResult<Option<ConflictRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("get conflict", e))?;
        out.item().map(record_of).transpose()
    }

    async fn resolve(
        &self,
        id: &ConflictId,
        resolution: &Resolution,
    ) -> StoreResult<ResolveOutcome> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(id)))
            .update_expression("SET #status = :resolved, #resolution = :resolution")
            .condition_expression("#status = :open")
            .set_expression_attribute_names(Some(names(&["status", "resolution"])))
            .expression_attribute_values(":resolved", s(ConflictStatus::Resolved.as_str()))
            .expression_attribute_values(":open", s(ConflictStatus::Open.as_str()))
            .expression_attribute_values(":resolution", json(resolution))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out
                    .attributes
                    .ok_or_else(|| StoreError::corrupt("resolve returned nothing"))?;
                Ok(ResolveOutcome::Resolved(record_of(&item)?))
            }
            Err(e) if is_condition_failed(&e) => match self.get(id).await? {
                None => Ok(ResolveOutcome::NotFound),
                Some(record) => Ok(ResolveOutcome::AlreadyResolved(record)),
            },
            Err(e) => Err(sdk_error("resolve conflict", e)),
        }
    }

    async fn list(
        &self,
        filter: &ConflictFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ConflictRecord>> {
        let limit = page.checked_limit()?;
        let start = page.after.as_ref().map(key_of_token).transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(schema::BY_STATUS_TIME.name)
            .key_condition_expression("#status = :status")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(filter.status.as_str()))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start);
        // Filters apply after the index read (DynamoDB counts `limit` before filtering).
        let mut conditions = Vec::new();
        if let Some(reason) = filter.reason {
            conditions.push("#reason = :reason");
            query = query
                .expression_attribute_names("#reason", "reason")
                .expression_attribute_values(":reason", s(reason.as_str()));
        }
        if let Some(ticket) = filter.ticket_id {
            conditions.push("#ticket = :ticket");
            query = query
                .expression_attribute_names("#ticket", "ticket")
                .expression_attribute_values(":ticket", s(ticket.to_string()));
        }
        if !conditions.is_empty() {
            query = query.filter_expression(conditions.join(" AND "));
        }
        let out = query
            .send()
            .await
            .map_err(|e| sdk_error("list conflicts", e))?;
        let items = out
            .items()
            .iter()
            .map(record_of)
            .collect::<StoreResult<Vec<_>>>()?;
        let next = out
            .last_evaluated_key()
            .map(|k| token_of(&k.clone()))
            .transpose()?;
        Ok(Page { items, next })
    }

    async fn delete(&self, id: &ConflictId) -> StoreResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(id)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error("delete conflict", e))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }
}
