//! The daily connection check against both simulators: each cause a person must act on is
//! found, published once as `Connection Failing`, and a connection nobody set up is not.

use chrono::Utc;
use sync_service::connection_check::{Cause, Health, check_connections};
use sync_service::connections::Connections;
use test_support::datasets;
use test_support::pipeline::save_connections;
use test_support::sims::{self, RunningKimai, RunningZammad, ZammadVersion};
use test_support::stores::MemoryStores;

const ZAMMAD_SECRET: &str = "zammad-token";
const KIMAI_SECRET: &str = "kimai-token";

struct World {
    stores: MemoryStores,
    zammad: RunningZammad,
    kimai: RunningKimai,
}

impl World {
    async fn start(zammad_token: &str, kimai_token: &str) -> World {
        let stores = MemoryStores::new();
        let zammad = sims::zammad(ZammadVersion::V6_5, datasets::zammad::demo()).await;
        let kimai = sims::kimai(1, datasets::kimai::demo()).await;
        save_connections(stores.control.as_ref(), &zammad, &kimai).await;
        stores.secrets.set(ZAMMAD_SECRET, zammad_token);
        stores.secrets.set(KIMAI_SECRET, kimai_token);
        World {
            stores,
            zammad,
            kimai,
        }
    }

    fn connections(&self) -> Connections {
        Connections::new(
            self.stores.control.clone(),
            self.stores.secrets.clone(),
            Some(ZAMMAD_SECRET.into()),
            Some(KIMAI_SECRET.into()),
        )
    }

    async fn check(&self) -> sync_service::connection_check::CheckReport {
        check_connections(&self.connections(), &self.stores.events, Utc::now()).await
    }

    fn told(&self) -> Vec<serde_json::Value> {
        self.stores
            .bus
            .of_type("Connection Failing")
            .into_iter()
            .map(|e| e.detail)
            .collect()
    }
}

fn cause(health: &Health) -> Option<Cause> {
    match health {
        Health::Failing { cause, .. } => Some(*cause),
        _ => None,
    }
}

#[tokio::test]
async fn good_tokens_with_the_permissions_the_sync_needs_tell_nothing() {
    let w = World::start("demo-admin-token", datasets::kimai::DEMO_ADMIN_TOKEN).await;
    let report = w.check().await;
    assert_eq!((report.zammad, report.kimai), (Health::Ok, Health::Ok));
    assert!(w.stores.bus.published().is_empty());
    // It read, and wrote nothing.
    let calls = w.kimai.admin().calls();
    assert!(
        calls.keys().all(|route| route.starts_with("GET ")),
        "{calls:?}"
    );
    assert!(calls.contains_key("GET /api/users"), "{calls:?}");
    let _ = &w.zammad;
}

#[tokio::test]
async fn a_rejected_token_and_a_missing_permission_are_told_with_their_cause() {
    // Kimai: a token it does not know (expired or revoked look the same: 401). Zammad: a
    // customer's token, which may not read the accounting types.
    let w = World::start("demo-customer-token", "revoked-token").await;
    let report = w.check().await;
    assert_eq!(
        cause(&report.kimai),
        Some(Cause::TokenRejected),
        "{report:?}"
    );
    assert_eq!(
        cause(&report.zammad),
        Some(Cause::PermissionMissing),
        "{report:?}"
    );
    let told = w.told();
    assert_eq!(told.len(), 2);
    let kimai = told.iter().find(|d| d["system"] == "kimai").unwrap();
    assert_eq!(kimai["cause"], "token_rejected");
    assert_eq!(kimai["version"], 1);
    assert!(
        kimai["summary"]
            .as_str()
            .unwrap()
            .contains("set a new one in the console"),
        "{kimai}"
    );
    let zammad = told.iter().find(|d| d["system"] == "zammad").unwrap();
    assert_eq!(zammad["cause"], "permission_missing");
    assert!(
        zammad["detail"]
            .as_str()
            .unwrap()
            .contains("accounting types"),
        "{zammad}"
    );
}

#[tokio::test]
async fn a_kimai_user_who_may_not_book_for_others_is_a_missing_permission() {
    let w = World::start("demo-admin-token", "demo-anna-token").await;
    let report = w.check().await;
    assert_eq!(report.zammad, Health::Ok);
    let Health::Failing { cause, detail } = &report.kimai else {
        panic!("{report:?}")
    };
    assert_eq!(*cause, Cause::PermissionMissing);
    assert!(
        detail.contains("anna") && detail.contains("ROLE_ADMIN"),
        "{detail}"
    );
    assert_eq!(w.told().len(), 1);
}

#[tokio::test]
async fn an_unreachable_kimai_and_an_unreadable_token_are_told() {
    let w = World::start("demo-admin-token", "any").await;
    // Nothing listens on Kimai's address any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    sync_service::settings::save_kimai(
        w.stores.control.as_ref(),
        &sync_service::settings::KimaiConnection::new(dead),
        sync_store::control::ExpectedVersion::Any,
        Utc::now(),
    )
    .await
    .unwrap();
    let connections = Connections::new(
        w.stores.control.clone(),
        w.stores.secrets.clone(),
        Some("no-such-secret".into()),
        Some(KIMAI_SECRET.into()),
    );
    let report = check_connections(&connections, &w.stores.events, Utc::now()).await;
    assert_eq!(cause(&report.kimai), Some(Cause::Unreachable), "{report:?}");
    assert_eq!(
        cause(&report.zammad),
        Some(Cause::TokenMissing),
        "{report:?}"
    );
    assert_eq!(w.told().len(), 2);
}

#[tokio::test]
async fn connections_nobody_set_up_are_reported_but_not_told() {
    let stores = MemoryStores::new();
    let connections = Connections::new(
        stores.control.clone(),
        stores.secrets.clone(),
        Some(ZAMMAD_SECRET.into()),
        Some(KIMAI_SECRET.into()),
    );
    let report = check_connections(&connections, &stores.events, Utc::now()).await;
    assert_eq!(
        (report.zammad, report.kimai),
        (Health::NotConfigured, Health::NotConfigured)
    );
    assert!(stores.bus.published().is_empty());
}
