//! Connection settings, write-only tokens and the connection test against the simulators.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;
use sync_store::secrets::SecretSource;

#[tokio::test]
async fn unconfigured_connections_read_as_not_set() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    let z = app
        .call(Method::GET, "/api/connections/zammad", Some(&viewer), None)
        .await;
    assert_eq!(z.status, StatusCode::OK);
    assert_eq!(z.json["configured"], false);
    assert_eq!(z.json["token"], "not_set");
    assert_eq!(z.etag(), "\"0\"");
    let k = app
        .call(Method::GET, "/api/connections/kimai", Some(&viewer), None)
        .await;
    assert_eq!(k.json["configured"], false);
}

#[tokio::test]
async fn saving_stores_settings_and_token_but_never_returns_the_token() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.configure(&admin).await;
    let z = app
        .call(Method::GET, "/api/connections/zammad", Some(&admin), None)
        .await;
    assert_eq!(z.json["configured"], true);
    assert_eq!(z.json["base_url"], app.zammad.base_url());
    assert_eq!(z.json["default_zone"], "Europe/Berlin");
    assert_eq!(z.json["time_unit"], json!({"unit": "minutes"}));
    assert_eq!(z.json["discovery"], "auto");
    assert_eq!(z.json["token"], "set");
    assert_eq!(z.json["version"], 1);
    assert_eq!(
        app.secrets
            .get_secret("zammad-token")
            .await
            .unwrap()
            .expose(),
        ZAMMAD_TOKEN
    );
    let k = app
        .call(Method::GET, "/api/connections/kimai", Some(&admin), None)
        .await;
    assert_eq!(k.json["token"], "set");
    assert_eq!(k.json["base_url"], app.kimai.base_url());

    // The pipeline reads the same documents.
    let loaded = sync_service::settings::load_zammad(app.control.as_ref())
        .await
        .unwrap();
    assert_eq!(loaded.base_url, app.zammad.base_url());

    // A save without a token keeps the stored one.
    let again = app
        .call(
            Method::PUT,
            "/api/connections/kimai",
            Some(&admin),
            Some(json!({"base_url": app.kimai.base_url()})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json["token"], "set");
    assert_eq!(
        app.secrets
            .get_secret("kimai-token")
            .await
            .unwrap()
            .expose(),
        KIMAI_TOKEN
    );

    let records = app.audit_records().await;
    let update = records
        .iter()
        .find(|r| r.event.action == "connection.zammad.update")
        .unwrap();
    assert_eq!(update.event.actor, ADMIN);
    assert_eq!(update.event.detail["token_changed"], true);
    app.assert_never_sent_or_logged(&[ZAMMAD_TOKEN, KIMAI_TOKEN, ADMIN_PASSWORD]);
    let audit =
        serde_json::to_string(&records.iter().map(|r| &r.event).collect::<Vec<_>>()).unwrap();
    assert!(!audit.contains(ZAMMAD_TOKEN));
}

#[tokio::test]
async fn invalid_settings_name_every_bad_field_and_change_nothing() {
    let app = App::start().await;
    let admin = app.admin().await;
    let bad = app
        .call(
            Method::PUT,
            "/api/connections/zammad",
            Some(&admin),
            Some(json!({
                "base_url": "ftp://user:pw@zammad.example",
                "time_unit": {"unit": "minutes_per_unit", "minutes": "0"},
                "default_zone": "Mars/Olympus",
                "token": " padded "
            })),
        )
        .await;
    bad.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.error_fields(),
        ["base_url", "default_zone", "time_unit", "token"]
    );
    let unknown = app
        .call(
            Method::PUT,
            "/api/connections/kimai",
            Some(&admin),
            Some(json!({"base_url": "https://kimai.example", "colour": "red"})),
        )
        .await;
    unknown.assert_problem(StatusCode::BAD_REQUEST);
    let bad_url = app
        .call(
            Method::PUT,
            "/api/connections/kimai",
            Some(&admin),
            Some(json!({"base_url": "nope"})),
        )
        .await;
    bad_url.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(bad_url.error_fields(), ["base_url"]);
    let z = app
        .call(Method::GET, "/api/connections/zammad", Some(&admin), None)
        .await;
    assert_eq!(z.json["configured"], false);
    assert!(app.secrets.get_secret("zammad-token").await.is_err());
}

