//! What a run would cost on AWS, from what it did on the local stack ([`AwsUsage`], the run's
//! time), at us-east-1 list prices, with the formula of every line; and what a month costs a
//! 50-agent service desk, from the same measurements.
//!
//! The emulator does not report capacity units or billed durations, so two inputs are
//! estimates: a function's billed time is at most the run's time for each instance that can
//! run at once (on the high side), and a DynamoDB write costs its item's size in KB, rounded
//! up, once for the table and once for every index projecting the whole item, plus what it
//! writes to indexes that project keys only ([`TableCost::keys_only_units`]).

use crate::aws_usage::AwsUsage;
use crate::sync_run::SyncReport;
use serde::Serialize;
use std::fmt::Write;

/// us-east-1 list prices in USD (AWS pricing pages, December 2026), no free tier.
pub mod price {
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// Per GB-second, x86_64.
    pub const LAMBDA_GB_SECOND: f64 = 0.000_016_666_7;
    pub const SQS_REQUEST: f64 = 0.40 / 1e6;
    pub const DYNAMODB_WRITE_UNIT: f64 = 0.625 / 1e6;
    pub const DYNAMODB_READ_UNIT: f64 = 0.125 / 1e6;
    pub const SECRET_MONTH: f64 = 0.40;
    pub const SECRETS_API_CALL: f64 = 0.05 / 1e4;
    pub const LOGS_INGEST_GB: f64 = 0.50;
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
    pub const SCHEDULER_INVOCATION: f64 = 1.00 / 1e6;
    /// Per alarm metric (a metric-math alarm pays for each metric in it).
    pub const ALARM_MONTH: f64 = 0.10;
    /// Per custom metric (name + label values) written in the month, the first 10,000.
    pub const CUSTOM_METRIC_MONTH: f64 = 0.30;
    /// Custom events put on a bus, per event (each 64 KB chunk).
    pub const EVENTBRIDGE_EVENT: f64 = 1.00 / 1e6;
}

/// What the template deploys, as the cost depends on it.
#[derive(Debug, Clone, Serialize)]
pub struct Deployment {
    /// (function, memory in GB, instances at once).
    pub functions: Vec<(&'static str, f64, u64)>,
    pub tables: Vec<TableCost>,
    pub secrets: u64,
    /// Alarm metrics: one per plain alarm, one per metric in a metric-math alarm.
    pub alarms: u64,
    /// Custom metrics the functions write in a typical month (docs/operations.md).
    pub custom_metrics: u64,
    /// Queues with an event source mapping (each polled while idle).
    pub polled_queues: u64,
}

/// What a write to one table costs.
#[derive(Debug, Clone, Serialize)]
pub struct TableCost {
    pub table: &'static str,
    /// A typical item's size in KB.
    pub item_kb: f64,
    /// Indexes projecting ALL: written at the item's size whenever the item changes.
    pub all_indexes: u64,
    /// Write units an average write spends on indexes projecting keys only: those are written
    /// (1 KB) only when the write sets or moves their key, a move being a delete and a put.
    pub keys_only_units: f64,
}

impl TableCost {
    fn units_per_write(&self) -> f64 {
        f64::ceil(self.item_kb) * (1 + self.all_indexes) as f64 + self.keys_only_units
    }
}

impl Deployment {
    /// template.yaml's defaults; the entries item size is what the 2,000-accounting world
    /// stores (median 1.4 KB).
    pub fn template_defaults(writer_concurrency: u64) -> Self {
        Deployment {
            functions: vec![
                ("ScheduledFetchFunction", 0.25, 1),
                ("ReconcileFunction", 0.25, 5),
                ("KimaiWriterFunction", 0.25, writer_concurrency),
                ("WebhookIngestFunction", 0.25, 1),
                ("ApiFunction", 0.5, 1),
            ],
            tables: vec![
                // An entry is written three times on its way to Kimai: planned (its first
                // write puts it into by-status, by-day and by-agent), create sent (no index
                // key changes), linked (sets kimai_id, and moves it in by-status, whose sort
                // key is the update time): 3 + 0 + 3 keys-only units over three writes.
                TableCost {
                    table: "EntriesTable",
                    item_kb: 1.4,
                    all_indexes: 0,
                    keys_only_units: 2.0,
                },
                TableCost {
                    table: "ControlTable",
                    item_kb: 1.0,
                    all_indexes: 0,
                    keys_only_units: 0.0,
                },
                TableCost {
                    table: "ConflictsTable",
                    item_kb: 2.0,
                    all_indexes: 1,
                    keys_only_units: 0.0,
                },
                TableCost {
                    table: "AuditTable",
                    item_kb: 1.0,
                    all_indexes: 0,
                    keys_only_units: 0.0,
                },
            ],
            secrets: 5,
            // Two dead-letter alarms, the function errors (5 metrics), failed runs (2) and
            // upstream failures (6).
            alarms: 15,
            custom_metrics: 15,
            polled_queues: 2,
        }
    }

