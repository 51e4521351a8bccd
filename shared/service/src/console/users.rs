//! Console users: the login check with its throttling, the current user behind a token, and
//! the first admin. The signed token itself is the API's (HTTP auth); a login hands the checked
//! user to the API's token issuer and audits the login once the token exists.
//!
//! Five failed logins of one user name from one IP within 15 minutes lock that pair out until
//! the window ends.

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult, FieldError};
use crate::console::passwords;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sync_store::control::{ConsoleUser, ControlStore, Role, UserWrite, window_start};
use sync_store::secrets::SecretString;

pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;

fn login_window() -> Duration {
    Duration::minutes(LOGIN_WINDOW_MINUTES)
}

/// What a login needs: the users (and their failure counters) and the access log.
#[derive(Clone, Copy)]
pub struct Logins<'a> {
    pub control: &'a dyn ControlStore,
    pub access: AccessLog<'a>,
}

/// Checks `password` for the user named in `attempt` (its user name is the one tried), with
/// throttling, then lets `issue` make the token for the accepted user and audits the login.
/// Every failed or throttled attempt is audited too.
pub async fn log_in<T>(
    logins: Logins<'_>,
    attempt: &Actor,
    password: &str,
    issue: impl AsyncFnOnce(&ConsoleUser, DateTime<Utc>) -> ConsoleResult<T>,
) -> ConsoleResult<(ConsoleUser, T)> {
    require_credentials(&attempt.username, password)?;
    let now = logins.access.clock.now();
    // One counter per (user name, IP): a wrong guess from elsewhere does not lock a user out.
    let subject = format!(
        "{}|{}",
        attempt.username.to_lowercase(),
        attempt.ip.as_deref().unwrap_or("unknown")
    );
    let control = logins.control;
    if control
        .login_failures(&subject, login_window(), now)
        .await?
        >= MAX_FAILED_LOGINS
    {
        logins
            .access
            .record(attempt, "login.throttled", json!({}))
            .await?;
        return Err(too_many(now));
    }
    let Some(user) = accepted_user(control, &attempt.username, password).await? else {
        let count = control
            .record_login_failure(&subject, login_window(), now)
            .await?;
        let detail = json!({ "failures_in_window": count });
        logins
            .access
            .record(attempt, "login.failed", detail)
            .await?;
        if count >= MAX_FAILED_LOGINS {
            return Err(too_many(now));
        }
        return Err(ConsoleError::Unauthenticated(
            "wrong user name or password".into(),
        ));
    };
    control
        .clear_login_failures(&subject, login_window(), now)
        .await?;
    let token = issue(&user, now).await?;
    let who = Actor {
        username: user.username.clone(),
        ..attempt.clone()
    };
    logins.access.record(&who, "login", json!({})).await?;
    Ok((user, token))
}

fn require_credentials(username: &str, password: &str) -> ConsoleResult<()> {
    let missing: Vec<FieldError> = [("username", username), ("password", password)]
        .into_iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(f, _)| FieldError::new(f, "required"))
        .collect();
    ConsoleError::check("user name and password are required", missing)
}

/// The user, when the password is right and the user enabled. An unknown name costs as much
/// time as a wrong password, so the timing does not tell which names exist.
async fn accepted_user(
    control: &dyn ControlStore,
    username: &str,
    password: &str,
) -> ConsoleResult<Option<ConsoleUser>> {
    let user = control.get_user(username).await?;
    let accepted = match &user {
        Some(u) => passwords::verify(&u.password_hash, password) && !u.disabled,
        None => {
            passwords::burn_time(password);
            false
        }
    };
    Ok(user.filter(|_| accepted))
}

fn too_many(now: DateTime<Utc>) -> ConsoleError {
    let window_end = window_start(login_window(), now) + login_window().num_seconds();
    ConsoleError::TooManyLogins {
        retry_after_secs: (window_end - now.timestamp()).max(1) as u64,
    }
}

/// The user a valid token names, as the store has it now: a demoted or disabled user's token
/// stops working at once.
pub async fn current_user(
    control: &dyn ControlStore,
    username: &str,
) -> ConsoleResult<ConsoleUser> {
    control
        .get_user(username)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| ConsoleError::Unauthenticated("the user no longer exists".into()))
}

/// Creates the first admin if no user of that name exists (run at start with a password from a
/// secret). Returns whether a user was created.
pub async fn create_first_admin(
    stores: Logins<'_>,
    username: &str,
    password: &SecretString,
) -> ConsoleResult<bool> {
    validate_username(username)?;
    if password.expose().chars().count() < passwords::MIN_PASSWORD_LEN {
        return Err(ConsoleError::invalid(
            "password",
            format!(
                "the first admin's password must have at least {} characters",
                passwords::MIN_PASSWORD_LEN
            ),
        ));
    }
    let user = ConsoleUser {
        username: username.to_owned(),
        password_hash: passwords::hash(password.expose()),
        role: Role::Admin,
        disabled: false,
        created_at: stores.access.clock.now(),
    };
    Ok(stores.control.create_user(&user).await? == UserWrite::Written)
}

fn validate_username(name: &str) -> ConsoleResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ConsoleError::invalid(
            "username",
            "1 to 64 characters: letters, digits, '.', '_', '-', '@'",
        ))
    }
}
