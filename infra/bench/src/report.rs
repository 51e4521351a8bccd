//! Markdown tables of the results, as they go into `docs/benchmarks.md`.

use crate::cold_bench::ColdReport;
use crate::sync_run::{KIMAI_CREATE, SyncReport};
use std::fmt::Write;

fn mib(kib: f64) -> String {
    format!("{:.1}", kib / 1024.0)
}

/// One row per function: binary size, init, first event, peak memory (median / max).
pub fn cold_table(reports: &[ColdReport]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| function | build | binary | runs | init ms (median / max) | first event ms (median / max) | RSS at ready MiB (median) | peak RSS MiB (median / max) |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    for r in reports {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} MiB | {} | {:.1} / {:.1} | {:.1} / {:.1} | {} | {} / {} |",
            r.function,
            r.build,
            r.binary_bytes as f64 / (1024.0 * 1024.0),
            r.init_ms.runs,
            r.init_ms.median,
            r.init_ms.max,
            r.first_event_ms.median,
            r.first_event_ms.max,
            mib(r.ready_hwm_kib.median),
            mib(r.peak_hwm_kib.median),
            mib(r.peak_hwm_kib.max),
        );
    }
    out
}

/// Per run: time, timesheets, calls per route, calls per created timesheet.
pub fn sync_table(reports: &[SyncReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let created = r.created();
        let kimai_total: u64 = r.calls.kimai.values().sum();
        let zammad_total: u64 = r.calls.zammad.values().sum();
        let found = r.fetch_outcome.get("found").cloned().unwrap_or_default();
        let _ = writeln!(out, "\n### {}\n", r.label);
        let _ = writeln!(
            out,
            "- scheduled-fetch answered in {:.1} s: {} ticket(s) found, {} enqueued",
            r.fetch_invoke_s,
            found,
            r.fetch_outcome.get("enqueued").cloned().unwrap_or_default()
        );
        match r.last_create_s {
            Some(s) => {
                let _ = writeln!(out, "- last timesheet created {s:.1} s after the invoke");
            }
            None => {
                let _ = writeln!(out, "- no timesheet created");
            }
        }
        let _ = writeln!(
            out,
            "- pipeline idle (queues empty, no calls) {:.1} s after the invoke",
            r.idle_s
        );
        if r.setting.kimai_latency_ms > 0 {
            let bound = r.latency_bound_s();
            let _ = writeln!(
                out,
                "- Kimai answering in {} ms: Kimai calls × latency ÷ writer concurrency ({}) = {:.1} s; the run took {}",
                r.setting.kimai_latency_ms,
                r.setting.writer_concurrency,
                bound,
                if bound > 0.0 {
                    format!("{:.2}× that", r.idle_s / bound)
                } else {
                    "–".to_owned()
                }
            );
        }
        let _ = writeln!(
            out,
            "- Kimai timesheets {} → {} ({:+}); dead letters {:?}",
            r.timesheets_before, r.timesheets_after, created, r.dead_letters
        );
        if let Some(counters) = &r.run_counters {
            let _ = writeln!(out, "- the run's counters: {counters}");
        }
        let per = |n: u64| {
            if created > 0 {
                format!("{:.2}", n as f64 / created as f64)
            } else {
                "–".to_owned()
            }
        };
        let _ = writeln!(out, "\n| Kimai route | calls | per created timesheet |");
        let _ = writeln!(out, "|---|---:|---:|");
        for (route, n) in &r.calls.kimai {
            let _ = writeln!(out, "| `{route}` | {n} | {} |", per(*n));
        }
        let _ = writeln!(
            out,
            "| **all Kimai calls** | **{kimai_total}** | **{}** |",
            per(kimai_total)
        );
        let accountings = r.setting.accountings;
        let per_accounting = |n: u64| {
            if accountings > 0 {
                format!("{:.3}", n as f64 / accountings as f64)
            } else {
                "–".to_owned()
            }
        };
        let _ = writeln!(
            out,
            "\n| Zammad route | calls | per accounting |\n|---|---:|---:|"
        );
        for (route, n) in &r.calls.zammad {
            let _ = writeln!(out, "| `{route}` | {n} | {} |", per_accounting(*n));
        }
        let _ = writeln!(
            out,
            "| **all Zammad calls** | **{zammad_total}** | **{}** |",
            per_accounting(zammad_total)
        );
        let creates = r.calls.kimai.get(KIMAI_CREATE).copied().unwrap_or(0);
        if creates as i64 != created {
            let _ = writeln!(
                out,
                "\nNote: {creates} create call(s) for {created} new timesheet(s)."
            );
        }
    }
    out
}

