//! Creating customers and projects, and finding them by number, against the simulator.

mod common;

use common::{ADMIN_TOKEN, ANNA_TOKEN, client, start_sim};
use kimai_client::{KimaiError, NewCustomer, NewProject};
use sync_core::ids::CustomerId;

fn new_customer(name: &str, number: &str) -> NewCustomer {
    NewCustomer {
        name: name.to_owned(),
        number: Some(number.to_owned()),
        country: Some("AT".to_owned()),
        currency: Some("EUR".to_owned()),
        timezone: "Europe/Vienna".to_owned(),
        visible: true,
    }
}

fn new_project(customer: CustomerId, name: &str, number: Option<&str>) -> NewProject {
    NewProject {
        name: name.to_owned(),
        customer,
        number: number.map(str::to_owned),
        visible: true,
        global_activities: true,
    }
}

#[tokio::test]
async fn a_created_customer_is_found_by_its_number() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    assert!(kimai.customers_by_number("OID-7").await.unwrap().is_empty());
    let created = kimai
        .create_customer(&new_customer("Schmid Ltd", "OID-7"))
        .await
        .unwrap();
    assert_eq!(created.name, "Schmid Ltd");
    assert_eq!(created.number.as_deref(), Some("OID-7"));
    let found = kimai.customers_by_number("OID-7").await.unwrap();
    assert_eq!(found, vec![created]);
    // A number that only contains the wanted one is not a match.
    assert!(kimai.customers_by_number("OID-").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_created_project_is_found_by_its_number_under_its_customer_only() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let created = kimai
        .create_project(&new_project(CustomerId(1), "Ticket-31001", Some("TID-5")))
        .await
        .unwrap();
    assert_eq!(
        (created.customer, created.number.as_deref()),
        (CustomerId(1), Some("TID-5"))
    );
    assert!(created.global_activities);
    let found = kimai
        .projects_by_number(CustomerId(1), "TID-5")
        .await
        .unwrap();
    assert_eq!(found, vec![created]);
    assert!(
        kimai
            .projects_by_number(CustomerId(2), "TID-5")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(sim.admin().call_count("POST /api/projects"), 1);
}

#[tokio::test]
async fn bad_customer_fields_are_validation_errors_per_field() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let mut bad = new_customer("x", "OID-8");
    bad.country = Some("Austria".to_owned());
    bad.timezone = "Mars/Olympus".to_owned();
    let e = kimai.create_customer(&bad).await.unwrap_err();
    let v = e.validation().unwrap_or_else(|| panic!("{e:?}"));
    assert!(!v.field("name").is_empty(), "{v:?}");
    assert!(!v.field("country").is_empty(), "{v:?}");
    assert!(!v.field("timezone").is_empty(), "{v:?}");
    assert!(v.field("currency").is_empty(), "{v:?}");
    assert!(kimai.customers_by_number("OID-8").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_project_of_an_unknown_customer_is_refused() {
    let sim = start_sim().await;
    let kimai = client(&sim, ADMIN_TOKEN);
    let e = kimai
        .create_project(&new_project(CustomerId(99), "Ticket-1", None))
        .await
        .unwrap_err();
    let v = e.validation().unwrap_or_else(|| panic!("{e:?}"));
    assert!(!v.field("customer").is_empty(), "{v:?}");
}

#[tokio::test]
async fn creating_without_the_permission_is_forbidden_and_sent_once() {
    let sim = start_sim().await;
    let kimai = client(&sim, ANNA_TOKEN);
    let e = kimai
        .create_customer(&new_customer("Schmid Ltd", "OID-7"))
        .await
        .unwrap_err();
    assert!(matches!(e, KimaiError::Forbidden), "{e:?}");
    let e = kimai
        .create_project(&new_project(CustomerId(1), "Ticket-1", None))
        .await
        .unwrap_err();
    assert!(matches!(e, KimaiError::Forbidden), "{e:?}");
    assert_eq!(sim.admin().call_count("POST /api/customers"), 1);
    assert_eq!(sim.admin().call_count("POST /api/projects"), 1);
}
