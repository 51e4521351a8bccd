//! The short fuzz run of `make test`: each target for a few hundred fresh random cases (the long
//! run is `make fuzz`). A failure prints the shrunk input; it becomes a regression test.

use fuzz::targets::TARGETS;
use std::time::Duration;

fn short(name: &str) {
    let target = TARGETS.iter().find(|t| t.name == name).expect("a target");
    let report = fuzz::run(target, Duration::ZERO, Some(512));
    if let Some(failure) = report.failure {
        panic!("{name}: {failure}");
    }
    assert!(report.executions >= 512, "{} cases", report.executions);
}

#[test]
fn webhook() {
    short("webhook");
}

#[test]
fn zammad_answers() {
    short("zammad-answers");
}

#[test]
fn kimai_answers() {
    short("kimai-answers");
}

#[test]
fn mappings_csv() {
    short("mappings-csv");
}

#[test]
fn every_target_has_a_short_run() {
    let names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        ["webhook", "zammad-answers", "kimai-answers", "mappings-csv"]
    );
}
