//! The OpenAPI 3.1 document, generated from the handlers' annotations and served at
//! `/api/openapi.json` (no login: it describes the API, it holds no data).

use axum::Json;
use serde_json::Value;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, RefOr, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Zammad → Kimai sync: console API", description = "Errors are application/problem+json with a request_id."),
    paths(
        crate::system::health,
        crate::system::version,
        document,
        crate::auth::login,
        crate::auth::me,
        crate::connections::get_zammad,
        crate::connections::put_zammad,
        crate::connections::test_zammad,
        crate::connections::get_kimai,
        crate::connections::put_kimai,
        crate::connections::test_kimai,
        crate::pickers::zammad_types,
        crate::pickers::zammad_organisations,
        crate::pickers::kimai_activities,
        crate::pickers::kimai_customers,
        crate::pickers::kimai_projects,
        crate::pickers::kimai_users,
        crate::mappings::list_all,
        crate::mappings::list_kind,
        crate::mappings::put_one,
        crate::mappings::delete_one,
        crate::mappings::import_csv,
        crate::mappings::export_csv,
        crate::policies::get_policies,
        crate::policies::put_policies,
        crate::conflicts::list,
        crate::resolve::resolve_one,
        crate::resolve::resolve_many,
        crate::runs::start,
        crate::runs::list,
        crate::runs::get_one,
        crate::runs::export_csv,
        crate::schedule::get_schedule,
        crate::schedule::put_schedule,
        crate::auth::change_password,
        crate::users::list,
        crate::users::create,
        crate::users::change,
        crate::users::reset_password,
        crate::users::remove,
        crate::notifications::get_settings,
        crate::notifications::put_settings,
        crate::notifications::send_test,
        crate::audit_log::list,
        crate::audit_log::export_csv,
        crate::system::health_details,
        crate::entries::list,
        crate::entries::approve,
        crate::dead_letters::list,
        crate::dead_letters::replay,
        crate::kpis::get_kpis,
        crate::gdpr::export,
        crate::gdpr::purge,
    ),
    components(schemas(crate::problem::Problem, sync_service::console::FieldError, sync_service::console::mappings::ImportMode)),
    modifiers(&BearerAuth, &ProblemAnswers, &PoliciesViewSchema)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

const PROBLEM_REF: &str = "#/components/schemas/Problem";

/// Problems are sent as `application/problem+json` (see `problem::CONTENT_TYPE`), while the
/// annotations' `body = Problem` declares `application/json`: every answer whose schema is a
/// Problem is moved under the real content type here, once, instead of in each annotation.
/// It also declares the 4xx answers every route can give whatever its handler does: a 401 when
/// it needs a login (missing or bad token), a 400 when it takes a path, query, header or body
/// (the extractors reject bad input), and a 413 when it takes a body (over the size limit).
struct ProblemAnswers;

impl Modify for ProblemAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                declare_implied_problems(operation);
                move_problems_to_their_content_type(operation);
            }
        }
    }
}

fn declare_implied_problems(operation: &mut Operation) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let takes_input = operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
        || operation.request_body.is_some();
    let mut implied = Vec::new();
    if secured {
        implied.push((
            "401",
            "no valid login (missing, expired or bad bearer token)",
        ));
    }
    if takes_input {
        implied.push((
            "400",
            "the request is not valid (path, query, headers or body)",
        ));
    }
    if operation.request_body.is_some() {
        implied.push(("413", "the request body is over the size limit"));
    }
    for (status, description) in implied {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        crate::problem::CONTENT_TYPE,
                        Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::new(PROBLEM_REF)))),
                    )
                    .into()
            });
    }
}

fn move_problems_to_their_content_type(operation: &mut Operation) {
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let Some(content) = response.content.get("application/json") else {
            continue;
        };
        if refers_to_problem(content) {
            let content = response
                .content
                .shift_remove("application/json")
                .expect("looked up above");
            response
                .content
                .insert(crate::problem::CONTENT_TYPE.to_string(), content);
        }
    }
}

fn refers_to_problem(content: &Content) -> bool {
    serde_json::to_value(&content.schema)
        .map(|schema| schema.to_string().contains(&format!("\"{PROBLEM_REF}\"")))
        .unwrap_or(false)
}

/// `PoliciesView` is `Policies` plus `version`, flattened. utoipa would describe it as
/// "all of Policies and {version}", but `Policies` refuses unknown fields (its schema says
/// `additionalProperties: false`), so no answer could match both. The view is described here
/// as the policies' own properties plus `version`; unknown fields stay refused in requests.
struct PoliciesViewSchema;

impl Modify for PoliciesViewSchema {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(policies) = components.schemas.get("Policies") else {
            return;
        };
        let mut view = serde_json::to_value(policies).expect("a schema serialises");
        let Some(object) = view.as_object_mut() else {
            return;
        };
        object.insert("additionalProperties".into(), Value::Bool(false));
        object
            .entry("properties")
            .or_insert_with(|| Value::Object(Default::default()))
            .as_object_mut()
            .expect("properties is an object")
            .insert(
                "version".into(),
                serde_json::json!({"type": "integer", "format": "int64", "minimum": 0,
                    "description": "version of the document the policies were read from; send it back in If-Match"}),
            );
        let required = object
            .entry("required")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(required) = required.as_array_mut() {
            required.push(Value::String("version".into()));
        }
        let view: RefOr<Schema> = serde_json::from_value(view).expect("the schema reads back");
        components.schemas.insert("PoliciesView".into(), view);
    }
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "the OpenAPI document", content_type = "application/json")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
