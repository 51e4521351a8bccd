use super::item::{
    Item, get_json, get_n, get_s, json, key_from_json, key_to_json, n, s, token_json,
};
use super::sdk_error;
use crate::audit::{
    AuditEvent, AuditFilter, AuditLog, AuditRecord, AuditRetention, audit_id, check_range,
};
use crate::env;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest, PageToken};
use crate::schema::{TTL_ATTRIBUTE, audit as schema};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, NaiveDate};

/// The audit log in DynamoDB: partition = UTC day, sort = time-ordered id, TTL on `expires_at`.
/// Queries one `query` call may make before it returns a partial page.
const MAX_READS_PER_PAGE: usize = 50;

#[derive(Clone)]
pub struct DynamoAuditLog {
    client: Client,
    table: String,
    retention: AuditRetention,
}

impl DynamoAuditLog {
    pub fn new(client: Client, table: impl Into<String>, retention: AuditRetention) -> Self {
        DynamoAuditLog {
            client,
            table: table.into(),
            retention,
        }
    }

    /// Table name from `AUDIT_TABLE`; sync-event retention from `AUDIT_SYNC_RETENTION_DAYS`
    /// (default 30 days).
    pub fn from_env(config: &aws_config::SdkConfig) -> StoreResult<Self> {
        let mut retention = AuditRetention::default();
        if let Some(days) = env::optional(env::AUDIT_SYNC_RETENTION_DAYS) {
            let days: i64 = days.trim().parse().ok().filter(|d| *d > 0).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "{} must be a positive number of days, got {days:?}",
                    env::AUDIT_SYNC_RETENTION_DAYS
                ))
            })?;
            retention.sync = Duration::days(days);
        }
        Ok(Self::new(
            Client::new(config),
            env::required(env::AUDIT_TABLE)?,
            retention,
        ))
    }
}

fn record_of(item: &Item) -> StoreResult<AuditRecord> {
    let expires: i64 = get_n(item, TTL_ATTRIBUTE)?;
    Ok(AuditRecord {
        id: get_s(item, schema::ID.name)?.to_string(),
        event: get_json(item, "event")?,
        expires_at: DateTime::from_timestamp(expires, 0)
            .ok_or_else(|| StoreError::corrupt(format!("audit expiry {expires}")))?,
    })
}

/// Where a listing stopped: the day being read and, within it, DynamoDB's position.
fn cursor_token(day: NaiveDate, key: Option<&Item>) -> StoreResult<PageToken> {
    let key = key.map(key_to_json).transpose()?;
    let value = serde_json::json!({ "day": day.to_string(), "key": key });
    Ok(PageToken(hex::encode(value.to_string())))
}

fn cursor_of(token: &PageToken) -> StoreResult<(NaiveDate, Option<Item>)> {
    let bad = || StoreError::Invalid("page token is not one this store issued".into());
    let value = token_json(token)?;
    let day = value
        .get("day")
        .and_then(|d| d.as_str())
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(bad)?;
    let key = match value.get("key") {
        None | Some(serde_json::Value::Null) => None,
        Some(k) => Some(key_from_json(k)?),
    };
    Ok((day, key))
}

#[async_trait]
impl AuditLog for DynamoAuditLog {
    fn retention(&self) -> AuditRetention {
        self.retention
    }

    async fn append(&self, event: &AuditEvent) -> StoreResult<AuditRecord> {
        let record = AuditRecord {
            id: audit_id(event),
            event: event.clone(),
            expires_at: self.retention.expiry_of(event),
        };
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(schema::DAY.name, s(event.at.date_naive().to_string()))
            .item(schema::ID.name, s(&record.id))
            .item("kind", s(event.kind.as_str()))
            .item("action", s(&event.action))
            .item("actor", s(&event.actor))
            .item("event", json(event))
            .item(TTL_ATTRIBUTE, n(record.expires_at.timestamp()));
        if let Some(ip) = &event.ip {
            request = request.item("ip", s(ip));
        }
        request
            .send()
            .await
            .map_err(|e| sdk_error("append audit event", e))?;
        Ok(record)
    }

    async fn query(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditRecord>> {
        check_range(from, to)?;
        let limit = page.checked_limit()? as usize;
        let (mut day, mut start) = match &page.after {
            None => (to, None),
            Some(token) => cursor_of(token)?,
        };
        if day < from || day > to {
            return Err(StoreError::Invalid(
                "page token does not belong to this range".into(),
            ));
        }
        // Newest day first; within a day newest first. Fill the page across days, but read at
        // most MAX_READS_PER_PAGE times per call (a narrow filter over a long range) and hand
        // back a partial page with a token instead.
        let mut items = Vec::new();
        let mut reads = 0;
        loop {
            reads += 1;
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#day = :day")
                .expression_attribute_names("#day", schema::DAY.name)
                .expression_attribute_values(":day", s(day.to_string()))
                .scan_index_forward(false)
                .limit((limit - items.len()) as i32)
                .set_exclusive_start_key(start.take());
            let mut conditions = Vec::new();
            let wanted = [
                ("kind", filter.kind.map(|k| k.as_str().to_string())),
                ("action", filter.action.clone()),
                ("actor", filter.actor.clone()),
                ("ip", filter.ip.clone()),
            ];
            for (attribute, value) in wanted {
                if let Some(value) = value {
                    conditions.push(format!("#{attribute} = :{attribute}"));
                    query = query
                        .expression_attribute_names(format!("#{attribute}"), attribute)
                        .expression_attribute_values(format!(":{attribute}"), s(value));
                }
            }
            if !conditions.is_empty() {
                query = query.filter_expression(conditions.join(" AND "));
            }
            let out = query
                .send()
                .await
                .map_err(|e| sdk_error("query audit log", e))?;
            for item in out.items() {
                items.push(record_of(item)?);
            }
            let day_done = out.last_evaluated_key.is_none();
            if !day_done {
                start = out.last_evaluated_key;
            }
            let next_day = if day_done {
                day.pred_opt().filter(|d| *d >= from)
            } else {
                Some(day)
            };
            match next_day {
                None => return Ok(Page { items, next: None }),
                Some(next_day) => {
                    if items.len() == limit || reads >= MAX_READS_PER_PAGE {
                        let next = cursor_token(next_day, start.as_ref())?;
                        return Ok(Page {
                            items,
                            next: Some(next),
                        });
                    }
                    day = next_day;
                }
            }
        }
    }

    async fn delete(&self, day: NaiveDate, id: &str) -> StoreResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(schema::DAY.name, s(day.to_string()))
            .key(schema::ID.name, s(id))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error("delete audit event", e))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }
}
