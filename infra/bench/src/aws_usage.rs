//! What the stack's functions asked of AWS during one run, read from two files the emulator
//! writes: its call recording (one JSON line per call a function's role made, see
//! `infra/local-aws/ministack_recording.py`) and its log, where the SQS event source mappings
//! note each batch they handed a function. A run is the part of each file written between two
//! offsets.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Counts by a name and then an action.
pub type Counts = BTreeMap<String, BTreeMap<String, u64>>;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AwsUsage {
    /// By function (the logical name, e.g. `ReconcileFunction`) and action (`dynamodb:Query`).
    pub calls: Counts,
    /// DynamoDB calls by table (logical name, `EntriesTable`) and action.
    pub tables: Counts,
    /// Invocations by function that an SQS event source mapping made.
    pub queue_invocations: BTreeMap<String, u64>,
    /// Bytes the emulator logged, the functions' own lines among them.
    pub log_bytes: u64,
}

impl AwsUsage {
    pub fn calls_of(&self, action_prefix: &str) -> u64 {
        self.calls
            .values()
            .flat_map(|a| a.iter())
            .filter(|(action, _)| action.starts_with(action_prefix))
            .map(|(_, n)| n)
            .sum()
    }

    pub fn table_calls(&self, table: &str, actions: &[&str]) -> u64 {
        self.tables.get(table).map_or(0, |a| {
            actions
                .iter()
                .map(|action| a.get(*action).copied().unwrap_or(0))
                .sum()
        })
    }
}

/// The size of a file now (0 when it does not exist yet): where a run's part begins.
pub fn offset(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// What was written to `path` after `from`.
pub fn written_since(path: &Path, from: u64) -> std::io::Result<String> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(e),
    };
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A CloudFormation physical name without the stack's prefix and the random suffix:
/// `zammad-kimai-sync-EntriesTable-1AB03F` → `EntriesTable`.
fn logical(physical: &str) -> String {
    let without_suffix = physical.rsplit_once('-').map_or(physical, |(head, _)| head);
    without_suffix
        .rsplit_once('-')
        .map_or(without_suffix, |(_, name)| name)
        .to_owned()
}

/// Adds the recorded calls in `lines` (JSON lines; others are skipped).
pub fn add_calls(usage: &mut AwsUsage, lines: &str) {
    for line in lines.lines() {
        let Ok(call) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let (Some(role), Some(action)) = (
            call.get("role").and_then(Value::as_str),
            call.get("action").and_then(Value::as_str),
        ) else {
            continue;
        };
        let function = logical(role);
        let function = function
            .strip_suffix("Role")
            .unwrap_or(&function)
            .to_owned();
        *usage
            .calls
            .entry(function)
            .or_default()
            .entry(action.to_owned())
            .or_default() += 1;
        let resource = call.get("resource").and_then(Value::as_str).unwrap_or("");
        if let Some(table) = resource.split(":table/").nth(1) {
            let table = table.split('/').next().unwrap_or(table);
            *usage
                .tables
                .entry(logical(table))
                .or_default()
                .entry(action.to_owned())
                .or_default() += 1;
        }
    }
}

/// Adds the emulator's log lines: the event source mappings' batches, and the bytes.
pub fn add_log(usage: &mut AwsUsage, log: &str) {
    usage.log_bytes += log.len() as u64;
    for line in log.lines() {
        // "... ESM: Lambda <physical name> processed 5 SQS messages from <queue>"
        let Some(rest) = line.split("ESM: Lambda ").nth(1) else {
            continue;
        };
        let mut words = rest.split_whitespace();
        if let (Some(function), Some("processed")) = (words.next(), words.next()) {
            *usage
                .queue_invocations
                .entry(logical(function))
                .or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_by_function_action_and_table() {
        let mut usage = AwsUsage::default();
        add_calls(
            &mut usage,
            r#"{"action": "dynamodb:UpdateItem", "role": "zammad-kimai-sync-ReconcileFunctionRole-E70D91", "resource": "arn:aws:dynamodb:us-east-1:0:table/zammad-kimai-sync-EntriesTable-1AB03F"}
{"action": "dynamodb:Query", "role": "zammad-kimai-sync-ReconcileFunctionRole-E70D91", "resource": "arn:aws:dynamodb:us-east-1:0:table/zammad-kimai-sync-EntriesTable-1AB03F/index/by-day"}
{"action": "sqs:SendMessageBatch", "role": "zammad-kimai-sync-ReconcileFunctionRole-E70D91", "resource": "arn:aws:sqs:us-east-1:0:q"}
not json
"#,
        );
        assert_eq!(usage.calls["ReconcileFunction"]["dynamodb:UpdateItem"], 1);
        assert_eq!(usage.calls_of("dynamodb:"), 2);
        assert_eq!(usage.calls_of("sqs:"), 1);
        assert_eq!(
            usage.table_calls("EntriesTable", &["dynamodb:UpdateItem", "dynamodb:Query"]),
            2
        );
    }

    #[test]
    fn batches_are_read_from_the_event_source_mapping_lines() {
        let mut usage = AwsUsage::default();
        let log = "2026-12-06 07:22:34 INFO [lambda] ESM: Lambda zammad-kimai-sync-KimaiWriterFunction-9BCCE3 processed 5 SQS messages from q\n\
                   2026-12-06 07:22:34 INFO [lambda] ESM: Lambda zammad-kimai-sync-KimaiWriterFunction-9BCCE3 output:\n\
                   2026-12-06 07:22:35 INFO [lambda] ESM: Lambda zammad-kimai-sync-ReconcileFunction-E70D91 processed 10 SQS messages from q\n";
        add_log(&mut usage, log);
        assert_eq!(usage.queue_invocations["KimaiWriterFunction"], 1);
        assert_eq!(usage.queue_invocations["ReconcileFunction"], 1);
        assert_eq!(usage.log_bytes, log.len() as u64);
    }

    #[test]
    fn a_run_reads_only_what_was_written_after_its_offset() {
        let dir = std::env::temp_dir().join(format!("aws-usage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("calls.jsonl");
        assert_eq!(offset(&path), 0);
        assert_eq!(written_since(&path, 0).unwrap(), "");
        std::fs::write(&path, "before\n").unwrap();
        let from = offset(&path);
        std::fs::write(&path, "before\nduring\n").unwrap();
        assert_eq!(written_since(&path, from).unwrap(), "during\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
