//! `stack-bench`: benchmarks of the deployed stack (driven by `stack-bench.sh`, see
//! `docs/benchmarks.md`).
//!
//! ```text
//! stack-bench dataset --accountings N | --tickets N --out DIR [--weeks W] [--start YYYY-MM-DD]
//!                     [--agents N]
//! stack-bench cold-init --build LABEL --runs N --ticket ID --log-dir DIR --out FILE
//!                       --function crate=deployed-name=path [--function ...]
//! stack-bench sync --zammad-url URL --kimai-url URL --fetch-function NAME --control-table T
//!                  --work-queue name=URL ... --dead-letter-queue name=URL ...
//!                  --from RFC3339 --to RFC3339 --out FILE [--limit-secs N] [--quiet-secs N]
//!                  [--kimai-latency-ms N] [--writer-concurrency N] [--accountings N]
//!                  [--aws-calls RECORDING.jsonl --emulator-log FILE]
//! stack-bench soak --api-url URL --admin-user U (password in $SOAK_ADMIN_PASSWORD)
//!                  --zammad-url URL --kimai-url URL --control-table T
//!                  --work-queue name=URL ... --dead-letter-queue name=URL ...
//!                  --from RFC3339 --to RFC3339 --out FILE [--limit-secs N] [--quiet-secs N]
//! stack-bench soak-check --world DIR (--kimai-url URL | --timesheets FILE) --out FILE
//!                        [--policy FILE] [--conflicts FILE]
//! stack-bench chaos --zammad-url URL --kimai-url URL --webhook-url URL (secret in
//!                   $SOAK_WEBHOOK_SECRET) --seed N --changes N --pause-ms N --hand-edits N
//!                   --out FILE
//! ```
//! AWS calls go where the SDK's environment says (`AWS_ENDPOINT_URL`: the emulator).

