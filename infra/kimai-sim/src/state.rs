//! The simulator's in-memory Kimai: records, settings, faults and call counters, behind one lock.
//! Handlers never hold the lock across an `.await`.

use crate::dataset::{
    ActivityRecord, CustomerRecord, Dataset, ProjectRecord, Settings, TagRecord, UserRecord,
};
use crate::faults::RouteFaults;
use crate::time::format_in;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use sync_core::kimai::parse_kimai_datetime;

/// Permissions the simulator knows (Kimai names). Roles grant a default set.
pub mod perm {
    pub const VIEW_OTHER_TIMESHEET: &str = "view_other_timesheet";
    pub const EDIT_OTHER_TIMESHEET: &str = "edit_other_timesheet";
    pub const DELETE_OTHER_TIMESHEET: &str = "delete_other_timesheet";
    pub const CREATE_OTHER_TIMESHEET: &str = "create_other_timesheet";
    pub const EDIT_BILLABLE: &str = "edit_billable";
    pub const EDIT_EXPORT: &str = "edit_export";
    pub const EDIT_EXPORTED_TIMESHEET: &str = "edit_exported_timesheet";
    pub const EDIT_RATE: &str = "edit_rate";
    pub const VIEW_USER: &str = "view_user";
    pub const CREATE_TAG: &str = "create_tag";
    pub const CREATE_CUSTOMER: &str = "create_customer";
    pub const CREATE_PROJECT: &str = "create_project";

    pub const ALL: [&str; 12] = [
        VIEW_OTHER_TIMESHEET,
        EDIT_OTHER_TIMESHEET,
        DELETE_OTHER_TIMESHEET,
        CREATE_OTHER_TIMESHEET,
        EDIT_BILLABLE,
        EDIT_EXPORT,
        EDIT_EXPORTED_TIMESHEET,
        EDIT_RATE,
        VIEW_USER,
        CREATE_TAG,
        CREATE_CUSTOMER,
        CREATE_PROJECT,
    ];
    pub const TEAMLEAD: [&str; 5] = [
        VIEW_OTHER_TIMESHEET,
        EDIT_OTHER_TIMESHEET,
        DELETE_OTHER_TIMESHEET,
        EDIT_BILLABLE,
        CREATE_TAG,
    ];
}

fn effective_permissions(u: &UserRecord) -> BTreeSet<String> {
    if let Some(explicit) = &u.permissions {
        return explicit.iter().cloned().collect();
    }
    let mut out = BTreeSet::new();
    for role in &u.roles {
        let granted: &[&str] = match role.as_str() {
            "ROLE_SUPER_ADMIN" | "ROLE_ADMIN" => &perm::ALL,
            "ROLE_TEAMLEAD" => &perm::TEAMLEAD,
            _ => &[],
        };
        out.extend(granted.iter().map(|p| (*p).to_owned()));
    }
    out
}

#[derive(Debug, Clone)]
pub struct SimUser {
    pub record: UserRecord,
    pub tz: Tz,
    pub permissions: BTreeSet<String>,
}

impl SimUser {
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }
}

/// A stored timesheet: instants in UTC plus the zone it is shown in (the owner's).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTimesheet {
    pub id: u64,
    pub user: u64,
    pub project: u64,
    pub activity: u64,
    pub begin: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub tz: Tz,
    pub break_secs: i64,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub exported: bool,
    pub billable: bool,
    pub modified_at: DateTime<Utc>,
}

impl StoredTimesheet {
    pub fn duration_secs(&self) -> i64 {
        self.end
            .map(|e| ((e - self.begin).num_seconds() - self.break_secs).max(0))
            .unwrap_or(0)
    }
}

