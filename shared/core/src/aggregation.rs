//! Aggregation: one timesheet per accounting, or one per (ticket, agent, activity type, local day).

use crate::desired::EntryKey;
use crate::ids::{AccountingId, AccountingTypeId, TicketId, ZammadUserId};
use crate::netting::NetEntry;
use crate::placement::Placement;
use crate::zone::local_date;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    #[default]
    PerAccounting,
    PerTicketAgentActivityDay,
}

/// The netting group: corrections only ever apply inside one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub ticket_id: TicketId,
    pub agent_id: ZammadUserId,
    pub type_id: Option<AccountingTypeId>,
}

/// A desired piece of time with its duration known but its position not yet fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplaced {
    pub key: EntryKey,
    pub group: GroupKey,
    /// Positive accountings and the corrections that shortened them, ascending.
    pub accounting_ids: Vec<AccountingId>,
    pub zone: Tz,
    /// Local day of the anchor (the `created_at` the placement starts from).
    pub day: NaiveDate,
    /// `created_at` the placement starts from: the end (end_at_logged) or begin (begin_at_logged).
    pub anchor: DateTime<Utc>,
    /// Net seconds after corrections, before rounding.
    pub net_secs: i64,
    /// An aggregate has no natural position of its own and is kept inside its day.
    pub keep_within_day: bool,
}

/// `agg:<hex sha256 of ticket|agent|type|day>`; a missing type hashes as `-`.
pub fn aggregate_key(group: &GroupKey, day: NaiveDate) -> EntryKey {
    let type_part = group
        .type_id
        .map_or_else(|| "-".to_owned(), |t| t.to_string());
    let text = format!(
        "{}|{}|{}|{}",
        group.ticket_id,
        group.agent_id,
        type_part,
        day.format("%Y-%m-%d")
    );
    EntryKey(format!(
        "agg:{}",
        hex::encode(Sha256::digest(text.as_bytes()))
    ))
}

/// Turn the netted entries of one group into unplaced timesheets.
pub fn aggregate(
    mode: Aggregation,
    placement: Placement,
    group: GroupKey,
    zone: Tz,
    entries: &[NetEntry],
) -> Vec<Unplaced> {
    let ids_of = |e: &NetEntry| {
        let mut ids = vec![e.id];
        ids.extend(e.corrected_by.iter().copied());
        ids
    };
    match mode {
        Aggregation::PerAccounting => entries
            .iter()
            .map(|e| {
                let mut accounting_ids = ids_of(e);
                accounting_ids.sort();
                accounting_ids.dedup();
                Unplaced {
                    key: EntryKey::for_accounting(e.id),
                    group,
                    accounting_ids,
                    zone,
                    day: local_date(zone, e.created_at),
                    anchor: e.created_at,
                    net_secs: e.net_secs,
                    keep_within_day: false,
                }
            })
            .collect(),
        Aggregation::PerTicketAgentActivityDay => {
            let mut by_day: std::collections::BTreeMap<NaiveDate, Unplaced> = Default::default();
            for e in entries {
                let day = local_date(zone, e.created_at);
                let slot = by_day.entry(day).or_insert_with(|| Unplaced {
                    key: aggregate_key(&group, day),
                    group,
                    accounting_ids: Vec::new(),
                    zone,
                    day,
                    anchor: e.created_at,
                    net_secs: 0,
                    keep_within_day: true,
                });
                slot.accounting_ids.extend(ids_of(e));
                slot.net_secs += e.net_secs;
                slot.anchor = match placement {
                    Placement::EndAtLogged => slot.anchor.max(e.created_at),
                    Placement::BeginAtLogged => slot.anchor.min(e.created_at),
                };
            }
            by_day
                .into_values()
                .map(|mut u| {
                    u.accounting_ids.sort();
                    u.accounting_ids.dedup();
                    u
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn net(id: u64, at: DateTime<Utc>, secs: i64, corrected_by: &[u64]) -> NetEntry {
        NetEntry {
            id: AccountingId(id),
            created_at: at,
            booked_secs: secs,
            net_secs: secs,
            corrected_by: corrected_by.iter().copied().map(AccountingId).collect(),
        }
    }

    const GROUP: GroupKey = GroupKey {
        ticket_id: TicketId(7),
        agent_id: ZammadUserId(3),
        type_id: Some(AccountingTypeId(2)),
    };

    #[test]
    fn per_accounting_keys_by_accounting_id() {
        let at = Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap();
        let out = aggregate(
            Aggregation::PerAccounting,
            Placement::EndAtLogged,
            GROUP,
            chrono_tz::Europe::Berlin,
            &[net(11, at, 600, &[14])],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].key.as_str(), "ta:11");
        assert_eq!(
            out[0].accounting_ids,
            vec![AccountingId(11), AccountingId(14)]
        );
        assert!(!out[0].keep_within_day);
    }

    #[test]
    fn aggregate_groups_by_local_day_not_utc_day() {
        let z = chrono_tz::Europe::Berlin;
        // 22:30 UTC on 4 May is 00:30 on 5 May in Berlin.
        let late = Utc.with_ymd_and_hms(2026, 5, 4, 22, 30, 0).unwrap();
        let day = Utc.with_ymd_and_hms(2026, 5, 4, 12, 0, 0).unwrap();
        let evening = Utc.with_ymd_and_hms(2026, 5, 4, 17, 0, 0).unwrap();
        let out = aggregate(
            Aggregation::PerTicketAgentActivityDay,
            Placement::EndAtLogged,
            GROUP,
            z,
            &[
                net(1, day, 600, &[]),
                net(2, evening, 300, &[]),
                net(3, late, 60, &[]),
            ],
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].day, NaiveDate::from_ymd_opt(2026, 5, 4).unwrap());
        assert_eq!(out[0].net_secs, 900);
        assert_eq!(
            out[0].anchor, evening,
            "end_at_logged anchors at the last booking"
        );
        assert_eq!(out[1].day, NaiveDate::from_ymd_opt(2026, 5, 5).unwrap());
        assert_eq!(out[0].key, aggregate_key(&GROUP, out[0].day));
        assert_ne!(out[0].key, out[1].key);
        assert!(out[0].key.as_str().starts_with("agg:") && out[0].key.as_str().len() == 68);
    }

    #[test]
    fn begin_at_logged_aggregate_anchors_at_the_first_booking() {
        let a = Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap();
        let b = Utc.with_ymd_and_hms(2026, 5, 4, 11, 0, 0).unwrap();
        let out = aggregate(
            Aggregation::PerTicketAgentActivityDay,
            Placement::BeginAtLogged,
            GROUP,
            chrono_tz::UTC,
            &[net(2, b, 60, &[]), net(1, a, 60, &[])],
        );
        assert_eq!(out[0].anchor, a);
    }

    #[test]
    fn aggregate_key_depends_on_every_part() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 4).unwrap();
        let k = aggregate_key(&GROUP, d);
        assert_ne!(
            k,
            aggregate_key(
                &GroupKey {
                    type_id: None,
                    ..GROUP
                },
                d
            )
        );
        assert_ne!(
            k,
            aggregate_key(
                &GroupKey {
                    agent_id: ZammadUserId(4),
                    ..GROUP
                },
                d
            )
        );
        assert_ne!(
            k,
            aggregate_key(
                &GroupKey {
                    ticket_id: TicketId(8),
                    ..GROUP
                },
                d
            )
        );
        assert_ne!(k, aggregate_key(&GROUP, d.succ_opt().unwrap()));
        assert_eq!(k, aggregate_key(&GROUP, d), "stable across runs");
    }
}
