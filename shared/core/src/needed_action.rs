//! Kimai records the sync must create before blocked entries can be resolved (auto-create).
//!
//! Its own module because both ends use it: `mapping` asks for these actions and `plan`
//! carries them out of the planner, and `plan` must not depend on `mapping` (which already
//! uses the plan's conflict reasons).

use crate::ids::CustomerId;
use serde::{Deserialize, Serialize};

/// Something to create in Kimai before the entry can be written (no IO here: the caller does it,
/// refreshes the catalog and resolves again).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NeededAction {
    CreateCustomer {
        name: String,
        number: String,
    },
    CreateProject {
        customer: CustomerId,
        name: String,
        number: Option<String>,
    },
}
