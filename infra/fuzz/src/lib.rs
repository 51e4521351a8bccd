//! Fuzzing of what strangers send us, as properties (proptest) on stable Rust: the webhook
//! body and signature, Zammad's and Kimai's answers including their error bodies, and the
//! mappings CSV import. `cargo fuzz` would need a nightly toolchain and a second build of the
//! workspace with sanitizer instrumentation; proptest runs on the toolchain and profile the
//! tests already build, shrinks a failure to a small input, and lets a target state what must
//! hold beyond "no crash" (nothing forged is queued, an export imports to the same).
//!
//! - `cargo run -p fuzz -- --seconds 60` (`make fuzz`): each target for a set time, a table of
//!   executions per target (and the webhook's kinds of request) at the end.
//! - `tests/short.rs`: each target for a few hundred cases, in `make test`.
//!
//! A failure prints the shrunk input. Fix the bug, then add that input to `tests/regressions.rs`.

pub mod inputs;
pub mod targets;

use proptest::test_runner::{Config, TestRunner};
use std::time::{Duration, Instant};
use targets::{Tally, Target};

/// What one target did in its budget.
pub struct Report {
    pub target: &'static str,
    pub executions: u64,
    pub took: Duration,
    /// Counts the target keeps besides its cases.
    pub tally: Vec<(&'static str, u64)>,
    pub failure: Option<String>,
}

/// Cases per round: the time budget is checked between rounds.
const ROUND: u32 = 256;

/// Runs `target` in rounds of fresh random cases until `budget` has passed (at least one
/// round), or for `cases` cases when given.
pub fn run(target: &Target, budget: Duration, cases: Option<u32>) -> Report {
    let started = Instant::now();
    let tally = Tally::default();
    let mut executions = 0u64;
    let mut failure = None;
    loop {
        let round = cases.map_or(ROUND, |c| c.clamp(1, ROUND));
        let mut runner = TestRunner::new(Config {
            cases: round,
            failure_persistence: None,
            // Shrinking a webhook case replays ingest many times; a few thousand steps suffice.
            max_shrink_iters: 4096,
            ..Config::default()
        });
        if let Err(e) = (target.run)(&mut runner, &tally) {
            failure = Some(e);
            break;
        }
        executions += u64::from(round);
        let done = match cases {
            Some(c) => executions >= u64::from(c),
            None => started.elapsed() >= budget,
        };
        if done {
            break;
        }
    }
    Report {
        target: target.name,
        executions,
        took: started.elapsed(),
        tally: tally.counts().into_iter().collect(),
        failure,
    }
}
