//! Login, tokens, roles, throttling and the audit of access.

mod support;

use chrono::Duration;
use console_api::auth::token;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;
use sync_store::clock::Clock;
use sync_store::control::{ControlStore, Role};

#[tokio::test]
async fn login_returns_a_token_that_me_accepts() {
    let app = App::start().await;
    let reply = app.login(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["role"], "admin");
    let token = reply.json["token"].as_str().unwrap();
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(reply.json["expires_at"].clone()).unwrap();
    assert_eq!((expires - app.clock.now()).num_minutes(), 8 * 60);

    let me = app
        .call(Method::GET, "/api/auth/me", Some(token), None)
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.json,
        json!({"username": ADMIN, "role": "admin", "must_change_password": false})
    );

    let viewer = app.viewer().await;
    let me = app
        .call(Method::GET, "/api/auth/me", Some(&viewer), None)
        .await;
    assert_eq!(me.json["role"], "viewer");
}

#[tokio::test]
async fn the_first_admin_is_created_once_with_an_argon2id_hash() {
    let app = App::start().await;
    let user = app.control.get_user(ADMIN).await.unwrap().unwrap();
    assert!(user.password_hash.starts_with("$argon2id$"));
    assert!(!user.password_hash.contains(ADMIN_PASSWORD));
    assert_eq!(user.role, Role::Admin);
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_401() {
    let app = App::start().await;
    let wrong = app.login(ADMIN, "not the password").await;
    wrong.assert_problem(StatusCode::UNAUTHORIZED);
    let unknown = app.login("nobody", "not the password").await;
    unknown.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json["detail"], unknown.json["detail"]);
    let empty = app.login("", "").await;
    empty.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(empty.error_fields(), ["username", "password"]);
}

#[tokio::test]
async fn five_failures_lock_the_user_and_ip_for_the_window() {
    let app = App::start().await;
    for i in 1..=4 {
        app.login(ADMIN, "wrong")
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
        let _ = i;
    }
    let fifth = app.login(ADMIN, "wrong").await;
    fifth.assert_problem(StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = fifth.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    // Even the right password is refused now.
    app.login(ADMIN, ADMIN_PASSWORD)
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS);
    // Another user from the same address is not affected.
    assert_eq!(
        app.login(VIEWER, VIEWER_PASSWORD).await.status,
        StatusCode::OK
    );
    // After the window, logins work again, and success clears the count.
    app.clock.advance(Duration::minutes(15));
    assert_eq!(
        app.login(ADMIN, ADMIN_PASSWORD).await.status,
        StatusCode::OK
    );
    let actions = app.audit_actions().await;
    assert!(
        actions.contains(&"login.throttled".to_owned()),
        "{actions:?}"
    );
    assert_eq!(actions.iter().filter(|a| *a == "login.failed").count(), 5);
}