pub struct State {
    pub seed: Dataset,
    pub rng_seed: u64,
    pub version_id: u32,
    pub users: BTreeMap<u64, SimUser>,
    pub tokens: HashMap<String, u64>,
    pub customers: BTreeMap<u64, CustomerRecord>,
    pub projects: BTreeMap<u64, ProjectRecord>,
    pub activities: BTreeMap<u64, ActivityRecord>,
    pub tags: BTreeMap<u64, TagRecord>,
    pub timesheets: BTreeMap<u64, StoredTimesheet>,
    pub next_timesheet_id: u64,
    pub next_tag_id: u64,
    pub settings: Settings,
    pub faults: BTreeMap<String, RouteFaults>,
    pub calls: BTreeMap<String, u64>,
    /// API requests being handled now (from arrival, simulated latency included).
    pub in_flight: u64,
    /// The most API requests handled at once since the start or the last reset.
    pub max_in_flight: u64,
    pub rng: StdRng,
}

impl State {
    /// Build from a checked dataset ([`Dataset::check`] has vetted zones and references).
    pub fn new(seed: Dataset, rng_seed: u64) -> State {
        let users: BTreeMap<u64, SimUser> = seed
            .users
            .iter()
            .map(|u| {
                let tz = u.timezone.parse().unwrap_or(Tz::UTC);
                let user = SimUser {
                    record: u.clone(),
                    tz,
                    permissions: effective_permissions(u),
                };
                (u.id, user)
            })
            .collect();
        let timesheets: BTreeMap<u64, StoredTimesheet> = seed
            .timesheets
            .iter()
            .filter_map(|t| {
                let tz = users.get(&t.user).map(|u| u.tz).unwrap_or(Tz::UTC);
                let begin = parse_kimai_datetime("begin", &t.begin).ok()?.to_utc();
                let end = match &t.end {
                    Some(e) => Some(parse_kimai_datetime("end", e).ok()?.to_utc()),
                    None => None,
                };
                let stored = StoredTimesheet {
                    id: t.id,
                    user: t.user,
                    project: t.project,
                    activity: t.activity,
                    begin,
                    end,
                    tz,
                    break_secs: t.break_secs,
                    description: t.description.clone(),
                    tags: t.tags.clone(),
                    exported: t.exported,
                    billable: t.billable,
                    modified_at: t.modified_at.unwrap_or(end.unwrap_or(begin)),
                };
                Some((t.id, stored))
            })
            .collect();
        State {
            version_id: seed.version_id(),
            tokens: seed
                .tokens
                .iter()
                .map(|t| (t.token.clone(), t.user))
                .collect(),
            customers: seed.customers.iter().map(|c| (c.id, c.clone())).collect(),
            projects: seed.projects.iter().map(|p| (p.id, p.clone())).collect(),
            activities: seed.activities.iter().map(|a| (a.id, a.clone())).collect(),
            tags: seed.tags.iter().map(|t| (t.id, t.clone())).collect(),
            next_timesheet_id: timesheets.keys().max().copied().unwrap_or(0) + 1,
            next_tag_id: seed.tags.iter().map(|t| t.id).max().unwrap_or(0) + 1,
            timesheets,
            users,
            settings: seed.settings.clone(),
            faults: BTreeMap::new(),
            calls: BTreeMap::new(),
            in_flight: 0,
            max_in_flight: 0,
            rng: StdRng::seed_from_u64(rng_seed),
            rng_seed,
            seed,
        }
    }

    /// Kimai ≥ 2.45 shows `email` and `timezone` in user lists and `break` in timesheets.
    pub fn is_2_45_or_newer(&self) -> bool {
        self.version_id >= 24500
    }

    pub fn user_by_token(&self, token: &str) -> Option<&SimUser> {
        self.tokens.get(token).and_then(|id| self.users.get(id))
    }

    pub fn customer_of_project(&self, project: u64) -> Option<u64> {
        self.projects.get(&project).map(|p| p.customer)
    }

