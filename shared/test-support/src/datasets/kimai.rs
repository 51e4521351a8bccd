//! Kimai datasets: the simulator's demo data, the Acme datasets the pipeline tests book Anna's
//! Zammad time into (customer `OID-1`, project `Support`), and the client tests' own dataset.
//!
//! In every Acme dataset user 1, `sync`, is the API user and lives in UTC, so times the sync
//! posts must be converted from Anna's zone (user 2, Europe/Berlin). They differ in what `sync`
//! may do, in the activities, and in the token.

use kimai_sim::Dataset;
use serde_json::json;

/// The simulator's shipped demo data (`infra/kimai-sim/data/demo.json`); its admin token is
/// [`DEMO_ADMIN_TOKEN`].
pub fn demo() -> Dataset {
    Dataset::from_json(DEMO_JSON).expect("the shipped Kimai demo dataset")
}

/// The admin token of [`demo`].
pub const DEMO_ADMIN_TOKEN: &str = "demo-admin-token";

const DEMO_JSON: &str = include_str!("../../../../infra/kimai-sim/data/demo.json");

/// API token of `sync` in [`acme_two_activities`] and [`acme_limited_api_user`].
pub const ACME_ADMIN_TOKEN: &str = "kimai-admin-token";

/// `sync` is an admin who may book, edit and delete for others, set billable, see users and
/// create tags; Anna in Europe/Berlin, Bob (user 3) in America/New_York; activities "Remote"
/// (1) and "General" (2).
pub fn acme_two_activities() -> Dataset {
    from_json(json!({
        "users": [
            {"id": 1, "username": "sync", "email": "sync@example.org", "timezone": "UTC",
             "roles": ["ROLE_ADMIN"],
             "permissions": ["view_other_timesheet", "edit_other_timesheet",
                             "delete_other_timesheet", "create_other_timesheet",
                             "edit_billable", "view_user", "create_tag"]},
            {"id": 2, "username": "anna", "email": "anna@example.com",
             "timezone": "Europe/Berlin"},
            {"id": 3, "username": "bob", "email": "bob@example.com",
             "timezone": "America/New_York"}
        ],
        "tokens": [{"token": ACME_ADMIN_TOKEN, "user": 1}],
        "customers": [{"id": 1, "name": "Acme", "number": "OID-1"}],
        "projects": [{"id": 1, "customer": 1, "name": "Support"}],
        "activities": [{"id": 1, "name": "Remote"}, {"id": 2, "name": "General"}]
    }))
}

/// Like [`acme_two_activities`] without Bob, and `sync` a plain user (`ROLE_USER`) who may only
/// book, edit and delete for others and see users, plus create tags if `create_tag`; it may
/// not set billable.
pub fn acme_limited_api_user(create_tag: bool) -> Dataset {
    let mut permissions = vec![
        "view_other_timesheet",
        "edit_other_timesheet",
        "delete_other_timesheet",
        "create_other_timesheet",
        "view_user",
    ];
    if create_tag {
        permissions.push("create_tag");
    }
    from_json(json!({
        "users": [
            {"id": 1, "username": "sync", "email": "sync@example.org", "timezone": "UTC",
             "roles": ["ROLE_USER"], "permissions": permissions},
            {"id": 2, "username": "anna", "email": "anna@example.com",
             "timezone": "Europe/Berlin"}
        ],
        "tokens": [{"token": ACME_ADMIN_TOKEN, "user": 1}],
        "customers": [{"id": 1, "name": "Acme", "number": "OID-1"}],
        "projects": [{"id": 1, "customer": 1, "name": "Support"}],
        "activities": [{"id": 1, "name": "Remote"}, {"id": 2, "name": "General"}]
    }))
}

/// API token of `sync` in [`acme_one_activity`] and [`acme_one_activity_with_permissions`].
pub const ACME_TOKEN: &str = "kimai-token";

/// `sync` an admin with no explicit permissions, Anna in Europe/Berlin, the one activity
/// "Remote" (1).
pub fn acme_one_activity() -> Dataset {
    from_json(json!({
        "users": [
            {"id": 1, "username": "sync", "email": "sync@example.org", "timezone": "UTC",
             "roles": ["ROLE_ADMIN"]},
            {"id": 2, "username": "anna", "email": "anna@example.com",
             "timezone": "Europe/Berlin"}
        ],
        "tokens": [{"token": ACME_TOKEN, "user": 1}],
        "customers": [{"id": 1, "name": "Acme", "number": "OID-1"}],
        "projects": [{"id": 1, "customer": 1, "name": "Support"}],
        "activities": [{"id": 1, "name": "Remote"}]
    }))
}

/// [`acme_one_activity`] where `sync` has the permissions of [`acme_two_activities`]' admin.
pub fn acme_one_activity_with_permissions() -> Dataset {
    from_json(json!({
        "users": [
            {"id": 1, "username": "sync", "email": "sync@example.org", "timezone": "UTC",
             "roles": ["ROLE_ADMIN"],
             "permissions": ["view_other_timesheet", "edit_other_timesheet",
                             "delete_other_timesheet", "create_other_timesheet",
                             "edit_billable", "view_user", "create_tag"]},
            {"id": 2, "username": "anna", "email": "anna@example.com",
             "timezone": "Europe/Berlin"}
        ],
        "tokens": [{"token": ACME_TOKEN, "user": 1}],
        "customers": [{"id": 1, "name": "Acme", "number": "OID-1"}],
        "projects": [{"id": 1, "customer": 1, "name": "Support"}],
        "activities": [{"id": 1, "name": "Remote"}]
    }))
}

