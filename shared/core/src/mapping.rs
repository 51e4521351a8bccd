//! Mapping resolution: a timed entry plus the ticket's facts become a [`DesiredTimesheet`], or a
//! named reason why not (a missing mapping, or something that must be created in Kimai first).
//!
//! Precedence (first hit wins):
//! - user: explicit agent override → Kimai user with the agent's e-mail (case-insensitive, must
//!   be unique) → policy: conflict, or book as the API user with the agent named in the
//!   description. Booking for anyone but the API user needs `create_other_timesheet`; without
//!   it the same policy applies.
//! - activity: type mapping (or the "no type" mapping) → default activity → conflict. The
//!   activity must exist and be global or belong to the resolved project.
//! - customer: explicit organisation mapping → customer number `OID-<org id>` → exact name
//!   (unique) → auto-create policy. No organisation: fallback customer, else conflict.
//! - project: per customer (configured name), per ticket (number `TID-<id>`, then name
//!   `Ticket-<number>`), or by Zammad group (explicit mapping only). Per customer and per ticket
//!   projects are ours to create when missing.
//!
//! When several things are missing, the reported reason follows the order user, activity,
//! customer, project. Creation is only asked for when nothing is unmapped.

use crate::catalog::{Catalog, Lookup};
use crate::desired::{DesiredTimesheet, EntryKey};
use crate::ids::{
    AccountingTypeId, ActivityId, CustomerId, GroupId, KimaiUserId, OrganisationId, ProjectId,
    TicketId, ZammadUserId,
};
use crate::marker::Marker;
use crate::needed_action::NeededAction;
use crate::normalise::{TimedEntry, Zones};
use crate::plan::ConflictReason;
use crate::zammad::{Organisation, Ticket, ZammadUser};
use crate::zone::{parse_zone, reads_back};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const ZAMMAD_TAG: &str = "zammad";
pub const DEFAULT_DESCRIPTION: &str = "{marker} #{ticket_number} {ticket_title}";
/// The description in "time only" mode ([`Mappings::time_only_descriptions`]).
pub const TIME_ONLY_DESCRIPTION: &str = "{marker} #{ticket_number}";
pub const DEFAULT_PROJECT_NAME: &str = "Support";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoCreate {
    #[default]
    Off,
    On,
    /// Park the entry as `unmapped_customer` with the proposed customer, for a human to approve.
    AfterReview,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "strategy", rename_all = "snake_case")]
pub enum ProjectStrategy {
    PerCustomer { name: String },
    PerTicket,
    ByGroup,
}