/// Per run: the AWS calls each function made, and the batches the queue mappings handed it.
pub fn aws_table(reports: &[SyncReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let Some(aws) = &r.aws else { continue };
        let _ = writeln!(out, "\n### AWS calls, {}\n", r.label);
        let _ = writeln!(out, "| function | action | calls |\n|---|---|---:|");
        for (function, actions) in &aws.calls {
            for (action, n) in actions {
                let _ = writeln!(out, "| {function} | `{action}` | {n} |");
            }
        }
        for (function, n) in &aws.queue_invocations {
            let _ = writeln!(
                out,
                "| {function} | invocations by its queue mapping | {n} |"
            );
        }
        let _ = writeln!(out, "| emulator | log bytes | {} |", aws.log_bytes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::summarise;
    use crate::sync_run::Calls;
    use std::collections::BTreeMap;

    #[test]
    fn cold_rows_show_median_and_max_in_mib() {
        let s = |v: &[f64]| summarise(v).unwrap();
        let r = ColdReport {
            function: "reconcile".into(),
            build: "release".into(),
            binary_bytes: 6 * 1024 * 1024,
            runs: vec![],
            init_ms: s(&[10.0, 12.0, 30.0]),
            first_event_ms: s(&[40.0, 50.0, 60.0]),
            ready_hwm_kib: s(&[10240.0]),
            peak_hwm_kib: s(&[20480.0, 30720.0]),
        };
        let table = cold_table(&[r]);
        assert!(
            table.contains("| reconcile | release | 6.0 MiB | 3 | 12.0 / 30.0 | 50.0 / 60.0 | 10.0 | 25.0 / 30.0 |"),
            "{table}"
        );
    }

    #[test]
    fn sync_rows_divide_by_created_timesheets() {
        let r = SyncReport {
            label: "first sync".into(),
            setting: crate::sync_run::Setting {
                kimai_latency_ms: 150,
                writer_concurrency: 2,
                accountings: 40,
            },
            fetch_outcome: serde_json::json!({"found": 10, "enqueued": 10}),
            fetch_invoke_s: 1.0,
            last_create_s: Some(9.5),
            idle_s: 10.0,
            timesheets_before: 3,
            timesheets_after: 23,
            calls: Calls {
                kimai: BTreeMap::from([
                    (KIMAI_CREATE.into(), 20),
                    ("GET /api/timesheets".into(), 10),
                ]),
                zammad: BTreeMap::from([("GET /api/v1/tickets/{id}".into(), 10)]),
            },
            run_counters: None,
            dead_letters: BTreeMap::new(),
            aws: None,
        };
        let table = sync_table(std::slice::from_ref(&r));
        assert!(
            table.contains("| `POST /api/timesheets` | 20 | 1.00 |"),
            "{table}"
        );
        assert!(
            table.contains("| **all Kimai calls** | **30** | **1.50** |"),
            "{table}"
        );
        assert!(table.contains("3 → 23 (+20)"), "{table}");
        assert!(
            table.contains("writer concurrency (2) = 2.2 s; the run took 4.44× that"),
            "30 calls × 150 ms ÷ 2: {table}"
        );
        assert!(
            table.contains("| `GET /api/v1/tickets/{id}` | 10 | 0.250 |"),
            "{table}"
        );
        assert!(!table.contains("Note:"));
        let rerun = SyncReport {
            timesheets_before: 23,
            last_create_s: None,
            calls: Calls {
                kimai: BTreeMap::from([("GET /api/timesheets".into(), 10)]),
                zammad: BTreeMap::new(),
            },
            ..r
        };
        let table = sync_table(&[rerun]);
        assert!(
            table.contains("| **all Kimai calls** | **10** | **–** |"),
            "{table}"
        );
        assert!(table.contains("no timesheet created"));
    }
}
