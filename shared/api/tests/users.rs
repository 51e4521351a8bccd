//! Admins manage the console's users: create with a temporary password, reset it, change the
//! role, disable, remove; the last enabled admin stays; a user changes their own password and
//! their older tokens stop working.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

#[tokio::test]
async fn a_new_user_logs_in_with_the_temporary_password_and_changes_nothing_until_setting_their_own()
 {
    let app = App::start().await;
    let admin = app.admin().await;
    let created = app
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(json!({"username": "grace", "role": "admin"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["user"]["must_change_password"], true);
    let temporary = created.json["temporary_password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(temporary.len() >= 12, "{temporary}");
    app.call(
        Method::POST,
        "/api/users",
        Some(&admin),
        Some(json!({"username": "grace", "role": "viewer"})),
    )
    .await
    .assert_problem(StatusCode::CONFLICT);

    let first = app.token("grace", &temporary).await;
    let me = app
        .call(Method::GET, "/api/auth/me", Some(&first), None)
        .await;
    assert_eq!(me.json["must_change_password"], true);
    // Reading works; changing anything does not, until the password is her own.
    let read = app
        .call(Method::GET, "/api/policies", Some(&first), None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    app.call(Method::POST, "/api/notifications/test", Some(&first), None)
        .await
        .assert_problem(StatusCode::FORBIDDEN);

    let wrong = app
        .call(
            Method::POST,
            "/api/auth/password",
            Some(&first),
            Some(json!({"current_password": "not it", "new_password": "a long new password"})),
        )
        .await;
    // Well formed, but the proof is wrong: refused, and the session stays.
    wrong.assert_problem(StatusCode::FORBIDDEN);
    assert!(
        wrong.json["detail"]
            .as_str()
            .unwrap()
            .contains("current password")
    );
    let short = app
        .call(
            Method::POST,
            "/api/auth/password",
            Some(&first),
            Some(json!({"current_password": temporary, "new_password": "short"})),
        )
        .await;
    short.assert_problem(StatusCode::BAD_REQUEST);
    // Tokens carry whole seconds: the change must come a second later to end this one.
    app.clock.advance(chrono::Duration::seconds(2));
    let changed = app
        .call(
            Method::POST,
            "/api/auth/password",
            Some(&first),
            Some(
                json!({"current_password": temporary, "new_password": "grace's own long password"}),
            ),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let fresh = changed.json["token"].as_str().unwrap().to_owned();
    app.call(Method::GET, "/api/auth/me", Some(&first), None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let me = app
        .call(Method::GET, "/api/auth/me", Some(&fresh), None)
        .await;
    assert_eq!(me.json["must_change_password"], false);
    let sent = app
        .call(Method::POST, "/api/notifications/test", Some(&fresh), None)
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    assert_eq!(
        app.login("grace", &temporary).await.status,
        StatusCode::UNAUTHORIZED
    );

    let actions = app.audit_actions().await;
    for action in ["user.create", "password.change_refused", "password.change"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    let audited = app.bodies.lock().unwrap().join("\n");
    assert_eq!(
        audited.matches(&temporary).count(),
        1,
        "the temporary password is answered once, never again"
    );
}

#[tokio::test]
async fn the_last_enabled_admin_stays_and_nobody_removes_themselves() {
    let app = App::start().await;
    let admin = app.admin().await;
    let path = format!("/api/users/{ADMIN}");
    for change in [json!({"role": "viewer"}), json!({"disabled": true})] {
        app.call(Method::PATCH, &path, Some(&admin), Some(change))
            .await
            .assert_problem(StatusCode::CONFLICT);
    }
    app.call(Method::DELETE, &path, Some(&admin), None)
        .await
        .assert_problem(StatusCode::CONFLICT);
    // With a second admin, the first may become a viewer.
    let created = app
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(json!({"username": "ada", "role": "admin"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    // Even then nobody locks themselves out: not by role, not by disabling, not by a reset.
    for change in [json!({"role": "viewer"}), json!({"disabled": true})] {
        app.call(Method::PATCH, &path, Some(&admin), Some(change))
            .await
            .assert_problem(StatusCode::CONFLICT);
    }
    app.call(
        Method::POST,
        &format!("{path}/reset-password"),
        Some(&admin),
        None,
    )
    .await
    .assert_problem(StatusCode::CONFLICT);
    // The second admin may make the first a viewer ...
    let temporary = created.json["temporary_password"].as_str().unwrap();
    let first = app.token("ada", temporary).await;
    let changed = app
        .call(
            Method::POST,
            "/api/auth/password",
            Some(&first),
            Some(json!({"current_password": temporary, "new_password": "ada's own long password"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let ada = changed.json["token"].as_str().unwrap().to_owned();
    let demoted = app
        .call(
            Method::PATCH,
            &path,
            Some(&ada),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.text);
    assert_eq!(demoted.json["role"], "viewer");
    // ... who is one at once: the same token may change nothing now.
    app.call(Method::GET, "/api/users", Some(&admin), None)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_reset_ends_the_users_sessions_and_a_disabled_user_is_out() {
    let app = App::start().await;
    let admin = app.admin().await;
    let viewer = app.viewer().await;
    app.call(Method::GET, "/api/users", Some(&viewer), None)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let list = app
        .call(Method::GET, "/api/users", Some(&admin), None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let row = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == VIEWER)
        .unwrap()
        .clone();
    assert!(
        row["last_login_at"].is_string(),
        "the login was noted: {row}"
    );
    assert!(row.get("password_hash").is_none());

    app.clock.advance(chrono::Duration::seconds(2));
    let path = format!("/api/users/{VIEWER}/reset-password");
    let reset = app.call(Method::POST, &path, Some(&admin), None).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    app.call(Method::GET, "/api/auth/me", Some(&viewer), None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login(VIEWER, VIEWER_PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let temporary = reset.json["temporary_password"].as_str().unwrap();
    let again = app.token(VIEWER, temporary).await;

    let off = app
        .call(
            Method::PATCH,
            &format!("/api/users/{VIEWER}"),
            Some(&admin),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    app.call(Method::GET, "/api/auth/me", Some(&again), None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let gone = app
        .call(
            Method::DELETE,
            &format!("/api/users/{VIEWER}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    app.call(
        Method::DELETE,
        &format!("/api/users/{VIEWER}"),
        Some(&admin),
        None,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND);
    let actions = app.audit_actions().await;
    for action in ["user.reset_password", "user.update", "user.delete"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

/// A username needs a letter or a digit. `.` and `..` are path segments that every HTTP client
/// and browser resolves away (`/api/users/..` is `/api/`), so a user of that name could never be
/// changed, reset or removed; names of punctuation alone are refused with them.
#[tokio::test]
async fn a_username_needs_a_letter_or_digit_so_that_its_path_reaches_it() {
    let app = App::start().await;
    let admin = app.admin().await;
    for name in [".", "..", "...", "_", "-@-"] {
        let refused = app
            .call(
                Method::POST,
                "/api/users",
                Some(&admin),
                Some(json!({"username": name, "role": "viewer"})),
            )
            .await;
        refused.assert_problem(StatusCode::BAD_REQUEST);
        assert!(
            refused.text.contains("letter or digit"),
            "{name}: {}",
            refused.text
        );
    }
    for name in ["..a", "b..", "7", "@x_"] {
        let created = app
            .call(
                Method::POST,
                "/api/users",
                Some(&admin),
                Some(json!({"username": name, "role": "viewer"})),
            )
            .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{name}: {}",
            created.text
        );
        let path = format!("/api/users/{name}");
        let reset = app
            .call(
                Method::POST,
                &format!("{path}/reset-password"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(reset.status, StatusCode::OK, "{name}: {}", reset.text);
        let gone = app.call(Method::DELETE, &path, Some(&admin), None).await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT, "{name}: {}", gone.text);
    }
}