impl Default for ProjectStrategy {
    fn default() -> Self {
        ProjectStrategy::PerCustomer {
            name: DEFAULT_PROJECT_NAME.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmappedUserPolicy {
    #[default]
    Conflict,
    /// Book as the API user and name the agent in the description.
    BookAsApiUser,
}

/// Mappings and policies of one connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mappings {
    #[serde(default)]
    pub activity_by_type: HashMap<AccountingTypeId, ActivityId>,
    #[serde(default)]
    pub activity_without_type: Option<ActivityId>,
    #[serde(default)]
    pub default_activity: Option<ActivityId>,
    #[serde(default)]
    pub customer_by_organisation: HashMap<OrganisationId, CustomerId>,
    #[serde(default)]
    pub fallback_customer: Option<CustomerId>,
    #[serde(default)]
    pub customer_auto_create: AutoCreate,
    #[serde(default)]
    pub project_strategy: ProjectStrategy,
    #[serde(default)]
    pub project_by_group: HashMap<GroupId, ProjectId>,
    #[serde(default)]
    pub user_by_agent: HashMap<ZammadUserId, KimaiUserId>,
    #[serde(default)]
    pub unmapped_user: UnmappedUserPolicy,
    /// The Kimai user the API token belongs to.
    pub api_user: KimaiUserId,
    /// The API user has `create_other_timesheet`.
    #[serde(default)]
    pub can_book_for_others: bool,
    /// Placeholders: `{marker}`, `{ticket_number}`, `{ticket_title}`, `{ticket_id}`, `{agent}`,
    /// `{type}`, `{organisation}`. Empty means [`DEFAULT_DESCRIPTION`]. The marker is prepended
    /// when the template has none.
    #[serde(default)]
    pub description_template: String,
    /// "Time only": descriptions carry the marker and `#<ticket number>` and nothing else (no
    /// ticket title, agent, type or organisation), whatever the template says, for customers
    /// whose Kimai must not hold helpdesk text about people. Switching it on rewrites existing
    /// timesheets' descriptions at their next sync.
    #[serde(default)]
    pub time_only_descriptions: bool,
    /// Added after the `zammad` tag, which is always present.
    #[serde(default)]
    pub tags: Vec<String>,
    /// `None` leaves Kimai's automatic billable mode alone.
    #[serde(default)]
    pub billable: Option<bool>,
    #[serde(default)]
    pub billable_by_type: HashMap<AccountingTypeId, bool>,
}

impl Mappings {
    /// No mappings yet: every entry resolves to a conflict until configured.
    pub fn new(api_user: KimaiUserId) -> Self {
        Mappings {
            activity_by_type: HashMap::new(),
            activity_without_type: None,
            default_activity: None,
            customer_by_organisation: HashMap::new(),
            fallback_customer: None,
            customer_auto_create: AutoCreate::Off,
            project_strategy: ProjectStrategy::default(),
            project_by_group: HashMap::new(),
            user_by_agent: HashMap::new(),
            unmapped_user: UnmappedUserPolicy::Conflict,
            api_user,
            can_book_for_others: false,
            description_template: String::new(),
            time_only_descriptions: false,
            tags: Vec::new(),
            billable: None,
            billable_by_type: HashMap::new(),
        }
    }
}

/// What the resolver knows about the ticket being synced.
#[derive(Debug, Clone, Copy)]
pub struct TicketFacts<'a> {
    pub ticket: &'a Ticket,
    pub organisation: Option<&'a Organisation>,
    pub agents: &'a HashMap<ZammadUserId, ZammadUser>,
    pub type_names: &'a HashMap<AccountingTypeId, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "blocked_by", rename_all = "snake_case")]
pub enum Blocker {
    /// A missing mapping (`unmapped_*`) or another reason a human must decide.
    Conflict {
        reason: ConflictReason,
        detail: String,
    },
    NeedsCreation {
        actions: Vec<NeededAction>,
    },
}

/// An entry that cannot become a desired timesheet yet. The planner never deletes its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unresolved {
    pub key: EntryKey,
    pub ticket_id: TicketId,
    pub blocker: Blocker,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Ready(Box<DesiredTimesheet>),
    Blocked(Unresolved),
}

/// Who the time is booked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookingUser {
    User {
        user: KimaiUserId,
        zone: Option<Tz>,
        /// Set when booked as the API user on the agent's behalf.
        on_behalf_of: Option<String>,
    },
    Unmapped {
        detail: String,
    },
}

/// Resolve the Kimai user of one agent (also used to choose the zone before normalising).
pub fn resolve_user(
    agent_id: ZammadUserId,
    agent: Option<&ZammadUser>,
    mappings: &Mappings,
    catalog: &Catalog,
) -> BookingUser {
    let name = agent.map_or_else(|| format!("agent {agent_id}"), ZammadUser::display_name);
    let zone_of = |id: KimaiUserId| {
        catalog
            .user(id)
            .and_then(|u| u.timezone.as_deref())
            .and_then(|z| parse_zone(z).ok())
    };
    let found = match mappings.user_by_agent.get(&agent_id) {
        Some(&user) => Ok(user),
        None => match agent.and_then(ZammadUser::email_key) {
            None => Err(format!("{name} has no e-mail and no explicit Kimai user")),
            Some(email) => match catalog.user_by_email(&email) {
                Lookup::One(user) => Ok(user),
                Lookup::None => Err(format!("no Kimai user with e-mail {email} ({name})")),
                Lookup::Ambiguous => Err(format!("several Kimai users have e-mail {email}")),
            },
        },
    };
    let found = found.and_then(|user| {
        if user == mappings.api_user || mappings.can_book_for_others {
            Ok(user)
        } else {
            Err(format!(
                "the API user lacks create_other_timesheet to book for {name} (Kimai user {user})"
            ))
        }
    });
    match (found, mappings.unmapped_user) {
        (Ok(user), _) => BookingUser::User {
            user,
            zone: zone_of(user),
            on_behalf_of: None,
        },
        (Err(detail), UnmappedUserPolicy::Conflict) => BookingUser::Unmapped { detail },
        (Err(_), UnmappedUserPolicy::BookAsApiUser) => BookingUser::User {
            user: mappings.api_user,
            zone: zone_of(mappings.api_user),
            on_behalf_of: Some(name),
        },
    }
}

