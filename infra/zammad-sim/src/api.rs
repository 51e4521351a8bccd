//! The Zammad API routes, answering as Zammad does.

use crate::Sim;
use crate::dataset::Role;
use crate::faults::Fault;
use crate::render;
use crate::search::Query;
use axum::body::Body;
use axum::extract::{MatchedPath, Path, Query as Params, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

type Shared = Arc<Sim>;
type QueryParams = Params<HashMap<String, String>>;

pub fn router(sim: Shared) -> Router {
    Router::new()
        .route("/api/v1/version", get(version))
        .route("/api/v1/users/me", get(me))
        .route("/api/v1/users/{id}", get(user))
        .route("/api/v1/organizations", get(organisations))
        .route("/api/v1/organizations/{id}", get(organisation))
        .route("/api/v1/tickets/search", get(search_tickets))
        .route("/api/v1/tickets/{id}", get(ticket))
        .route(
            "/api/v1/tickets/{id}/time_accountings",
            get(ticket_accountings),
        )
        .route("/api/v1/time_accountings", get(all_accountings))
        .route("/api/v1/time_accounting/types", get(accounting_types))
        .route_layer(middleware::from_fn_with_state(
            sim.clone(),
            count_and_inject_faults,
        ))
        .fallback(no_route)
        .with_state(sim)
}

/// Zammad's error answer: `{"error", "error_human"}`; 401/403 also carry `X-Failure`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn not_authorized() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "Not authorized")
    }

    fn not_found(model: &str, id: u64) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Couldn't find {model} with 'id'={id}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.message, "error_human": self.message }));
        let mut response = (self.status, body).into_response();
        if matches!(
            self.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) && let Ok(value) = HeaderValue::from_str(&self.message)
        {
            response.headers_mut().insert("X-Failure", value);
        }
        response
    }
}

async fn no_route(method: Method, uri: axum::http::Uri, State(sim): State<Shared>) -> ApiError {
    sim.record_call(format!("{method} (no route)"));
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("No route matches [{method}] {}", uri.path()),
    )
}

/// Counts every call per route and the requests in flight, then applies the configured fault, if any, before the handler.
async fn count_and_inject_faults(
    State(sim): State<Shared>,
    matched: MatchedPath,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let route = matched.as_str().to_owned();
    sim.record_call(format!("{method} {route}"));
    let _in_flight = sim.enter();
    let decision = sim
        .faults
        .lock()
        .expect("faults lock")
        .decide(&method, &route);
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    match decision.fault {
        Fault::None => next.run(request).await,
        Fault::Status(500) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error ID s1mu1at0r: Please contact your administrator.",
        )
        .into_response(),
        Fault::Status(code) => {
            proxy_page(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY))
        }
        Fault::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::RETRY_AFTER, retry_after_secs.to_string()),
                (header::CONTENT_TYPE, "text/plain".to_owned()),
            ],
            "Retry later\n",
        )
            .into_response(),
        Fault::Hold(duration) => {
            tokio::time::sleep(duration).await;
            proxy_page(StatusCode::GATEWAY_TIMEOUT)
        }
        Fault::Malformed => {
            // The real answer, cut in half: what a dropped connection behind a proxy looks like.
            let response = next.run(request).await;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let cut = bytes.slice(0..bytes.len() / 2);
            let mut response = Response::from_parts(parts, Body::from(cut));
            response.headers_mut().remove(header::CONTENT_LENGTH);
            response
        }
    }
}

/// What nginx in front of Zammad answers for 502/503/504.
fn proxy_page(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let html = format!(
        "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
        code = status.as_u16()
    );
    (status, [(header::CONTENT_TYPE, "text/html")], html).into_response()
}

/// The authenticated user behind a request.
struct Caller {
    user_id: u64,
    role: Role,
    group_ids: Vec<u64>,
}

impl Caller {
    fn require_admin(&self) -> Result<(), ApiError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::not_authorized())
        }
    }

    fn require_agent(&self) -> Result<(), ApiError> {
        if self.role == Role::Customer {
            Err(ApiError::not_authorized())
        } else {
            Ok(())
        }
    }

    fn may_see(&self, ticket: &crate::store::Ticket) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Agent => self.group_ids.contains(&ticket.record.group_id),
            Role::Customer => ticket.record.customer_id == self.user_id,
        }
    }
}

