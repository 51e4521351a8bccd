//! The generated datasets seed the real simulators (started in-process on loopback) and come
//! back through their HTTP APIs.

use demo_data::{DemoSpec, Unit, generate};
use serde_json::Value;
use std::collections::BTreeSet;
use test_support::sims::{self, ZammadVersion};

async fn get(client: &reqwest::Client, url: &str, auth: &str) -> Value {
    let response = client
        .get(url)
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Every ticket the token may see, through the search route (paged, expanded).
async fn zammad_tickets(client: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for page in 1.. {
        let url =
            format!("{base}/api/v1/tickets/search?query=*&expand=true&per_page=50&page={page}");
        let rows = get(client, &url, &format!("Token token={token}")).await;
        let rows = rows.as_array().unwrap().clone();
        if rows.is_empty() {
            break;
        }
        all.extend(rows);
    }
    all
}

#[tokio::test]
async fn the_zammad_simulator_serves_every_generated_ticket_and_accounting() {
    let spec = DemoSpec::default();
    let (dataset, _) = generate(&spec);
    let sim = sims::zammad(ZammadVersion::V6_5, dataset.clone()).await;
    let client = reqwest::Client::new();
    let base = sim.base_url();

    let tickets = zammad_tickets(&client, &base, "demo-admin-token").await;
    assert_eq!(tickets.len(), spec.tickets());
    assert!(tickets.iter().any(|t| t["organization_id"].is_null()));

    // The agent token sees the tickets of the agent's groups only.
    let agent = dataset
        .tokens
        .iter()
        .find(|t| t.token == "demo-agent-token")
        .unwrap();
    let groups = &dataset
        .users
        .iter()
        .find(|u| u.id == agent.user_id)
        .unwrap()
        .group_ids;
    let visible = dataset
        .tickets
        .iter()
        .filter(|t| groups.contains(&t.group_id))
        .count();
    let seen = zammad_tickets(&client, &base, "demo-agent-token").await;
    assert_eq!(seen.len(), visible);
    assert!(visible > 0 && visible < spec.tickets());

    let url = format!("{base}/api/v1/time_accountings?per_page=1000");
    let rows = get(&client, &url, "Token token=demo-admin-token").await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), dataset.accountings.len());
    assert!(rows.iter().any(|a| a["type_id"].is_null()));
    assert!(
        rows.iter()
            .any(|a| a["time_unit"].as_str().unwrap().starts_with('-'))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_hours_variant_is_served_in_hours() {
    let spec = DemoSpec::default().with_unit(Unit::Hours);
    let (dataset, _) = generate(&spec);
    let sim = sims::zammad(ZammadVersion::V6_5, dataset).await;
    let url = format!("{}/api/v1/time_accountings?per_page=1000", sim.base_url());
    let rows = get(
        &reqwest::Client::new(),
        &url,
        "Token token=demo-admin-token",
    )
    .await;
    let units: BTreeSet<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["time_unit"].as_str().unwrap().to_owned())
        .collect();
    assert!(units.contains("0.25") && units.contains("1.5"), "{units:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_kimai_simulator_lists_the_agents_by_email_and_the_existing_timesheets() {
    let (zammad, kimai) = generate(&DemoSpec::default());
    let sim = sims::kimai(0, kimai.clone()).await;
    let client = reqwest::Client::new();
    let base = sim.base_url();
    let admin = "Bearer demo-admin-token";

    let users = get(&client, &format!("{base}api/users"), admin).await;
    let emails: BTreeSet<String> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    for agent in zammad
        .users
        .iter()
        .filter(|u| u.role == zammad_sim::dataset::Role::Agent)
    {
        assert!(
            emails.contains(&agent.email),
            "{} not in Kimai",
            agent.email
        );
    }

    // Found the way the sync finds a customer: by the organisation's number.
    let found = get(&client, &format!("{base}api/customers?term=OID-2"), admin).await;
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["name"], "Café Adler");

    let sheets = get(
        &client,
        &format!("{base}api/timesheets?user=all&size=500"),
        admin,
    )
    .await;
    let descriptions: Vec<&str> = sheets
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["description"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(descriptions.len(), kimai.timesheets.len());
    assert!(descriptions.iter().any(|d| d.starts_with("ZAM:T")));

    // The agent token works too, for the agent's own view.
    let me = get(
        &client,
        &format!("{base}api/users/me"),
        "Bearer demo-agent-token",
    )
    .await;
    assert_eq!(me["username"], "anna.schmidt");
    sim.shutdown().await.unwrap();
}