    pub fn timesheet_json(&self, t: &StoredTimesheet, entity: bool) -> Value {
        let mut v = json!({
            "activity": t.activity,
            "project": t.project,
            "user": t.user,
            "tags": t.tags,
            "id": t.id,
            "begin": format_in(t.begin, t.tz),
            "end": t.end.map(|e| format_in(e, t.tz)),
            "duration": t.duration_secs(),
            "description": t.description,
            "rate": 0.0,
            "internalRate": Value::Null,
            "exported": t.exported,
            "billable": t.billable,
            "metaFields": [],
        });
        if self.is_2_45_or_newer() {
            v["break"] = json!(t.break_secs);
        }
        if entity {
            v["fixedRate"] = Value::Null;
            v["hourlyRate"] = Value::Null;
        }
        v
    }

    pub fn user_json(&self, u: &SimUser, entity: bool) -> Value {
        let r = &u.record;
        let initials: String = r
            .alias
            .as_deref()
            .unwrap_or(&r.username)
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect::<String>()
            .to_uppercase();
        let mut v = json!({
            "apiToken": self.tokens.values().any(|id| *id == r.id),
            "initials": initials,
            "id": r.id,
            "alias": r.alias,
            "title": Value::Null,
            "avatar": Value::Null,
            "username": r.username,
            "accountNumber": Value::Null,
            "enabled": r.enabled,
            "color": Value::Null,
        });
        if self.is_2_45_or_newer() || entity {
            v["timezone"] = json!(u.tz.name());
        }
        if self.is_2_45_or_newer() {
            v["email"] = json!(r.email);
        }
        if entity {
            v["preferences"] = json!([{"name": "timezone", "value": u.tz.name()}]);
            v["locale"] = json!("en");
            v["language"] = json!("en");
            v["teams"] = json!([]);
            v["memberships"] = json!([]);
            v["roles"] = json!(r.roles);
            v["supervisor"] = Value::Null;
        }
        v
    }

    pub fn customer_json(c: &CustomerRecord) -> Value {
        json!({
            "id": c.id, "name": c.name, "number": c.number, "comment": c.comment,
            "visible": c.visible, "billable": true, "company": Value::Null, "country": "DE",
            "currency": "EUR", "phone": Value::Null, "fax": Value::Null, "mobile": Value::Null,
            "homepage": Value::Null, "timezone": "Europe/Berlin", "metaFields": [], "teams": [],
            "color": Value::Null,
        })
    }

    pub fn project_json(&self, p: &ProjectRecord) -> Value {
        let customer = self.customers.get(&p.customer);
        json!({
            "parentTitle": customer.map(|c| c.name.clone()),
            "customer": p.customer, "id": p.id, "name": p.name, "orderNumber": Value::Null,
            "start": Value::Null, "end": Value::Null, "comment": Value::Null,
            "visible": p.visible, "billable": true, "metaFields": [], "teams": [],
            "globalActivities": p.global_activities, "number": p.number, "color": Value::Null,
        })
    }

    pub fn activity_json(&self, a: &ActivityRecord) -> Value {
        let parent = a
            .project
            .and_then(|p| self.projects.get(&p))
            .map(|p| p.name.clone());
        json!({
            "parentTitle": parent, "project": a.project, "id": a.id, "name": a.name,
            "comment": Value::Null, "visible": a.visible, "billable": true, "metaFields": [],
            "teams": [], "number": Value::Null, "color": Value::Null,
        })
    }

    pub fn tag_json(t: &TagRecord) -> Value {
        json!({
            "color-safe": t.color.clone().unwrap_or_else(|| "#6b7280".to_owned()),
            "id": t.id, "name": t.name, "visible": t.visible, "color": t.color,
        })
    }
}

/// The state shared by all handlers.
#[derive(Clone)]
pub struct Shared(Arc<Mutex<State>>);

impl Shared {
    pub fn new(state: State) -> Shared {
        Shared(Arc::new(Mutex::new(state)))
    }

    /// A poisoned lock only means a handler panicked mid-update; the data is still usable for a
    /// test double, so keep serving.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