#[tokio::test]
async fn missing_bad_and_expired_tokens_are_401() {
    let app = App::start().await;
    app.call(Method::GET, "/api/auth/me", None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    app.call(Method::GET, "/api/auth/me", Some("garbage"), None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let basic = app
        .send(
            app.request(Method::GET, "/api/auth/me", None)
                .header("authorization", "Basic YTpi"),
        )
        .await;
    basic.assert_problem(StatusCode::UNAUTHORIZED);
    // Signed with another key.
    let (forged, _) = token::issue(
        b"some other key with 32+ bytes!!!",
        ADMIN,
        Role::Admin,
        app.clock.now(),
    );
    app.call(Method::GET, "/api/auth/me", Some(&forged), None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);

    let token = app.admin().await;
    app.clock.advance(Duration::hours(8));
    let expired = app
        .call(Method::GET, "/api/auth/me", Some(&token), None)
        .await;
    expired.assert_problem(StatusCode::UNAUTHORIZED);
    assert!(expired.json["detail"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn a_disabled_or_deleted_user_is_locked_out_at_once() {
    let app = App::start().await;
    let token = app.viewer().await;
    let mut user = app.control.get_user(VIEWER).await.unwrap().unwrap();
    user.disabled = true;
    app.control.update_user(&user).await.unwrap();
    app.call(Method::GET, "/api/auth/me", Some(&token), None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    app.login(VIEWER, VIEWER_PASSWORD)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logins_are_audited_with_ip_and_user_agent_and_no_secret() {
    let app = App::start().await;
    let token = app.admin().await;
    app.login(ADMIN, "a wrong guess").await;
    let records = app.audit_records().await;
    let login = records.iter().find(|r| r.event.action == "login").unwrap();
    assert_eq!(login.event.actor, ADMIN);
    assert_eq!(login.event.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(login.event.detail["user_agent"], USER_AGENT);
    let all = serde_json::to_string(&records.iter().map(|r| &r.event).collect::<Vec<_>>()).unwrap();
    for secret in [ADMIN_PASSWORD, "a wrong guess", token.as_str(), SIGNING_KEY] {
        assert!(!all.contains(secret), "audit holds {secret:?}");
    }
    app.assert_never_sent_or_logged(&[ADMIN_PASSWORD, "a wrong guess", SIGNING_KEY]);
    assert!(!app.logs().contains(&token), "the token is logged");
}

#[tokio::test]
async fn the_first_admin_needs_a_long_password_and_is_created_only_once() {
    let app = App::start().await;
    let short = console_api::auth::bootstrap_admin(
        &app.state,
        "second",
        &sync_store::secrets::SecretString::new("short"),
    )
    .await;
    assert!(matches!(
        short,
        Err(console_api::problem::ApiError::Invalid { .. })
    ));
    assert!(app.control.get_user("second").await.unwrap().is_none());
    let again = console_api::auth::bootstrap_admin(
        &app.state,
        ADMIN,
        &sync_store::secrets::SecretString::new("a different long password"),
    )
    .await
    .unwrap();
    assert!(!again, "an existing admin is left alone");
    assert_eq!(
        app.login(ADMIN, ADMIN_PASSWORD).await.status,
        StatusCode::OK
    );
}

/// Inside Lambda the source IP and the request id come from the API Gateway request context,
/// never from `X-Forwarded-For`.
#[tokio::test]
async fn source_ip_and_request_id_come_from_the_gateway_context() {
    use lambda_http::RequestExt;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::request::RequestContext;
    use tower::ServiceExt;

    let app = App::start().await;
    let mut ctx = ApiGatewayV2httpRequestContext::default();
    ctx.request_id = Some("gw-request-7".into());
    ctx.http.source_ip = Some("203.0.113.9".into());
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/api/auth/login")
        .header("content-type", "application/json")
        .header("x-forwarded-for", "198.51.100.1")
        .header("user-agent", "gateway-test")
        .body(axum::body::Body::from(
            serde_json::to_vec(&json!({"username": ADMIN, "password": ADMIN_PASSWORD})).unwrap(),
        ))
        .unwrap()
        .with_request_context(RequestContext::ApiGatewayV2(ctx));
    let response = console_api::router(app.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], "gw-request-7");
    let records = app.audit_records().await;
    let login = records.iter().find(|r| r.event.action == "login").unwrap();
    assert_eq!(login.event.ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(login.event.detail["user_agent"], "gateway-test");
}

/// An adapter may set the source IP itself; the router keeps it.
#[tokio::test]
async fn an_adapter_set_source_ip_wins() {
    use tower::ServiceExt;
    let app = App::start().await;
    let mut request = axum::http::Request::builder()
        .method("POST")
        .uri("/api/auth/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            serde_json::to_vec(&json!({"username": ADMIN, "password": "wrong"})).unwrap(),
        ))
        .unwrap();
    request
        .extensions_mut()
        .insert(console_api::context::SourceIp("192.0.2.44".into()));
    let response = console_api::router(app.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let records = app.audit_records().await;
    assert_eq!(records[0].event.ip.as_deref(), Some("192.0.2.44"));
    assert_eq!(records[0].event.action, "login.failed");
}

#[tokio::test]
async fn the_first_admin_comes_from_a_secret_named_in_the_environment() {
    use console_api::runtime;
    let app = App::start().await;
    app.secrets.set("admin-password", "a long first password");
    let lookup = |name: &str| match name {
        runtime::CONSOLE_ADMIN_PASSWORD_SECRET => Some("admin-password".to_owned()),
        runtime::CONSOLE_ADMIN_USER => Some("root".to_owned()),
        _ => None,
    };
    assert!(runtime::bootstrap_admin(&app.state, lookup).await.unwrap());
    assert!(
        !runtime::bootstrap_admin(&app.state, lookup).await.unwrap(),
        "only once"
    );
    assert_eq!(
        app.login("root", "a long first password").await.status,
        StatusCode::OK
    );
    // No secret configured: nothing to do. A configured but missing secret: an error.
    assert!(
        !runtime::bootstrap_admin(&app.state, |_: &str| None)
            .await
            .unwrap()
    );
    let missing = runtime::bootstrap_admin(&app.state, |name: &str| match name {
        runtime::CONSOLE_ADMIN_PASSWORD_SECRET => Some("no-such-secret".to_owned()),
        runtime::CONSOLE_ADMIN_USER => Some("newbie".to_owned()),
        _ => None,
    })
    .await;
    assert!(missing.is_err());
    assert!(!app.logs().contains("a long first password"));
}

#[test]
fn secret_names_must_all_be_configured() {
    use console_api::ConsoleSecrets;
    let all = |name: &str| Some(format!("{name}-id"));
    let names = ConsoleSecrets::from_lookup(all).unwrap();
    assert_eq!(names.signing_key, "CONSOLE_SIGNING_KEY_SECRET-id");
    let without_key = |name: &str| (name != "CONSOLE_SIGNING_KEY_SECRET").then(|| "x".to_owned());
    let err = ConsoleSecrets::from_lookup(without_key).unwrap_err();
    assert!(
        err.to_string().contains("CONSOLE_SIGNING_KEY_SECRET"),
        "{err}"
    );
}

#[tokio::test]
async fn a_short_signing_key_is_a_500_without_detail() {
    let app = App::start().await;
    app.secrets.set("console-signing-key", "too short");
    let reply = app.login(ADMIN, ADMIN_PASSWORD).await;
    reply.assert_problem(StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.json.get("detail").is_none(), "{}", reply.text);
    assert!(app.logs().contains("shorter than 32 bytes"));
    assert!(
        !app.logs().contains("too short"),
        "the key itself is never logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_guesses_get_the_five_tries_of_the_window_not_one_each() {
    let app = App::start().await;
    let guesses = (0..20).map(|i| {
        let app = &app;
        async move { app.login(ADMIN, &format!("guess-{i}")).await.status }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = answers
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    // Five passwords were checked: four 401s and the fifth, which reaches the limit, a 429.
    assert_eq!((checked, throttled), (4, 16), "{answers:?}");
    let failed = app
        .audit_records()
        .await
        .iter()
        .filter(|r| r.event.action == "login.failed")
        .count();
    assert_eq!(failed, 5, "only five passwords were tried");
}
