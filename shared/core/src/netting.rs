//! Negative accountings are corrections of earlier time in the same group
//! (ticket, agent, activity type).
//!
//! Rules, in the order of `(created_at, accounting id)`:
//! - a negative amount consumes the most recent earlier positive amounts first (a stack), so a
//!   correction undoes the last booking it can, then the one before;
//! - a positive entry partly consumed is **shortened**; one fully consumed is **removed** (it has
//!   no timesheet; if it had one, the planner deletes it);
//! - a correction larger than all earlier time leaves a debt that consumes the next later
//!   positive amounts, oldest first;
//! - zero amounts are ignored.
//!
//! So the net seconds of a group are `max(0, sum of its amounts)`, and the surviving entries
//! carry that total between them.

use crate::ids::AccountingId;
use chrono::{DateTime, Utc};

/// One accounting of a group, already converted to signed seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: AccountingId,
    pub created_at: DateTime<Utc>,
    pub secs: i64,
}

/// A positive accounting after corrections, with the remaining time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetEntry {
    pub id: AccountingId,
    pub created_at: DateTime<Utc>,
    /// What was booked.
    pub booked_secs: i64,
    /// What is left after corrections; always positive for returned entries.
    pub net_secs: i64,
    /// The corrections that shortened this entry, in order.
    pub corrected_by: Vec<AccountingId>,
}

/// Net one group. Returns the surviving entries in `(created_at, id)` order.
pub fn net_group(bookings: &[Booking]) -> Vec<NetEntry> {
    let mut ordered: Vec<&Booking> = bookings.iter().filter(|b| b.secs != 0).collect();
    ordered.sort_by_key(|b| (b.created_at, b.id));

    let mut entries: Vec<NetEntry> = Vec::new();
    // Indices of entries with time left, most recent on top.
    let mut open: Vec<usize> = Vec::new();
    // Unconsumed correction seconds, oldest first, waiting for later positives.
    let mut debt: std::collections::VecDeque<(AccountingId, i64)> = Default::default();

    for b in ordered {
        if b.secs > 0 {
            let mut entry = NetEntry {
                id: b.id,
                created_at: b.created_at,
                booked_secs: b.secs,
                net_secs: b.secs,
                corrected_by: Vec::new(),
            };
            while entry.net_secs > 0 {
                let Some((neg, left)) = debt.front_mut() else {
                    break;
                };
                let take = (*left).min(entry.net_secs);
                *left -= take;
                entry.net_secs -= take;
                entry.corrected_by.push(*neg);
                if *left == 0 {
                    debt.pop_front();
                }
            }
            if entry.net_secs > 0 {
                open.push(entries.len());
            }
            entries.push(entry);
        } else {
            let mut left = b.secs.saturating_neg();
            while left > 0 {
                let Some(&top) = open.last() else {
                    break;
                };
                let e = &mut entries[top];
                let take = left.min(e.net_secs);
                e.net_secs -= take;
                e.corrected_by.push(b.id);
                left -= take;
                if e.net_secs == 0 {
                    open.pop();
                }
            }
            if left > 0 {
                debt.push_back((b.id, left));
            }
        }
    }
    entries.retain(|e| e.net_secs > 0);
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn b(id: u64, minute: u32, secs: i64) -> Booking {
        Booking {
            id: AccountingId(id),
            created_at: Utc.with_ymd_and_hms(2026, 5, 4, 9, minute, 0).unwrap(),
            secs,
        }
    }

    fn nets(entries: &[NetEntry]) -> Vec<(u64, i64)> {
        entries.iter().map(|e| (e.id.0, e.net_secs)).collect()
    }

    #[test]
    fn correction_consumes_the_most_recent_earlier_entry_first() {
        let out = net_group(&[b(1, 0, 600), b(2, 1, 900), b(3, 2, -1200)]);
        // 900 of #2 consumed fully (removed), 300 taken from #1.
        assert_eq!(nets(&out), vec![(1, 300)]);
        assert_eq!(out[0].corrected_by, vec![AccountingId(3)]);
        assert_eq!(out[0].booked_secs, 600);
    }

    #[test]
    fn correction_larger_than_earlier_time_leaves_nothing_and_eats_later_time() {
        let out = net_group(&[b(1, 0, 600), b(2, 1, -1500)]);
        assert!(out.is_empty());
        // The remaining debt of 900 consumes a later booking.
        let out = net_group(&[b(1, 0, 600), b(2, 1, -1500), b(3, 2, 1200), b(4, 3, 60)]);
        assert_eq!(nets(&out), vec![(3, 300), (4, 60)]);
        assert_eq!(out[0].corrected_by, vec![AccountingId(2)]);
    }

    #[test]
    fn group_netting_to_zero_or_below_has_no_entries() {
        assert!(net_group(&[b(1, 0, 600), b(2, 1, -600)]).is_empty());
        assert!(net_group(&[b(1, 0, -60)]).is_empty());
    }

    #[test]
    fn later_positive_time_is_not_touched_by_an_earlier_correction_that_was_absorbed() {
        let out = net_group(&[b(1, 0, 600), b(2, 1, -300), b(3, 2, 600)]);
        assert_eq!(nets(&out), vec![(1, 300), (3, 600)]);
        assert!(out[1].corrected_by.is_empty());
    }

    #[test]
    fn order_is_created_at_then_id_regardless_of_input_order() {
        let same_time = |id, secs| Booking {
            id: AccountingId(id),
            created_at: Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap(),
            secs,
        };
        let out = net_group(&[same_time(9, -60), same_time(2, 600), same_time(5, 600)]);
        // #9 comes last (highest id at the same instant) and consumes #5 (most recent).
        assert_eq!(nets(&out), vec![(2, 600), (5, 540)]);
    }

    #[test]
    fn zero_amounts_are_ignored() {
        assert_eq!(nets(&net_group(&[b(1, 0, 0), b(2, 1, 60)])), vec![(2, 60)]);
    }
}
