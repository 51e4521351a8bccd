//! Policies: read defaults, replace validated, mappings untouched, pipeline reads them.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;
use sync_core::ids::KimaiUserId;
use sync_core::mapping::{AutoCreate, ProjectStrategy};

fn valid() -> serde_json::Value {
    json!({
        "placement": "begin_at_logged",
        "aggregation": "per_ticket_agent_activity_day",
        "rounding": {"mode": "up", "step_minutes": 15, "minimum_minutes": 15},
        "approval_required": true,
        "project_strategy": {"strategy": "per_ticket"},
        "customer_auto_create": "after_review",
        "unmapped_user": "book_as_api_user",
        "description_template": "{marker} #{ticket_number} {ticket_title} ({agent})",
        "time_only_descriptions": true,
        "default_activity": 3,
        "fallback_customer": 2,
        "tags": ["support"],
        "billable": true
    })
}

#[tokio::test]
async fn defaults_then_a_validated_replacement_that_keeps_the_mappings() {
    let app = App::start().await;
    let admin = app.admin().await;
    let viewer = app.viewer().await;
    let defaults = app
        .call(Method::GET, "/api/policies", Some(&viewer), None)
        .await;
    assert_eq!(defaults.status, StatusCode::OK, "{}", defaults.text);
    assert_eq!(defaults.json["version"], 0);
    assert_eq!(defaults.json["placement"], "end_at_logged");
    assert_eq!(defaults.json["approval_required"], false);

    app.call(
        Method::PUT,
        "/api/mappings/user/4",
        Some(&admin),
        Some(json!({"kimai": 2})),
    )
    .await;
    let put = app
        .call(Method::PUT, "/api/policies", Some(&admin), Some(valid()))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.json["version"], 2);
    assert_eq!(put.json["unmapped_user"], "book_as_api_user");
    let read = app
        .call(Method::GET, "/api/policies", Some(&viewer), None)
        .await;
    let mut expected = valid();
    expected["version"] = json!(2);
    assert_eq!(read.json, expected);

    let policy = sync_service::policies::load_sync_policy(app.control.as_ref(), KimaiUserId(1))
        .await
        .unwrap();
    assert!(policy.approval_required);
    assert_eq!(policy.mappings.project_strategy, ProjectStrategy::PerTicket);
    assert_eq!(
        policy.mappings.customer_auto_create,
        AutoCreate::AfterReview
    );
    assert_eq!(policy.mappings.user_by_agent.len(), 1, "mappings kept");
    assert_eq!(policy.rounding.step_minutes, 15);
    assert!(
        policy.mappings.time_only_descriptions,
        "time only reaches the pipeline"
    );

    let audit = app.audit_records().await;
    assert!(
        audit
            .iter()
            .any(|r| r.event.action == "policies.update" && r.event.actor == ADMIN)
    );
}

#[tokio::test]
async fn invalid_policies_name_each_field_and_change_nothing() {
    let app = App::start().await;
    let admin = app.admin().await;
    let mut bad = valid();
    bad["rounding"] = json!({"mode": "up", "step_minutes": 0, "minimum_minutes": null});
    bad["project_strategy"] = json!({"strategy": "per_customer", "name": "  "});
    bad["description_template"] = json!("{marker} {ticket_nr}");
    bad["default_activity"] = json!(0);
    bad["tags"] = json!(["a,b"]);
    let reply = app
        .call(Method::PUT, "/api/policies", Some(&admin), Some(bad))
        .await;
    reply.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.error_fields(),
        [
            "rounding",
            "project_strategy.name",
            "description_template",
            "default_activity",
            "tags"
        ]
    );
    // Values schemathesis stored and got back, against the answer's schema: an id past the
    // document's maximum (2^53 - 1, which the console would read as another number), and a
    // step over a day while rounding is off (the step is kept, so it is checked all the same).
    for (field, value) in [
        ("fallback_customer", json!(9_007_199_254_740_992_u64)),
        (
            "rounding",
            json!({"mode": "none", "step_minutes": 1441, "minimum_minutes": null}),
        ),
    ] {
        let mut bad = valid();
        bad[field] = value;
        let reply = app
            .call(Method::PUT, "/api/policies", Some(&admin), Some(bad))
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(reply.error_fields(), [field]);
    }
    let mut unknown = valid();
    unknown["placement"] = json!("sideways");
    app.call(Method::PUT, "/api/policies", Some(&admin), Some(unknown))
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    let mut extra = valid();
    extra["unit"] = json!({"unit": "hours"});
    let extra = app
        .call(Method::PUT, "/api/policies", Some(&admin), Some(extra))
        .await;
    extra.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        app.call(Method::GET, "/api/policies", Some(&admin), None)
            .await
            .json["version"],
        0
    );
}

