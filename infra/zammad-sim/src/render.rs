//! The JSON Zammad prints for each model, with the keys real responses carry.

use crate::dataset::Role;
use crate::format::{decimal, timestamp};
use crate::store::{Accounting, Article, Store, Ticket};
use serde_json::{Map, Value, json};

pub fn accounting(a: &Accounting) -> Value {
    json!({
        "id": a.id,
        "ticket_id": a.ticket_id,
        "ticket_article_id": a.ticket_article_id,
        "time_unit": decimal(a.time_unit),
        "type_id": a.type_id,
        "created_by_id": a.created_by_id,
        "created_at": timestamp(a.created_at),
        "updated_at": timestamp(a.updated_at),
    })
}

/// `expand=true` adds the association names.
pub fn accounting_expanded(store: &Store, a: &Accounting) -> Value {
    let mut v = accounting(a);
    let obj = v.as_object_mut().expect("object");
    obj.insert("created_by".into(), json!(login_of(store, a.created_by_id)));
    obj.insert(
        "type".into(),
        json!(
            a.type_id
                .and_then(|t| store.types.get(&t))
                .map(|t| t.name.clone())
        ),
    );
    obj.insert(
        "ticket".into(),
        json!(
            store
                .tickets
                .get(&a.ticket_id)
                .map(|t| t.record.number.clone())
        ),
    );
    v
}

pub fn accounting_type(store: &Store, id: u64) -> Value {
    let t = &store.types[&id];
    json!({
        "id": t.id,
        "name": t.name,
        "note": t.note,
        "active": t.active,
        "updated_by_id": 3,
        "created_by_id": 3,
        "created_at": timestamp(t.created_at),
        "updated_at": timestamp(t.created_at),
    })
}

/// The ticket as `GET /tickets/{id}` prints it (no id lists).
pub fn ticket(t: &Ticket) -> Value {
    let r = &t.record;
    let state_id = state_id(&r.state);
    json!({
        "id": r.id,
        "group_id": r.group_id,
        "priority_id": 2,
        "state_id": state_id,
        "organization_id": t.organization_id,
        "number": r.number,
        "title": r.title,
        "owner_id": t.owner_id,
        "customer_id": r.customer_id,
        "note": null,
        "first_response_at": null,
        "first_response_escalation_at": null,
        "first_response_in_min": null,
        "first_response_diff_in_min": null,
        "close_at": null,
        "close_escalation_at": null,
        "close_in_min": null,
        "close_diff_in_min": null,
        "update_escalation_at": null,
        "update_in_min": null,
        "update_diff_in_min": null,
        "last_close_at": null,
        "last_contact_at": timestamp(r.created_at),
        "last_contact_agent_at": null,
        "last_contact_customer_at": timestamp(r.created_at),
        "last_owner_update_at": null,
        "create_article_type_id": 5,
        "create_article_sender_id": 2,
        "article_count": 0,
        "escalation_at": null,
        "pending_time": null,
        "type": null,
        "time_unit": t.time_unit.map(decimal),
        "preferences": {},
        "updated_by_id": t.updated_by_id,
        "created_by_id": r.customer_id,
        "created_at": timestamp(r.created_at),
        "updated_at": timestamp(t.updated_at),
        // Zammad ≥ 6.4 (checklists); always none here.
        "checklist_id": null,
    })
}

/// The ticket with its id lists, as in search assets and create/update answers.
pub fn ticket_with_ids(store: &Store, t: &Ticket) -> Value {
    let mut v = ticket(t);
    let article_ids: Vec<u64> = store.ticket_articles(t.record.id).map(|a| a.id).collect();
    let accounting_ids: Vec<u64> = store
        .ticket_accountings(t.record.id)
        .map(|a| a.id)
        .collect();
    let obj = v.as_object_mut().expect("object");
    obj.insert("article_count".into(), json!(article_ids.len()));
    obj.insert("article_ids".into(), json!(article_ids));
    obj.insert("ticket_time_accounting_ids".into(), json!(accounting_ids));
    // Newer Zammad lists checklist and AI links too; always empty here.
    obj.insert("referencing_checklist_ids".into(), json!([]));
    obj.insert("ai_stored_result_ids".into(), json!([]));
    v
}

