//! Read-only lists for the console's pickers, fetched live from Zammad and Kimai with the stored
//! connection (not configured: 409; the remote failing: 502).

use crate::auth::Caller;
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::state::ApiState;
use crate::upstream::{self, upstream};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sync_core::ids::CustomerId;
use utoipa::{IntoParams, ToSchema};

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

/// Zammad time accounting types.
#[utoipa::path(get, path = "/api/pickers/zammad/types", tag = "pickers", security(("bearer" = [])),
    responses((status = 200, body = Vec<Pick>), (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn zammad_types(
    _: Caller,
    State(state): State<ApiState>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::zammad(&state).await?;
    let types = client
        .accounting_types()
        .await
        .map_err(|e| upstream("Zammad", e))?;
    Ok(Json(
        types
            .into_iter()
            .map(|t| pick(t.id.0, t.name, t.active))
            .collect(),
    ))
}

/// Zammad organisations.
#[utoipa::path(get, path = "/api/pickers/zammad/organisations", tag = "pickers", security(("bearer" = [])),
    responses((status = 200, body = Vec<Pick>), (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn zammad_organisations(
    _: Caller,
    State(state): State<ApiState>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::zammad(&state).await?;
    let orgs = client
        .organisations()
        .await
        .map_err(|e| upstream("Zammad", e))?;
    Ok(Json(
        orgs.into_iter()
            .map(|o| pick(o.id.0, o.name, true))
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Term {
    /// Only items whose name (or e-mail, for users) contains this.
    pub term: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    pub term: Option<String>,
    /// Only projects of this Kimai customer.
    pub customer: Option<u64>,
}

fn term(t: &Option<String>) -> Option<&str> {
    t.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Kimai activities (hidden ones included).
#[utoipa::path(get, path = "/api/pickers/kimai/activities", tag = "pickers", security(("bearer" = [])), params(Term),
    responses((status = 200, body = Vec<Pick>), (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn kimai_activities(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<Term>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::kimai(&state).await?;
    let items = client
        .activities(None, term(&q.term))
        .await
        .map_err(|e| upstream("Kimai", e))?;
    Ok(Json(
        items
            .into_iter()
            .map(|a| Pick {
                project: a.project.map(|p| p.0),
                ..pick(a.id.0, a.name, a.visible)
            })
            .collect(),
    ))
}

/// Kimai customers (hidden ones included).
#[utoipa::path(get, path = "/api/pickers/kimai/customers", tag = "pickers", security(("bearer" = [])), params(Term),
    responses((status = 200, body = Vec<Pick>), (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn kimai_customers(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<Term>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::kimai(&state).await?;
    let items = client
        .customers(term(&q.term))
        .await
        .map_err(|e| upstream("Kimai", e))?;
    Ok(Json(
        items
            .into_iter()
            .map(|c| Pick {
                number: c.number.clone(),
                ..pick(c.id.0, c.name, c.visible)
            })
            .collect(),
    ))
}

/// Kimai projects (hidden and finished ones included), optionally of one customer.
#[utoipa::path(get, path = "/api/pickers/kimai/projects", tag = "pickers", security(("bearer" = [])), params(ProjectFilter),
    responses((status = 200, body = Vec<Pick>), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn kimai_projects(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<ProjectFilter>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::kimai(&state).await?;
    let items = client
        .projects(q.customer.map(CustomerId), term(&q.term))
        .await
        .map_err(|e| upstream("Kimai", e))?;
    Ok(Json(
        items
            .into_iter()
            .map(|p| Pick {
                customer: Some(p.customer.0),
                ..pick(p.id.0, p.name, p.visible)
            })
            .collect(),
    ))
}

/// Kimai users (needs `view_user` for the API user).
#[utoipa::path(get, path = "/api/pickers/kimai/users", tag = "pickers", security(("bearer" = [])), params(Term),
    responses((status = 200, body = Vec<Pick>), (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn kimai_users(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<Term>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::kimai(&state).await?;
    let items = client
        .users(term(&q.term))
        .await
        .map_err(|e| upstream("Kimai", e))?;
    Ok(Json(
        items
            .into_iter()
            .map(|u| Pick {
                email: u.email.clone(),
                ..pick(
                    u.id.0,
                    u.alias.clone().unwrap_or_else(|| u.username.clone()),
                    u.enabled,
                )
            })
            .collect(),
    ))
}
