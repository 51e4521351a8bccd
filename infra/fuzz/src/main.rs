//! `cargo run -p fuzz -- [--seconds N] [TARGET ...]`: every target (or the ones named) for N
//! seconds each (default 60), then a table of executions. Exits non-zero on a failure.

use fuzz::targets::TARGETS;
use std::time::Duration;

fn main() {
    let mut seconds = 60u64;
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            seconds = args
                .next()
                .and_then(|s| s.parse().ok())
                .expect("--seconds takes a whole number");
        } else {
            names.push(arg);
        }
    }
    let unknown: Vec<_> = names
        .iter()
        .filter(|n| !TARGETS.iter().any(|t| t.name == n.as_str()))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
        eprintln!("unknown target(s) {unknown:?}; known: {known:?}");
        std::process::exit(2);
    }
    let mut failed = false;
    println!("| target | executions | seconds | per second |");
    println!("|---|---:|---:|---:|");
    let mut tallies = Vec::new();
    for target in TARGETS
        .iter()
        .filter(|t| names.is_empty() || names.iter().any(|n| n == t.name))
    {
        let report = fuzz::run(target, Duration::from_secs(seconds), None);
        let secs = report.took.as_secs_f64();
        println!(
            "| {} | {} | {:.0} | {:.0} |",
            report.target,
            report.executions,
            secs,
            report.executions as f64 / secs.max(0.001)
        );
        if let Some(f) = &report.failure {
            eprintln!("{}: FAILED\n{f}", report.target);
            failed = true;
        }
        if !report.tally.is_empty() {
            tallies.push((report.target, report.tally));
        }
    }
    for (target, tally) in tallies {
        println!("\n{target}:");
        for (what, n) in tally {
            println!("- {what}: {n}");
        }
    }
    if failed {
        std::process::exit(1);
    }
}
