//! Console users: the login check with its throttling, the current user behind a token, the
//! first admin, and the users admins manage (create with a temporary password, change role,
//! disable, reset the password, remove; the last enabled admin always stays) and the password
//! each user changes themselves. The signed token itself is the API's (HTTP auth); a login hands the checked
//! user to the API's token issuer and audits the login once the token exists.
//!
//! Two throttles, both counted before the password is checked:
//! - five failed logins of one user name from one IP within 15 minutes lock that pair out until
//!   the window ends (one noisy address cannot lock the user out everywhere);
//! - per account, from all addresses together: ten attempts since the last success, then each
//!   further attempt locks the account for 30 s, doubled per attempt, at most 15 minutes
//!   ([`ACCOUNT_LOCKOUT`]). Guesses spread over many addresses get ten tries, then about one
//!   every 15 minutes. The price is that a stranger can keep a user name locked by guessing
//!   at it; the user sees "try again in …", never a wrong-password answer, and an admin sees
//!   the `login.locked` entries in the audit log.

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult, FieldError};
use crate::console::passwords;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_store::control::{
    AccountAttempt, ConsoleUser, ControlStore, Lockout, Role, UserWrite, window_start,
};
use sync_store::secrets::SecretString;
use utoipa::ToSchema;

pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;

/// The per-account lockout of every login.
pub const ACCOUNT_LOCKOUT: Lockout = Lockout {
    free: 10,
    base: Duration::seconds(30),
    cap: Duration::minutes(15),
};

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
    // The attempt is counted before the password is checked, in one conditional write: a burst
    // of parallel guesses gets MAX_FAILED_LOGINS tries, not one each.
    let Some(attempts) = control
        .take_login_attempt(&subject, login_window(), MAX_FAILED_LOGINS, now)
        .await?
    else {
        logins
            .access
            .record(attempt, "login.throttled", json!({}))
            .await?;
        return Err(too_many(now));
    };
    if let AccountAttempt::Locked { until } = control
        .take_account_attempt(&attempt.username, &ACCOUNT_LOCKOUT, now)
        .await?
    {
        let detail = json!({ "locked_until": until });
        logins
            .access
            .record(attempt, "login.locked", detail)
            .await?;
        return Err(ConsoleError::TooManyLogins {
            retry_after_secs: (until - now).num_seconds().max(1) as u64,
        });
    }
    let Some(user) = accepted_user(control, &attempt.username, password).await? else {
        let detail = json!({ "failures_in_window": attempts });
        logins
            .access
            .record(attempt, "login.failed", detail)
            .await?;
        if attempts >= MAX_FAILED_LOGINS {
            return Err(too_many(now));
        }
        return Err(ConsoleError::Unauthenticated(
            "wrong user name or password".into(),
        ));
    };
    control
        .clear_login_failures(&subject, login_window(), now)
        .await?;
    control.clear_account_attempts(&attempt.username).await?;
    let user = ConsoleUser {
        last_login_at: Some(now),
        ..user
    };
    control.update_user(&user).await?;
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
/// stops working at once, and so does a token issued (`issued_at`, Unix seconds) before the
/// user's password was last changed or reset.
pub async fn current_user(
    control: &dyn ControlStore,
    username: &str,
    issued_at: i64,
) -> ConsoleResult<ConsoleUser> {
    let user = control
        .get_user(username)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| ConsoleError::Unauthenticated("the user no longer exists".into()))?;
    if user
        .sessions_valid_from
        .is_some_and(|from| issued_at < from.timestamp())
    {
        return Err(ConsoleError::Unauthenticated(
            "the password was changed since this login; log in again".into(),
        ));
    }
    Ok(user)
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
        last_login_at: None,
        must_change_password: false,
        sessions_valid_from: None,
    };
    Ok(stores.control.create_user(&user).await? == UserWrite::Written)
}

/// What a username may be, as the OpenAPI document states it (body and path): 1 to 64 of
/// letters, digits, `.`, `_`, `-`, `@`, with at least one letter or digit. Names of punctuation
/// alone are out because `.` and `..` are path segments every HTTP client and browser resolves
/// away (`/api/users/..` is `/api/`): such a user could never be changed, reset or removed.
pub const USERNAME_PATTERN: &str = "^[A-Za-z0-9._@-]*[A-Za-z0-9][A-Za-z0-9._@-]*$";
pub const MAX_USERNAME_LEN: usize = 64;

fn validate_username(name: &str) -> ConsoleResult<()> {
    let ok = name.len() <= MAX_USERNAME_LEN
        && name.chars().any(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ConsoleError::invalid(
            "username",
            "1 to 64 characters: letters, digits, '.', '_', '-', '@', with at least one letter or digit",
        ))
    }
}