    fn memory_and_lanes(&self, function: &str) -> (f64, u64) {
        self.functions
            .iter()
            .find(|(f, _, _)| *f == function)
            .map_or((0.25, 1), |(_, m, l)| (*m, *l))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub item: String,
    pub quantity: f64,
    pub formula: String,
    pub usd: f64,
}

const WRITES: [&str; 4] = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
];
const READS: [&str; 4] = [
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchGetItem",
];

/// One run's cost, line by line.
pub fn run_lines(report: &SyncReport, usage: &AwsUsage, deployment: &Deployment) -> Vec<Line> {
    let mut lines = Vec::new();
    // The benchmark invokes scheduled-fetch itself once per run.
    let invocations: u64 = usage.queue_invocations.values().sum::<u64>() + 1;
    lines.push(Line {
        item: "Lambda requests".into(),
        quantity: invocations as f64,
        formula: "batches the queue mappings handed a function + 1 fetch invoke".into(),
        usd: invocations as f64 * price::LAMBDA_REQUEST,
    });
    let mut gb_seconds = 0.0;
    for (function, batches) in &usage.queue_invocations {
        let (memory, lanes) = deployment.memory_and_lanes(function);
        gb_seconds += report.idle_s * lanes.min(*batches) as f64 * memory;
    }
    lines.push(Line {
        item: "Lambda compute, at most".into(),
        quantity: gb_seconds,
        formula: "run time × min(batches, instances at once) × memory GB, per function".into(),
        usd: gb_seconds * price::LAMBDA_GB_SECOND,
    });
    let batches: u64 = usage.queue_invocations.values().sum();
    let sqs = usage.calls_of("sqs:") + 2 * batches;
    lines.push(Line {
        item: "SQS requests".into(),
        quantity: sqs as f64,
        formula: "the functions' sqs calls + 2 per batch (the mapping's receive and delete)".into(),
        usd: sqs as f64 * price::SQS_REQUEST,
    });
    let mut write_units = 0.0;
    let mut read_units = 0.0;
    for (table, actions) in &usage.tables {
        let per_write = deployment
            .tables
            .iter()
            .find(|t| t.table == table)
            .map_or(1.0, TableCost::units_per_write);
        let writes: u64 = WRITES.iter().map(|a| actions.get(*a).unwrap_or(&0)).sum();
        let reads: u64 = READS.iter().map(|a| actions.get(*a).unwrap_or(&0)).sum();
        write_units += writes as f64 * per_write;
        read_units += reads as f64;
    }
    lines.push(Line {
        item: "DynamoDB write units".into(),
        quantity: write_units,
        formula:
            "writes × (⌈item KB⌉ × (1 + indexes projecting ALL) + keys-only index units), per table"
                .into(),
        usd: write_units * price::DYNAMODB_WRITE_UNIT,
    });
    lines.push(Line {
        item: "DynamoDB read units".into(),
        quantity: read_units,
        formula: "reads (GetItem, Query) × 1 (strongly consistent, up to 4 KB)".into(),
        usd: read_units * price::DYNAMODB_READ_UNIT,
    });
    let secret_calls = usage.calls_of("secretsmanager:GetSecretValue");
    lines.push(Line {
        item: "Secrets Manager calls".into(),
        quantity: secret_calls as f64,
        formula: "GetSecretValue calls".into(),
        usd: secret_calls as f64 * price::SECRETS_API_CALL,
    });
    // The emulator records calls, not entries: a call carries one to ten events, and ours
    // mostly one (a run that ended, a batch's conflicts, a dead letter).
    let events = usage.calls_of("events:PutEvents");
    lines.push(Line {
        item: "EventBridge events".into(),
        quantity: events as f64,
        formula: "PutEvents calls × 1 event (the domain events; ten at most per call)".into(),
        usd: events as f64 * price::EVENTBRIDGE_EVENT,
    });
    let gb = usage.log_bytes as f64 / 1e9;
    lines.push(Line {
        item: "CloudWatch Logs ingested (GB), at most".into(),
        quantity: gb,
        formula: "bytes the emulator logged, the functions' lines among them".into(),
        usd: gb * price::LOGS_INGEST_GB,
    });
    lines
}

pub fn total(lines: &[Line]) -> f64 {
    lines.iter().map(|l| l.usd).sum()
}

/// The month of a service desk of about 50 agents: `per_day` accountings a day, one webhook
/// each, the 15-minute incremental schedule, and a 7-day verify sweep every night.
/// `first` and `rerun`: the measured backfill and no-change rerun, `accountings` in the world.
pub fn month_lines(
    first: (&[Line], u64),
    rerun: &[Line],
    deployment: &Deployment,
    per_day: u64,
) -> Vec<Line> {
    let (first, accountings) = first;
    let month_accountings = (per_day * 30) as f64;
    let per_accounting = total(first) / accountings.max(1) as f64;
    let verify_accountings = (per_day * 7) as f64;
    let rerun_per_accounting = total(rerun) / accountings.max(1) as f64;
    // A webhook: the HTTP API request, one webhook-ingest invoke (~0.1 s at 256 MB), one
    // reconcile invoke of its own (not batched); the writes are in the sync line.
    let webhook_each = price::HTTP_API_REQUEST
        + 2.0 * price::LAMBDA_REQUEST
        + 2.0 * 0.1 * 0.25 * price::LAMBDA_GB_SECOND
        + 3.0 * price::SQS_REQUEST;
    // An incremental run: the scheduler, one fetch invoke (~1 s at 256 MB), about ten control
    // table writes (lease, run record, watermark) and reads.
    let incremental_each = price::SCHEDULER_INVOCATION
        + price::LAMBDA_REQUEST
        + 0.25 * price::LAMBDA_GB_SECOND
        + 10.0 * price::DYNAMODB_WRITE_UNIT
        + 10.0 * price::DYNAMODB_READ_UNIT;
    let incremental_runs = 4.0 * 24.0 * 30.0;
    // The event source mappings poll an empty queue with 5 pollers, a 20 s long poll each.
    let idle_polls = deployment.polled_queues as f64 * 5.0 * 3.0 * 60.0 * 24.0 * 30.0;
    vec![
        Line {
            item: "syncing the month's accountings".into(),
            quantity: month_accountings,
            formula: format!(
                "{per_day}/day × 30 × the first sync's ${per_accounting:.8} per accounting"
            ),
            usd: month_accountings * per_accounting,
        },
        Line {
            item: "webhooks (one per accounting)".into(),
            quantity: month_accountings,
            formula: "HTTP API request + 2 invokes of 0.1 s at 256 MB + 3 SQS requests".into(),
            usd: month_accountings * webhook_each,
        },
        Line {
            item: "nightly verify sweeps (7 days each)".into(),
            quantity: 30.0,
            formula: format!(
                "30 × {per_day} × 7 × the no-change rerun's ${rerun_per_accounting:.8} per accounting"
            ),
            usd: 30.0 * verify_accountings * rerun_per_accounting,
        },
        Line {
            item: "incremental runs every 15 minutes".into(),
            quantity: incremental_runs,
            formula: "2,880 × (schedule + invoke of 1 s at 256 MB + 10 write and 10 read units)"
                .into(),
            usd: incremental_runs * incremental_each,
        },
        Line {
            item: "SQS polls of the idle queues".into(),
            quantity: idle_polls,
            formula: format!(
                "{} queues × 5 pollers × 3 polls a minute × 43,200 minutes",
                deployment.polled_queues
            ),
            usd: idle_polls * price::SQS_REQUEST,
        },
        Line {
            item: "Secrets Manager secrets".into(),
            quantity: deployment.secrets as f64,
            formula: format!("{} secrets × $0.40", deployment.secrets),
            usd: deployment.secrets as f64 * price::SECRET_MONTH,
        },
        Line {
            item: "CloudWatch alarms".into(),
            quantity: deployment.alarms as f64,
            formula: format!("{} alarm metrics × $0.10", deployment.alarms),
            usd: deployment.alarms as f64 * price::ALARM_MONTH,
        },
        Line {
            item: "custom metrics (EmitMetrics=true)".into(),
            quantity: deployment.custom_metrics as f64,
            formula: format!(
                "{} metrics written in a typical month × $0.30",
                deployment.custom_metrics
            ),
            usd: deployment.custom_metrics as f64 * price::CUSTOM_METRIC_MONTH,
        },
    ]
}

pub fn table(title: &str, lines: &[Line]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n| {title} | quantity | how | USD |\n|---|---:|---|---:|"
    );
    for l in lines {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.4} |",
            l.item,
            quantity(l.quantity),
            l.formula,
            l.usd
        );
    }
    let _ = writeln!(out, "| **total** | | | **{:.4}** |", total(lines));
    out
}