#[tokio::test]
async fn concurrent_edits_are_refused_with_409() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.configure(&admin).await;
    let read = app
        .call(Method::GET, "/api/connections/kimai", Some(&admin), None)
        .await;
    let etag = read.etag();
    let body = json!({"base_url": app.kimai.base_url()});
    let first = app
        .send(
            app.request(Method::PUT, "/api/connections/kimai", Some(&admin))
                .header("if-match", &etag)
                .json(&body),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_ne!(first.etag(), etag);
    let second = app
        .send(
            app.request(Method::PUT, "/api/connections/kimai", Some(&admin))
                .header("if-match", &etag)
                .json(&body),
        )
        .await;
    second.assert_problem(StatusCode::CONFLICT);
    let garbage = app
        .send(
            app.request(Method::PUT, "/api/connections/kimai", Some(&admin))
                .header("if-match", "abc")
                .json(&body),
        )
        .await;
    garbage.assert_problem(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn zammad_test_reports_the_user_and_types() {
    let app = App::start().await;
    let admin = app.admin().await;
    let unconfigured = app
        .call(
            Method::POST,
            "/api/connections/zammad/test",
            Some(&admin),
            None,
        )
        .await;
    unconfigured.assert_problem(StatusCode::CONFLICT);

    app.configure(&admin).await;
    let ok = app
        .call(
            Method::POST,
            "/api/connections/zammad/test",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json["ok"], true);
    assert_eq!(ok.json["user"]["id"], 2);
    let types: Vec<&str> = ok.json["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"Remote support"), "{types:?}");
    assert!(ok.json["version"].as_str().unwrap().contains("sim"));

    // A wrong token is a result, not an API error.
    app.call(
        Method::PUT,
        "/api/connections/zammad",
        Some(&admin),
        Some(
            json!({"base_url": app.zammad.base_url(), "time_unit": {"unit": "minutes"},
                    "default_zone": "UTC", "token": "wrong-zammad-token"}),
        ),
    )
    .await;
    let bad = app
        .call(
            Method::POST,
            "/api/connections/zammad/test",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    assert_eq!(bad.json["ok"], false);
    assert!(bad.json["error"].as_str().unwrap().len() > 3);
    app.assert_never_sent_or_logged(&[ZAMMAD_TOKEN, "wrong-zammad-token", KIMAI_TOKEN]);
}

#[tokio::test]
async fn kimai_test_reports_version_zone_and_booking_rights() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.configure(&admin).await;
    let ok = app
        .call(
            Method::POST,
            "/api/connections/kimai/test",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json["ok"], true);
    assert_eq!(ok.json["user"]["username"], "sync-bot");
    assert_eq!(ok.json["user"]["timezone"], "Europe/Berlin");
    assert_eq!(ok.json["may_book_for_others"], true);
    assert!(ok.json["version"].as_str().unwrap().starts_with("2."));

    // A plain user's token may not book for others.
    app.call(
        Method::PUT,
        "/api/connections/kimai",
        Some(&admin),
        Some(json!({"base_url": app.kimai.base_url(), "token": "demo-anna-token"})),
    )
    .await;
    let anna = app
        .call(
            Method::POST,
            "/api/connections/kimai/test",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(anna.json["user"]["username"], "anna");
    assert_eq!(anna.json["may_book_for_others"], false);

    // Nothing listening: reported, not a 500.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    app.call(
        Method::PUT,
        "/api/connections/kimai",
        Some(&admin),
        Some(json!({"base_url": dead, "token": KIMAI_TOKEN})),
    )
    .await;
    let down = app
        .call(
            Method::POST,
            "/api/connections/kimai/test",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(down.status, StatusCode::OK);
    assert_eq!(down.json["ok"], false);
    app.assert_never_sent_or_logged(&[KIMAI_TOKEN, "demo-anna-token"]);
}

#[tokio::test]
async fn a_stored_token_never_follows_the_connection_to_another_host() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.configure(&admin).await;
    let kimai = app.kimai.base_url();
    // Somebody points Kimai elsewhere and leaves the token out: refused, nothing changes.
    for elsewhere in ["https://collector.example", "http://127.0.0.2:9"] {
        let moved = app
            .call(
                Method::PUT,
                "/api/connections/kimai",
                Some(&admin),
                Some(json!({"base_url": elsewhere})),
            )
            .await;
        moved.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(moved.error_fields(), ["token"], "{elsewhere}");
    }
    let read = app
        .call(Method::GET, "/api/connections/kimai", Some(&admin), None)
        .await;
    assert_eq!(read.json["base_url"], json!(kimai));
    // The same host (another path) keeps the stored token; a new host with its token is fine.
    let same = app
        .call(
            Method::PUT,
            "/api/connections/kimai",
            Some(&admin),
            Some(json!({"base_url": format!("{kimai}/")})),
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);
    let with_token = app
        .call(
            Method::PUT,
            "/api/connections/kimai",
            Some(&admin),
            Some(json!({"base_url": "https://kimai.example", "token": "a-new-token-for-it"})),
        )
        .await;
    assert_eq!(with_token.status, StatusCode::OK, "{}", with_token.text);
}

#[tokio::test]
async fn tokens_go_over_https_or_to_this_machine_only() {
    let app = App::start().await;
    let admin = app.admin().await;
    let plain = app
        .call(
            Method::PUT,
            "/api/connections/kimai",
            Some(&admin),
            Some(json!({"base_url": "http://kimai.example", "token": "some-token-value"})),
        )
        .await;
    plain.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(plain.error_fields(), ["base_url"]);
    assert!(plain.text.contains("https"), "{}", plain.text);
    assert!(
        app.secrets.get_secret("kimai-token").await.is_err(),
        "nothing stored"
    );
}