// ---------------------------------------------------------------- managing users

/// A console user as admins see them (never the hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub username: String,
    #[schema(value_type = String, example = "viewer")]
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// The user still has the temporary password an admin set.
    pub must_change_password: bool,
}

impl From<&ConsoleUser> for UserView {
    fn from(u: &ConsoleUser) -> Self {
        UserView {
            username: u.username.clone(),
            role: u.role,
            disabled: u.disabled,
            created_at: u.created_at,
            last_login_at: u.last_login_at,
            must_change_password: u.must_change_password,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(schema_with = crate::console::schemas::username)]
    pub username: String,
    #[schema(schema_with = role_schema)]
    pub role: Role,
}

fn role_schema() -> utoipa::openapi::schema::Object {
    crate::console::schemas::one_of_strings(&["viewer", "admin"])
}

/// A role, or `null` (left as it is).
fn optional_role_schema() -> utoipa::openapi::schema::Object {
    crate::console::schemas::or_null(role_schema())
}

/// A user with the temporary password an admin hands over; it is shown this once.
#[derive(Serialize, ToSchema)]
pub struct TemporaryPassword {
    pub user: UserView,
    pub temporary_password: String,
}

/// What an admin changes about a user; fields left out stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    #[serde(default)]
    #[schema(schema_with = optional_role_schema)]
    pub role: Option<Role>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 1024, example = "a long new password")]
    pub new_password: String,
}

/// Every user, by name.
pub async fn list_users(control: &dyn ControlStore) -> ConsoleResult<Vec<UserView>> {
    let mut users = control.list_users().await?;
    users.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(users.iter().map(UserView::from).collect())
}

async fn existing(control: &dyn ControlStore, username: &str) -> ConsoleResult<ConsoleUser> {
    control
        .get_user(username)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("no user {username:?}")))
}

/// Enabled admins now.
async fn enabled_admins(control: &dyn ControlStore) -> ConsoleResult<usize> {
    Ok(control
        .list_users()
        .await?
        .iter()
        .filter(|u| u.role == Role::Admin && !u.disabled)
        .count())
}

fn last_admin(username: &str, what: &str) -> ConsoleError {
    ConsoleError::Conflict(format!(
        "{username} is the last enabled admin and cannot be {what}; make another admin first"
    ))
}

/// After a change that took an admin away: if no enabled admin is left (another admin was
/// demoted, disabled or removed at the same instant, past the same check), `undo` puts this
/// one back and the change is refused. Of two such changes at once at least one is undone,
/// so an admin always stays; both may be, and then both are asked to try again.
async fn undo_if_no_admin_left(
    control: &dyn ControlStore,
    user: &ConsoleUser,
    what: &str,
    undo: impl AsyncFnOnce() -> ConsoleResult<()>,
) -> ConsoleResult<()> {
    if user.role != Role::Admin || user.disabled || enabled_admins(control).await? > 0 {
        return Ok(());
    }
    tracing::warn!(username = %user.username, "a concurrent change left no enabled admin; this one is undone");
    undo().await?;
    Err(last_admin(&user.username, what))
}

/// Refuses a change that would leave no enabled admin: nobody could change anything then.
/// A read, so two changes at once can both pass it: [`undo_if_no_admin_left`] checks again
/// after the write.
async fn keep_an_admin(
    control: &dyn ControlStore,
    user: &ConsoleUser,
    what: &str,
) -> ConsoleResult<()> {
    if user.role != Role::Admin || user.disabled {
        return Ok(());
    }
    if enabled_admins(control).await? <= 1 {
        return Err(last_admin(&user.username, what));
    }
    Ok(())
}

/// Creates a user with a temporary password (shown once), audited as `user.create`.
pub async fn create_user(
    stores: Logins<'_>,
    actor: &Actor,
    input: &NewUser,
) -> ConsoleResult<TemporaryPassword> {
    validate_username(&input.username)?;
    let temporary = passwords::temporary();
    let now = stores.access.clock.now();
    let user = ConsoleUser {
        username: input.username.clone(),
        password_hash: passwords::hash(&temporary),
        role: input.role,
        disabled: false,
        created_at: now,
        last_login_at: None,
        must_change_password: true,
        sessions_valid_from: Some(now),
    };
    if stores.control.create_user(&user).await? == UserWrite::AlreadyExists {
        return Err(ConsoleError::Conflict(format!(
            "a user {:?} exists already",
            user.username
        )));
    }
    let detail = json!({"username": user.username, "role": user.role});
    stores.access.record(actor, "user.create", detail).await?;
    Ok(TemporaryPassword {
        user: UserView::from(&user),
        temporary_password: temporary,
    })
}

