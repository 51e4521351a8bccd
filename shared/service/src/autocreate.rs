//! Auto-create of Kimai customers and projects (design §7) for the actions the planner reports
//! as needed ([`NeededAction`]).
//!
//! Every action is looked up in Kimai first (customers by number, projects by number or, without
//! one, by name under their customer): the catalog of the invocation may be minutes old, another
//! reconcile may have created the record meanwhile, and a create whose answer was lost may have
//! landed. Only when nothing matches is it created, with one POST that is never retried.

use crate::upstream::Kimai;
use chrono_tz::Tz;
use kimai_client::{KimaiError, NewCustomer, NewProject};
use serde::Serialize;
use sync_core::needed_action::NeededAction;
use sync_core::plan::ConflictReason;

/// What happened to one needed action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AutoCreated {
    /// Kimai already had it (made by someone else, or by an earlier attempt).
    Found { id: u64 },
    /// Created now.
    Created { id: u64 },
    /// Kimai refused to create it (400 or 403): a human must fix the input or the API user's
    /// permissions. `message` is Kimai's own text.
    Refused { message: String },
}

/// The conflict reason of entries blocked by a refused action.
pub fn refused_reason(action: &NeededAction) -> ConflictReason {
    match action {
        NeededAction::CreateCustomer { .. } => ConflictReason::UnmappedCustomer,
        NeededAction::CreateProject { .. } => ConflictReason::UnmappedProject,
    }
}

/// What the action creates, for logs, audits and conflict details.
pub fn describe(action: &NeededAction) -> String {
    match action {
        NeededAction::CreateCustomer { name, number } => {
            format!("Kimai customer {name:?} (number {number})")
        }
        NeededAction::CreateProject {
            customer,
            name,
            number: Some(number),
        } => format!("Kimai project {name:?} (number {number}) of customer {customer}"),
        NeededAction::CreateProject {
            customer,
            name,
            number: None,
        } => format!("Kimai project {name:?} of customer {customer}"),
    }
}

/// Finds or creates the record of `action`. New customers get `zone` as their time zone and
/// Kimai's configured defaults for country and currency. Errors other than a refusal (timeouts,
/// 5xx, a bad token) are handed back: the caller fails the ticket so that SQS retries it, and
/// the retry finds a record that did land.
pub async fn find_or_create(
    kimai: &dyn Kimai,
    zone: Tz,
    action: &NeededAction,
) -> Result<AutoCreated, KimaiError> {
    let created = match action {
        NeededAction::CreateCustomer { name, number } => {
            if let Some(c) = kimai.customers_by_number(number).await?.first() {
                return Ok(AutoCreated::Found { id: c.id.0 });
            }
            kimai
                .create_customer(&NewCustomer {
                    name: name.clone(),
                    number: Some(number.clone()),
                    country: None,
                    currency: None,
                    timezone: zone.name().to_owned(),
                    visible: true,
                })
                .await
                .map(|c| c.id.0)
        }
        NeededAction::CreateProject {
            customer,
            name,
            number,
        } => {
            let existing = match number {
                Some(n) => kimai.projects_by_number(*customer, n).await?,
                None => kimai
                    .projects(Some(*customer))
                    .await?
                    .into_iter()
                    .filter(|p| p.customer == *customer && p.name.eq_ignore_ascii_case(name))
                    .collect(),
            };
            if let Some(p) = existing.first() {
                return Ok(AutoCreated::Found { id: p.id.0 });
            }
            kimai
                .create_project(&NewProject {
                    name: name.clone(),
                    customer: *customer,
                    number: number.clone(),
                    visible: true,
                    global_activities: true,
                })
                .await
                .map(|p| p.id.0)
        }
    };
    match created {
        Ok(id) => Ok(AutoCreated::Created { id }),
        Err(e) => match refusal(&e) {
            Some(message) => Ok(AutoCreated::Refused { message }),
            None => Err(e),
        },
    }
}

/// Kimai's message when it refused the input or the permission, `None` for other failures.
fn refusal(e: &KimaiError) -> Option<String> {
    match e {
        KimaiError::Validation(_)
        | KimaiError::ExtraFields(_)
        | KimaiError::BadRequest { .. }
        | KimaiError::Forbidden => Some(e.to_string()),
        _ => None,
    }
}