/// The zone per agent for [`crate::normalise::normalise`]: the resolved Kimai user's zone.
pub fn zones_for(
    agents: &HashMap<ZammadUserId, ZammadUser>,
    mappings: &Mappings,
    catalog: &Catalog,
    default_zone: Tz,
) -> Zones {
    let mut zones = Zones::new(default_zone);
    for (&id, agent) in agents {
        if let BookingUser::User { zone: Some(z), .. } =
            resolve_user(id, Some(agent), mappings, catalog)
        {
            zones.by_agent.insert(id, z);
        }
    }
    zones
}

/// "no free 45 min on 2026-05-04 (Europe/Berlin): booked 08:00–12:00, 12:30–18:00": the
/// day's bookings in the agent's local time.
fn no_room_detail(entry: &TimedEntry, bookings: &[(DateTime<Utc>, DateTime<Utc>)]) -> String {
    let hm = |t: DateTime<Utc>| t.with_timezone(&entry.zone).format("%H:%M").to_string();
    let booked: Vec<String> = bookings
        .iter()
        .map(|&(b, e)| format!("{}–{}", hm(b), hm(e)))
        .collect();
    format!(
        "no free {} min on {} ({}): booked {}",
        entry.duration_secs / 60,
        entry.anchor_day,
        entry.zone.name(),
        booked.join(", ")
    )
}

/// Resolve one timed entry.
pub fn resolve(
    entry: &TimedEntry,
    facts: &TicketFacts<'_>,
    mappings: &Mappings,
    catalog: &Catalog,
) -> Resolution {
    let blocked = |blocker| {
        Resolution::Blocked(Unresolved {
            key: entry.key.clone(),
            ticket_id: entry.ticket_id,
            blocker,
        })
    };
    let unmapped = |reason, detail: String| blocked(Blocker::Conflict { reason, detail });
    let agent = facts.agents.get(&entry.agent_id);

    let (user, on_behalf_of) = match resolve_user(entry.agent_id, agent, mappings, catalog) {
        BookingUser::User {
            user, on_behalf_of, ..
        } => (user, on_behalf_of),
        BookingUser::Unmapped { detail } => return unmapped(ConflictReason::UnmappedUser, detail),
    };
    let type_name = entry
        .type_id
        .map(|t| {
            facts
                .type_names
                .get(&t)
                .cloned()
                .unwrap_or_else(|| format!("type {t}"))
        })
        .unwrap_or_default();
    let activity = match entry.type_id {
        Some(t) => mappings.activity_by_type.get(&t).copied(),
        None => mappings.activity_without_type,
    }
    .or(mappings.default_activity);
    let Some(activity) = activity else {
        let what = if entry.type_id.is_some() {
            format!("no Kimai activity for Zammad type {type_name:?} and no default activity")
        } else {
            "no Kimai activity for time without a type and no default activity".to_owned()
        };
        return unmapped(ConflictReason::UnmappedActivity, what);
    };
    let project = match resolve_project(facts, mappings, catalog) {
        Ok(project) => project,
        Err(blocker) => return blocked(blocker),
    };
    match catalog.activity(activity) {
        None => {
            return unmapped(
                ConflictReason::UnmappedActivity,
                format!("mapped activity {activity} does not exist in Kimai"),
            );
        }
        Some(a) if a.project.is_some_and(|p| p != project) => {
            return unmapped(
                ConflictReason::UnmappedActivity,
                format!("activity {activity} belongs to another project than {project}"),
            );
        }
        Some(_) => {}
    }

    if let Some(bookings) = &entry.no_room {
        return blocked(Blocker::Conflict {
            reason: ConflictReason::NoRoomOnDay,
            detail: no_room_detail(entry, bookings),
        });
    }
    if !reads_back(entry.zone, entry.begin_utc) || !reads_back(entry.zone, entry.end_utc) {
        return blocked(Blocker::Conflict {
            reason: ConflictReason::AmbiguousLocalTime,
            detail: format!(
                "{} to {} falls in the repeated hour of a DST change in {}; Kimai would book it an hour off",
                entry.begin_local(),
                entry.end_local(),
                entry.zone.name()
            ),
        });
    }
    let marker = Marker::for_key(&entry.key)
        .map(|m| m.render())
        .unwrap_or_default();
    let mut description = render_description(
        mappings,
        &marker,
        facts,
        agent.map_or_else(
            || format!("agent {}", entry.agent_id),
            ZammadUser::display_name,
        ),
        &type_name,
    );
    if let Some(agent_name) = on_behalf_of {
        description.push_str(&format!(" (for {agent_name})"));
    }
    let mut tags = vec![ZAMMAD_TAG.to_owned()];
    for t in &mappings.tags {
        let t = t.trim();
        if !t.is_empty() && !tags.iter().any(|x| x == t) {
            tags.push(t.to_owned());
        }
    }
    let billable = entry
        .type_id
        .and_then(|t| mappings.billable_by_type.get(&t).copied())
        .or(mappings.billable);

    Resolution::Ready(Box::new(DesiredTimesheet {
        key: entry.key.clone(),
        ticket_id: entry.ticket_id,
        agent_id: entry.agent_id,
        accounting_ids: entry.accounting_ids.clone(),
        zone: entry.zone.name().to_owned(),
        day: entry.begin_day(),
        begin: entry.begin_local(),
        end: entry.end_local(),
        begin_utc: entry.begin_utc,
        end_utc: entry.end_utc,
        duration_secs: entry.duration_secs,
        user,
        project,
        activity,
        description,
        tags,
        billable,
    }))
}

