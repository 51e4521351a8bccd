//! `SYNC_METRICS=off` installs no recorder: counting costs nothing and nothing is written.

#[test]
fn metrics_off_writes_nothing() {
    // SAFETY: this test binary has one test and sets the variable before anything reads it.
    unsafe { std::env::set_var(sync_lambda::metrics::SYNC_METRICS, "off") };
    sync_lambda::metrics::install("reconcile");
    sync_metrics::timesheet_written("created");
    sync_metrics::conflicts_opened(3);
    let mut out = Vec::new();
    sync_lambda::metrics::flush_to(&mut out);
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
}
