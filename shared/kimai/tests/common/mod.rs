//! Shared set-up of the client tests: a simulator with our own small dataset on a random port.
#![allow(dead_code)]

use kimai_client::{ApiToken, KimaiClient, KimaiConfig};
use kimai_sim::{Dataset, RunningSim, SimConfig};
use std::time::Duration;

pub const ADMIN_TOKEN: &str = "tok-admin-7f3a9c";
pub const ANNA_TOKEN: &str = "tok-anna-21b4e8";

/// Admin API user in Berlin; Anna (plain user, Berlin); Ben (New York, owner of an exported
/// record). Records 1–5 belong to Anna.
pub fn dataset_json() -> String {
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
        "tokens": [{{"token":"{ADMIN_TOKEN}","user":1}},{{"token":"{ANNA_TOKEN}","user":2}}],
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

pub async fn start_sim() -> RunningSim {
    let dataset = Dataset::from_json(&dataset_json()).expect("test dataset");
    kimai_sim::serve(SimConfig { port: 0, seed: 42 }, dataset)
        .await
        .expect("simulator starts")
}

/// A client with quick backoff so retry tests stay fast.
pub fn config(sim: &RunningSim, token: &str) -> KimaiConfig {
    let mut c = KimaiConfig::new(&sim.base_url(), ApiToken::new(token)).unwrap();
    c.min_backoff = Duration::from_millis(10);
    c.max_backoff = Duration::from_millis(50);
    c.request_timeout = Duration::from_secs(5);
    c
}

pub fn client(sim: &RunningSim, token: &str) -> KimaiClient {
    KimaiClient::new(config(sim, token)).unwrap()
}
