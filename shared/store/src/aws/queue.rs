use super::sdk_error;
use crate::env;
use crate::error::{StoreError, StoreResult};
use crate::queue::{
    BatchReport, BatchTransport, EntryFailure, MessageQueue, QueueMessage, Received, decode,
    delay_secs, encode, encode_sendable, send_batched,
};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use std::marker::PhantomData;

/// One SQS queue carrying messages of type `M`.
pub struct SqsQueue<M> {
    client: Client,
    url: String,
    _message: PhantomData<fn() -> M>,
}

impl<M> Clone for SqsQueue<M> {
    fn clone(&self) -> Self {
        SqsQueue {
            client: self.client.clone(),
            url: self.url.clone(),
            _message: PhantomData,
        }
    }
}

impl<M: QueueMessage> SqsQueue<M> {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
            _message: PhantomData,
        }
    }

    /// Queue URL from the environment variable `var` (`TICKET_SYNC_QUEUE_URL`,
    /// `KIMAI_WRITE_QUEUE_URL`).
    pub fn from_env(config: &aws_config::SdkConfig, var: &'static str) -> StoreResult<Self> {
        Ok(Self::new(Client::new(config), env::required(var)?))
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

#[async_trait]
impl<M: QueueMessage> BatchTransport for SqsQueue<M> {
    async fn send_batch(&self, entries: &[(usize, &str)]) -> StoreResult<Vec<EntryFailure>> {
        let request_entries = entries
            .iter()
            .map(|(index, body)| {
                SendMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .message_body(*body)
                    .build()
                    .map_err(|e| StoreError::Invalid(e.to_string()))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(request_entries))
            .send()
            .await
            .map_err(|e| sdk_error("send message batch", e))?;
        out.failed
            .iter()
            .map(|f| {
                let index = f.id.parse().map_err(|_| {
                    StoreError::corrupt(format!("SQS answered an unknown batch entry id {}", f.id))
                })?;
                Ok(EntryFailure {
                    index,
                    code: f.code.clone(),
                    message: f.message.clone().unwrap_or_default(),
                    sender_fault: f.sender_fault,
                })
            })
            .collect()
    }
}

impl<M: QueueMessage> SqsQueue<M> {
    /// `SendMessage` of one body, held back `delay` seconds when given.
    async fn send_message(&self, body: String, delay: Option<i32>) -> StoreResult<String> {
        let out = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .set_delay_seconds(delay)
            .send()
            .await
            .map_err(|e| sdk_error("send message", e))?;
        Ok(out.message_id.unwrap_or_default())
    }
}

#[async_trait]
impl<M: QueueMessage> MessageQueue<M> for SqsQueue<M> {
    async fn send(&self, message: &M) -> StoreResult<String> {
        self.send_message(encode_sendable(message)?, None).await
    }

    async fn send_delayed(&self, message: &M, delay: std::time::Duration) -> StoreResult<String> {
        let delay = delay_secs(delay)?;
        self.send_message(encode_sendable(message)?, Some(delay))
            .await
    }

    async fn send_raw(&self, body: &str) -> StoreResult<String> {
        let out = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| sdk_error("send message", e))?;
        Ok(out.message_id.unwrap_or_default())
    }

    async fn send_many(&self, messages: &[M]) -> BatchReport {
        let bodies: Vec<String> = messages.iter().map(encode).collect();
        send_batched(self, &bodies).await
    }

    async fn receive(&self, max: u32, wait_secs: u32) -> StoreResult<Vec<Received<M>>> {
        if !(1..=10).contains(&max) {
            return Err(StoreError::Invalid(format!(
                "receive max {max} is outside 1..=10"
            )));
        }
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max as i32)
            .wait_time_seconds(wait_secs.min(20) as i32)
            .send()
            .await
            .map_err(|e| sdk_error("receive messages", e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let body = m.body.unwrap_or_default();
                Received {
                    message_id: m.message_id.unwrap_or_default(),
                    receipt: m.receipt_handle.unwrap_or_default(),
                    message: decode(&body),
                    body,
                }
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| sdk_error("delete message", e))?;
        Ok(())
    }

    async fn release(&self, receipt: &str) -> StoreResult<()> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(|e| sdk_error("release message", e))?;
        Ok(())
    }

    async fn approximate_depth(&self) -> StoreResult<u64> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| sdk_error("read queue depth", e))?;
        let mut attributes = out.attributes.unwrap_or_default();
        let mut count = |name: QueueAttributeName, required: bool| -> StoreResult<u64> {
            match attributes.remove(&name) {
                Some(raw) => raw
                    .parse()
                    .map_err(|_| StoreError::corrupt(format!("queue depth {raw}"))),
                None if required => Err(StoreError::corrupt("queue depth missing")),
                None => Ok(0),
            }
        };
        // Messages held back by a delay (records waiting for an upstream) wait too.
        Ok(
            count(QueueAttributeName::ApproximateNumberOfMessages, true)?
                + count(
                    QueueAttributeName::ApproximateNumberOfMessagesDelayed,
                    false,
                )?,
        )
    }
}
