//! The OpenAPI document tells the truth: problems under their real content type, every 4xx a
//! route can give declared, every schema it refers to present, and real answers fit the
//! schemas they are declared with.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::App;

const PROBLEM_REF: &str = "#/components/schemas/Problem";
const PROBLEM_JSON: &str = "application/problem+json";

/// Every operation as (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    assert!(all.len() > 30, "the document lists too few operations");
    all
}

#[tokio::test]
async fn problems_are_declared_as_problem_json() {
    let app = App::start().await;
    let doc = app.document().await;
    let mut problems = 0;
    for (method, path, operation) in operations(&doc) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let content = response["content"].as_object().cloned().unwrap_or_default();
            for (content_type, body) in &content {
                let is_problem = body["schema"].to_string().contains(PROBLEM_REF);
                assert_eq!(
                    is_problem,
                    content_type == PROBLEM_JSON,
                    "{method} {path} {status}: {content_type} with schema {}",
                    body["schema"]
                );
                problems += usize::from(is_problem);
            }
            // (A 5xx may carry its own body: the health check's 503 is a Health report.)
            if status.starts_with('4') {
                assert!(
                    content.contains_key(PROBLEM_JSON),
                    "{method} {path} {status} is not declared as a problem"
                );
            }
        }
    }
    assert!(problems > 30, "only {problems} problem answers declared");
}

#[tokio::test]
async fn every_route_declares_the_4xx_its_input_and_login_can_cause() {
    let app = App::start().await;
    let doc = app.document().await;
    for (method, path, operation) in operations(&doc) {
        let responses = operation["responses"].as_object().unwrap();
        let secured = operation["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        if secured {
            assert!(responses.contains_key("401"), "{method} {path}: no 401");
        }
        let takes_input = operation["parameters"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
            || operation.get("requestBody").is_some();
        if takes_input || path.contains('{') {
            assert!(responses.contains_key("400"), "{method} {path}: no 400");
        }
        if operation.get("requestBody").is_some() {
            assert!(responses.contains_key("413"), "{method} {path}: no 413");
        }
    }
    // The login is the one write without a bearer token.
    let login = &doc["paths"]["/api/auth/login"]["post"];
    assert!(login.get("security").is_none_or(|s| s == &json!([])));
}

/// Every `$ref` in `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(r)) => found.push(r.clone()),
                    _ => refs(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| refs(i, found)),
        _ => {}
    }
}

#[tokio::test]
async fn every_referenced_schema_is_in_components() {
    let app = App::start().await;
    let doc = app.document().await;
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 30);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for r in &found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r} does not point into components/schemas"));
        assert!(schemas.contains_key(name), "{r} is not in components");
    }
    assert!(found.iter().any(|r| r.ends_with("/ImportMode")));
    assert!(schemas.contains_key("ImportMode"));
}

/// Client generators name a call by its operation id: two operations with one id cannot both
/// be generated.
#[tokio::test]
async fn operation_ids_are_unique() {
    let app = App::start().await;
    let doc = app.document().await;
    let mut seen = std::collections::HashMap::new();
    for (method, path, operation) in operations(&doc) {
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
            .to_owned();
        if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
            panic!("operationId {id} names both {other} and {method} {path}");
        }
    }
}

/// The named component, following one `$ref` if it is one.
fn component<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "{name} is not in components");
    schema
}

fn allows_null(schema: &Value) -> bool {
    let type_allows = |t: &Value| match t {
        Value::String(s) => s == "null",
        Value::Array(types) => types.iter().any(|t| t == "null"),
        _ => false,
    };
    type_allows(&schema["type"])
        || schema["nullable"] == json!(true)
        || ["oneOf", "anyOf"].iter().any(|k| {
            schema[*k]
                .as_array()
                .is_some_and(|alts| alts.iter().any(|a| type_allows(&a["type"])))
        })
}

