//! `GET /api/version`: what is deployed. The commit comes from `GIT_COMMIT` at build time when
//! the build sets it (the local stack and CI do).

use axum::Json;
use serde::Serialize;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Version {
    pub name: &'static str,
    pub version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<&'static str>,
}

pub const CURRENT: Version = Version {
    name: "zammad-kimai-sync",
    version: env!("CARGO_PKG_VERSION"),
    commit: option_env!("GIT_COMMIT"),
};

pub async fn version() -> Json<Version> {
    Json(CURRENT)
}
