//! The contract every adapter must meet: one generic function per behaviour, run by
//! `tests/memory.rs` against the in-memory adapters and by `tests/aws.rs` against the AWS
//! adapters on the emulator. One file per port; this one only gathers them and holds the macro
//! that instantiates every contract test for one backend.

#![allow(dead_code)]

pub mod data;

mod audit;
mod conflicts;
mod control;
mod dead_letters;
mod entries;
mod paging;
mod queue;
mod schedule;
mod secrets;

pub use audit::*;
pub use conflicts::*;
pub use control::*;
pub use dead_letters::*;
pub use entries::*;
pub use queue::*;
pub use schedule::*;
pub use secrets::*;

/// Instantiates every contract test for one backend. The caller's module must provide the
/// async constructors `entries()`, `conflicts()`, `audit()`, `control()`, `ticket_queue()`,
/// `write_queue()`, `dead_letter_queue()` (a `ticket-sync` DLQ), `broken_ticket_queue()`
/// (every send fails), `secrets()` (source, admin,
/// secret id) and `schedule()`.
#[macro_export]
macro_rules! contract_tests {
    () => {
        #[tokio::test]
        async fn entries_round_trip() {
            contract::entries_round_trip(&entries().await).await;
        }
        #[tokio::test]
        async fn entries_create_sent_is_kept() {
            contract::entries_create_sent_is_kept(&entries().await).await;
        }
        #[tokio::test]
        async fn entries_lost_link_race() {
            contract::entries_lost_link_race(&entries().await).await;
        }
        #[tokio::test]
        async fn entries_listings_page() {
            contract::entries_listings_page(&entries().await).await;
        }
        #[tokio::test]
        async fn entries_page_larger_than_one_batch_read() {
            contract::entries_page_larger_than_one_batch_read(&entries().await).await;
        }
        #[tokio::test]
        async fn conflicts_open_and_resolve_once() {
            contract::conflicts_open_and_resolve_once(&conflicts().await).await;
        }
        #[tokio::test]
        async fn conflicts_list_pages_newest_first() {
            contract::conflicts_list_pages_newest_first(&conflicts().await).await;
        }
        #[tokio::test]
        async fn audit_ttl_and_paging() {
            contract::audit_ttl_and_paging(&audit().await).await;
        }
        #[tokio::test]
        async fn control_documents() {
            contract::control_documents(&control().await).await;
        }
        #[tokio::test]
        async fn control_documents_in_bulk() {
            contract::control_documents_in_bulk(&control().await).await;
        }
        #[tokio::test]
        async fn control_runs() {
            contract::control_runs(&control().await).await;
        }
        #[tokio::test]
        async fn control_watermark() {
            contract::control_watermark(&control().await).await;
        }
        #[tokio::test]
        async fn control_held_lease() {
            contract::control_held_lease(&control().await).await;
        }
        #[tokio::test]
        async fn control_duplicate_delivery() {
            contract::control_duplicate_delivery(&control().await).await;
        }
        #[tokio::test]
        async fn control_double_claim() {
            contract::control_double_claim(&control().await).await;
        }
        #[tokio::test]
        async fn control_outage() {
            contract::control_outage(&control().await).await;
        }
        #[tokio::test]
        async fn control_count_ticket() {
            contract::control_count_ticket(&control().await).await;
        }
        #[tokio::test]
        async fn control_day_claims() {
            contract::control_day_claims(&control().await).await;
        }
        #[tokio::test]
        async fn control_plan_turn() {
            contract::control_plan_turn(&control().await).await;
        }
        #[tokio::test]
        async fn control_call_pace() {
            contract::control_call_pace(&control().await).await;
        }
        #[tokio::test]
        async fn control_users_and_login_throttle() {
            contract::control_users_and_login_throttle(&control().await).await;
        }
        #[tokio::test]
        async fn control_dead_letter_records() {
            contract::control_dead_letter_records(&control().await).await;
        }
        #[tokio::test]
        async fn control_account_lockout_backs_off() {
            contract::control_account_lockout_backs_off(&control().await).await;
        }
        #[tokio::test]
        async fn queue_round_trip() {
            contract::queue_round_trip(&ticket_queue().await, &write_queue().await).await;
        }
        #[tokio::test]
        async fn queue_delayed_message() {
            contract::queue_delayed_message(&ticket_queue().await).await;
        }
        #[tokio::test]
        async fn queue_release_and_depth() {
            contract::queue_release_and_depth(&ticket_queue().await).await;
        }
        #[tokio::test]
        async fn queue_batch_with_failing_entry() {
            contract::queue_batch_with_failing_entry(&ticket_queue().await).await;
        }
        #[tokio::test]
        async fn secrets_cache_expiry() {
            let (source, admin, id) = secrets().await;
            contract::secrets_cache_expiry(source, &admin, &id).await;
        }
        #[tokio::test]
        async fn entries_delete() {
            contract::entries_delete(&entries().await).await;
        }
        #[tokio::test]
        async fn conflicts_delete() {
            contract::conflicts_delete(&conflicts().await).await;
        }
        #[tokio::test]
        async fn audit_delete() {
            contract::audit_delete(&audit().await).await;
        }
        #[tokio::test]
        async fn dead_letters_peek_loses_nothing() {
            contract::dead_letters_peek_loses_nothing(&dead_letter_queue().await).await;
        }
        #[tokio::test]
        async fn dead_letters_remove_where() {
            contract::dead_letters_remove_where(&dead_letter_queue().await).await;
        }
        #[tokio::test]
        async fn dead_letters_replay() {
            contract::dead_letters_replay(&dead_letter_queue().await, &ticket_queue().await).await;
        }
        #[tokio::test]
        async fn dead_letters_failed_send_keeps_the_message() {
            let broken = broken_ticket_queue().await;
            contract::dead_letters_failed_send_keeps_the_message(
                &dead_letter_queue().await,
                broken.as_ref(),
            )
            .await;
        }
        #[tokio::test]
        async fn schedule_write_read() {
            contract::schedule_write_read(&schedule().await).await;
        }
    };
}
