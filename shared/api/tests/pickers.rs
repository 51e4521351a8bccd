//! Picker lists, live from the simulators.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

#[tokio::test]
async fn pickers_list_what_zammad_and_kimai_have() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.configure(&admin).await;
    let viewer = app.viewer().await;

    let types = app
        .call(
            Method::GET,
            "/api/pickers/zammad/types",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(types.status, StatusCode::OK, "{}", types.text);
    let inactive = types
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Old flat rate")
        .unwrap();
    assert_eq!(inactive["visible"], false);

    let orgs = app
        .call(
            Method::GET,
            "/api/pickers/zammad/organisations",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(orgs.status, StatusCode::OK, "{}", orgs.text);
    assert!(
        orgs.json
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "Café Adler")
    );

    for path in [
        "/api/pickers/kimai/activities",
        "/api/pickers/kimai/customers",
        "/api/pickers/kimai/users",
    ] {
        let reply = app.call(Method::GET, path, Some(&viewer), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        assert!(!reply.json.as_array().unwrap().is_empty(), "{path}");
    }
    let users = app
        .call(
            Method::GET,
            "/api/pickers/kimai/users?term=anna",
            Some(&viewer),
            None,
        )
        .await;
    let names: Vec<&str> = users
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Anna Berger"], "alias first, else the user name");

    let all = app
        .call(
            Method::GET,
            "/api/pickers/kimai/projects",
            Some(&viewer),
            None,
        )
        .await;
    let first_customer = all.json[0]["customer"].as_u64().unwrap();
    let filtered = app
        .call(
            Method::GET,
            &format!("/api/pickers/kimai/projects?customer={first_customer}"),
            Some(&viewer),
            None,
        )
        .await;
    let projects = filtered.json.as_array().unwrap();
    assert!(!projects.is_empty());
    assert!(projects.iter().all(|p| p["customer"] == first_customer));
    app.assert_never_sent_or_logged(&[ZAMMAD_TOKEN, KIMAI_TOKEN]);
}

#[tokio::test]
async fn pickers_explain_bad_queries_missing_settings_and_upstream_failures() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.call(
        Method::GET,
        "/api/pickers/kimai/projects",
        Some(&admin),
        None,
    )
    .await
    .assert_problem(StatusCode::CONFLICT);
    app.call(Method::GET, "/api/pickers/zammad/types", Some(&admin), None)
        .await
        .assert_problem(StatusCode::CONFLICT);
    app.configure(&admin).await;
    let bad = app
        .call(
            Method::GET,
            "/api/pickers/kimai/projects?customer=abc",
            Some(&admin),
            None,
        )
        .await;
    bad.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(bad.error_fields(), ["query"]);

    // A token Zammad refuses: 502 naming Zammad.
    app.call(
        Method::PUT,
        "/api/connections/zammad",
        Some(&admin),
        Some(
            json!({"base_url": app.zammad.base_url(), "time_unit": {"unit": "minutes"},
                    "default_zone": "UTC", "token": "refused-token"}),
        ),
    )
    .await;
    let refused = app
        .call(
            Method::GET,
            "/api/pickers/zammad/organisations",
            Some(&admin),
            None,
        )
        .await;
    refused.assert_problem(StatusCode::BAD_GATEWAY);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .starts_with("Zammad")
    );
    app.assert_never_sent_or_logged(&["refused-token"]);
}