/// Admin token of [`logistics_json`].
pub const LOGISTICS_ADMIN_TOKEN: &str = "tok-admin-7f3a9c";
/// Anna's own token in [`logistics_json`].
pub const LOGISTICS_ANNA_TOKEN: &str = "tok-anna-21b4e8";

/// The Kimai client's test data, as JSON (a test may patch the text, e.g. the version): Kimai
/// 2.65.0; admin API user `sync` in Berlin who may do everything the client calls; Anna (user 2,
/// plain user, Berlin); Ben (user 3, team lead, New York). Customers Acme Logistics and a hidden
/// Huber Bakery; projects Managed Services and Migration (no global activities); activities
/// Support, Consulting and On-site (Migration only). Timesheets 1–5 are Anna's (March 1–5,
/// 09:00–10:00 Berlin, tagged `zammad`); 6 is Ben's and exported; 7 is Ben's on Migration.
pub fn logistics_json() -> String {
    let admin_token = LOGISTICS_ADMIN_TOKEN;
    let anna_token = LOGISTICS_ANNA_TOKEN;
    let mut timesheets = Vec::new();
    for i in 1..=5 {
        timesheets.push(format!(
            r#"{{"id":{i},"user":2,"project":1,"activity":1,
                "begin":"2026-03-0{i}T09:00:00+0100","end":"2026-03-0{i}T10:00:00+0100",
                "description":"Seeded entry {i}","modified_at":"2020-01-01T00:00:00Z","tags":["zammad"]}}"#
        ));
    }
    timesheets.push(
        r#"{"id":6,"user":3,"project":1,"activity":1,"begin":"2026-03-02T10:00:00-0500",
            "end":"2026-03-02T11:30:00-0500","description":"Invoiced work","modified_at":"2020-01-01T00:00:00Z","exported":true}"#
            .to_owned(),
    );
    timesheets.push(
        r#"{"id":7,"user":3,"project":2,"activity":3,"begin":"2026-03-03T10:00:00-0500",
            "end":"2026-03-03T11:00:00-0500","description":"Ben on site","modified_at":"2020-01-01T00:00:00Z"}"#
            .to_owned(),
    );
    format!(
        r#"{{
        "version": "2.65.0",
        "users": [
          {{"id":1,"username":"sync","email":"sync@example.org","timezone":"Europe/Berlin","roles":["ROLE_ADMIN"],
            "permissions":["view_other_timesheet","edit_other_timesheet","delete_other_timesheet",
                           "create_other_timesheet","edit_billable","view_user","create_tag",
                           "create_customer","create_project"]}},
          {{"id":2,"username":"anna","alias":"Anna Berger","email":"anna.berger@example.org","timezone":"Europe/Berlin"}},
          {{"id":3,"username":"ben","alias":"Ben Carter","email":"ben.carter@example.org","timezone":"America/New_York","roles":["ROLE_TEAMLEAD"]}}
        ],
        "tokens": [{{"token":"{admin_token}","user":1}},{{"token":"{anna_token}","user":2}}],
        "customers": [{{"id":1,"name":"Acme Logistics","number":"C-1001"}},{{"id":2,"name":"Huber Bakery","number":"C-1002","visible":false}}],
        "projects": [{{"id":1,"customer":1,"name":"Managed Services"}},{{"id":2,"customer":1,"name":"Migration","global_activities":false}}],
        "activities": [{{"id":1,"name":"Support"}},{{"id":2,"name":"Consulting"}},{{"id":3,"name":"On-site","project":2}}],
        "tags": [{{"id":1,"name":"zammad"}}],
        "timesheets": [{}],
        "settings": {{"max_duration_minutes": 600}}
        }}"#,
        timesheets.join(",")
    )
}

/// [`logistics_json`], loaded.
pub fn logistics() -> Dataset {
    Dataset::from_json(&logistics_json()).expect("the client tests' Kimai dataset")
}

fn from_json(json: serde_json::Value) -> Dataset {
    Dataset::from_json(&json.to_string()).expect("a valid Kimai dataset")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tokens a test logs in with, per dataset.
    fn tokens(dataset: &Dataset) -> Vec<String> {
        let json = serde_json::to_value(dataset).unwrap();
        json["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["token"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn every_dataset_loads_and_knows_its_tokens() {
        assert!(tokens(&demo()).contains(&DEMO_ADMIN_TOKEN.to_owned()));
        for dataset in [
            acme_two_activities(),
            acme_limited_api_user(true),
            acme_limited_api_user(false),
        ] {
            assert_eq!(tokens(&dataset), [ACME_ADMIN_TOKEN]);
        }
        for dataset in [acme_one_activity(), acme_one_activity_with_permissions()] {
            assert_eq!(tokens(&dataset), [ACME_TOKEN]);
        }
        assert_eq!(
            tokens(&logistics()),
            [LOGISTICS_ADMIN_TOKEN, LOGISTICS_ANNA_TOKEN]
        );
    }
}