/// `expand=true`: association names added next to the ids.
pub fn ticket_expanded(store: &Store, t: &Ticket) -> Value {
    let mut v = ticket_with_ids(store, t);
    let r = &t.record;
    let obj = v.as_object_mut().expect("object");
    obj.insert(
        "group".into(),
        json!(store.groups.get(&r.group_id).map(|g| g.name.clone())),
    );
    obj.insert(
        "organization".into(),
        json!(
            t.organization_id
                .and_then(|o| store.organisations.get(&o))
                .map(|o| o.name.clone())
        ),
    );
    obj.insert("state".into(), json!(r.state));
    obj.insert("priority".into(), json!("2 normal"));
    obj.insert("owner".into(), json!(login_of(store, t.owner_id)));
    obj.insert("customer".into(), json!(login_of(store, r.customer_id)));
    obj.insert("created_by".into(), json!(login_of(store, r.customer_id)));
    obj.insert("updated_by".into(), json!(login_of(store, t.updated_by_id)));
    obj.insert("create_article_type".into(), json!("phone"));
    obj.insert("create_article_sender".into(), json!("Customer"));
    let accountings: Vec<Value> = store.ticket_accountings(r.id).map(accounting).collect();
    obj.insert("ticket_time_accounting".into(), json!(accountings));
    obj.insert("referencing_checklists".into(), json!([]));
    obj.insert("ai_stored_results".into(), json!([]));
    v
}

pub fn user(store: &Store, id: u64) -> Value {
    let u = &store.users[&id];
    let role_ids: Vec<u64> = match u.role {
        Role::Admin => vec![1, 2],
        Role::Agent => vec![2],
        Role::Customer => vec![3],
    };
    // Zammad prints group access as {"group id": ["full"]}.
    let mut groups = Map::new();
    let group_ids: Vec<u64> = match u.role {
        Role::Admin => store.groups.keys().copied().collect(),
        _ => u.group_ids.clone(),
    };
    for g in group_ids {
        groups.insert(g.to_string(), json!(["full"]));
    }
    json!({
        "id": u.id,
        "organization_id": u.organization_id,
        "login": u.login,
        "firstname": u.firstname,
        "lastname": u.lastname,
        "email": u.email,
        "image": null,
        "image_source": null,
        "web": "",
        "phone": "",
        "fax": "",
        "mobile": "",
        "department": "",
        "street": "",
        "zip": "",
        "city": "",
        "country": "",
        "address": "",
        "vip": false,
        "verified": false,
        "active": u.active,
        "note": "",
        "last_login": null,
        "source": null,
        "login_failed": 0,
        "out_of_office": false,
        "out_of_office_start_at": null,
        "out_of_office_end_at": null,
        "out_of_office_replacement_id": null,
        "preferences": {"locale": "en-us"},
        "updated_by_id": 1,
        "created_by_id": 1,
        "created_at": timestamp(u.created_at),
        "updated_at": timestamp(u.created_at),
        "role_ids": role_ids,
        "two_factor_preference_ids": [],
        "organization_ids": [],
        "authorization_ids": [],
        "overview_sorting_ids": [],
        "group_ids": groups,
    })
}

pub fn organisation(store: &Store, id: u64) -> Value {
    let o = &store.organisations[&id];
    let member_ids: Vec<u64> = store
        .users
        .values()
        .filter(|u| u.organization_id == Some(id))
        .map(|u| u.id)
        .collect();
    json!({
        "id": o.id,
        "name": o.name,
        "shared": true,
        "domain": "",
        "domain_assignment": false,
        "active": true,
        "vip": false,
        "note": o.note.clone().unwrap_or_default(),
        "updated_by_id": 1,
        "created_by_id": 1,
        "created_at": timestamp(o.created_at),
        "updated_at": timestamp(o.created_at),
        "member_ids": member_ids,
        "secondary_member_ids": [],
    })
}

fn login_of(store: &Store, id: u64) -> Option<String> {
    store.users.get(&id).map(|u| u.login.clone())
}

/// Zammad's default ticket states.
pub fn state_id(state: &str) -> u64 {
    match state {
        "new" => 1,
        "open" => 2,
        "pending reminder" => 3,
        "closed" => 4,
        "merged" => 5,
        "pending close" => 7,
        _ => 2,
    }
}