use chrono::{DateTime, NaiveDate, Utc};
use stack_bench::error::BenchError;
use stack_bench::{chaos, cold_bench, cost, dataset, function_env, report, soak, sync_run};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: stack-bench dataset|cold-init|sync|soak|soak-check|chaos [options] (see the source's header or docs/benchmarks.md)";

/// `--name value` pairs; a name may repeat.
struct Args {
    values: BTreeMap<String, Vec<String>>,
}

impl Args {
    fn parse(raw: impl Iterator<Item = String>) -> Result<Args, BenchError> {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut raw = raw.peekable();
        while let Some(flag) = raw.next() {
            let Some(name) = flag.strip_prefix("--") else {
                return Err(BenchError::Usage(format!("unexpected {flag:?}\n{USAGE}")));
            };
            let value = raw
                .next()
                .ok_or_else(|| BenchError::Usage(format!("{flag} needs a value")))?;
            values.entry(name.to_owned()).or_default().push(value);
        }
        Ok(Args { values })
    }

    fn one(&self, name: &str) -> Result<&str, BenchError> {
        match self.values.get(name).map(Vec::as_slice) {
            Some([v]) => Ok(v),
            Some(_) => Err(BenchError::Usage(format!(
                "--{name} is given more than once"
            ))),
            None => Err(BenchError::Usage(format!("--{name} is required\n{USAGE}"))),
        }
    }

    /// A flag given at most once.
    fn optional(&self, name: &str) -> Result<Option<&str>, BenchError> {
        match self.values.contains_key(name) {
            true => self.one(name).map(Some),
            false => Ok(None),
        }
    }

    fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], Vec::as_slice)
    }

    fn parsed<T: std::str::FromStr>(
        &self,
        name: &str,
        default: Option<T>,
    ) -> Result<T, BenchError> {
        match (self.values.contains_key(name), default) {
            (false, Some(d)) => Ok(d),
            _ => {
                let raw = self.one(name)?;
                raw.parse()
                    .map_err(|_| BenchError::Usage(format!("--{name}: {raw:?} is not valid")))
            }
        }
    }

    /// `name=value` pairs of a repeated flag.
    fn pairs(&self, name: &str) -> Result<Vec<(String, String)>, BenchError> {
        self.all(name)
            .iter()
            .map(|p| match p.split_once('=') {
                Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_owned(), v.to_owned())),
                _ => Err(BenchError::Usage(format!(
                    "--{name} wants name=value, got {p:?}"
                ))),
            })
            .collect()
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut raw = std::env::args().skip(1);
    let command = raw.next().unwrap_or_default();
    let result = match Args::parse(raw) {
        Ok(args) => match command.as_str() {
            "dataset" => dataset_command(&args),
            "cold-init" => cold_init_command(&args).await,
            "sync" => sync_command(&args).await,
            "soak" => soak_command(&args).await,
            "soak-check" => soak_check_command(&args).await,
            "chaos" => chaos_command(&args).await,
            _ => Err(BenchError::Usage(USAGE.to_owned())),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stack-bench {command}: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn dataset_command(args: &Args) -> Result<(), BenchError> {
    let weeks = args.parsed("weeks", Some(12))?;
    let start = args.parsed(
        "start",
        Some(NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date")),
    )?;
    let agents = args.parsed("agents", Some(demo_data::cast::NAMED_AGENTS))?;
    let out = PathBuf::from(args.one("out")?);
    let (chosen, zammad, kimai) = if args.values.contains_key("tickets") {
        dataset::by_tickets(args.parsed("tickets", None)?, weeks, start, agents)?
    } else {
        dataset::exact(args.parsed("accountings", None)?, weeks, start, agents)?
    };
    dataset::write(&out, &chosen, &zammad, &kimai)?;
    println!("{}", serde_json::to_string(&chosen).expect("serialises"));
    Ok(())
}

async fn cold_init_command(args: &Args) -> Result<(), BenchError> {
    let subjects = args
        .all("function")
        .iter()
        .map(|s| cold_bench::Subject::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    if subjects.is_empty() {
        return Err(BenchError::Usage(
            "at least one --function is required".into(),
        ));
    }
    let build = args.one("build")?.to_owned();
    let runs: u32 = args.parsed("runs", Some(7))?;
    if runs == 0 {
        return Err(BenchError::Usage("--runs must be at least 1".into()));
    }
    let config = aws_config::load_from_env().await;
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| BenchError::Usage("AWS_ENDPOINT_URL must name the emulator".into()))?;
    let ctx = cold_bench::Context {
        aws: function_env::AwsTarget {
            endpoint,
            region: config
                .region()
                .map_or_else(|| "us-east-1".to_owned(), ToString::to_string),
        },
        config,
        ticket_id: args.parsed("ticket", None)?,
        log_dir: PathBuf::from(args.one("log-dir")?),
    };
    std::fs::create_dir_all(&ctx.log_dir).map_err(|source| BenchError::Io {
        path: ctx.log_dir.clone(),
        source,
    })?;
    let reports = cold_bench::bench(&subjects, &build, runs, &ctx).await?;
    write_json(args.one("out")?, &reports)?;
    print!("{}", report::cold_table(&reports));
    Ok(())
}

async fn sync_command(args: &Args) -> Result<(), BenchError> {
    let from: DateTime<Utc> = args.parsed("from", None)?;
    let to: DateTime<Utc> = args.parsed("to", None)?;
    let targets = sync_run::Targets {
        zammad_url: args.one("zammad-url")?.trim_end_matches('/').to_owned(),
        kimai_url: args.one("kimai-url")?.trim_end_matches('/').to_owned(),
        fetch_function: args.one("fetch-function")?.to_owned(),
        control_table: args.one("control-table")?.to_owned(),
        work_queues: args.pairs("work-queue")?,
        dead_letter_queues: args.pairs("dead-letter-queue")?,
        aws_files: match (args.optional("aws-calls")?, args.optional("emulator-log")?) {
            (Some(calls), Some(log)) => Some(sync_run::AwsFiles {
                calls: calls.into(),
                log: log.into(),
            }),
            (None, None) => None,
            _ => {
                return Err(BenchError::Usage(
                    "--aws-calls and --emulator-log go together".into(),
                ));
            }
        },
    };
    if targets.work_queues.is_empty() {
        return Err(BenchError::Usage(
            "at least one --work-queue is required".into(),
        ));
    }
    let polling = sync_run::Polling {
        every: Duration::from_millis(500),
        quiet: Duration::from_secs(args.parsed("quiet-secs", Some(5))?),
        limit: Duration::from_secs(args.parsed("limit-secs", Some(1800))?),
    };
    let config = aws_config::load_from_env().await;
    let clients = sync_run::Clients {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| BenchError::http(&targets.kimai_url, e))?,
        lambda: aws_sdk_lambda::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
        control: sync_store::aws::DynamoControl::new(
            aws_sdk_dynamodb::Client::new(&config),
            targets.control_table.clone(),
        ),
    };
    // The scheduler's payload for a backfill over the dataset's dates.
    let payload = serde_json::json!({
        "mode": "backfill",
        "from": from.to_rfc3339(),
        "to": to.to_rfc3339(),
    });
    let setting = sync_run::Setting {
        kimai_latency_ms: args.parsed("kimai-latency-ms", Some(0))?,
        writer_concurrency: args.parsed("writer-concurrency", Some(2))?,
        accountings: args.parsed("accountings", Some(0))?,
    };
    let first = ("first sync", setting);
    let first = sync_run::run(&clients, &targets, polling, first, &payload).await?;
    let rerun = (
        "no-change rerun of the window (what a verify sweep costs)",
        setting,
    );
    let second = sync_run::run(&clients, &targets, polling, rerun, &payload).await?;
    let reports = [first, second];
    write_json(args.one("out")?, &reports)?;
    print!("{}", report::sync_table(&reports));
    if let (Some(first_aws), Some(rerun_aws)) = (&reports[0].aws, &reports[1].aws) {
        let deployment = cost::Deployment::template_defaults(setting.writer_concurrency);
        let first_lines = cost::run_lines(&reports[0], first_aws, &deployment);
        let rerun_lines = cost::run_lines(&reports[1], rerun_aws, &deployment);
        let month = cost::month_lines(
            (&first_lines, setting.accountings),
            &rerun_lines,
            &deployment,
            1000,
        );
        print!("{}", report::aws_table(&reports));
        let per_10k = cost::per_10k(&first_lines, setting.accountings);
        print!(
            "{}",
            cost::table("first sync, per 10,000 accountings", &per_10k)
        );
        print!(
            "{}",
            cost::table("no-change rerun of the window", &rerun_lines)
        );
        print!(
            "{}",
            cost::table(
                "a month of a 50-agent desk, 1,000 accountings a day",
                &month
            )
        );
    }
    Ok(())
}

/// The stack's queues and the simulators, from the command line.
fn targets(args: &Args, fetch_function: String) -> Result<sync_run::Targets, BenchError> {
    let targets = sync_run::Targets {
        zammad_url: args.one("zammad-url")?.trim_end_matches('/').to_owned(),
        kimai_url: args.one("kimai-url")?.trim_end_matches('/').to_owned(),
        fetch_function,
        control_table: args.one("control-table")?.to_owned(),
        work_queues: args.pairs("work-queue")?,
        dead_letter_queues: args.pairs("dead-letter-queue")?,
        aws_files: None,
    };
    if targets.work_queues.is_empty() {
        return Err(BenchError::Usage(
            "at least one --work-queue is required".into(),
        ));
    }
    Ok(targets)
}

async fn soak_command(args: &Args) -> Result<(), BenchError> {
    let from: DateTime<Utc> = args.parsed("from", None)?;
    let to: DateTime<Utc> = args.parsed("to", None)?;
    let targets = targets(args, String::new())?;
    let console = soak::Console {
        api_url: args.one("api-url")?.trim_end_matches('/').to_owned(),
        user: args.one("admin-user")?.to_owned(),
        // Not on the command line, where other users of the machine could read it.
        password: std::env::var("SOAK_ADMIN_PASSWORD")
            .map_err(|_| BenchError::Usage("SOAK_ADMIN_PASSWORD must be set".into()))?,
    };
    let polling = sync_run::Polling {
        every: Duration::from_secs(1),
        quiet: Duration::from_secs(args.parsed("quiet-secs", Some(10))?),
        limit: Duration::from_secs(args.parsed("limit-secs", Some(3600))?),
    };
    let config = aws_config::load_from_env().await;
    let clients = sync_run::Clients {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| BenchError::http(&console.api_url, e))?,
        lambda: aws_sdk_lambda::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
        control: sync_store::aws::DynamoControl::new(
            aws_sdk_dynamodb::Client::new(&config),
            targets.control_table.clone(),
        ),
    };
    let report = soak::console_backfill(
        &clients,
        &targets,
        &console,
        polling,
        &from.to_rfc3339(),
        &to.to_rfc3339(),
    )
    .await?;
    write_json(args.one("out")?, &report)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("serialises")
    );
    Ok(())
}