/// An object `body` fits the object `schema`: its required fields are there, it has no field
/// the schema does not name when the schema refuses others, and a null only where allowed.
fn assert_fits(schema: &Value, body: &Value, what: &str) {
    let body = body.as_object().unwrap_or_else(|| panic!("{what}: {body}"));
    let properties = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{what}: the schema has no properties: {schema}"));
    for required in schema["required"].as_array().into_iter().flatten() {
        let required = required.as_str().unwrap();
        assert!(body.contains_key(required), "{what}: {required} missing");
    }
    // Composition (allOf) would hide the fields from this check and mean something else.
    assert!(schema.get("allOf").is_none(), "{what}: {schema}");
    for (field, value) in body {
        match properties.get(field) {
            Some(property) => {
                if value.is_null() {
                    assert!(allows_null(property), "{what}.{field} is null: {property}");
                }
            }
            None => assert!(
                schema["additionalProperties"] != json!(false),
                "{what}: {field} is sent but the schema refuses it"
            ),
        }
    }
}

#[tokio::test]
async fn policies_view_schema_accepts_the_version_it_is_sent_with() {
    let app = App::start().await;
    let admin = app.admin().await;
    let doc = app.document().await;
    let view = component(&doc, "PoliciesView");
    assert!(view["properties"]["version"].is_object());
    // The input still refuses unknown fields, as the handler does.
    assert_eq!(
        component(&doc, "Policies")["additionalProperties"],
        json!(false)
    );
    for path in ["get", "put"] {
        let declared = &doc["paths"]["/api/policies"][path]["responses"]["200"]["content"]["application/json"]
            ["schema"]["$ref"];
        assert_eq!(declared, "#/components/schemas/PoliciesView");
    }

    let read = app
        .call(Method::GET, "/api/policies", Some(&admin), None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert!(read.json["version"].is_u64());
    assert_fits(view, &read.json, "GET /api/policies");

    let mut input = read.json.clone();
    input.as_object_mut().unwrap().remove("version");
    input["approval_required"] = json!(true);
    let written = app
        .send(
            app.request(Method::PUT, "/api/policies", Some(&admin))
                .header("if-match", read.json["version"].to_string())
                .json(&input),
        )
        .await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.text);
    assert_fits(view, &written.json, "PUT /api/policies");
}

#[tokio::test]
async fn connection_views_fit_their_schema_before_and_after_the_first_save() {
    let app = App::start().await;
    let admin = app.admin().await;
    let doc = app.document().await;
    for configure in [false, true] {
        if configure {
            app.configure(&admin).await;
        }
        for (path, name) in [
            ("/api/connections/zammad", "ZammadConnectionView"),
            ("/api/connections/kimai", "KimaiConnectionView"),
        ] {
            let reply = app.call(Method::GET, path, Some(&admin), None).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            assert_eq!(reply.json["configured"], json!(configure));
            assert_fits(component(&doc, name), &reply.json, path);
        }
    }
}

/// Bad requests get answers the document declares, with the declared content type.
#[tokio::test]
async fn rejected_requests_answer_as_declared() {
    let app = App::start().await;
    let admin = app.admin().await;
    let doc = app.document().await;
    let cases = [
        (
            "get",
            "/api/mappings/{kind}/export",
            "/api/mappings/nonsense/export",
            true,
        ),
        (
            "get",
            "/api/mappings/{kind}",
            "/api/mappings/nonsense",
            true,
        ),
        (
            "get",
            "/api/mappings/{kind}/export",
            "/api/mappings/activity/export",
            false,
        ),
        ("get", "/api/policies", "/api/policies", false),
        (
            "get",
            "/api/sync-runs/{id}",
            "/api/sync-runs/some-run",
            false,
        ),
        (
            "get",
            "/api/sync-runs/{id}",
            "/api/sync-runs/no-such-run",
            true,
        ),
        ("get", "/api/audit", "/api/audit?from=yesterday", true),
    ];
    for (method, template, path, with_token) in cases {
        let token = with_token.then_some(admin.as_str());
        let reply = app
            .call(method.to_uppercase().parse().unwrap(), path, token, None)
            .await;
        assert!(reply.status.is_client_error(), "{path}: {}", reply.status);
        let declared = &doc["paths"][template][method]["responses"][reply.status.as_str()];
        assert!(
            declared.is_object(),
            "{method} {path} answered {} which {template} does not declare",
            reply.status
        );
        let content_type = reply.headers["content-type"].to_str().unwrap();
        assert!(
            declared["content"].get(content_type).is_some(),
            "{path}: {content_type} is not declared for {}",
            reply.status
        );
    }
}

