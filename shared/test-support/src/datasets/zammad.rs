//! Zammad datasets: the simulator's demo data, ticket 10 ("Printer jam") of Anna, agent 2, with
//! one or two accountings on 2026-03-02, and three such tickets with many accountings each.

use serde_json::json;
use zammad_sim::Dataset;

/// The admin token of the simulator's demo data.
pub const DEMO_ADMIN_TOKEN: &str = "demo-admin-token";
/// The demo data's agent token (Bernd Koch, groups 2 and 3).
pub const DEMO_AGENT_TOKEN: &str = "demo-agent-token";

/// The simulator's demo data (tickets 101 and up, several agents and organisations).
pub fn demo() -> Dataset {
    Dataset::demo()
}

/// The ticket of both printer-jam datasets.
pub const PRINTER_JAM_TICKET: u64 = 10;

/// Admin token of [`printer_jam_two_accountings`].
pub const TWO_ACCOUNTINGS_TOKEN: &str = "zammad-admin-token";

/// One organisation (Acme), one agent (Anna, user 2), one customer (Carl); ticket 10 with two
/// accountings of Anna on 2026-03-02: 100 at 10:00Z, 30 minutes, typed "Remote" (type 1); 101
/// at 14:00Z, 15 minutes, untyped. Every user has a full name and an address.
pub fn printer_jam_two_accountings() -> Dataset {
    from_json(json!({
        "organisations": [{"id": 1, "name": "Acme"}],
        "groups": [{"id": 1, "name": "Support"}],
        "users": [
            {"id": 1, "login": "admin", "firstname": "Ada", "lastname": "Admin",
             "email": "admin@example.com", "role": "admin", "group_ids": [1]},
            {"id": 2, "login": "anna", "firstname": "Anna", "lastname": "Agent",
             "email": "anna@example.com", "role": "agent", "group_ids": [1]},
            {"id": 3, "login": "carl", "firstname": "Carl", "lastname": "Customer",
             "email": "carl@acme.example", "role": "customer", "organization_id": 1}
        ],
        "tickets": [{"id": 10, "number": "31010", "title": "Printer jam", "group_id": 1,
                     "customer_id": 3, "organization_id": 1,
                     "created_at": "2026-03-02T08:00:00Z"}],
        "accounting_types": [{"id": 1, "name": "Remote"}],
        "accountings": [
            {"id": 100, "ticket_id": 10, "time_unit": "30", "type_id": 1,
             "created_by_id": 2, "created_at": "2026-03-02T10:00:00Z"},
            {"id": 101, "ticket_id": 10, "time_unit": "15",
             "created_by_id": 2, "created_at": "2026-03-02T14:00:00Z"}
        ],
        "tokens": [{"token": TWO_ACCOUNTINGS_TOKEN, "user_id": 1}]
    }))
}

/// Admin token of [`printer_jam_one_accounting`].
pub const ONE_ACCOUNTING_TOKEN: &str = "zammad-token";

/// Like [`printer_jam_two_accountings`] but sparser: ticket 10 has only accounting 100 (10:00Z,
/// 30 minutes, untyped), there are no accounting types, and only Anna has a first name.
pub fn printer_jam_one_accounting() -> Dataset {
    from_json(json!({
        "organisations": [{"id": 1, "name": "Acme"}],
        "groups": [{"id": 1, "name": "Support"}],
        "users": [
            {"id": 1, "login": "admin", "email": "admin@example.com", "role": "admin"},
            {"id": 2, "login": "anna", "firstname": "Anna", "email": "anna@example.com",
             "role": "agent", "group_ids": [1]},
            {"id": 3, "login": "carl", "role": "customer", "organization_id": 1}
        ],
        "tickets": [{"id": 10, "number": "31010", "title": "Printer jam", "group_id": 1,
                     "customer_id": 3, "organization_id": 1,
                     "created_at": "2026-03-02T08:00:00Z"}],
        "accountings": [{"id": 100, "ticket_id": 10, "time_unit": "30",
                         "created_by_id": 2, "created_at": "2026-03-02T10:00:00Z"}],
        "tokens": [{"token": ONE_ACCOUNTING_TOKEN, "user_id": 1}]
    }))
}

/// Admin token of [`printer_jam_three_tickets`] (the same as [`TWO_ACCOUNTINGS_TOKEN`]).
pub const THREE_TICKETS_TOKEN: &str = TWO_ACCOUNTINGS_TOKEN;

/// The people of [`printer_jam_two_accountings`] with Anna's tickets 10, 11 and 12 ("Printer
/// jam", numbers `31010` to `31012`), each with `per_ticket` untyped accountings of 30 minutes
/// an hour apart: ticket `t` on 2026-03-(t-8) from 08:00Z, accounting ids `t * 100 + n`. No
/// accounting types.
pub fn printer_jam_three_tickets(per_ticket: u64) -> Dataset {
    let tickets: Vec<serde_json::Value> = (10..=12)
        .map(|t| {
            json!({"id": t, "number": format!("310{t}"), "title": "Printer jam",
                "group_id": 1, "customer_id": 3, "organization_id": 1,
                "created_at": "2026-03-01T08:00:00Z"})
        })
        .collect();
    let accountings: Vec<serde_json::Value> = (10..=12u64)
        .flat_map(|t| {
            (0..per_ticket).map(move |n| {
                json!({"id": t * 100 + n, "ticket_id": t, "time_unit": "30",
                    "created_by_id": 2,
                    "created_at": format!("2026-03-{:02}T{:02}:00:00Z", t - 8, 8 + n)})
            })
        })
        .collect();
    from_json(json!({
        "organisations": [{"id": 1, "name": "Acme"}],
        "groups": [{"id": 1, "name": "Support"}],
        "users": [
            {"id": 1, "login": "admin", "firstname": "Ada", "lastname": "Admin",
             "email": "admin@example.com", "role": "admin", "group_ids": [1]},
            {"id": 2, "login": "anna", "firstname": "Anna", "lastname": "Agent",
             "email": "anna@example.com", "role": "agent", "group_ids": [1]},
            {"id": 3, "login": "carl", "firstname": "Carl", "lastname": "Customer",
             "email": "carl@acme.example", "role": "customer", "organization_id": 1}
        ],
        "tickets": tickets,
        "accountings": accountings,
        "tokens": [{"token": THREE_TICKETS_TOKEN, "user_id": 1}]
    }))
}

fn from_json(json: serde_json::Value) -> Dataset {
    Dataset::from_json(&json.to_string()).expect("a valid Zammad dataset")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dataset_loads_and_knows_its_token() {
        for (dataset, token) in [
            (demo(), DEMO_ADMIN_TOKEN),
            (demo(), DEMO_AGENT_TOKEN),
            (printer_jam_two_accountings(), TWO_ACCOUNTINGS_TOKEN),
            (printer_jam_one_accounting(), ONE_ACCOUNTING_TOKEN),
            (printer_jam_three_tickets(2), THREE_TICKETS_TOKEN),
        ] {
            assert!(dataset.tokens.iter().any(|t| t.token == token), "{token}");
        }
        for dataset in [printer_jam_two_accountings(), printer_jam_one_accounting()] {
            assert_eq!(dataset.tickets[0].id, PRINTER_JAM_TICKET);
        }
    }
}