fn quantity(q: f64) -> String {
    if q >= 100.0 || q.fract() == 0.0 {
        format!("{q:.0}")
    } else {
        format!("{q:.3}")
    }
}

/// The first sync's lines scaled to 10,000 accountings.
pub fn per_10k(lines: &[Line], accountings: u64) -> Vec<Line> {
    let factor = 10_000.0 / accountings.max(1) as f64;
    lines
        .iter()
        .map(|l| Line {
            item: l.item.clone(),
            quantity: l.quantity * factor,
            formula: format!("{} × 10,000 ÷ {accountings}", l.formula),
            usd: l.usd * factor,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws_usage::{add_calls, add_log};
    use crate::sync_run::{Calls, Setting};
    use std::collections::BTreeMap;

    fn report(idle_s: f64) -> SyncReport {
        SyncReport {
            label: "first sync".into(),
            setting: Setting::default(),
            fetch_outcome: serde_json::json!({}),
            fetch_invoke_s: 0.5,
            last_create_s: None,
            idle_s,
            timesheets_before: 0,
            timesheets_after: 0,
            calls: Calls::default(),
            run_counters: None,
            dead_letters: BTreeMap::new(),
            aws: None,
        }
    }

    #[test]
    fn a_run_is_priced_from_its_calls_and_batches() {
        let mut usage = AwsUsage::default();
        let entries = r#"{"action": "dynamodb:UpdateItem", "role": "s-ReconcileFunctionRole-1", "resource": "arn:aws:dynamodb:us-east-1:0:table/s-EntriesTable-1"}"#;
        add_calls(&mut usage, &format!("{entries}\n{entries}\n"));
        add_log(
            &mut usage,
            "ESM: Lambda s-ReconcileFunction-1 processed 10 SQS messages from q\n",
        );
        let lines = run_lines(&report(10.0), &usage, &Deployment::template_defaults(2));
        let by = |item: &str| lines.iter().find(|l| l.item.starts_with(item)).unwrap();
        assert_eq!(by("Lambda requests").quantity, 2.0, "one batch + the fetch");
        // One batch: one instance of reconcile for 10 s at 0.25 GB.
        assert_eq!(by("Lambda compute").quantity, 2.5);
        assert_eq!(by("SQS requests").quantity, 2.0);
        // 2 writes × (2 KB (1.4 rounded up) + 2 units for the keys-only indexes).
        assert_eq!(by("DynamoDB write units").quantity, 8.0);
        assert!((by("DynamoDB write units").usd - 8.0 * 0.625 / 1e6).abs() < 1e-12);
    }

    #[test]
    fn the_month_adds_the_fixed_charges() {
        let deployment = Deployment::template_defaults(2);
        let month = month_lines((&[], 2000), &[], &deployment, 1000);
        let by = |item: &str| month.iter().find(|l| l.item.starts_with(item)).unwrap();
        assert_eq!(by("Secrets Manager").usd, 2.0);
        // 2 × 5 × 3 × 43,200 = 1,296,000 polls at $0.40 a million.
        assert!((by("SQS polls").usd - 0.5184).abs() < 1e-9);
        assert!(table("month", &month).contains("| **total** |"));
    }
}
