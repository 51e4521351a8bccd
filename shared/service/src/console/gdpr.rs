//! GDPR: export everything the sync holds about one person (an agent), and purge it.
//!
//! A person is named by their Zammad user id and, optionally, e-mail addresses and names. When
//! the Zammad connection works, the user's e-mail, login and name are added from Zammad. What
//! "about them" means, store by store, is `crate::privacy::find`'s.
//!
//! The export answers at once. The purge is a background job: [`request_purge`] validates,
//! looks the person up, writes the job record (`queued`) and hands the job to the gdpr-purge
//! function through a [`Launcher`]; [`purge_job`] reads its progress and final report. The
//! purge is audited by counts only (`gdpr.purge.requested` here, `gdpr.purge` when done): no
//! id, name or address of the person.

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult, FieldError};
use crate::privacy::find::{Found, MIN_IDENTIFIER_LEN, find};
use crate::privacy::job::{self, JobStatus, PurgeJob, check_job_id};
use crate::privacy::purge::PurgeOrder;
use crate::privacy::{Person, PrivacyPorts};
use serde_json::json;
use std::collections::HashSet;
use sync_core::ids::ZammadUserId;
use sync_store::launch::Launcher;
use zammad_client::ZammadClient;

pub const MAX_IDENTIFIERS: usize = 20;
/// The longest e-mail address or name searched for, in characters.
pub const MAX_IDENTIFIER_LEN: usize = 200;

/// The person, as the request names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub agent_id: u64,
    pub emails: Vec<String>,
    pub names: Vec<String>,
}

/// How the person's own identifiers can be asked of Zammad.
pub enum ZammadLookup {
    Client(ZammadClient),
    /// No Zammad connection is configured.
    NotConfigured,
    /// The client could not be built (why).
    Failed(String),
}

/// What an export found, and what it searched by.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub agent_id: u64,
    /// Every identifier searched for (given and from Zammad).
    pub identifiers: Vec<String>,
    /// `ok`, `not_configured`, or `failed: <why>` (then only the given identifiers are used).
    pub zammad_lookup: String,
    pub found: Found,
}

/// Everything held about one person; records `gdpr.export` with counts (who exported, and
/// how much; not whose data).
pub async fn export(
    ports: &PrivacyPorts,
    access: AccessLog<'_>,
    actor: &Actor,
    subject: &Subject,
    zammad: ZammadLookup,
) -> ConsoleResult<Export> {
    validate(subject)?;
    let (identifiers, zammad_lookup) = identifiers(subject, zammad).await;
    let person = Person {
        agent_id: ZammadUserId(subject.agent_id),
        identifiers,
    };
    let found = find(ports, &person).await?;
    let detail = json!({"entries": found.entries.len(), "conflicts": found.conflicts.len(),
                        "audit": found.audit.len(), "dead_letters": found.dead_letters.len()});
    access.record(actor, "gdpr.export", detail).await?;
    Ok(Export {
        agent_id: subject.agent_id,
        identifiers: person.identifiers,
        zammad_lookup,
        found,
    })
}

/// Starts a purge of everything held about one person: the job is recorded as `queued` and
/// handed off; its progress is [`purge_job`]'s. A hand-off that fails marks the job failed and
/// is an error (503): nothing was purged.
pub async fn request_purge(
    ports: &PrivacyPorts,
    access: AccessLog<'_>,
    launcher: &dyn Launcher,
    actor: &Actor,
    subject: &Subject,
    zammad: ZammadLookup,
) -> ConsoleResult<PurgeJob> {
    validate(subject)?;
    let (identifiers, _) = identifiers(subject, zammad).await;
    let control = ports.control.as_ref();
    let mut job = PurgeJob::queued(&actor.username, ports.clock.now());
    job::save(control, &job).await?;
    let order = PurgeOrder {
        job: job.id.clone(),
        agent_id: subject.agent_id,
        identifiers,
    };
    let payload = json!({ "purge": order });
    if let Err(e) = launcher.launch(&payload).await {
        job.status = JobStatus::Failed;
        job.error = Some(format!("not handed off: {e}"));
        job.updated_at = ports.clock.now();
        job::save(control, &job).await?;
        return Err(e.into());
    }
    access
        .record(actor, "gdpr.purge.requested", json!({"job": job.id}))
        .await?;
    Ok(job)
}

/// A purge job's progress or report; `None` if there is no such job.
pub async fn purge_job(ports: &PrivacyPorts, id: &str) -> ConsoleResult<Option<PurgeJob>> {
    if !check_job_id(id) {
        return Ok(None);
    }
    Ok(job::load(ports.control.as_ref(), id).await?)
}

fn validate(subject: &Subject) -> ConsoleResult<()> {
    let mut errors = Vec::new();
    if !crate::console::schemas::is_id(subject.agent_id) {
        errors.push(FieldError::new("agent_id", "must be a Zammad user id > 0"));
    }
    for (field, list) in [("emails", &subject.emails), ("names", &subject.names)] {
        if list.len() > MAX_IDENTIFIERS {
            errors.push(FieldError::new(field, format!("at most {MAX_IDENTIFIERS}")));
        }
        for (i, v) in list.iter().enumerate() {
            let n = v.trim().chars().count();
            if !(MIN_IDENTIFIER_LEN..=MAX_IDENTIFIER_LEN).contains(&n) {
                errors.push(FieldError::new(
                    format!("{field}[{i}]"),
                    format!("{MIN_IDENTIFIER_LEN}..={MAX_IDENTIFIER_LEN} characters"),
                ));
            }
        }
    }
    for (i, e) in subject.emails.iter().enumerate() {
        if !e.contains('@') {
            errors.push(FieldError::new(
                format!("emails[{i}]"),
                "not an e-mail address",
            ));
        }
    }
    ConsoleError::check("the person is not named well", errors)
}

/// The given identifiers plus Zammad's, lower-cased, long enough, without duplicates; and how
/// the Zammad lookup went.
async fn identifiers(subject: &Subject, zammad: ZammadLookup) -> (Vec<String>, String) {
    let mut ids: Vec<String> = subject
        .emails
        .iter()
        .chain(&subject.names)
        .map(|s| s.trim().to_owned())
        .collect();
    let lookup = match zammad {
        ZammadLookup::NotConfigured => "not_configured".to_owned(),
        ZammadLookup::Failed(why) => format!("failed: {why}"),
        ZammadLookup::Client(client) => match client.user(ZammadUserId(subject.agent_id)).await {
            Ok(user) => {
                ids.extend(user.email.clone());
                ids.extend(user.login.clone());
                let name = [user.firstname.clone(), user.lastname.clone()]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                ids.push(name);
                "ok".to_owned()
            }
            Err(e) => format!("failed: {e}"),
        },
    };
    let mut seen = HashSet::new();
    let ids = ids
        .into_iter()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| s.chars().count() >= MIN_IDENTIFIER_LEN)
        .filter(|s| seen.insert(s.clone()))
        .collect();
    (ids, lookup)
}
