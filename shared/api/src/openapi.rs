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
        crate::gdpr::purge_job,
    ),
    components(schemas(crate::problem::Problem, sync_service::console::FieldError, sync_service::console::mappings::ImportMode)),
    modifiers(&BearerAuth, &ProblemAnswers, &PoliciesViewSchema, &CsvImportBody, &Links)
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

/// The CSV a mappings import takes: the header `zammad,kimai`, then rows of a Zammad id (or
/// `none`, for activities) and a Kimai id; at most 10,000 rows (the import's checks).
struct CsvImportBody;

impl Modify for CsvImportBody {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(body) = openapi
            .paths
            .paths
            .get_mut("/api/mappings/{kind}/import")
            .and_then(|item| item.post.as_mut())
            .and_then(|op| op.request_body.as_mut())
        else {
            return;
        };
        for content in body.content.values_mut() {
            content.schema = Some(RefOr::T(Schema::Object(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    // Activities' `none` rows are taken too; one pattern cannot depend on the
                    // kind, so it names what every kind takes.
                    .pattern(Some(
                        r"^zammad,kimai\n([1-9][0-9]{0,9},[1-9][0-9]{0,9}\n){0,10000}$",
                    ))
                    .examples([serde_json::json!("zammad,kimai\n3,2\n")])
                    .build(),
            )));
        }
    }
}

/// Links from an answer to the operations that use what it returned, so a client (and
/// schemathesis' stateful phase) can follow them: a listed conflict to its resolution, a listed
/// run to its page, a set mapping to its removal, a created user to their changes, a purge to
/// its job.
struct Links;

/// One link: from (path, method, status) under a name to `path#method`, with its parameters
/// and, where the link fixes it, its request body (JSON).
type LinkSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    Option<&'static str>,
);

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let links: [LinkSpec; 7] = [
            (
                "/api/conflicts",
                "get",
                "200",
                "resolve",
                "/api/conflicts/{id}/resolve#post",
                &[("id", "$response.body#/items/0/id")],
                None,
            ),
            // `ignore` fits a conflict of any reason, so following this link always resolves.
            (
                "/api/conflicts",
                "get",
                "200",
                "ignore",
                "/api/conflicts/{id}/resolve#post",
                &[("id", "$response.body#/items/0/id")],
                Some(r#"{"action": "ignore"}"#),
            ),
            (
                "/api/sync-runs",
                "get",
                "200",
                "run",
                "/api/sync-runs/{id}#get",
                &[("id", "$response.body#/items/0/id")],
                None,
            ),
            (
                "/api/mappings/{kind}/{zammad}",
                "put",
                "200",
                "remove",
                "/api/mappings/{kind}/{zammad}#delete",
                &[
                    ("kind", "$request.path.kind"),
                    ("zammad", "$request.path.zammad"),
                ],
                None,
            ),
            (
                "/api/users",
                "post",
                "201",
                "change",
                "/api/users/{username}#patch",
                &[("username", "$response.body#/user/username")],
                None,
            ),
            (
                "/api/users",
                "post",
                "201",
                "remove",
                "/api/users/{username}#delete",
                &[("username", "$response.body#/user/username")],
                None,
            ),
            (
                "/api/gdpr/purge",
                "post",
                "202",
                "job",
                "/api/gdpr/purges/{id}#get",
                &[("id", "$response.body#/id")],
                None,
            ),
        ];
        for (path, method, status, name, target, parameters, body) in links {
            let (target_path, target_method) = target.split_once('#').expect("path#method");
            let reference = format!(
                "#/paths/{}/{target_method}",
                target_path.replace('~', "~0").replace('/', "~1")
            );
            let mut link = utoipa::openapi::link::LinkBuilder::new().operation_ref(reference);
            for (parameter, expression) in parameters {
                link = link.parameter(*parameter, serde_json::json!(expression));
            }
            if let Some(body) = body {
                let body: Value = serde_json::from_str(body).expect("a link's body is JSON");
                link = link.request_body(Some(body));
            }
            let Some(item) = openapi.paths.paths.get_mut(path) else {
                continue;
            };
            let operation = match method {
                "get" => item.get.as_mut(),
                "put" => item.put.as_mut(),
                "post" => item.post.as_mut(),
                _ => None,
            };
            let Some(RefOr::T(response)) =
                operation.and_then(|op| op.responses.responses.get_mut(status))
            else {
                continue;
            };
            response
                .links
                .insert(name.to_owned(), RefOr::T(link.build()));
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "the OpenAPI document", content_type = "application/json")))]
pub async fn document() -> Json<Value> {
    Json(document_json())
}

/// The document as JSON, as served. utoipa 5.5 writes a link's fields in snake case
/// (`operation_ref`); OpenAPI spells them in camel case, so they are renamed here.
pub fn document_json() -> Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
    if let Some(paths) = document["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for operation in item
                .as_object_mut()
                .into_iter()
                .flat_map(|i| i.values_mut())
            {
                let Some(responses) = operation
                    .get_mut("responses")
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                for response in responses.values_mut() {
                    let Some(links) = response.get_mut("links").and_then(Value::as_object_mut)
                    else {
                        continue;
                    };
                    for link in links.values_mut().filter_map(Value::as_object_mut) {
                        for (snake, camel) in [
                            ("operation_ref", "operationRef"),
                            ("operation_id", "operationId"),
                            ("request_body", "requestBody"),
                        ] {
                            if let Some(v) = link.remove(snake) {
                                link.insert(camel.into(), v);
                            }
                        }
                    }
                }
            }
        }
    }
    document
}