/// `Authorization: Token token=…` (or `Bearer …`). No header at all is 403, like Zammad.
fn authenticate(sim: &Sim, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Authentication required",
        ));
    };
    let value = value.to_str().unwrap_or_default().trim();
    let token = value
        .strip_prefix("Token ")
        .map(|rest| rest.trim().strip_prefix("token=").unwrap_or(rest.trim()))
        .or_else(|| value.strip_prefix("Bearer "))
        .map(|t| t.trim().trim_matches('"'));
    let store = sim.store();
    let user = token
        .and_then(|t| store.tokens.get(t))
        .and_then(|id| store.users.get(id))
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Can't find User for Token"))?;
    Ok(Caller {
        user_id: user.id,
        role: user.role,
        group_ids: user.group_ids.clone(),
    })
}

fn is_true(params: &HashMap<String, String>, key: &str) -> bool {
    params.get(key).is_some_and(|v| v == "true")
}

/// Zammad's paging: `page` from 1, `per_page` or `limit`, clamped to the route's maximum.
fn paging(params: &HashMap<String, String>, default: usize, max: usize) -> (usize, usize) {
    let number = |key: &str| params.get(key).and_then(|v| v.trim().parse::<usize>().ok());
    let page = number("page").filter(|p| *p > 0).unwrap_or(1);
    let per_page = number("per_page")
        .or_else(|| number("limit"))
        .filter(|n| *n > 0)
        .unwrap_or(default)
        .min(max);
    (page, per_page)
}

fn page_of<T>(items: Vec<T>, page: usize, per_page: usize) -> Vec<T> {
    items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect()
}

fn descending(params: &HashMap<String, String>) -> Result<bool, ApiError> {
    match params
        .get("order_by")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(other) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("order_by must be asc or desc, got {other:?}"),
        )),
    }
}

fn unknown_sort(column: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("Unknown sort_by column {column:?}"),
    )
}

async fn version(State(sim): State<Shared>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    authenticate(&sim, &headers)?;
    Ok(Json(
        json!({ "version": format!("{}-1700000000.00000000.sim", sim.version) }),
    ))
}

async fn me(State(sim): State<Shared>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let caller = authenticate(&sim, &headers)?;
    Ok(Json(render::user(&sim.store(), caller.user_id)))
}

async fn user(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    let caller = authenticate(&sim, &headers)?;
    if caller.role == Role::Customer && caller.user_id != id {
        return Err(ApiError::not_authorized());
    }
    let store = sim.store();
    if !store.users.contains_key(&id) {
        return Err(ApiError::not_found("User", id));
    }
    Ok(Json(render::user(&store, id)))
}

async fn organisations(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Params(params): QueryParams,
) -> Result<Json<Value>, ApiError> {
    authenticate(&sim, &headers)?.require_agent()?;
    let (page, per_page) = paging(&params, 500, 1000);
    let store = sim.store();
    let ids: Vec<u64> = store.organisations.keys().copied().collect();
    let items = page_of(ids, page, per_page)
        .into_iter()
        .map(|id| render::organisation(&store, id))
        .collect();
    Ok(Json(Value::Array(items)))
}

async fn organisation(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    authenticate(&sim, &headers)?.require_agent()?;
    let store = sim.store();
    if !store.organisations.contains_key(&id) {
        return Err(ApiError::not_found("Organization", id));
    }
    Ok(Json(render::organisation(&store, id)))
}

