//! The daily connection check: are both tokens still good, and may they still do what the sync
//! needs? Expired or revoked tokens and a permission taken away are the usual reasons a sync
//! stops quietly; this finds them before the next run fails, and publishes `Connection
//! Failing` with the cause ([`crate::events`]).
//!
//! What is tried, with as few calls as tell it (five to seven a day):
//! - Zammad: the token's user (401: the token is expired, revoked or wrong); the accounting
//!   types (reconcile reads them; an admin-level read); tickets updated in the last day (ticket
//!   search, agent level); and the accountings of one of them, when there is one.
//! - Kimai: the API user (401 as above), its roles (booking and editing for other users needs
//!   `ROLE_ADMIN` or `ROLE_SUPER_ADMIN` by default, as the console's connection test says), and
//!   the user list (`view_user`; agents are mapped to Kimai users by it).
//!
//! A connection nobody has set up yet is reported, not published: a new stack is not failing.

use crate::connections::{ConnectionError, Connections};
use crate::events::{ConnectionFailing, DomainEvent, Publisher};
use crate::settings::SettingsError;
use crate::upstream::{Kimai, Zammad};
use chrono::{DateTime, Duration, Utc};
use kimai_client::KimaiError;
use serde::Serialize;
use zammad_client::ZammadError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum System {
    Zammad,
    Kimai,
}

impl System {
    pub fn as_str(self) -> &'static str {
        match self {
            System::Zammad => "zammad",
            System::Kimai => "kimai",
        }
    }
}

/// Why a connection fails, as a person has to act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// No answer: connection refused, timeout, 5xx, 429.
    Unreachable,
    /// 401: the token is expired, revoked or wrong.
    TokenRejected,
    /// The token secret cannot be read, or is empty.
    TokenMissing,
    /// The token works but may not do something the sync needs (403, or a role missing).
    PermissionMissing,
    /// The settings cannot make a client, or Zammad or Kimai answered what we cannot read.
    Misconfigured,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Unreachable => "unreachable",
            Cause::TokenRejected => "token_rejected",
            Cause::TokenMissing => "token_missing",
            Cause::PermissionMissing => "permission_missing",
            Cause::Misconfigured => "misconfigured",
        }
    }
}

/// One connection's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Health {
    Ok,
    /// Nobody saved this connection yet.
    NotConfigured,
    Failing {
        cause: Cause,
        detail: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub zammad: Health,
    pub kimai: Health,
}

fn failing(cause: Cause, detail: impl Into<String>) -> Health {
    Health::Failing {
        cause,
        detail: detail.into(),
    }
}

fn zammad_health(what: &str, e: &ZammadError) -> Health {
    let cause = if e.is_retryable() {
        Cause::Unreachable
    } else if matches!(e, ZammadError::Unauthorised { .. }) {
        Cause::TokenRejected
    } else if e.is_credentials_problem() || e.status() == Some(403) {
        Cause::PermissionMissing
    } else {
        Cause::Misconfigured
    };
    failing(cause, format!("{what}: {e}"))
}

fn kimai_health(what: &str, e: &KimaiError) -> Health {
    let cause = match e {
        _ if e.is_retryable() => Cause::Unreachable,
        KimaiError::Unauthorized => Cause::TokenRejected,
        KimaiError::Forbidden | KimaiError::Locked => Cause::PermissionMissing,
        _ => Cause::Misconfigured,
    };
    failing(cause, format!("{what}: {e}"))
}

/// What building a client says before any call: not set up, no token, bad settings.
fn connection_health(e: &ConnectionError) -> Health {
    match e {
        ConnectionError::Settings(SettingsError::NotConfigured(_)) => Health::NotConfigured,
        ConnectionError::Secret { .. } | ConnectionError::MissingSecretName(_) => {
            failing(Cause::TokenMissing, e.to_string())
        }
        ConnectionError::Settings(SettingsError::Store(s)) if s.is_retryable() => {
            failing(Cause::Unreachable, e.to_string())
        }
        _ => failing(Cause::Misconfigured, e.to_string()),
    }
}

/// Tries the Zammad token: its user, the accounting types, a ticket search, one ticket's
/// accountings.
pub async fn check_zammad(zammad: &dyn Zammad, now: DateTime<Utc>) -> Health {
    if let Err(e) = zammad.me().await {
        return zammad_health("the token's user", &e);
    }
    if let Err(e) = zammad.accounting_types().await {
        return zammad_health("the time accounting types", &e);
    }
    let tickets = match zammad.tickets_updated_since(now - Duration::days(1)).await {
        Ok(t) => t,
        Err(e) => return zammad_health("the tickets updated in the last day", &e),
    };
    if let Some(ticket) = tickets.first() {
        if let Err(e) = zammad.ticket_time_accountings(ticket.id).await {
            let what = format!("the time accountings of ticket {}", ticket.id.0);
            return zammad_health(&what, &e);
        }
    }
    Health::Ok
}

/// Tries the Kimai token: the API user and its roles, the user list.
pub async fn check_kimai(kimai: &dyn Kimai) -> Health {
    let me = match kimai.me().await {
        Ok(me) => me,
        Err(e) => return kimai_health("the API user", &e),
    };
    let may_book_for_others = me
        .roles
        .iter()
        .any(|r| r == "ROLE_ADMIN" || r == "ROLE_SUPER_ADMIN");
    if !may_book_for_others {
        return failing(
            Cause::PermissionMissing,
            format!(
                "the API user {} has roles {:?}: creating and editing timesheets for other users needs ROLE_ADMIN or ROLE_SUPER_ADMIN",
                me.username, me.roles
            ),
        );
    }
    if let Err(e) = kimai.users().await {
        return kimai_health("the user list (view_user)", &e);
    }
    Health::Ok
}

/// Checks both connections and publishes `Connection Failing` for each that fails.
pub async fn check_connections(
    connections: &Connections,
    events: &Publisher,
    now: DateTime<Utc>,
) -> CheckReport {
    let zammad = match connections.zammad().await {
        Ok((client, _)) => check_zammad(client.as_ref(), now).await,
        Err(e) => connection_health(&e),
    };
    let kimai = match connections.kimai().await {
        Ok(client) => check_kimai(client.as_ref()).await,
        Err(e) => connection_health(&e),
    };
    let mut told = Vec::new();
    for (system, health) in [(System::Zammad, &zammad), (System::Kimai, &kimai)] {
        match health {
            Health::Failing { cause, detail } => {
                tracing::warn!(system = system.as_str(), cause = cause.as_str(), %detail, "connection failing");
                told.push(DomainEvent::ConnectionFailing(ConnectionFailing::of(
                    system, *cause, detail,
                )));
            }
            Health::NotConfigured => {
                tracing::info!(system = system.as_str(), "connection not configured yet");
            }
            Health::Ok => tracing::info!(system = system.as_str(), "connection ok"),
        }
    }
    events.publish(&told).await;
    CheckReport { zammad, kimai }
}
