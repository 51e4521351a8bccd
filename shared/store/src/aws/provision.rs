//! Creates the resources of [`crate::schema`] under given names: used by the tests against the
//! emulator (unique names per test) and usable for a hand-made stack. The SAM template declares
//! the same resources for deployments.

use super::sdk_error;
use crate::error::{StoreError, StoreResult};
use crate::schema::{KeyAttr, KeyType, Projected, QueueDef, TableDef};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType as DynKeyType, Projection, ProjectionType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use std::collections::BTreeMap;

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

fn key_element(attr: KeyAttr, key_type: DynKeyType) -> StoreResult<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(attr.name)
        .key_type(key_type)
        .build()
        .map_err(invalid)
}

fn key_schema(hash: KeyAttr, range: Option<KeyAttr>) -> StoreResult<Vec<KeySchemaElement>> {
    let mut schema = vec![key_element(hash, DynKeyType::Hash)?];
    if let Some(range) = range {
        schema.push(key_element(range, DynKeyType::Range)?);
    }
    Ok(schema)
}

/// Creates one table (on-demand billing, each index projecting what the schema says), waits until
/// it is active, and turns TTL on where the definition says so.
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    def: &TableDef,
    name: &str,
) -> StoreResult<()> {
    // Every attribute that is a key of the table or of an index, once.
    let mut attrs: BTreeMap<&str, KeyType> = BTreeMap::new();
    for attr in [Some(def.hash), def.range]
        .into_iter()
        .chain(def.indexes.iter().flat_map(|i| [Some(i.hash), i.range]))
        .flatten()
    {
        attrs.insert(attr.name, attr.kind);
    }
    let definitions = attrs
        .into_iter()
        .map(|(name, kind)| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(match kind {
                    KeyType::S => ScalarAttributeType::S,
                    KeyType::N => ScalarAttributeType::N,
                })
                .build()
                .map_err(invalid)
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let indexes = def
        .indexes
        .iter()
        .map(|index| {
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .set_key_schema(Some(key_schema(index.hash, index.range)?))
                .projection(
                    Projection::builder()
                        .projection_type(match index.projection {
                            Projected::All => ProjectionType::All,
                            Projected::KeysOnly => ProjectionType::KeysOnly,
                        })
                        .build(),
                )
                .build()
                .map_err(invalid)
        })
        .collect::<StoreResult<Vec<_>>>()?;
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(definitions))
        .set_key_schema(Some(key_schema(def.hash, def.range)?))
        .set_global_secondary_indexes(if indexes.is_empty() {
            None
        } else {
            Some(indexes)
        })
        .send()
        .await
        .map_err(|e| sdk_error(&format!("create table {name}"), e))?;

    for _ in 0..100 {
        let out = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("describe table {name}"), e))?;
        if out.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    if let Some(attribute) = def.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attribute)
                    .enabled(true)
                    .build()
                    .map_err(invalid)?,
            )
            .send()
            .await
            .map_err(|e| sdk_error(&format!("enable TTL on {name}"), e))?;
    }
    Ok(())
}

/// URLs of a work queue and its dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    pub url: String,
    pub dlq_url: String,
}

/// Creates `<name>-dlq` and `<name>` redriving into it.
pub async fn create_queue(
    client: &aws_sdk_sqs::Client,
    def: &QueueDef,
    name: &str,
) -> StoreResult<QueueUrls> {
    let dlq_name = format!("{name}-dlq");
    let dlq_url = client
        .create_queue()
        .queue_name(&dlq_name)
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            def.dlq_retention_secs.to_string(),
        )
        .send()
        .await
        .map_err(|e| sdk_error(&format!("create queue {dlq_name}"), e))?
        .queue_url
        .ok_or_else(|| StoreError::corrupt("create queue returned no URL"))?;
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("read ARN of {dlq_name}"), e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| StoreError::corrupt("queue has no ARN"))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": def.max_receive_count.to_string(),
    });
    let url = client
        .create_queue()
        .queue_name(name)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            def.visibility_timeout_secs.to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .map_err(|e| sdk_error(&format!("create queue {name}"), e))?
        .queue_url
        .ok_or_else(|| StoreError::corrupt("create queue returned no URL"))?;
    Ok(QueueUrls { url, dlq_url })
}

/// Creates (or, if it exists, rotates) a secret string.
pub async fn put_secret(
    client: &aws_sdk_secretsmanager::Client,
    name: &str,
    value: &str,
) -> StoreResult<()> {
    let created = client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(e) if super::error_code(&e) == Some("ResourceExistsException") => {
            client
                .put_secret_value()
                .secret_id(name)
                .secret_string(value)
                .send()
                .await
                .map_err(|e| sdk_error(&format!("rotate secret {name}"), e))?;
            Ok(())
        }
        Err(e) => Err(sdk_error(&format!("create secret {name}"), e)),
    }
}

/// A bus of our own with a rule that copies every event the sync publishes to a queue: how
/// the tests see what reached the bus and that a rule matched it.
#[derive(Debug, Clone)]
pub struct BusTap {
    pub bus: String,
    pub queue_url: String,
}

/// The rule pattern of [`BusTap`]: the sync's source, as the template's rules match it.
pub fn sync_event_pattern() -> serde_json::Value {
    serde_json::json!({ "source": [crate::events::EVENT_SOURCE] })
}

/// Creates the bus `name`, a queue `<name>-tap` and a rule `<name>-all` from one to the other.
pub async fn create_bus_with_tap(
    events: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    name: &str,
) -> StoreResult<BusTap> {
    events
        .create_event_bus()
        .name(name)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("create event bus {name}"), e))?;
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("{name}-tap"))
        .send()
        .await
        .map_err(|e| sdk_error(&format!("create queue {name}-tap"), e))?
        .queue_url
        .ok_or_else(|| StoreError::corrupt("create queue returned no URL"))?;
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sdk_error("read the tap queue's ARN", e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| StoreError::corrupt("queue has no ARN"))?;
    let rule = format!("{name}-all");
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(name)
        .event_pattern(sync_event_pattern().to_string())
        .send()
        .await
        .map_err(|e| sdk_error(&format!("create rule {rule}"), e))?;
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("tap")
        .arn(queue_arn)
        .build()
        .map_err(invalid)?;
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(name)
        .targets(target)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("target of rule {rule}"), e))?;
    Ok(BusTap {
        bus: name.to_owned(),
        queue_url,
    })
}

impl BusTap {
    /// The events the rule delivered so far (EventBridge's envelope: `detail-type`, `detail`,
    /// `source`, …), taken off the queue.
    pub async fn drain(&self, sqs: &aws_sdk_sqs::Client) -> StoreResult<Vec<serde_json::Value>> {
        let mut out = Vec::new();
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .map_err(|e| sdk_error("receive from the tap", e))?;
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(out);
            }
            for m in messages {
                let body = m.body.unwrap_or_default();
                out.push(serde_json::from_str(&body).map_err(StoreError::corrupt)?);
                if let Some(receipt) = m.receipt_handle {
                    sqs.delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(receipt)
                        .send()
                        .await
                        .map_err(|e| sdk_error("delete from the tap", e))?;
                }
            }
        }
    }
}