async fn soak_check_command(args: &Args) -> Result<(), BenchError> {
    let world = PathBuf::from(args.one("world")?);
    let zammad = zammad_sim::Dataset::from_file(&world.join("zammad.json"))
        .map_err(|e| BenchError::Dataset(e.to_string()))?;
    let kimai = kimai_sim::Dataset::from_file(&world.join("kimai.json"))
        .map_err(|e| BenchError::Dataset(e.to_string()))?;
    // Kimai's timesheets now, or as kept in a file after the simulators stopped.
    let timesheets: Vec<kimai_sim::AdminTimesheet> = match args.optional("timesheets")? {
        Some(path) => read_json(path)?,
        None => {
            let url = format!(
                "{}/__admin/timesheets",
                args.one("kimai-url")?.trim_end_matches('/')
            );
            reqwest::get(&url)
                .await
                .map_err(|e| BenchError::http(&url, e))?
                .json()
                .await
                .map_err(|e| BenchError::http(&url, e))?
        }
    };
    // The open conflict records from the console (`GET /api/conflicts`): the tickets told
    // `no_room_on_day`.
    let no_room_tickets = match args.optional("conflicts")? {
        Some(path) => {
            let records: Vec<serde_json::Value> = read_json(path)?;
            Some(
                records
                    .iter()
                    .filter(|r| r["conflict"]["reason"] == "no_room_on_day")
                    .filter_map(|r| r["conflict"]["ticket_id"].as_u64())
                    .collect::<std::collections::BTreeSet<u64>>(),
            )
        }
        None => None,
    };
    let activities = match args.values.contains_key("policy") {
        true => Some(soak::Activities::from_policy_file(args.one("policy")?)?),
        false => None,
    };
    let check = soak::check_world_with(
        &zammad,
        &kimai,
        &timesheets,
        activities.as_ref(),
        no_room_tickets.as_ref(),
    );
    write_json(args.one("out")?, &check)?;
    println!(
        "{} accountings in {} groups ({} with net time): {} synced timesheets, {} held back by design, {} problem(s)",
        check.accountings,
        check.groups,
        check.groups_with_time,
        check.synced_timesheets,
        check.held_back.len(),
        check.problems.len()
    );
    for h in &check.held_back {
        println!("  held back: {h}");
    }
    for p in check.problems.iter().take(50) {
        println!("  PROBLEM {p}");
    }
    if check.problems.is_empty() {
        Ok(())
    } else {
        Err(BenchError::Dataset(format!(
            "{} problem(s) in Kimai after the sync",
            check.problems.len()
        )))
    }
}