async fn search_tickets(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Params(params): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let caller = authenticate(&sim, &headers)?;
    let query = Query::parse(params.get("query").map_or("", String::as_str))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let (page, per_page) = paging(&params, 50, 200);
    let desc = descending(&params)?;
    let store = sim.store();
    let mut hits: Vec<&crate::store::Ticket> = store
        .tickets
        .values()
        .filter(|t| caller.may_see(t) && query.matches(t))
        .collect();
    match params.get("sort_by").map(String::as_str) {
        None | Some("id") => hits.sort_by_key(|t| t.record.id),
        Some("updated_at") => hits.sort_by_key(|t| (t.updated_at, t.record.id)),
        Some("created_at") => hits.sort_by_key(|t| (t.record.created_at, t.record.id)),
        Some("number") => hits.sort_by(|a, b| a.record.number.cmp(&b.record.number)),
        Some(other) => return Err(unknown_sort(other)),
    }
    if desc {
        hits.reverse();
    }
    let hits = page_of(hits, page, per_page);
    let expand = is_true(&params, "expand");
    if sim.version.search_answers_ids_and_assets() && !expand {
        let ids: Vec<u64> = hits.iter().map(|t| t.record.id).collect();
        return Ok(Json(json!({
            "tickets": ids,
            "tickets_count": ids.len(),
            "assets": render::search_assets(&store, &hits),
        })));
    }
    let render_one = |t: &&crate::store::Ticket| {
        if expand {
            render::ticket_expanded(&store, t)
        } else {
            render::ticket_with_ids(&store, t)
        }
    };
    Ok(Json(Value::Array(hits.iter().map(render_one).collect())))
}

fn visible_ticket<'a>(
    store: &'a crate::store::Store,
    caller: &Caller,
    id: u64,
) -> Result<&'a crate::store::Ticket, ApiError> {
    let ticket = store
        .tickets
        .get(&id)
        .ok_or_else(|| ApiError::not_found("Ticket", id))?;
    if caller.may_see(ticket) {
        Ok(ticket)
    } else {
        Err(ApiError::not_authorized())
    }
}

async fn ticket(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Params(params): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let caller = authenticate(&sim, &headers)?;
    let store = sim.store();
    let ticket = visible_ticket(&store, &caller, id)?;
    Ok(Json(if is_true(&params, "expand") {
        render::ticket_expanded(&store, ticket)
    } else {
        render::ticket(ticket)
    }))
}

/// An index like the others: 500 a page by default, at most 1000, by id.
async fn ticket_accountings(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Params(params): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let caller = authenticate(&sim, &headers)?;
    caller.require_agent()?;
    let (page, per_page) = paging(&params, 500, 1000);
    let store = sim.store();
    visible_ticket(&store, &caller, id)?;
    let all: Vec<_> = store.ticket_accountings(id).collect();
    Ok(Json(Value::Array(
        page_of(all, page, per_page)
            .into_iter()
            .map(render::accounting)
            .collect(),
    )))
}

async fn all_accountings(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Params(params): QueryParams,
) -> Result<Json<Value>, ApiError> {
    authenticate(&sim, &headers)?.require_admin()?;
    let (page, per_page) = paging(&params, 500, 1000);
    let desc = descending(&params)?;
    let store = sim.store();
    let mut all: Vec<&crate::store::Accounting> = store.accountings.values().collect();
    match params.get("sort_by").map(String::as_str) {
        None | Some("id") => all.sort_by_key(|a| a.id),
        Some("updated_at") => all.sort_by_key(|a| (a.updated_at, a.id)),
        Some("created_at") => all.sort_by_key(|a| (a.created_at, a.id)),
        Some("ticket_id") => all.sort_by_key(|a| (a.ticket_id, a.id)),
        Some(other) => return Err(unknown_sort(other)),
    }
    if desc {
        all.reverse();
    }
    let expand = is_true(&params, "expand");
    let items = page_of(all, page, per_page)
        .into_iter()
        .map(|a| {
            if expand {
                render::accounting_expanded(&store, a)
            } else {
                render::accounting(a)
            }
        })
        .collect();
    Ok(Json(Value::Array(items)))
}

async fn accounting_types(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Params(params): QueryParams,
) -> Result<Json<Value>, ApiError> {
    authenticate(&sim, &headers)?.require_admin()?;
    let (page, per_page) = paging(&params, 500, 1000);
    let store = sim.store();
    let ids: Vec<u64> = store.types.keys().copied().collect();
    let items = page_of(ids, page, per_page)
        .into_iter()
        .map(|id| render::accounting_type(&store, id))
        .collect();
    Ok(Json(Value::Array(items)))
}