/// Changes a user's role or enables/disables them, audited as `user.update`. Disabling or
/// demoting ends the user's sessions at once (every request reads the user).
pub async fn change_user(
    stores: Logins<'_>,
    actor: &Actor,
    username: &str,
    change: &UserChange,
) -> ConsoleResult<UserView> {
    let mut user = existing(stores.control, username).await?;
    let before = user.clone();
    let demoted = change.role.is_some_and(|r| r != Role::Admin);
    let disabling = change.disabled == Some(true);
    // As with removal: an admin does not lock themselves out in the middle of their session.
    if user.username == actor.username && (demoted || disabling) {
        return Err(ConsoleError::Conflict(
            "you cannot disable yourself or give up your own admin role; another admin can".into(),
        ));
    }
    let what = if disabling {
        "disabled"
    } else {
        "made a viewer"
    };
    if demoted || disabling {
        keep_an_admin(stores.control, &user, what).await?;
    }
    if let Some(role) = change.role {
        user.role = role;
    }
    if let Some(disabled) = change.disabled {
        user.disabled = disabled;
    }
    stores.control.update_user(&user).await?;
    if demoted || disabling {
        undo_if_no_admin_left(stores.control, &before, what, async || {
            stores.control.update_user(&before).await?;
            Ok(())
        })
        .await?;
    }
    let detail =
        json!({"username": user.username, "role": change.role, "disabled": change.disabled});
    stores.access.record(actor, "user.update", detail).await?;
    Ok(UserView::from(&user))
}

/// Gives a user a new temporary password (shown once) and ends their sessions, audited as
/// `user.reset_password`.
pub async fn reset_password(
    stores: Logins<'_>,
    actor: &Actor,
    username: &str,
) -> ConsoleResult<TemporaryPassword> {
    let mut user = existing(stores.control, username).await?;
    if user.username == actor.username {
        // A reset ends the caller's own session; their own password is changed with the
        // current one (`change_own_password`).
        return Err(ConsoleError::Conflict(
            "change your own password with your current one; another admin can reset it".into(),
        ));
    }
    let temporary = passwords::temporary();
    user.password_hash = passwords::hash(&temporary);
    user.must_change_password = true;
    user.sessions_valid_from = Some(stores.access.clock.now());
    stores.control.update_user(&user).await?;
    let detail = json!({"username": user.username});
    stores
        .access
        .record(actor, "user.reset_password", detail)
        .await?;
    Ok(TemporaryPassword {
        user: UserView::from(&user),
        temporary_password: temporary,
    })
}

/// Removes a user, audited as `user.delete`. Nobody removes themselves (another admin does),
/// and the last enabled admin stays.
pub async fn delete_user(stores: Logins<'_>, actor: &Actor, username: &str) -> ConsoleResult<()> {
    let user = existing(stores.control, username).await?;
    if user.username == actor.username {
        return Err(ConsoleError::Conflict(
            "you cannot remove yourself; another admin can".into(),
        ));
    }
    keep_an_admin(stores.control, &user, "removed").await?;
    stores.control.delete_user(username).await?;
    undo_if_no_admin_left(stores.control, &user, "removed", async || {
        stores.control.create_user(&user).await?;
        Ok(())
    })
    .await?;
    let detail = json!({"username": user.username});
    stores.access.record(actor, "user.delete", detail).await?;
    Ok(())
}

/// A user sets their own password (the current one is checked), which ends their other
/// sessions; audited as `password.change`. The user as stored now, for a fresh token.
pub async fn change_own_password(
    stores: Logins<'_>,
    actor: &Actor,
    change: &PasswordChange,
) -> ConsoleResult<ConsoleUser> {
    let mut user = existing(stores.control, &actor.username).await?;
    if !passwords::verify(&user.password_hash, &change.current_password) {
        stores
            .access
            .record(actor, "password.change_refused", json!({}))
            .await?;
        // 403, not 400: the request is well formed; the proof it carries is wrong.
        return Err(ConsoleError::Forbidden(
            "current_password: this is not your current password".into(),
        ));
    }
    let mut errors = Vec::new();
    if change.new_password.chars().count() < passwords::MIN_PASSWORD_LEN {
        errors.push(FieldError::new(
            "new_password",
            format!("at least {} characters", passwords::MIN_PASSWORD_LEN),
        ));
    }
    if change.new_password == change.current_password {
        errors.push(FieldError::new(
            "new_password",
            "must differ from the current password",
        ));
    }
    ConsoleError::check("the new password is not accepted", errors)?;
    user.password_hash = passwords::hash(&change.new_password);
    user.must_change_password = false;
    user.sessions_valid_from = Some(stores.access.clock.now());
    stores.control.update_user(&user).await?;
    stores
        .access
        .record(actor, "password.change", json!({}))
        .await?;
    Ok(user)
}
