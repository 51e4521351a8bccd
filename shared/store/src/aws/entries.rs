use super::item::{
    Item, get_day, get_n, get_opt_json, get_s, get_time, json, key_of_token, n, names, s, time,
    token_of,
};
use super::{is_condition_failed, sdk_error};
use crate::entries::{EntriesStore, EntryRecord, EntryStatus, ExpectedLink, LinkOutcome};
use crate::env;
use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use crate::schema::entries as schema;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{KeysAndAttributes, ReturnValue};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, TimesheetId, ZammadUserId};
use sync_core::plan::Base;

/// Entries in DynamoDB: partition = ticket, sort = entry key. See `schema::entries`.
#[derive(Clone)]
pub struct DynamoEntries {
    client: Client,
    table: String,
}

impl DynamoEntries {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoEntries {
            client,
            table: table.into(),
        }
    }

    /// Table name from `ENTRIES_TABLE`.
    pub fn from_env(config: &aws_config::SdkConfig) -> StoreResult<Self> {
        Ok(Self::new(
            Client::new(config),
            env::required(env::ENTRIES_TABLE)?,
        ))
    }

    fn key(ticket: TicketId, key: &EntryKey) -> Item {
        Item::from([
            (schema::TICKET.name.to_string(), n(ticket.0)),
            (schema::KEY.name.to_string(), s(key.as_str())),
        ])
    }

    /// The `by-day` index's query for one local day (a listing's page, or every ticket key).
    fn by_day(&self, day: NaiveDate) -> QueryFluentBuilder {
        self.client
            .query()
            .index_name(schema::BY_DAY.name)
            .key_condition_expression("#day = :day")
            .expression_attribute_names("#day", "day")
            .expression_attribute_values(":day", s(day.to_string()))
    }

    /// One page of an index. The indexes project keys only (an update that changes no index
    /// key writes nothing to them, which is most of what this table is written), so the page's
    /// records are read from the table by key, strongly consistent, and those that no longer
    /// `match` the query (changed after the index was written) are left out.
    async fn index_page(
        &self,
        query: QueryFluentBuilder,
        page: &PageRequest,
        matches: impl Fn(&EntryRecord) -> bool,
    ) -> StoreResult<Page<EntryRecord>> {
        let limit = page.checked_limit()?;
        let start = page.after.as_ref().map(key_of_token).transpose()?;
        let out = query
            .table_name(&self.table)
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("query entries", e))?;
        let keys = out
            .items()
            .iter()
            .map(table_key)
            .collect::<StoreResult<Vec<_>>>()?;
        let items = self
            .get_many(&keys)
            .await?
            .into_iter()
            .filter(|r| matches(r))
            .collect();
        let next = out
            .last_evaluated_key()
            .map(|k| token_of(&k.clone()))
            .transpose()?;
        Ok(Page { items, next })
    }

    /// The records of these keys that exist, in the keys' order: BatchGetItem, 100 keys a
    /// call, with what DynamoDB leaves unprocessed asked again.
    async fn get_many(&self, keys: &[(TicketId, EntryKey)]) -> StoreResult<Vec<EntryRecord>> {
        const BATCH: usize = 100;
        const ROUNDS: u32 = 8;
        let mut found: HashMap<(TicketId, EntryKey), EntryRecord> = HashMap::new();
        for chunk in keys.chunks(BATCH) {
            let mut wanted: Vec<Item> = chunk.iter().map(|(t, k)| Self::key(*t, k)).collect();
            for round in 0..ROUNDS {
                if wanted.is_empty() {
                    break;
                }
                if round > 0 {
                    // Unprocessed keys mean the table is throttled: back off before asking again.
                    tokio::time::sleep(Duration::from_millis(50 << round)).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut wanted)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error("get entries by key", e))?;
                for item in out
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    let record = record_of(item)?;
                    found.insert((record.ticket_id, record.key.clone()), record);
                }
                wanted = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
            if !wanted.is_empty() {
                return Err(StoreError::Unavailable(format!(
                    "{} entries stayed unprocessed after {ROUNDS} reads",
                    wanted.len()
                )));
            }
        }
        Ok(keys.iter().filter_map(|k| found.remove(k)).collect())
    }
}

