//! A demo world with an exact number of time accountings, from the demo-data generator.
//!
//! The generator is sized in tickets (one to four bookings each, some corrections), so the
//! ticket count that gives exactly N accountings is searched: bisect on the ticket count for a
//! seed, and move on to the next seed when no count hits N exactly. The result depends only on
//! the arguments.

use crate::error::BenchError;
use chrono::NaiveDate;
use demo_data::{DemoSpec, Unit};
use std::path::Path;

/// The first seed tried (the generator's default) and how many after it.
const FIRST_SEED: u64 = 42;
const SEEDS: u64 = 50;

/// What was generated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Chosen {
    pub seed: u64,
    pub tickets: usize,
    pub weeks: u32,
    pub start: NaiveDate,
    /// Agents who book time (the named four of the demo cast, or more).
    pub agents: usize,
    pub accountings: usize,
    /// Ticket ids with an organisation, most accountings first (for single-ticket events).
    pub busiest_tickets: Vec<u64>,
}

/// The datasets for both simulators, with exactly `accountings` accountings booked by
/// `agents` agents.
pub fn exact(
    accountings: usize,
    weeks: u32,
    start: NaiveDate,
    agents: usize,
) -> Result<(Chosen, zammad_sim::Dataset, kimai_sim::Dataset), BenchError> {
    let spec = |seed, tickets| {
        DemoSpec::new(seed, tickets, weeks, Unit::Minutes, start)
            .and_then(|spec| spec.with_agents(agents))
            .map_err(|e| BenchError::Dataset(e.to_string()))
    };
    // The smallest and largest worlds the generator makes, to reject an impossible size early.
    let (min_tickets, max_tickets) = (6, 10_000);
    let count = |seed, tickets| -> Result<usize, BenchError> {
        Ok(demo_data::generate(&spec(seed, tickets)?)
            .0
            .accountings
            .len())
    };
    if accountings < count(FIRST_SEED, min_tickets)?
        || accountings > count(FIRST_SEED, max_tickets)?
    {
        return Err(BenchError::Dataset(format!(
            "{accountings} accountings is outside what {min_tickets} to {max_tickets} tickets give"
        )));
    }
    for seed in FIRST_SEED..FIRST_SEED + SEEDS {
        // Smallest ticket count with at least `accountings` (counts grow with tickets).
        let (mut lo, mut hi) = (min_tickets, max_tickets);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if count(seed, mid)? < accountings {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let (zammad, kimai) = demo_data::generate(&spec(seed, lo)?);
        if zammad.accountings.len() == accountings {
            let chosen = Chosen {
                seed,
                tickets: lo,
                weeks,
                start,
                agents,
                accountings,
                busiest_tickets: busiest(&zammad),
            };
            return Ok((chosen, zammad, kimai));
        }
    }
    Err(BenchError::Dataset(format!(
        "no seed from {FIRST_SEED} to {} gives exactly {accountings} accountings",
        FIRST_SEED + SEEDS - 1
    )))
}

/// The demo world of exactly `tickets` tickets (the generator's default seed).
pub fn by_tickets(
    tickets: usize,
    weeks: u32,
    start: NaiveDate,
    agents: usize,
) -> Result<(Chosen, zammad_sim::Dataset, kimai_sim::Dataset), BenchError> {
    let spec = DemoSpec::new(FIRST_SEED, tickets, weeks, Unit::Minutes, start)
        .and_then(|spec| spec.with_agents(agents))
        .map_err(|e| BenchError::Dataset(e.to_string()))?;
    let (zammad, kimai) = demo_data::generate(&spec);
    let chosen = Chosen {
        seed: FIRST_SEED,
        tickets,
        weeks,
        start,
        agents,
        accountings: zammad.accountings.len(),
        busiest_tickets: busiest(&zammad),
    };
    Ok((chosen, zammad, kimai))
}

fn busiest(zammad: &zammad_sim::Dataset) -> Vec<u64> {
    let mut per_ticket: std::collections::BTreeMap<u64, usize> = Default::default();
    for a in &zammad.accountings {
        *per_ticket.entry(a.ticket_id).or_default() += 1;
    }
    let with_org: std::collections::HashSet<u64> = zammad
        .tickets
        .iter()
        .filter(|t| t.organization_id.is_some())
        .map(|t| t.id)
        .collect();
    let mut ids: Vec<(u64, usize)> = per_ticket
        .into_iter()
        .filter(|(id, _)| with_org.contains(id))
        .collect();
    ids.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ids.into_iter().take(10).map(|(id, _)| id).collect()
}

/// Writes `zammad.json`, `kimai.json` and `chosen.json` into `dir`.
pub fn write(
    dir: &Path,
    chosen: &Chosen,
    zammad: &zammad_sim::Dataset,
    kimai: &kimai_sim::Dataset,
) -> Result<(), BenchError> {
    std::fs::create_dir_all(dir).map_err(|source| BenchError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let files = [
        ("zammad.json", serde_json::to_string(zammad)),
        ("kimai.json", serde_json::to_string(kimai)),
        ("chosen.json", serde_json::to_string_pretty(chosen)),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        let text = text.map_err(|e| BenchError::Dataset(format!("{name}: {e}")))?;
        std::fs::write(&path, text).map_err(|source| BenchError::Io { path, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use demo_data::cast::NAMED_AGENTS;

    fn start() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
    }

    #[test]
    fn hits_the_asked_number_exactly_and_reproducibly() {
        for n in [40, 123] {
            let (chosen, zammad, kimai) = exact(n, 4, start(), NAMED_AGENTS).unwrap();
            assert_eq!(zammad.accountings.len(), n);
            assert_eq!(chosen.accountings, n);
            assert!(!kimai.users.is_empty());
            assert!(!chosen.busiest_tickets.is_empty());
            let (again, zammad_again, _) = exact(n, 4, start(), NAMED_AGENTS).unwrap();
            assert_eq!(again, chosen);
            assert_eq!(zammad_again, zammad);
        }
    }

    #[test]
    fn busiest_tickets_have_an_organisation_and_come_first() {
        let (chosen, zammad, _) = exact(60, 2, start(), NAMED_AGENTS).unwrap();
        let count = |id| {
            zammad
                .accountings
                .iter()
                .filter(|a| a.ticket_id == id)
                .count()
        };
        let counts: Vec<usize> = chosen.busiest_tickets.iter().map(|&id| count(id)).collect();
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
        for id in &chosen.busiest_tickets {
            let ticket = zammad.tickets.iter().find(|t| t.id == *id).unwrap();
            assert!(ticket.organization_id.is_some());
        }
    }

    #[test]
    fn impossible_sizes_are_refused_with_the_range() {
        let err = exact(3, 4, start(), NAMED_AGENTS).unwrap_err();
        assert!(matches!(err, BenchError::Dataset(_)));
        assert!(err.to_string().contains("outside"), "{err}");
        let err = exact(10_000_000, 4, start(), NAMED_AGENTS).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
    }

    #[test]
    fn a_larger_desk_books_with_every_agent_asked_for() {
        let (chosen, zammad, kimai) = exact(500, 4, start(), 40).unwrap();
        assert_eq!((chosen.accountings, chosen.agents), (500, 40));
        // The API user besides the agents.
        assert_eq!(kimai.users.len(), 41);
        let bookers: std::collections::BTreeSet<u64> =
            zammad.accountings.iter().map(|a| a.created_by_id).collect();
        assert!(bookers.len() > 20, "{bookers:?}");
        let err = exact(500, 4, start(), 3).unwrap_err();
        assert!(err.to_string().contains("agents"), "{err}");
    }

    #[test]
    fn bad_weeks_are_the_generators_error() {
        let err = exact(100, 0, start(), NAMED_AGENTS).unwrap_err();
        assert!(matches!(err, BenchError::Dataset(_)), "{err}");
    }

    #[test]
    fn writes_the_three_files_and_names_an_unwritable_path() {
        let dir = std::env::temp_dir().join(format!("stack-bench-ds-{}", std::process::id()));
        let (chosen, zammad, kimai) = exact(30, 1, start(), NAMED_AGENTS).unwrap();
        write(&dir, &chosen, &zammad, &kimai).unwrap();
        let back = zammad_sim::Dataset::from_file(&dir.join("zammad.json")).unwrap();
        assert_eq!(back.accountings.len(), 30);
        assert!(kimai_sim::Dataset::from_file(&dir.join("kimai.json")).is_ok());
        // A file where the directory should be.
        let blocked = dir.join("zammad.json").join("sub");
        let err = write(&blocked, &chosen, &zammad, &kimai).unwrap_err();
        assert!(matches!(err, BenchError::Io { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
