//! Mapping CRUD with conditional writes, CSV import and export; the pipeline reads the result.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;
use sync_core::ids::{
    AccountingTypeId, ActivityId, CustomerId, KimaiUserId, OrganisationId, ZammadUserId,
};

#[tokio::test]
async fn mappings_are_set_listed_and_deleted_and_the_pipeline_sees_them() {
    let app = App::start().await;
    let admin = app.admin().await;
    let empty = app
        .call(Method::GET, "/api/mappings", Some(&admin), None)
        .await;
    assert_eq!(empty.json["version"], 0);
    assert_eq!(empty.json["activity"], json!([]));

    let set = app
        .call(
            Method::PUT,
            "/api/mappings/activity/1",
            Some(&admin),
            Some(json!({"kimai": 3})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.json["version"], 1);
    app.call(
        Method::PUT,
        "/api/mappings/activity/none",
        Some(&admin),
        Some(json!({"kimai": 4})),
    )
    .await;
    app.call(
        Method::PUT,
        "/api/mappings/customer/2",
        Some(&admin),
        // A whole number written with a fraction is an integer to JSON Schema, and so to us.
        Some(json!({"kimai": 7.0})),
    )
    .await;
    app.call(
        Method::PUT,
        "/api/mappings/user/4",
        Some(&admin),
        Some(json!({"kimai": 2})),
    )
    .await;
    let project = app
        .call(
            Method::PUT,
            "/api/mappings/project/3",
            Some(&admin),
            Some(json!({"kimai": 5})),
        )
        .await;
    assert_eq!(project.json["version"], 5);

    let viewer = app.viewer().await;
    let activity = app
        .call(Method::GET, "/api/mappings/activity", Some(&viewer), None)
        .await;
    assert_eq!(
        activity.json["items"],
        json!([{"zammad": "none", "kimai": 4}, {"zammad": "1", "kimai": 3}])
    );
    assert_eq!(activity.etag(), "\"5\"");

    let policy = sync_service::policies::load_sync_policy(app.control.as_ref(), KimaiUserId(1))
        .await
        .unwrap();
    let m = policy.mappings;
    assert_eq!(
        m.activity_by_type.get(&AccountingTypeId(1)),
        Some(&ActivityId(3))
    );
    assert_eq!(m.activity_without_type, Some(ActivityId(4)));
    assert_eq!(
        m.customer_by_organisation.get(&OrganisationId(2)),
        Some(&CustomerId(7))
    );
    assert_eq!(m.user_by_agent.get(&ZammadUserId(4)), Some(&KimaiUserId(2)));

    let deleted = app
        .call(
            Method::DELETE,
            "/api/mappings/activity/none",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.json["items"], json!([{"zammad": "1", "kimai": 3}]));
    app.call(
        Method::DELETE,
        "/api/mappings/activity/none",
        Some(&admin),
        None,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND);
    let policy = sync_service::policies::load_sync_policy(app.control.as_ref(), KimaiUserId(1))
        .await
        .unwrap();
    assert_eq!(policy.mappings.activity_without_type, None);

    let actions = app.audit_actions().await;
    assert_eq!(actions.iter().filter(|a| *a == "mapping.set").count(), 5);
    assert_eq!(actions.iter().filter(|a| *a == "mapping.delete").count(), 1);
}

#[tokio::test]
async fn bad_kinds_ids_and_bodies_are_400() {
    let app = App::start().await;
    let admin = app.admin().await;
    let cases = [
        ("/api/mappings/activity/abc", json!({"kimai": 3}), "zammad"),
        ("/api/mappings/user/none", json!({"kimai": 3}), "zammad"),
        ("/api/mappings/user/0", json!({"kimai": 3}), "zammad"),
        ("/api/mappings/user/5", json!({"kimai": 0}), "kimai"),
        ("/api/mappings/user/5", json!({"kimai": "x"}), "body"),
        (
            "/api/mappings/user/5",
            json!({"kimai": 1, "extra": true}),
            "body",
        ),
        ("/api/mappings/tickets/5", json!({"kimai": 1}), "path"),
    ];
    for (path, body, field) in cases {
        let reply = app
            .call(Method::PUT, path, Some(&admin), Some(body.clone()))
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(
            reply.error_fields(),
            [field],
            "{path} {body}: {}",
            reply.text
        );
    }
    app.call(Method::GET, "/api/mappings/nope", Some(&admin), None)
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        app.call(Method::GET, "/api/mappings", Some(&admin), None)
            .await
            .json["version"],
        0
    );
}

