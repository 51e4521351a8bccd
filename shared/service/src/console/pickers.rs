//! Read-only lists for the console's pickers, fetched live from Zammad and Kimai with the
//! stored connection. The remote failing is an upstream error.

use crate::console::error::{ConsoleError, ConsoleResult};
use kimai_client::KimaiClient;
use serde::{Deserialize, Serialize};
use sync_core::ids::CustomerId;
use utoipa::ToSchema;
use zammad_client::ZammadClient;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Pick {
    pub id: u64,
    pub name: String,
    /// Hidden / inactive items are listed too (mappings may point at them), marked here.
    pub visible: bool,
    /// Extra facts: a customer's number, a project's customer id, an activity's project id, a
    /// user's e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

fn pick(id: u64, name: String, visible: bool) -> Pick {
    Pick {
        id,
        name,
        visible,
        number: None,
        customer: None,
        project: None,
        email: None,
    }
}

/// The search term, if it says anything.
fn term(t: Option<&str>) -> Option<&str> {
    t.map(str::trim).filter(|t| !t.is_empty())
}

/// An upstream failure (the clients' messages never contain the token).
fn upstream(system: &str, e: impl std::fmt::Display) -> ConsoleError {
    ConsoleError::Upstream(format!("{system}: {e}"))
}

/// Zammad time accounting types.
pub async fn zammad_types(client: &ZammadClient) -> ConsoleResult<Vec<Pick>> {
    let types = client
        .accounting_types()
        .await
        .map_err(|e| upstream("Zammad", e))?;
    Ok(types
        .into_iter()
        .map(|t| pick(t.id.0, t.name, t.active))
        .collect())
}

/// Zammad organisations.
pub async fn zammad_organisations(client: &ZammadClient) -> ConsoleResult<Vec<Pick>> {
    let orgs = client
        .organisations()
        .await
        .map_err(|e| upstream("Zammad", e))?;
    Ok(orgs
        .into_iter()
        .map(|o| pick(o.id.0, o.name, true))
        .collect())
}

/// Kimai activities (hidden ones included) whose name contains `search`.
pub async fn kimai_activities(
    client: &KimaiClient,
    search: Option<&str>,
) -> ConsoleResult<Vec<Pick>> {
    let items = client
        .activities(None, term(search))
        .await
        .map_err(|e| upstream("Kimai", e))?;
    Ok(items
        .into_iter()
        .map(|a| Pick {
            project: a.project.map(|p| p.0),
            ..pick(a.id.0, a.name, a.visible)
        })
        .collect())
}

/// Kimai customers (hidden ones included) whose name contains `search`.
pub async fn kimai_customers(
    client: &KimaiClient,
    search: Option<&str>,
) -> ConsoleResult<Vec<Pick>> {
    let items = client
        .customers(term(search))
        .await
        .map_err(|e| upstream("Kimai", e))?;
    Ok(items
        .into_iter()
        .map(|c| Pick {
            number: c.number.clone(),
            ..pick(c.id.0, c.name, c.visible)
        })
        .collect())
}

/// Kimai projects (hidden and finished ones included), optionally of one customer.
pub async fn kimai_projects(
    client: &KimaiClient,
    customer: Option<u64>,
    search: Option<&str>,
) -> ConsoleResult<Vec<Pick>> {
    let items = client
        .projects(customer.map(CustomerId), term(search))
        .await
        .map_err(|e| upstream("Kimai", e))?;
    Ok(items
        .into_iter()
        .map(|p| Pick {
            customer: Some(p.customer.0),
            ..pick(p.id.0, p.name, p.visible)
        })
        .collect())
}

/// Kimai users (needs `view_user` for the API user) whose name or e-mail contains `search`.
pub async fn kimai_users(client: &KimaiClient, search: Option<&str>) -> ConsoleResult<Vec<Pick>> {
    let items = client
        .users(term(search))
        .await
        .map_err(|e| upstream("Kimai", e))?;
    Ok(items
        .into_iter()
        .map(|u| Pick {
            email: u.email.clone(),
            ..pick(
                u.id.0,
                u.alias.clone().unwrap_or_else(|| u.username.clone()),
                u.enabled,
            )
        })
        .collect())
}
