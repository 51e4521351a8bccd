//! "Send a test event": an admin checks that notifications reach people (the e-mail
//! subscription, the chat) without waiting for something to break. The event goes through the
//! same bus and rules as the real ones; unlike them, a bus that refuses it is the answer (503),
//! because a person is waiting for the result.

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult};
use crate::events::{DomainEvent, NotificationTest, Publisher};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TestEventSent {
    /// The event's `detail-type` (`Notification Test`).
    pub detail_type: String,
    /// The line people receive.
    pub summary: String,
}

/// Publishes `Notification Test`, audited as `notification.test`.
pub async fn send_test_event(
    events: &Publisher,
    access: AccessLog<'_>,
    actor: &Actor,
) -> ConsoleResult<TestEventSent> {
    let test = NotificationTest::by(&actor.username, access.clock.now());
    let event = DomainEvent::NotificationTest(test.clone());
    events
        .try_publish(std::slice::from_ref(&event))
        .await
        .map_err(|e| ConsoleError::Unavailable(format!("the event bus did not take it: {e}")))?;
    access
        .record(actor, "notification.test", json!({"summary": test.summary}))
        .await?;
    Ok(TestEventSent {
        detail_type: event.detail_type().to_owned(),
        summary: test.summary,
    })
}