async fn chaos_command(args: &Args) -> Result<(), BenchError> {
    let targets = chaos::Targets {
        zammad_url: args.one("zammad-url")?.trim_end_matches('/').to_owned(),
        kimai_url: args.one("kimai-url")?.trim_end_matches('/').to_owned(),
        webhook_url: args.one("webhook-url")?.to_owned(),
        webhook_secret: std::env::var("SOAK_WEBHOOK_SECRET")
            .map_err(|_| BenchError::Usage("SOAK_WEBHOOK_SECRET is not set".into()))?,
    };
    let plan = chaos::Plan {
        seed: args.parsed("seed", Some(7))?,
        changes: args.parsed("changes", Some(100))?,
        pause: Duration::from_millis(args.parsed("pause-ms", Some(500))?),
        hand_edits: args.parsed("hand-edits", Some(10))?,
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| BenchError::http("client", e))?;
    let log = chaos::run(&http, &targets, &plan).await?;
    write_json(args.one("out")?, &log)?;
    println!(
        "{} edited, {} deleted, {} corrected, {} added on {} tickets; webhook posts by status {:?} ({} repeated, {} out of order); {} timesheets edited by hand",
        log.edited,
        log.deleted,
        log.corrected,
        log.added,
        log.changed_tickets.len(),
        log.webhook_posts,
        log.webhooks_repeated,
        log.webhooks_out_of_order,
        log.hand_edited.len()
    );
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Io {
        path: path.into(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| BenchError::Dataset(format!("{path}: {e}")))
}

fn write_json(path: &str, value: &impl serde::Serialize) -> Result<(), BenchError> {
    let text = serde_json::to_string_pretty(value).expect("reports serialise");
    std::fs::write(path, text).map_err(|source| BenchError::Io {
        path: path.into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, BenchError> {
        Args::parse(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn flags_values_and_repeats() {
        let a = args("--runs 5 --function a=b=c --function d=e=f --work-queue q=http://x").unwrap();
        assert_eq!(a.one("runs").unwrap(), "5");
        assert_eq!(a.all("function").len(), 2);
        assert!(matches!(a.one("function"), Err(BenchError::Usage(_))));
        assert_eq!(a.parsed::<u32>("runs", Some(7)).unwrap(), 5);
        assert_eq!(a.parsed::<u32>("quiet", Some(7)).unwrap(), 7);
        assert_eq!(
            a.pairs("work-queue").unwrap(),
            vec![("q".to_owned(), "http://x".to_owned())]
        );
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        for bad in ["runs 5", "--runs"] {
            let err = args(bad).err().expect(bad);
            assert_eq!(err.exit_code(), 2);
        }
        let a = args("--runs five --work-queue nourl").unwrap();
        assert!(
            a.parsed::<u32>("runs", Some(1))
                .unwrap_err()
                .to_string()
                .contains("five")
        );
        assert!(
            a.one("out")
                .unwrap_err()
                .to_string()
                .contains("--out is required")
        );
        assert!(matches!(a.pairs("work-queue"), Err(BenchError::Usage(_))));
    }
}
