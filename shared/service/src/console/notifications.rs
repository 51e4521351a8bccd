//! The console's Notifications page: which events people are told about (by e-mail and in the
//! chat), the conflict backlog that is worth a word, and "send a test event", which checks that
//! notifications reach people without waiting for something to break.
//!
//! The choices live in `policy/notifications` ([`NotificationSettings`]); the event publisher
//! reads them and marks muted events `notify: false`, which the template's rules do not
//! deliver. The test event goes through the same bus and rules as the real ones; unlike them, a
//! bus that refuses it is the answer (503), because a person is waiting for the result.

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult, FieldError};
use crate::events::{DomainEvent, NOTIFIED, NotificationTest, Publisher, TEST_EVENT, notifies};
use crate::settings::{self, NOTIFICATIONS_POLICY, NotificationSettings};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_store::control::{ControlStore, DocumentWrite, ExpectedVersion};
use utoipa::ToSchema;

/// The highest backlog threshold the console accepts.
pub const MAX_BACKLOG_THRESHOLD: u32 = 100_000;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TestEventSent {
    /// The event's `detail-type` (`Notification Test`).
    pub detail_type: String,
    /// The line people receive.
    pub summary: String,
}

/// One event type people may be told about.
#[derive(Serialize, ToSchema)]
pub struct EventTypeView {
    /// The event's `detail-type`, e.g. `SyncRun Failed`.
    pub detail_type: String,
    /// When it is published, in a sentence.
    pub description: String,
    /// Whether people are told about it now.
    pub notified: bool,
    /// `false` for the test event, which is always told.
    pub can_mute: bool,
}

#[derive(Serialize, ToSchema)]
pub struct NotificationsView {
    /// The document's version for `If-Match`; 0 until first saved.
    pub version: u64,
    /// `ConflictBacklog ThresholdCrossed` when the open conflicts reach this many; 0 is off.
    pub backlog_threshold: u32,
    pub types: Vec<EventTypeView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationsInput {
    /// 0 turns the backlog event off.
    #[schema(minimum = 0, maximum = 100000)]
    pub backlog_threshold: u32,
    /// Detail types people are not told about (any of the listed types but the test event).
    #[serde(default)]
    #[schema(schema_with = mutable_types)]
    pub muted: Vec<String>,
}

/// Every notified type but the test event, each once.
fn mutable_types() -> utoipa::openapi::schema::Array {
    let types = NOTIFIED.iter().copied().filter(|t| *t != TEST_EVENT);
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(crate::console::schemas::one_of_strings(
            &types.collect::<Vec<_>>(),
        ))
        .unique_items(true)
        .build()
}

/// What each notified type means for the person who receives it.
fn description(detail_type: &str) -> &'static str {
    match detail_type {
        "SyncRun Failed" => "A sync run failed (a connection, a setting, or an upstream error).",
        "Conflict Opened" => "A run opened conflicts that a person has to resolve.",
        "DeadLetters Arrived" => "A ticket or a Kimai write failed for good and waits for replay.",
        "Connection Failing" => {
            "The daily check or a run found Zammad or Kimai unreachable, a token rejected or a permission missing."
        }
        "ConflictBacklog ThresholdCrossed" => "The open conflicts reached the backlog threshold.",
        "Approval Awaiting" => "New timesheets wait for approval before they go to Kimai.",
        TEST_EVENT => "Sent from this page to check that notifications arrive.",
        _ => "",
    }
}

async fn read(control: &dyn ControlStore) -> ConsoleResult<(u64, NotificationSettings)> {
    let name = NOTIFICATIONS_POLICY;
    match control.get_document(name.kind, name.id).await? {
        None => Ok((0, NotificationSettings::default())),
        Some(doc) => {
            let settings = serde_json::from_value(doc.body).map_err(|e| {
                ConsoleError::Internal(format!("stored policy/notifications does not read: {e}"))
            })?;
            Ok((doc.version, settings))
        }
    }
}

fn view(version: u64, settings: &NotificationSettings) -> NotificationsView {
    let types = NOTIFIED
        .iter()
        .map(|t| EventTypeView {
            detail_type: (*t).to_owned(),
            description: description(t).to_owned(),
            notified: notifies(t, &settings.muted),
            can_mute: *t != TEST_EVENT,
        })
        .collect();
    NotificationsView {
        version,
        backlog_threshold: settings.backlog_threshold,
        types,
    }
}

/// The event types, whether each is told, and the backlog threshold.
pub async fn notifications(control: &dyn ControlStore) -> ConsoleResult<NotificationsView> {
    let (version, settings) = read(control).await?;
    Ok(view(version, &settings))
}

fn validate(input: &NotificationsInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input.backlog_threshold > MAX_BACKLOG_THRESHOLD {
        errors.push(FieldError::new(
            "backlog_threshold",
            format!("at most {MAX_BACKLOG_THRESHOLD}"),
        ));
    }
    for (i, t) in input.muted.iter().enumerate() {
        let field = format!("muted[{i}]");
        if t == TEST_EVENT {
            errors.push(FieldError::new(field, "the test event cannot be muted"));
        } else if !NOTIFIED.contains(&t.as_str()) {
            errors.push(FieldError::new(
                field,
                format!("{t:?} is not one of: {}", NOTIFIED.join(", ")),
            ));
        } else if input.muted[..i].contains(t) {
            errors.push(FieldError::new(field, format!("{t:?} is listed twice")));
        }
    }
    errors
}

/// Replaces the notification settings, conditional on `expected` (the version read), audited
/// as `notifications.update`.
pub async fn save_notifications(
    control: &dyn ControlStore,
    access: AccessLog<'_>,
    actor: &Actor,
    expected: ExpectedVersion,
    input: &NotificationsInput,
) -> ConsoleResult<NotificationsView> {
    ConsoleError::check("the notification settings are invalid", validate(input))?;
    let doc = NotificationSettings {
        backlog_threshold: input.backlog_threshold,
        muted: input.muted.clone(),
        ..NotificationSettings::default()
    };
    let now = access.clock.now();
    let version = match settings::save_notifications(control, &doc, expected, now).await? {
        DocumentWrite::Written { version } => version,
        DocumentWrite::VersionConflict { current } => {
            return Err(ConsoleError::Conflict(format!(
                "the notification settings were changed meanwhile (now version {}); reload and retry",
                current.unwrap_or(0)
            )));
        }
    };
    let detail = json!({"version": version, "backlog_threshold": doc.backlog_threshold,
                        "muted": doc.muted});
    access.record(actor, "notifications.update", detail).await?;
    Ok(view(version, &doc))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn input(muted: &[&str]) -> NotificationsInput {
        NotificationsInput {
            backlog_threshold: 25,
            muted: muted.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn only_listed_types_but_the_test_may_be_muted_once() {
        assert!(validate(&input(&["SyncRun Failed", "Approval Awaiting"])).is_empty());
        let fields = |m: &[&str]| -> Vec<String> {
            validate(&input(m)).into_iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(&[TEST_EVENT]), ["muted[0]"]);
        assert_eq!(fields(&["SyncRun Finished"]), ["muted[0]"]);
        assert_eq!(
            fields(&["Conflict Opened", "Conflict Opened"]),
            ["muted[1]"]
        );
        let mut too_high = input(&[]);
        too_high.backlog_threshold = MAX_BACKLOG_THRESHOLD + 1;
        assert_eq!(validate(&too_high)[0].field, "backlog_threshold");
    }

    #[test]
    fn every_notified_type_is_described() {
        for t in NOTIFIED {
            assert!(!description(t).is_empty(), "{t}");
        }
    }
}
