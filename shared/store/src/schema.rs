//! The one definition of the tables and queues: names of key attributes, indexes, TTL attributes,
//! queue settings. The AWS adapters read and write exactly these attributes; the test harness
//! creates resources from these definitions ([`crate::aws::provision`]); the SAM template must
//! declare the same (see docs/storage.md).

/// Scalar type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    S,
    N,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAttr {
    pub name: &'static str,
    pub kind: KeyType,
}

const fn s(name: &'static str) -> KeyAttr {
    KeyAttr {
        name,
        kind: KeyType::S,
    }
}

const fn n(name: &'static str) -> KeyAttr {
    KeyAttr {
        name,
        kind: KeyType::N,
    }
}

/// A global secondary index; every index projects all attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDef {
    pub name: &'static str,
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    pub projection: Projected,
}

/// What an index copies of each item. Every index write is paid for, per index: one that
/// projects keys only is written when its key attributes change, one that projects all
/// attributes whenever any attribute does, at the whole item's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projected {
    All,
    KeysOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDef {
    /// Short name used in the template's logical ids and in test resource names.
    pub logical: &'static str,
    /// Environment variable that carries the deployed table name.
    pub env_var: &'static str,
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    pub indexes: &'static [IndexDef],
    /// Attribute holding the expiry (epoch seconds) for DynamoDB TTL.
    pub ttl_attribute: Option<&'static str>,
}

/// Attribute holding an item's expiry (epoch seconds) wherever TTL is on.
pub const TTL_ATTRIBUTE: &str = "expires_at";

pub mod entries {
    use super::*;
    pub const TICKET: KeyAttr = n("ticket");
    pub const KEY: KeyAttr = s("entry_key");
    pub const BY_STATUS: IndexDef = IndexDef {
        name: "by-status",
        hash: s("status"),
        range: Some(s("updated_at")),
        projection: Projected::KeysOnly,
    };
    pub const BY_DAY: IndexDef = IndexDef {
        name: "by-day",
        hash: s("day"),
        range: Some(s("ticket_key")),
        projection: Projected::KeysOnly,
    };
    pub const BY_AGENT: IndexDef = IndexDef {
        name: "by-agent",
        hash: n("agent"),
        range: Some(s("day_ticket_key")),
        projection: Projected::KeysOnly,
    };
    /// Sparse: only linked entries have `kimai_id`.
    pub const BY_KIMAI_ID: IndexDef = IndexDef {
        name: "by-kimai-id",
        hash: n("kimai_id"),
        range: None,
        projection: Projected::KeysOnly,
    };
    pub const TABLE: TableDef = TableDef {
        logical: "entries",
        env_var: crate::env::ENTRIES_TABLE,
        hash: TICKET,
        range: Some(KEY),
        indexes: &[BY_STATUS, BY_DAY, BY_AGENT, BY_KIMAI_ID],
        ttl_attribute: None,
    };
}

pub mod conflicts {
    use super::*;
    pub const ID: KeyAttr = s("id");
    pub const BY_STATUS_TIME: IndexDef = IndexDef {
        name: "by-status-time",
        hash: s("status"),
        range: Some(s("opened_at")),
        projection: Projected::All,
    };
    pub const TABLE: TableDef = TableDef {
        logical: "conflicts",
        env_var: crate::env::CONFLICTS_TABLE,
        hash: ID,
        range: None,
        indexes: &[BY_STATUS_TIME],
        ttl_attribute: None,
    };
}

pub mod audit {
    use super::*;
    /// UTC day `YYYY-MM-DD`: one partition per day.
    pub const DAY: KeyAttr = s("day");
    /// Time of day plus randomness: sorts by time, unique within the day.
    pub const ID: KeyAttr = s("id");
    pub const TABLE: TableDef = TableDef {
        logical: "audit",
        env_var: crate::env::AUDIT_TABLE,
        hash: DAY,
        range: Some(ID),
        indexes: &[],
        ttl_attribute: Some(TTL_ATTRIBUTE),
    };
}

pub mod control {
    use super::*;
    pub const PK: KeyAttr = s("pk");
    pub const SK: KeyAttr = s("sk");
    pub const TABLE: TableDef = TableDef {
        logical: "control",
        env_var: crate::env::CONTROL_TABLE,
        hash: PK,
        range: Some(SK),
        indexes: &[],
        ttl_attribute: Some(TTL_ATTRIBUTE),
    };
}

pub const TABLES: [TableDef; 4] = [
    entries::TABLE,
    conflicts::TABLE,
    audit::TABLE,
    control::TABLE,
];

/// A work queue with its dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueDef {
    pub logical: &'static str,
    pub env_var: &'static str,
    /// Environment variable that carries the URL of its dead-letter queue.
    pub dlq_env_var: &'static str,
    /// At least six times the consumer's timeout (AWS guidance for Lambda event sources).
    pub visibility_timeout_secs: u32,
    /// Receives before a message moves to the DLQ.
    pub max_receive_count: u32,
    /// How long dead letters are kept (the maximum, 14 days).
    pub dlq_retention_secs: u32,
}

pub const TICKET_SYNC_QUEUE: QueueDef = QueueDef {
    logical: "ticket-sync",
    env_var: crate::env::TICKET_SYNC_QUEUE_URL,
    dlq_env_var: crate::env::TICKET_SYNC_DLQ_URL,
    visibility_timeout_secs: 360,
    max_receive_count: 5,
    dlq_retention_secs: 14 * 24 * 3600,
};

pub const KIMAI_WRITE_QUEUE: QueueDef = QueueDef {
    logical: "kimai-write",
    env_var: crate::env::KIMAI_WRITE_QUEUE_URL,
    dlq_env_var: crate::env::KIMAI_WRITE_DLQ_URL,
    visibility_timeout_secs: 360,
    max_receive_count: 5,
    dlq_retention_secs: 14 * 24 * 3600,
};

pub const QUEUES: [QueueDef; 2] = [TICKET_SYNC_QUEUE, KIMAI_WRITE_QUEUE];