#[tokio::test]
async fn a_stale_version_is_a_409_and_loses_nothing() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.call(
        Method::PUT,
        "/api/mappings/user/4",
        Some(&admin),
        Some(json!({"kimai": 2})),
    )
    .await;
    let seen = app
        .call(Method::GET, "/api/mappings/user", Some(&admin), None)
        .await
        .etag();
    // Someone else edits first.
    app.call(
        Method::PUT,
        "/api/mappings/user/5",
        Some(&admin),
        Some(json!({"kimai": 3})),
    )
    .await;
    let stale = app
        .send(
            app.request(Method::PUT, "/api/mappings/user/4", Some(&admin))
                .header("if-match", &seen)
                .json(&json!({"kimai": 9})),
        )
        .await;
    stale.assert_problem(StatusCode::CONFLICT);
    let stale_delete = app
        .send(
            app.request(Method::DELETE, "/api/mappings/user/5", Some(&admin))
                .header("if-match", &seen),
        )
        .await;
    stale_delete.assert_problem(StatusCode::CONFLICT);
    let now = app
        .call(Method::GET, "/api/mappings/user", Some(&admin), None)
        .await;
    assert_eq!(
        now.json["items"],
        json!([{"zammad": "4", "kimai": 2}, {"zammad": "5", "kimai": 3}])
    );
    let fresh = app
        .send(
            app.request(Method::PUT, "/api/mappings/user/4", Some(&admin))
                .header("if-match", now.etag())
                .json(&json!({"kimai": 9})),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
}

#[tokio::test]
async fn concurrent_writers_never_lose_an_edit_silently() {
    let app = App::start().await;
    let admin = app.admin().await;
    let mut tasks = Vec::new();
    for i in 1..=8u64 {
        let r = app
            .request(
                Method::PUT,
                &format!("/api/mappings/customer/{i}"),
                Some(&admin),
            )
            .json(&json!({"kimai": i}));
        tasks.push(tokio::spawn(
            async move { r.send().await.unwrap().status() },
        ));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("{other}"),
        }
    }
    let list = app
        .call(Method::GET, "/api/mappings/customer", Some(&admin), None)
        .await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        ok,
        "every 200 is stored, every loser got 409"
    );
}

#[tokio::test]
async fn csv_import_is_all_or_nothing_and_export_reads_back() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.call(
        Method::PUT,
        "/api/mappings/activity/9",
        Some(&admin),
        Some(json!({"kimai": 1})),
    )
    .await;

    let bad = app
        .send(
            app.request(Method::POST, "/api/mappings/activity/import", Some(&admin))
                .header("content-type", "text/csv")
                .body("zammad,kimai\n1,3\nx,4\n2,0\n1,5\n7\n"),
        )
        .await;
    bad.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(bad.error_fields(), ["row 3", "row 4", "row 5", "row 6"]);
    let unchanged = app
        .call(Method::GET, "/api/mappings/activity", Some(&admin), None)
        .await;
    assert_eq!(
        unchanged.json["items"],
        json!([{"zammad": "9", "kimai": 1}])
    );

    let header = app
        .send(
            app.request(Method::POST, "/api/mappings/activity/import", Some(&admin))
                .body("type,activity\n1,2\n"),
        )
        .await;
    header.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(header.error_fields(), ["row 1"]);
    let binary = app
        .send(
            app.request(Method::POST, "/api/mappings/activity/import", Some(&admin))
                .body(vec![0xff, 0xfe, 0x00]),
        )
        .await;
    binary.assert_problem(StatusCode::BAD_REQUEST);
    let huge = format!("zammad,kimai\n{}", "1,2\n".repeat(600_000));
    let too_large = app
        .send(
            app.request(Method::POST, "/api/mappings/activity/import", Some(&admin))
                .body(huge),
        )
        .await;
    too_large.assert_problem(StatusCode::PAYLOAD_TOO_LARGE);
    let mode = app
        .send(
            app.request(
                Method::POST,
                "/api/mappings/activity/import?mode=all",
                Some(&admin),
            )
            .body("zammad,kimai\n"),
        )
        .await;
    mode.assert_problem(StatusCode::BAD_REQUEST);

    let merged = app
        .send(
            app.request(Method::POST, "/api/mappings/activity/import", Some(&admin))
                .body("zammad,kimai\n1,3\n none , 4\n"),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text);
    assert_eq!(merged.json["rows"], 2);
    assert_eq!(
        merged.json["items"].as_array().unwrap().len(),
        3,
        "merge keeps 9"
    );

    let export = app
        .send(app.request(Method::GET, "/api/mappings/activity/export", Some(&admin)))
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert_eq!(export.text, "zammad,kimai\nnone,4\n1,3\n9,1\n");

    // The export imported with `replace` is the same list again.
    let replaced = app
        .send(
            app.request(
                Method::POST,
                "/api/mappings/activity/import?mode=replace",
                Some(&admin),
            )
            .body("zammad,kimai\n1,3\n"),
        )
        .await;
    assert_eq!(replaced.json["items"], json!([{"zammad": "1", "kimai": 3}]));
    let import_audit = app
        .audit_records()
        .await
        .into_iter()
        .filter(|r| r.event.action == "mapping.import")
        .count();
    assert_eq!(import_audit, 2);
}