/// Resolve a batch: ready timesheets and blocked keys, both in the order of `entries`.
pub fn resolve_all(
    entries: &[TimedEntry],
    facts: &TicketFacts<'_>,
    mappings: &Mappings,
    catalog: &Catalog,
) -> (Vec<DesiredTimesheet>, Vec<Unresolved>) {
    let mut ready = Vec::with_capacity(entries.len());
    let mut blocked = Vec::new();
    for e in entries {
        match resolve(e, facts, mappings, catalog) {
            Resolution::Ready(d) => ready.push(*d),
            Resolution::Blocked(u) => blocked.push(u),
        }
    }
    (ready, blocked)
}

fn resolve_customer(
    facts: &TicketFacts<'_>,
    mappings: &Mappings,
    catalog: &Catalog,
) -> Result<CustomerId, Blocker> {
    let unmapped = |detail: String| Blocker::Conflict {
        reason: ConflictReason::UnmappedCustomer,
        detail,
    };
    let Some(org_id) = facts.ticket.organization_id else {
        return mappings.fallback_customer.ok_or_else(|| {
            unmapped("ticket has no organisation and no fallback customer is set".to_owned())
        });
    };
    if let Some(&c) = mappings.customer_by_organisation.get(&org_id) {
        return Ok(c);
    }
    let number = format!("OID-{org_id}");
    match catalog.customer_by_number(&number) {
        Lookup::One(c) => return Ok(c),
        Lookup::Ambiguous => {
            return Err(unmapped(format!(
                "several Kimai customers have number {number}"
            )));
        }
        Lookup::None => {}
    }
    let name = facts
        .organisation
        .filter(|o| o.id == org_id)
        .map(|o| o.name.clone());
    if let Some(name) = &name {
        match catalog.customer_by_name(name) {
            Lookup::One(c) => return Ok(c),
            Lookup::Ambiguous => {
                return Err(unmapped(format!(
                    "several Kimai customers are named {name:?}"
                )));
            }
            Lookup::None => {}
        }
    }
    let name = name.unwrap_or_else(|| format!("Organisation {org_id}"));
    match mappings.customer_auto_create {
        AutoCreate::Off => Err(unmapped(format!(
            "no Kimai customer for organisation {name:?} (mapping, number {number} or name)"
        ))),
        AutoCreate::AfterReview => Err(unmapped(format!(
            "awaiting review: create Kimai customer {name:?} with number {number}"
        ))),
        AutoCreate::On => Err(Blocker::NeedsCreation {
            actions: vec![NeededAction::CreateCustomer { name, number }],
        }),
    }
}