/// Path parameters are the path's own (query structs are declared `in: query`), and every one
/// is constrained (a `pattern`, or an `enum` through its schema), so a
/// fuzzer only sends bytes an API gateway passes on; and the patterns accept real ids.
#[tokio::test]
async fn path_parameters_are_constrained() {
    let app = App::start().await;
    let doc = app.document().await;
    let mut checked = 0;
    for (method, path, operation) in operations(&doc) {
        for p in operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            if p["in"] != "path" {
                continue;
            }
            checked += 1;
            let name = p["name"].as_str().unwrap();
            assert!(
                path.contains(&format!("{{{name}}}")),
                "{method} {path}: {name} is declared in the path but is not part of it"
            );
            let schema = &p["schema"];
            let constrained = schema["pattern"].is_string()
                || schema["$ref"]
                    .as_str()
                    .map(|r| {
                        let name = r.rsplit('/').next().unwrap();
                        doc["components"]["schemas"][name]["enum"].is_array()
                    })
                    .unwrap_or(false);
            assert!(
                constrained,
                "{method} {path}: {} is unconstrained: {schema}",
                p["name"]
            );
        }
    }
    assert!(checked >= 8, "only {checked} path parameters");
    let pattern_of = |path: &str, method: &str, name: &str| -> String {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["schema"]["pattern"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The patterns are plain regular expressions; check them by hand on real values.
    let zammad = pattern_of("/api/mappings/{kind}/{zammad}", "put", "zammad");
    // Neither 0 nor `none` (an activity's key, which the user and customer kinds refuse).
    assert_eq!(zammad, "^[1-9][0-9]{0,18}$");
    // `.` and `..` are path segments clients resolve away: no pattern admits them.
    let run = pattern_of("/api/sync-runs/{id}", "get", "id");
    assert_eq!(run, "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$");
    for method in ["patch", "delete"] {
        assert_eq!(
            pattern_of("/api/users/{username}", method, "username"),
            sync_service::console::users::USERNAME_PATTERN
        );
    }
    assert_eq!(
        pattern_of("/api/users/{username}/reset-password", "post", "username"),
        sync_service::console::users::USERNAME_PATTERN
    );
    assert_eq!(
        doc["components"]["schemas"]["NewUser"]["properties"]["username"]["pattern"],
        sync_service::console::users::USERNAME_PATTERN
    );
    let conflict = pattern_of("/api/conflicts/{id}/resolve", "post", "id");
    assert_eq!(conflict, "^[A-Za-z0-9_-]{1,128}$");
    let real_run = sync_store::control::RunId::generate(chrono::Utc::now()).0;
    assert!(
        real_run.starts_with(|c: char| c.is_ascii_alphanumeric())
            && real_run
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
        "{real_run}"
    );
    let real_conflict = sync_store::conflicts::ConflictId::generate().0;
    assert!(
        real_conflict
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
    );
}

/// Every link names an operation of the document and gives each of its path parameters (and
/// nothing else), so a stateful client can follow it.
#[tokio::test]
async fn links_lead_to_operations_with_their_path_parameters() {
    let app = App::start().await;
    let doc = app.document().await;
    let mut followed = 0;
    for (method, path, operation) in operations(&doc) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            assert!(
                response.get("links") != Some(&Value::Null),
                "{method} {path} {status}: links is null"
            );
            let Some(links) = response["links"].as_object() else {
                continue;
            };
            for (name, link) in links {
                let reference = link["operationRef"].as_str().unwrap();
                let pointer = reference.trim_start_matches('#');
                let target = doc
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("{method} {path} {status} {name}: no {reference}"));
                let mut wanted: Vec<String> = target["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .filter(|p| p["in"] == "path")
                            .map(|p| p["name"].as_str().unwrap().to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                let mut given: Vec<String> = link["parameters"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect();
                wanted.sort();
                given.sort();
                assert_eq!(given, wanted, "{method} {path} {status} {name}");
                followed += 1;
            }
        }
    }
    assert!(followed >= 6, "only {followed} links");
}

/// Inputs say what their checks take: ids start at 1, fixed words are enums, a CSV import has
/// its header (what schemathesis needs to generate data the API accepts).
#[tokio::test]
async fn inputs_state_their_real_constraints() {
    let app = App::start().await;
    let doc = app.document().await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["MappingTarget"]["properties"]["kimai"]["minimum"],
        1
    );
    assert_eq!(
        schemas["Policies"]["properties"]["placement"]["enum"],
        json!(["end_at_logged", "begin_at_logged"])
    );
    // One shape for `none`, one for the modes that need a step (policies.rs tests the split).
    let modes: Vec<Value> = schemas["Policies"]["properties"]["rounding"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| v["properties"]["mode"]["enum"].as_array().unwrap().clone())
        .collect();
    assert_eq!(
        modes,
        [json!("none"), json!("up"), json!("down"), json!("nearest")]
    );
    assert_eq!(
        schemas["Policies"]["properties"]["project_strategy"]["oneOf"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        schemas["NewUser"]["properties"]["role"]["enum"],
        json!(["viewer", "admin"])
    );
    assert_eq!(
        schemas["PasswordChange"]["properties"]["new_password"]["minLength"],
        12
    );
    assert_eq!(
        schemas["ApproveMany"]["properties"]["entries"]["maxItems"],
        500
    );
    let csv = &doc["paths"]["/api/mappings/{kind}/import"]["post"]["requestBody"]["content"]["text/csv"]
        ["schema"];
    assert!(
        csv["pattern"]
            .as_str()
            .unwrap()
            .starts_with("^zammad,kimai"),
        "{csv}"
    );

    // Filters take the words the API knows, and the GDPR subject the identifiers it searches.
    let parameter = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} has no parameter {name}"))["schema"]
            .clone()
    };
    assert_eq!(
        parameter("/api/conflicts", "status")["enum"],
        json!(["open", "resolved"])
    );
    assert_eq!(
        parameter("/api/conflicts", "reason")["enum"][0],
        "unmapped_user"
    );
    assert_eq!(parameter("/api/conflicts", "ticket")["minimum"], 1);
    assert_eq!(
        parameter("/api/sync-runs", "state")["enum"],
        json!(["running", "succeeded", "failed", "cancelled"])
    );
    assert_eq!(
        parameter("/api/audit", "kind")["enum"],
        json!(["access", "sync"])
    );
    let subject = &schemas["Subject"]["properties"];
    assert_eq!(subject["emails"]["items"]["minLength"], 3);
    assert_eq!(subject["names"]["items"]["maxLength"], 200);
    assert_eq!(subject["emails"]["maxItems"], 20);
    let muted = &schemas["NotificationsInput"]["properties"]["muted"];
    assert_eq!(muted["uniqueItems"], true);
    assert!(
        !muted["items"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("Notification Test")),
        "{muted}"
    );
    // `If-Match` is a header or none; never the text "null".
    let if_match = doc["paths"]["/api/policies"]["put"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "If-Match")
        .unwrap()["schema"]
        .clone();
    assert_eq!(if_match["type"], "string");
    // Wherever `null` is allowed next to a list of values, it is among them.
    let mut nullable_enums = 0;
    let mut stack = vec![doc.clone()];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(fields) => {
                if let (Some(Value::Array(types)), Some(Value::Array(values))) =
                    (fields.get("type"), fields.get("enum"))
                    && types.contains(&json!("null"))
                {
                    nullable_enums += 1;
                    assert!(values.contains(&Value::Null), "{fields:?}");
                }
                stack.extend(fields.into_iter().map(|(_, v)| v));
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    assert!(nullable_enums >= 2, "{nullable_enums}");

    // The examples the document gives are accepted as they stand.
    let admin = app.admin().await;
    let examples = [
        (Method::PUT, "/api/mappings/user/3", json!({"kimai": 1})),
        (
            Method::PUT,
            "/api/schedule",
            json!({"cron": "0 */6 * * *", "time_zone": "Europe/Berlin", "enabled": true}),
        ),
    ];
    for (method, path, body) in examples {
        let reply = app.call(method, path, Some(&admin), Some(body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    }
}
