use crate::error::{StoreError, StoreResult};
use crate::queue::{
    BatchReport, BatchTransport, EntryFailure, MessageQueue, QueueMessage, Received, decode,
    encode, encode_sendable, send_batched,
};
use async_trait::async_trait;
use std::collections::{HashMap, VecDeque};
use std::marker::PhantomData;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    next_id: u64,
    /// (message id, body), oldest first.
    waiting: VecDeque<(String, String)>,
    /// receipt → (message id, body) of received, not yet deleted messages.
    in_flight: HashMap<String, (String, String)>,
    /// (visible from, delay asked for, message id, body) of messages sent with a delay.
    delayed: Vec<(Instant, Duration, String, String)>,
    /// Calls of `receive` so far.
    receives: u64,
}

impl State {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("m-{}", self.next_id)
    }

    /// Moves the delayed messages whose time has come to the waiting ones.
    fn ripen(&mut self) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) =
            self.delayed.drain(..).partition(|(at, ..)| *at <= now);
        self.delayed = later;
        self.waiting
            .extend(due.into_iter().map(|(_, _, id, body)| (id, body)));
    }
}

/// A FIFO in memory. Received messages stay invisible until deleted (no visibility timeout).
pub struct MemoryQueue<M> {
    state: Mutex<State>,
    _message: PhantomData<fn() -> M>,
}

impl<M> Default for MemoryQueue<M> {
    fn default() -> Self {
        MemoryQueue {
            state: Mutex::new(State::default()),
            _message: PhantomData,
        }
    }
}

impl<M: QueueMessage> MemoryQueue<M> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bodies waiting to be received, oldest first (for assertions in tests).
    pub fn waiting_bodies(&self) -> Vec<String> {
        let mut state = self.state.lock().expect("queue lock poisoned");
        state.ripen();
        state.waiting.iter().map(|(_, body)| body.clone()).collect()
    }

    /// How often `receive` was called: a test of something that must only read the queue
    /// (a listing) checks it stays 0.
    pub fn receives(&self) -> u64 {
        self.state.lock().expect("queue lock poisoned").receives
    }

    /// Messages still held back by their delay, with the delay they were sent with.
    pub fn delayed_bodies(&self) -> Vec<(Duration, String)> {
        let mut state = self.state.lock().expect("queue lock poisoned");
        state.ripen();
        state
            .delayed
            .iter()
            .map(|(_, delay, _, body)| (*delay, body.clone()))
            .collect()
    }

    fn push(&self, body: String) -> String {
        let mut state = self.state.lock().expect("queue lock poisoned");
        let id = state.new_id();
        state.waiting.push_back((id.clone(), body));
        id
    }

    /// Sent now, received no sooner than `delay` from now.
    fn push_delayed(&self, body: String, delay: Duration) -> String {
        let mut state = self.state.lock().expect("queue lock poisoned");
        let id = state.new_id();
        state
            .delayed
            .push((Instant::now() + delay, delay, id.clone(), body));
        id
    }
}

#[async_trait]
impl<M: QueueMessage> MessageQueue<M> for MemoryQueue<M> {
    async fn send(&self, message: &M) -> StoreResult<String> {
        Ok(self.push(encode_sendable(message)?))
    }

    async fn send_delayed(&self, message: &M, delay: Duration) -> StoreResult<String> {
        crate::queue::delay_secs(delay)?;
        Ok(self.push_delayed(encode_sendable(message)?, delay))
    }

    async fn send_raw(&self, body: &str) -> StoreResult<String> {
        Ok(self.push(body.to_owned()))
    }

    async fn send_many(&self, messages: &[M]) -> BatchReport {
        let bodies: Vec<String> = messages.iter().map(encode).collect();
        send_batched(self, &bodies).await
    }

    async fn receive(&self, max: u32, _wait_secs: u32) -> StoreResult<Vec<Received<M>>> {
        if !(1..=10).contains(&max) {
            return Err(StoreError::Invalid(format!(
                "receive max {max} is outside 1..=10"
            )));
        }
        let mut state = self.state.lock().expect("queue lock poisoned");
        state.receives += 1;
        state.ripen();
        let mut out = Vec::new();
        while out.len() < max as usize {
            let Some((id, body)) = state.waiting.pop_front() else {
                break;
            };
            let receipt = format!("r-{id}");
            state
                .in_flight
                .insert(receipt.clone(), (id.clone(), body.clone()));
            out.push(Received {
                message_id: id,
                receipt,
                message: decode(&body),
                body,
            });
        }
        Ok(out)
    }

    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        let mut state = self.state.lock().expect("queue lock poisoned");
        state
            .in_flight
            .remove(receipt)
            .map(|_| ())
            .ok_or_else(|| StoreError::Invalid(format!("unknown receipt {receipt}")))
    }

    async fn release(&self, receipt: &str) -> StoreResult<()> {
        let mut state = self.state.lock().expect("queue lock poisoned");
        let message = state
            .in_flight
            .remove(receipt)
            .ok_or_else(|| StoreError::Invalid(format!("unknown receipt {receipt}")))?;
        state.waiting.push_front(message);
        Ok(())
    }

    async fn approximate_depth(&self) -> StoreResult<u64> {
        let state = self.state.lock().expect("queue lock poisoned");
        Ok((state.waiting.len() + state.delayed.len()) as u64)
    }
}

#[async_trait]
impl<M: QueueMessage> BatchTransport for MemoryQueue<M> {
    async fn send_batch(&self, entries: &[(usize, &str)]) -> StoreResult<Vec<EntryFailure>> {
        for (_, body) in entries {
            self.push((*body).to_string());
        }
        Ok(Vec::new())
    }
}
