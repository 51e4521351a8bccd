//! The binary writes both files, reproducibly, and refuses bad arguments without writing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_demo-data"))
        .args(args)
        .output()
        .unwrap()
}

/// A fresh directory under the build's temporary directory, per test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("demo-data-cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn writes_both_files_that_the_simulators_accept() {
    let dir = scratch("writes").join("nested");
    let out = run(&[
        "--out",
        dir.to_str().unwrap(),
        "--tickets",
        "12",
        "--weeks",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let zammad = zammad_sim::Dataset::from_file(&dir.join("zammad.json")).unwrap();
    let kimai = kimai_sim::Dataset::from_file(&dir.join("kimai.json")).unwrap();
    assert_eq!(zammad.tickets.len(), 12);
    assert!(!kimai.timesheets.is_empty());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("zammad.json") && stdout.contains("kimai.json"));
}

#[test]
fn the_files_match_the_library_and_depend_only_on_the_arguments() {
    let a = scratch("same-a");
    let b = scratch("same-b");
    let c = scratch("other");
    let args = ["--seed", "5", "--unit", "hours", "--start", "2026-10-19"];
    for dir in [&a, &b] {
        let mut all = vec!["--out", dir.to_str().unwrap()];
        all.extend(args);
        assert!(run(&all).status.success());
    }
    assert_eq!(read(&a, "zammad.json"), read(&b, "zammad.json"));
    assert_eq!(read(&a, "kimai.json"), read(&b, "kimai.json"));

    let spec = demo_data::DemoSpec::new(
        5,
        60,
        4,
        demo_data::Unit::Hours,
        chrono::NaiveDate::from_ymd_opt(2026, 10, 19).unwrap(),
    )
    .unwrap();
    let (zammad, _) = demo_data::generate(&spec);
    let written: zammad_sim::Dataset = serde_json::from_str(&read(&a, "zammad.json")).unwrap();
    assert_eq!(written, zammad);

    assert!(
        run(&["--out", c.to_str().unwrap(), "--seed", "6"])
            .status
            .success()
    );
    assert_ne!(read(&a, "zammad.json"), read(&c, "zammad.json"));
}

#[test]
fn bad_arguments_exit_2_with_a_reason_and_write_nothing() {
    let dir = scratch("bad");
    let out_dir = dir.to_str().unwrap();
    let cases: [(&[&str], &str); 9] = [
        (&[], "--out DIR is required"),
        (&["--out", out_dir, "--tickets", "many"], "--tickets"),
        (
            &["--out", out_dir, "--tickets", "3"],
            "tickets must be between",
        ),
        (&["--out", out_dir, "--weeks", "0"], "weeks must be between"),
        (&["--out", out_dir, "--unit", "days"], "unit must be"),
        (
            &["--out", out_dir, "--agents", "2"],
            "agents must be between 4 and 200",
        ),
        (&["--out", out_dir, "--start", "2026-02-30"], "--start"),
        (&["--out", out_dir, "--seed"], "--seed needs a value"),
        (&["--out", out_dir, "--colour", "red"], "unknown argument"),
    ];
    for (args, reason) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
        assert!(stderr.contains("usage:"));
        assert!(!dir.exists(), "{args:?} wrote something");
    }
}

#[test]
fn an_unwritable_destination_exits_1_and_names_it() {
    let dir = scratch("blocked");
    std::fs::create_dir_all(&dir).unwrap();
    // A file where the output directory should be.
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let out = run(&["--out", blocker.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("cannot write") && stderr.contains("not-a-dir"),
        "{stderr}"
    );
}
