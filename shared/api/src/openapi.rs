//! The OpenAPI 3.1 document, generated from the handlers' annotations and served at
//! `/api/openapi.json` (no login: it describes the API, it holds no data).

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
        crate::audit_log::list,
        crate::audit_log::export_csv,
    ),
    components(schemas(crate::problem::Problem, crate::problem::FieldError)),
    modifiers(&BearerAuth)
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

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "the OpenAPI document", content_type = "application/json")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