fn resolve_project(
    facts: &TicketFacts<'_>,
    mappings: &Mappings,
    catalog: &Catalog,
) -> Result<ProjectId, Blocker> {
    let ambiguous = |what: String| Blocker::Conflict {
        reason: ConflictReason::UnmappedProject,
        detail: format!("several Kimai projects match {what}"),
    };
    match &mappings.project_strategy {
        ProjectStrategy::ByGroup => {
            let group = facts.ticket.group_id;
            group
                .and_then(|g| mappings.project_by_group.get(&g).copied())
                .ok_or_else(|| Blocker::Conflict {
                    reason: ConflictReason::UnmappedProject,
                    detail: match group {
                        Some(g) => format!("no Kimai project mapped for Zammad group {g}"),
                        None => "ticket has no group to map to a project".to_owned(),
                    },
                })
        }
        ProjectStrategy::PerCustomer { name } => {
            let customer = resolve_customer(facts, mappings, catalog)?;
            let name = if name.trim().is_empty() {
                DEFAULT_PROJECT_NAME
            } else {
                name.as_str()
            };
            match catalog.project_by_name(customer, name) {
                Lookup::One(p) => Ok(p),
                Lookup::Ambiguous => Err(ambiguous(format!("{name:?} of customer {customer}"))),
                Lookup::None => Err(project_missing(mappings, customer, name.to_owned(), None)),
            }
        }
        ProjectStrategy::PerTicket => {
            let customer = resolve_customer(facts, mappings, catalog)?;
            let number = format!("TID-{}", facts.ticket.id);
            let name = format!("Ticket-{}", facts.ticket.number);
            match catalog.project_by_number(customer, &number) {
                Lookup::One(p) => return Ok(p),
                Lookup::Ambiguous => return Err(ambiguous(number)),
                Lookup::None => {}
            }
            match catalog.project_by_name(customer, &name) {
                Lookup::One(p) => Ok(p),
                Lookup::Ambiguous => Err(ambiguous(name)),
                Lookup::None => Err(project_missing(mappings, customer, name, Some(number))),
            }
        }
    }
}

/// The project the strategy names does not exist in Kimai. The auto-create setting decides, as
/// for customers: `on` creates it; `off` and `after_review` park the entry as a conflict that
/// says what to create, so it never waits silently.
fn project_missing(
    mappings: &Mappings,
    customer: CustomerId,
    name: String,
    number: Option<String>,
) -> Blocker {
    let what = match &number {
        Some(n) => format!("Kimai project {name:?} with number {n} for customer {customer}"),
        None => format!("Kimai project {name:?} for customer {customer}"),
    };
    match mappings.customer_auto_create {
        AutoCreate::On => Blocker::NeedsCreation {
            actions: vec![NeededAction::CreateProject {
                customer,
                name,
                number,
            }],
        },
        AutoCreate::Off => Blocker::Conflict {
            reason: ConflictReason::UnmappedProject,
            detail: format!("no {what}: create it in Kimai, or switch auto-create on"),
        },
        AutoCreate::AfterReview => Blocker::Conflict {
            reason: ConflictReason::UnmappedProject,
            detail: format!("awaiting review: create {what}"),
        },
    }
}

fn render_description(
    mappings: &Mappings,
    marker: &str,
    facts: &TicketFacts<'_>,
    agent: String,
    type_name: &str,
) -> String {
    let template = if mappings.time_only_descriptions {
        TIME_ONLY_DESCRIPTION
    } else if mappings.description_template.trim().is_empty() {
        DEFAULT_DESCRIPTION
    } else {
        mappings.description_template.as_str()
    };
    let organisation = facts.organisation.map(|o| o.name.as_str()).unwrap_or("");
    // One left-to-right pass, so a ticket title containing `{marker}` is not expanded again.
    let values: [(&str, &str); 7] = [
        ("{marker}", marker),
        ("{ticket_number}", &facts.ticket.number),
        ("{ticket_title}", &facts.ticket.title),
        ("{ticket_id}", &facts.ticket.id.to_string()),
        ("{agent}", &agent),
        ("{type}", type_name),
        ("{organisation}", organisation),
    ];
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    'outer: while !rest.is_empty() {
        for (name, value) in &values {
            if let Some(after) = rest.strip_prefix(name) {
                out.push_str(value);
                rest = after;
                continue 'outer;
            }
        }
        let ch = rest.chars().next().unwrap_or_default();
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    let has_marker = template.contains("{marker}");
    // Tidy the gaps that empty values leave, line by line (a template may span lines).
    let text = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned();
    if has_marker || marker.is_empty() {
        text
    } else {
        format!("{marker} {text}").trim_end().to_owned()
    }
}