/// The table key of an index item (every index item carries it).
fn table_key(item: &Item) -> StoreResult<(TicketId, EntryKey)> {
    Ok((
        TicketId(get_n(item, schema::TICKET.name)?),
        EntryKey(get_s(item, schema::KEY.name)?.to_string()),
    ))
}

fn ticket_key(ticket: TicketId, key: &EntryKey) -> String {
    format!("{:020}#{}", ticket.0, key)
}

fn record_of(item: &Item) -> StoreResult<EntryRecord> {
    let status = get_s(item, "status")?;
    Ok(EntryRecord {
        ticket_id: TicketId(get_n(item, schema::TICKET.name)?),
        key: EntryKey(get_s(item, schema::KEY.name)?.to_string()),
        agent_id: ZammadUserId(get_n(item, "agent")?),
        day: get_day(item, "day")?,
        status: EntryStatus::parse(status)
            .ok_or_else(|| StoreError::corrupt(format!("entry status {status}")))?,
        desired: get_opt_json(item, "desired")?,
        base: get_opt_json(item, "base")?,
        updated_at: get_time(item, "updated_at")?,
        create_sent_at: item
            .contains_key("create_sent_at")
            .then(|| get_time(item, "create_sent_at"))
            .transpose()?,
    })
}

#[async_trait]
impl EntriesStore for DynamoEntries {
    async fn save(&self, record: &EntryRecord) -> StoreResult<()> {
        let mut update = "SET #status = :status, #day = :day, #agent = :agent, \
                          #updated_at = :updated_at, #ticket_key = :ticket_key, \
                          #day_ticket_key = :day_ticket_key"
            .to_string();
        let tk = ticket_key(record.ticket_id, &record.key);
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(record.ticket_id, &record.key)))
            .expression_attribute_values(":status", s(record.status.as_str()))
            .expression_attribute_values(":day", s(record.day.to_string()))
            .expression_attribute_values(":agent", n(record.agent_id.0))
            .expression_attribute_values(":updated_at", s(time(record.updated_at)))
            .expression_attribute_values(":ticket_key", s(tk.clone()))
            .expression_attribute_values(":day_ticket_key", s(format!("{}#{tk}", record.day)));
        let attrs = [
            "status",
            "day",
            "agent",
            "updated_at",
            "ticket_key",
            "day_ticket_key",
            "desired",
        ];
        match &record.desired {
            Some(desired) => {
                update.push_str(", #desired = :desired");
                request = request.expression_attribute_values(":desired", json(desired));
            }
            None => update.push_str(" REMOVE #desired"),
        }
        request
            .update_expression(update)
            .set_expression_attribute_names(Some(names(&attrs)))
            .send()
            .await
            .map_err(|e| sdk_error("save entry", e))?;
        Ok(())
    }

    async fn get(&self, ticket: TicketId, key: &EntryKey) -> StoreResult<Option<EntryRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(ticket, key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("get entry", e))?;
        out.item().map(record_of).transpose()
    }

    async fn load_ticket(&self, ticket: TicketId) -> StoreResult<Vec<EntryRecord>> {
        // One query; more than one page only for tickets with thousands of entries.
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#ticket = :ticket")
                .expression_attribute_names("#ticket", schema::TICKET.name)
                .expression_attribute_values(":ticket", n(ticket.0))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("load ticket entries", e))?;
            for item in out.items() {
                records.push(record_of(item)?);
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(records),
            }
        }
    }

    async fn link(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        expected: ExpectedLink,
        base: &Base,
        status: EntryStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<LinkOutcome> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(ticket, key)))
            .update_expression(
                "SET #base = :base, #kimai_id = :kimai_id, #status = :status, \
                 #updated_at = :updated_at",
            )
            .set_expression_attribute_names(Some(names(&[
                "ticket",
                "base",
                "kimai_id",
                "status",
                "updated_at",
            ])))
            .expression_attribute_values(":base", json(base))
            .expression_attribute_values(":kimai_id", n(base.kimai_id.0))
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":updated_at", s(time(at)))
            .return_values(ReturnValue::AllNew);
        request = match expected {
            ExpectedLink::Unlinked => request.condition_expression(
                "attribute_exists(#ticket) AND attribute_not_exists(#kimai_id)",
            ),
            ExpectedLink::LinkedTo(id) => request
                .condition_expression("attribute_exists(#ticket) AND #kimai_id = :expected")
                .expression_attribute_values(":expected", n(id.0)),
        };
        match request.send().await {
            Ok(out) => {
                let item = out
                    .attributes
                    .ok_or_else(|| StoreError::corrupt("link returned no attributes"))?;
                Ok(LinkOutcome::Linked(Box::new(record_of(&item)?)))
            }
            Err(e) if is_condition_failed(&e) => match self.get(ticket, key).await? {
                None => Ok(LinkOutcome::NoSuchEntry),
                Some(record) => Ok(LinkOutcome::LostRace {
                    current: record.kimai_id(),
                }),
            },
            Err(e) => Err(sdk_error("link entry", e)),
        }
    }

    async fn note_create_sent(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(ticket, key)))
            .update_expression("SET #create_sent_at = :at")
            .condition_expression("attribute_exists(#ticket)")
            .set_expression_attribute_names(Some(names(&["ticket", "create_sent_at"])))
            .expression_attribute_values(":at", s(time(at)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error("note create sent", e)),
        }
    }

    async fn set_status(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        status: EntryStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(ticket, key)))
            .update_expression("SET #status = :status, #updated_at = :updated_at")
            .condition_expression("attribute_exists(#ticket)")
            .set_expression_attribute_names(Some(names(&["ticket", "status", "updated_at"])))
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":updated_at", s(time(at)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error("set entry status", e)),
        }
    }

    async fn list_by_status(
        &self,
        status: EntryStatus,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>> {
        let query = self
            .client
            .query()
            .index_name(schema::BY_STATUS.name)
            .key_condition_expression("#status = :status")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status.as_str()))
            .scan_index_forward(false);
        self.index_page(query, page, |r| r.status == status).await
    }

    async fn list_by_day(
        &self,
        day: NaiveDate,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>> {
        self.index_page(self.by_day(day), page, |r| r.day == day)
            .await
    }

    async fn list_by_agent(
        &self,
        agent: ZammadUserId,
        from: NaiveDate,
        to: NaiveDate,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>> {
        if from > to {
            return Err(StoreError::Invalid(format!(
                "day range {from}..{to} is reversed"
            )));
        }
        // `$` sorts after `#`, so `<to>$` is past every `<to>#...` sort key.
        let query = self
            .client
            .query()
            .index_name(schema::BY_AGENT.name)
            .key_condition_expression("#agent = :agent AND #dtk BETWEEN :from AND :to")
            .expression_attribute_names("#agent", "agent")
            .expression_attribute_names("#dtk", "day_ticket_key")
            .expression_attribute_values(":agent", n(agent.0))
            .expression_attribute_values(":from", s(from.to_string()))
            .expression_attribute_values(":to", s(format!("{to}$")));
        self.index_page(query, page, |r| {
            r.agent_id == agent && r.day >= from && r.day <= to
        })
        .await
    }

    async fn find_by_kimai_id(&self, id: TimesheetId) -> StoreResult<Option<EntryRecord>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(schema::BY_KIMAI_ID.name)
            .key_condition_expression("#kimai_id = :kimai_id")
            .expression_attribute_names("#kimai_id", "kimai_id")
            .expression_attribute_values(":kimai_id", n(id.0))
            .send()
            .await
            .map_err(|e| sdk_error("find entry by kimai id", e))?;
        let keys = out
            .items()
            .iter()
            .map(table_key)
            .collect::<StoreResult<Vec<_>>>()?;
        // Usually one key; more only while a relink is on its way into the index.
        Ok(self
            .get_many(&keys)
            .await?
            .into_iter()
            .find(|r| r.kimai_id() == Some(id)))
    }

    async fn tickets_on_day(&self, day: NaiveDate) -> StoreResult<BTreeSet<TicketId>> {
        // The index items carry the table key, which is all this needs.
        let mut tickets = BTreeSet::new();
        let mut start = None;
        loop {
            let out = self
                .by_day(day)
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("tickets of a day", e))?;
            for item in out.items() {
                tickets.insert(table_key(item)?.0);
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(tickets),
            }
        }
    }

    async fn delete(&self, ticket: TicketId, key: &EntryKey) -> StoreResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(ticket, key)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error("delete entry", e))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }
}
