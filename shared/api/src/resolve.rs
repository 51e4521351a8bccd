//! Resolving conflicts: one (`POST /api/conflicts/{id}/resolve`) or many by ids or by filter
//! (`POST /api/conflicts/resolve`). The use case, its checks and what it writes are
//! `sync_service::console::resolution`'s; here only the HTTP shapes.

use crate::auth::Admin;
use crate::context::Origin;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sync_core::ids::TicketId;
use sync_core::plan::ConflictReason;
use sync_service::console::resolution::{self, Selection};
use sync_store::conflicts::{ConflictRecord, ResolutionAction};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveOne {
    pub action: ResolutionAction,
    /// For `link`: the Kimai timesheet id (one of the conflict's candidates, if it lists any).
    #[serde(default)]
    #[schema(schema_with = sync_service::console::schemas::optional_id)]
    pub kimai_id: Option<u64>,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkFilter {
    pub reason: Option<ConflictReason>,
    pub ticket: Option<u64>,
}

/// The actions a bulk resolution takes: any but `link`, which names one timesheet.
fn bulk_actions(reason: Option<ConflictReason>) -> Vec<&'static str> {
    let fitting = |a: &ResolutionAction| reason.is_none_or(|r| a.fits(r));
    ResolutionAction::ALL
        .iter()
        .filter(|a| **a != ResolutionAction::Link && fitting(a))
        .map(|a| a.as_str())
        .collect()
}

/// The by-filter bodies, one variant per set of actions with the reasons they fit (a filter's
/// reason refuses any other action with a 400), and one without a reason, which takes every
/// bulk action (a conflict it does not fit is reported as `not_applicable`). The variants
/// exclude each other, as `oneOf` requires.
fn by_filter_variants() -> Vec<utoipa::openapi::schema::Object> {
    use sync_service::console::schemas::{one_of_strings, optional_id};
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    let mut groups: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
    for reason in ConflictReason::ALL {
        let actions = bulk_actions(Some(reason));
        match groups.iter_mut().find(|(a, _)| *a == actions) {
            Some((_, reasons)) => reasons.push(reason.as_str()),
            None => groups.push((actions, vec![reason.as_str()])),
        }
    }
    let variant = |actions: &[&str], reason: utoipa::openapi::schema::Object, required: bool| {
        let mut filter = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("reason", reason)
            .property("ticket", optional_id())
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        if required {
            filter = filter.required("reason");
        }
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("action", one_of_strings(actions))
            .required("action")
            .property("filter", filter)
            .required("filter")
            .property("note", note_schema())
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .build()
    };
    let mut variants: Vec<_> = groups
        .iter()
        .map(|(actions, reasons)| variant(actions, one_of_strings(reasons), true))
        .collect();
    let no_reason = ObjectBuilder::new()
        .schema_type(Type::Null)
        .description(Some(
            "no reason: every open conflict (of the ticket, if given)",
        ))
        .build();
    variants.push(variant(&bulk_actions(None), no_reason, false));
    variants
}

fn note_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(1000))
        .build()
}

/// A conflict id as the API takes it.
#[derive(Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(pattern = r"^[A-Za-z0-9_-]{1,128}$", example = "c-0123456789abcdef")]
pub struct ConflictIdText(pub String);

/// A conflict's reason, as a filter (also of the conflicts listing).
pub(crate) fn reason_filter() -> utoipa::openapi::schema::Object {
    sync_service::console::schemas::one_of_strings(&[
        "unmapped_user",
        "unmapped_activity",
        "unmapped_customer",
        "unmapped_project",
        "probable_duplicate",
        "locked_or_exported",
        "both_changed",
        "deleted_in_kimai",
        "orphaned",
        "kimai_rejected",
        "ambiguous_local_time",
        "duplicate_timesheets",
        "project_locked",
        "no_room_on_day",
    ])
}

/// By `ids` or by `filter`, not both. Its schema says so (`PartialSchema` below), where a
/// derived one could not.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveMany {
    /// Any action but `link`, which names one timesheet.
    pub action: ResolutionAction,
    /// Conflict ids; or give `filter` (open conflicts matching it, up to 500).
    #[serde(default)]
    pub ids: Option<Vec<ConflictIdText>>,
    #[serde(default)]
    pub filter: Option<BulkFilter>,
    #[serde(default)]
    pub note: Option<String>,
}

impl utoipa::ToSchema for ResolveMany {}

impl utoipa::PartialSchema for ResolveMany {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use sync_service::console::schemas::one_of_strings;
        use utoipa::openapi::schema::{
            AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Type,
        };
        let by_ids = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("action", one_of_strings(&bulk_actions(None)))
            .required("action")
            .property(
                "ids",
                ArrayBuilder::new()
                    .items(ConflictIdText::schema())
                    .min_items(Some(1))
                    .max_items(Some(500)),
            )
            .required("ids")
            .property("note", note_schema())
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let one_of = by_filter_variants()
            .into_iter()
            .fold(OneOfBuilder::new().item(by_ids), |b, v| b.item(v))
            .examples([
                serde_json::json!({"action": "ignore", "filter": {"reason": "unmapped_user"}}),
            ])
            .build();
        utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::OneOf(one_of))
    }
}

#[derive(Serialize, ToSchema)]
pub struct BulkItem {
    pub id: String,
    /// `resolved`, `already_resolved`, `not_found`, `not_applicable`.
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkResult {
    pub resolved: usize,
    pub items: Vec<BulkItem>,
}

/// Resolves one conflict with an action that fits its reason.
#[utoipa::path(post, path = "/api/conflicts/{id}/resolve", tag = "conflicts", security(("bearer" = [])),
    params(("id" = String, Path, description = "conflict id", pattern = r"^[A-Za-z0-9_-]{1,128}$")), request_body = ResolveOne,
    responses((status = 200, description = "the resolved conflict record", body = Object),
              (status = 400, body = crate::problem::Problem), (status = 401, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn resolve_one(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ResolveOne>,
) -> Result<Json<ConflictRecord>, ApiError> {
    let request = resolution::ResolveOne {
        action: input.action,
        kimai_id: input.kimai_id,
        note: input.note,
    };
    let who = origin.actor(&caller.username);
    let resolved = resolution::resolve_one(&state.resolution_deps(), &who, &id, &request).await?;
    Ok(Json(resolved))
}

/// Resolves many conflicts with one action, by ids or by filter; reports each.
#[utoipa::path(post, path = "/api/conflicts/resolve", tag = "conflicts", security(("bearer" = [])),
    request_body = ResolveMany,
    responses((status = 200, body = BulkResult), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem)))]
pub async fn resolve_many(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(input): ApiJson<ResolveMany>,
) -> Result<Json<BulkResult>, ApiError> {
    let selection = match (input.ids, input.filter) {
        (Some(ids), None) => Some(Selection::Ids(ids.into_iter().map(|i| i.0).collect())),
        (None, Some(f)) => Some(Selection::Filter {
            reason: f.reason,
            ticket: f.ticket.map(TicketId),
        }),
        _ => None,
    };
    let request = resolution::ResolveMany {
        action: input.action,
        selection,
        note: input.note,
    };
    let who = origin.actor(&caller.username);
    let outcome = resolution::resolve_many(&state.resolution_deps(), &who, &request).await?;
    let items = outcome.items.into_iter().map(|i| BulkItem {
        id: i.id,
        outcome: i.outcome.as_str().to_owned(),
        detail: i.detail,
    });
    Ok(Json(BulkResult {
        resolved: outcome.resolved,
        items: items.collect(),
    }))
}
