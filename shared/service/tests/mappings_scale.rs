//! Mappings scale: ten thousand of each kind (forty thousand in all, far more than one
//! DynamoDB item could hold) on the in-memory store, which refuses documents above DynamoDB's
//! item limit as DynamoDB does. The same scenario on the emulator: `mappings_aws.rs`.

#[path = "mappings_scale/scenario.rs"]
mod scenario;

use sync_service::console::mappings::MappingKind;
use sync_store::audit::AuditRetention;
use sync_store::clock::SystemClock;
use sync_store::memory::{MemoryAuditLog, MemoryControl};

#[tokio::test]
async fn ten_thousand_mappings_of_each_kind_are_items_and_the_pipeline_reads_them_all() {
    let control = MemoryControl::new();
    let audit = MemoryAuditLog::new(AuditRetention::default());
    scenario::ten_thousand_mappings(&control, &audit, &SystemClock, &MappingKind::ALL).await;
}
