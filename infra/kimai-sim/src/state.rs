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
use serde_json::{Map, Value, json};
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
    pub const DELETE_TAG: &str = "delete_tag";
    pub const CREATE_CUSTOMER: &str = "create_customer";
    pub const EDIT_CUSTOMER: &str = "edit_customer";
    pub const BUDGET_CUSTOMER: &str = "budget_customer";
    pub const CREATE_PROJECT: &str = "create_project";
    pub const EDIT_PROJECT: &str = "edit_project";
    pub const BUDGET_PROJECT: &str = "budget_project";
    pub const CREATE_ACTIVITY: &str = "create_activity";
    pub const EDIT_ACTIVITY: &str = "edit_activity";
    pub const BUDGET_ACTIVITY: &str = "budget_activity";
    pub const EDIT_OWN_PROFILE: &str = "edit_own_profile";
    pub const EDIT_OTHER_PROFILE: &str = "edit_other_profile";

    pub const ALL: [&str; 22] = [
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
        DELETE_TAG,
        CREATE_CUSTOMER,
        EDIT_CUSTOMER,
        BUDGET_CUSTOMER,
        CREATE_PROJECT,
        EDIT_PROJECT,
        BUDGET_PROJECT,
        CREATE_ACTIVITY,
        EDIT_ACTIVITY,
        BUDGET_ACTIVITY,
        EDIT_OWN_PROFILE,
        EDIT_OTHER_PROFILE,
    ];
    /// Kimai gives the "other profile" set to super admins only (`kimai.yaml`, PROFILE_OTHER).
    pub const SUPER_ADMIN_ONLY: [&str; 1] = [EDIT_OTHER_PROFILE];
    pub const TEAMLEAD: [&str; 7] = [
        VIEW_OTHER_TIMESHEET,
        EDIT_OTHER_TIMESHEET,
        DELETE_OTHER_TIMESHEET,
        EDIT_BILLABLE,
        CREATE_TAG,
        DELETE_TAG,
        EDIT_OWN_PROFILE,
    ];
    /// Every role holds Kimai's PROFILE set, so everyone may edit their own profile.
    pub const USER: [&str; 1] = [EDIT_OWN_PROFILE];
}

fn effective_permissions(u: &UserRecord) -> BTreeSet<String> {
    if let Some(explicit) = &u.permissions {
        return explicit.iter().cloned().collect();
    }
    let mut out = BTreeSet::new();
    for role in &u.roles {
        let granted: Vec<&str> = match role.as_str() {
            "ROLE_SUPER_ADMIN" => perm::ALL.to_vec(),
            "ROLE_ADMIN" => perm::ALL
                .into_iter()
                .filter(|p| !perm::SUPER_ADMIN_ONLY.contains(p))
                .collect(),
            "ROLE_TEAMLEAD" => perm::TEAMLEAD.to_vec(),
            _ => perm::USER.to_vec(),
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

    /// Kimai decides some things by role, not by permission (`User::isSuperAdmin`).
    pub fn is_super_admin(&self) -> bool {
        self.record.roles.iter().any(|r| r == "ROLE_SUPER_ADMIN")
    }

    /// After a change of roles: role defaults again, unless the dataset fixed the permissions.
    pub fn refresh_permissions(&mut self) {
        self.permissions = effective_permissions(&self.record);
    }
}

/// Form values of a record that its dataset record has no place for (company, budget, …),
/// keyed by Kimai's field name and already in their output form. Rendering lays them over the
/// defaults, so what a create or update sent is what later reads show.
pub type Extra = Map<String, Value>;

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
    pub customer_extra: BTreeMap<u64, Extra>,
    pub project_extra: BTreeMap<u64, Extra>,
    pub activity_extra: BTreeMap<u64, Extra>,
    pub user_extra: BTreeMap<u64, Extra>,
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
            customer_extra: BTreeMap::new(),
            project_extra: BTreeMap::new(),
            activity_extra: BTreeMap::new(),
            user_extra: BTreeMap::new(),
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
            v["locale"] = json!("en");
            v["language"] = json!("en");
            v["teams"] = json!([]);
            v["memberships"] = json!([]);
            v["roles"] = json!(r.roles);
            v["supervisor"] = Value::Null;
            v["systemAccount"] = json!(false);
        }
        if let Some(extra) = self.user_extra.get(&r.id) {
            overlay(&mut v, extra);
        }
        if entity {
            // Kimai nests the supervisor as a user; the form stored only its id.
            let supervisor = v["supervisor"].as_u64().and_then(|id| self.users.get(&id));
            v["supervisor"] = supervisor.map_or(Value::Null, |s| self.user_json(s, false));
            let language = v["language"].clone();
            v["preferences"] = json!([
                {"name": "timezone", "value": u.tz.name()},
                {"name": "language", "value": language},
            ]);
        }
        v
    }

    pub fn tag_json(t: &TagRecord) -> Value {
        json!({
            "color-safe": t.color.clone().unwrap_or_else(|| "#6b7280".to_owned()),
            "id": t.id, "name": t.name, "visible": t.visible, "color": t.color,
        })
    }
}

/// Lay stored form values over a rendered record, only where the view has the key: a list
/// view stays a list view however much a form stored.
pub fn overlay(view: &mut Value, extra: &Extra) {
    let Some(obj) = view.as_object_mut() else {
        return;
    };
    for (key, value) in extra {
        if let Some(slot) = obj.get_mut(key) {
            *slot = value.clone();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[&str]) -> UserRecord {
        UserRecord {
            id: 1,
            username: "u".into(),
            alias: None,
            email: "u@example.org".into(),
            timezone: "UTC".into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            permissions: None,
            enabled: true,
        }
    }

    #[test]
    fn roles_grant_kimais_profile_and_catalog_permissions() {
        let admin = effective_permissions(&user(&["ROLE_ADMIN"]));
        assert!(admin.contains(perm::EDIT_CUSTOMER) && admin.contains(perm::DELETE_TAG));
        assert!(
            !admin.contains(perm::EDIT_OTHER_PROFILE),
            "only super admins edit other people's profiles"
        );
        let sa = effective_permissions(&user(&["ROLE_SUPER_ADMIN"]));
        assert!(sa.contains(perm::EDIT_OTHER_PROFILE));
        let plain = effective_permissions(&user(&["ROLE_USER"]));
        assert_eq!(
            plain.into_iter().collect::<Vec<_>>(),
            [perm::EDIT_OWN_PROFILE]
        );
        let lead = effective_permissions(&user(&["ROLE_TEAMLEAD"]));
        assert!(lead.contains(perm::DELETE_TAG) && !lead.contains(perm::EDIT_PROJECT));
    }
}