/// A user inlined in a webhook payload: private keys removed, names of associations added.
pub fn webhook_user(store: &Store, id: u64) -> Value {
    let mut v = user(store, id);
    let obj = v.as_object_mut().expect("object");
    for private in [
        "last_login",
        "login_failed",
        "password",
        "preferences",
        "group_ids",
        "groups",
        "authorization_ids",
        "authorizations",
    ] {
        obj.remove(private);
    }
    let u = &store.users[&id];
    obj.insert(
        "organization".into(),
        json!(
            u.organization_id
                .and_then(|o| store.organisations.get(&o))
                .map(|o| o.name.clone())
        ),
    );
    let roles: Vec<&str> = match u.role {
        Role::Admin => vec!["Admin", "Agent"],
        Role::Agent => vec!["Agent"],
        Role::Customer => vec!["Customer"],
    };
    obj.insert("roles".into(), json!(roles));
    obj.insert("created_by".into(), json!("-"));
    obj.insert("updated_by".into(), json!("-"));
    v
}

pub fn webhook_article(store: &Store, a: &Article, accounted: Option<&Accounting>) -> Value {
    let author = &store.users[&a.created_by_id];
    let from = format!("{} {}", author.firstname, author.lastname)
        .trim()
        .to_owned();
    json!({
        "id": a.id,
        "ticket_id": a.ticket_id,
        "type_id": 10,
        "type": "note",
        "sender_id": 1,
        "sender": "Agent",
        "from": from,
        "to": "",
        "cc": "",
        "subject": "",
        "body": a.body,
        "content_type": "text/html",
        "internal": true,
        "origin_by_id": null,
        "created_by_id": a.created_by_id,
        "updated_by_id": a.created_by_id,
        "created_by": webhook_user(store, a.created_by_id),
        "updated_by": webhook_user(store, a.created_by_id),
        "created_at": timestamp(a.created_at),
        "updated_at": timestamp(a.created_at),
        "attachments": [],
        // Zammad: `ticket_time_accounting&.time_unit.to_i` — truncated towards zero.
        "accounted_time": accounted.map_or(0, |acc| truncate(acc.time_unit)),
    })
}

fn truncate(value: rust_decimal::Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    value.trunc().to_i64().unwrap_or(0)
}

/// The ticket of the default webhook payload: every attribute, associations inlined.
pub fn webhook_ticket(store: &Store, t: &Ticket) -> Value {
    let mut v = ticket_expanded(store, t);
    let r = &t.record;
    let obj = v.as_object_mut().expect("object");
    obj.insert("owner".into(), webhook_user(store, t.owner_id));
    obj.insert("customer".into(), webhook_user(store, r.customer_id));
    obj.insert("created_by".into(), webhook_user(store, r.customer_id));
    obj.insert("updated_by".into(), webhook_user(store, t.updated_by_id));
    let org = t
        .organization_id
        .map(|o| organisation(store, o))
        .unwrap_or(Value::Null);
    obj.insert("organization".into(), org);
    obj.insert(
        "priority".into(),
        json!({"id": 2, "name": "2 normal", "active": true, "default_create": true}),
    );
    let group = store.groups.get(&r.group_id).map(|g| {
        json!({"id": g.id, "name": g.name, "active": true, "created_at": timestamp(g.created_at)})
    });
    obj.insert("group".into(), group.unwrap_or(Value::Null));
    v
}

/// The `assets` of the old search shape: the tickets plus the records they point at, by model
/// name and then by id as a string.
pub fn search_assets(store: &Store, tickets: &[&Ticket]) -> Value {
    let mut ticket_assets = Map::new();
    let mut users = Map::new();
    let mut organisations = Map::new();
    let mut groups = Map::new();
    for t in tickets {
        ticket_assets.insert(t.record.id.to_string(), ticket_with_ids(store, t));
        for user_id in [t.record.customer_id, t.owner_id, t.updated_by_id] {
            if store.users.contains_key(&user_id) {
                users.insert(user_id.to_string(), user(store, user_id));
            }
        }
        if let Some(o) = t
            .organization_id
            .filter(|o| store.organisations.contains_key(o))
        {
            organisations.insert(o.to_string(), organisation(store, o));
        }
        if let Some(g) = store.groups.get(&t.record.group_id) {
            groups.insert(
                g.id.to_string(),
                json!({"id": g.id, "name": g.name, "active": true, "created_at": timestamp(g.created_at), "updated_at": timestamp(g.created_at)}),
            );
        }
    }
    let roles = json!({
        "1": {"id": 1, "name": "Admin", "active": true},
        "2": {"id": 2, "name": "Agent", "active": true},
        "3": {"id": 3, "name": "Customer", "active": true},
    });
    json!({
        "Ticket": ticket_assets,
        "User": users,
        "Organization": organisations,
        "Group": groups,
        "Role": roles,
    })
}