#[tokio::test]
async fn a_stale_policy_edit_is_a_409() {
    let app = App::start().await;
    let admin = app.admin().await;
    let first = app
        .send(
            app.request(Method::PUT, "/api/policies", Some(&admin))
                .header("if-match", "0")
                .json(&valid()),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let second = app
        .send(
            app.request(Method::PUT, "/api/policies", Some(&admin))
                .header("if-match", "0")
                .json(&valid()),
        )
        .await;
    second.assert_problem(StatusCode::CONFLICT);
}

/// Every rounding mode with the smallest and largest steps, sent as the whole policies:
/// answered 200 exactly when a variant of the document's `rounding` admits it, 400 otherwise.
/// A generator working from the document alone (schemathesis) must not meet a refusal it could
/// not have known of.
#[tokio::test]
async fn a_rounding_is_taken_exactly_when_the_document_admits_it() {
    let app = App::start().await;
    let admin = app.admin().await;
    let doc = app.document().await;
    let variants = doc["components"]["schemas"]["Policies"]["properties"]["rounding"]["oneOf"]
        .as_array()
        .expect("rounding is one of several shapes")
        .clone();
    let admits = |mode: &str, step: u64| {
        variants.iter().any(|v| {
            let p = &v["properties"];
            p["mode"]["enum"]
                .as_array()
                .is_some_and(|e| e.contains(&json!(mode)))
                && p["step_minutes"]["minimum"].as_u64().unwrap() <= step
                && step <= p["step_minutes"]["maximum"].as_u64().unwrap()
        })
    };
    let mut admitted = 0;
    for mode in ["none", "up", "down", "nearest"] {
        for step in [0, 1, 1440, 1441] {
            let mut body = valid();
            body["rounding"] = json!({"mode": mode, "step_minutes": step, "minimum_minutes": null});
            let reply = app
                .call(Method::PUT, "/api/policies", Some(&admin), Some(body))
                .await;
            let expected = if admits(mode, step) {
                admitted += 1;
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            assert_eq!(reply.status, expected, "{mode} {step}: {}", reply.text);
        }
    }
    // `none` with 0, 1 or 1440; the three others with 1 or 1440.
    assert_eq!(admitted, 9);
}

/// The document's lengths count characters (JSON Schema's `maxLength`), so a name, tag or
/// template at the limit in letters of two bytes each is taken.
#[tokio::test]
async fn text_lengths_are_counted_in_characters_as_the_document_says() {
    let app = App::start().await;
    let admin = app.admin().await;
    let mut body = valid();
    body["project_strategy"] = json!({"strategy": "per_customer", "name": "é".repeat(150)});
    body["tags"] = json!(["ü".repeat(100)]);
    body["description_template"] = json!(format!("{{marker}}{}", "ß".repeat(492)));
    let reply = app
        .call(
            Method::PUT,
            "/api/policies",
            Some(&admin),
            Some(body.clone()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // One character more is refused, field by field.
    body["project_strategy"]["name"] = json!("é".repeat(151));
    body["tags"] = json!(["ü".repeat(101)]);
    body["description_template"] = json!(format!("{{marker}}{}", "ß".repeat(493)));
    let reply = app
        .call(Method::PUT, "/api/policies", Some(&admin), Some(body))
        .await;
    reply.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.error_fields(),
        ["project_strategy.name", "description_template", "tags"]
    );
}
