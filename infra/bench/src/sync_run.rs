//! A sync through the deployed stack: invoke scheduled-fetch as the scheduler would (a
//! backfill over the dataset's dates), then watch until the pipeline is idle, and count what it
//! cost in Kimai and Zammad calls.
//!
//! "Idle" is judged from outside, as an operator would: both work queues empty (nothing
//! visible, in flight or delayed) and no new call to either simulator for `quiet` seconds.
//! The simulators' call counters and the queue depths are cheap to read, so they are polled;
//! the full timesheet list is read only before and after.

use crate::aws_usage::{self, AwsUsage};
use crate::error::BenchError;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where the deployed stack and the simulators are.
#[derive(Debug, Clone)]
pub struct Targets {
    pub zammad_url: String,
    pub kimai_url: String,
    pub fetch_function: String,
    pub control_table: String,
    /// Work queues (`ticket-sync`, `kimai-write`): must be empty to be idle.
    pub work_queues: Vec<(String, String)>,
    /// Dead-letter queues: counted at the end.
    pub dead_letter_queues: Vec<(String, String)>,
    /// The emulator's call recording and log, when the stack was started recording: what the
    /// functions asked of AWS ([`crate::aws_usage`]).
    pub aws_files: Option<AwsFiles>,
}

#[derive(Debug, Clone)]
pub struct AwsFiles {
    pub calls: PathBuf,
    pub log: PathBuf,
}

/// How to poll.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    pub every: Duration,
    /// Nothing changed for this long (and the queues are empty): idle.
    pub quiet: Duration,
    /// Give up after this long.
    pub limit: Duration,
}

/// What the simulators say at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Calls {
    pub kimai: BTreeMap<String, u64>,
    pub zammad: BTreeMap<String, u64>,
}

impl Calls {
    pub fn total(&self) -> u64 {
        self.kimai.values().sum::<u64>() + self.zammad.values().sum::<u64>()
    }

    /// What happened between `earlier` and `self` (routes without calls left out).
    pub fn since(&self, earlier: &Calls) -> Calls {
        let diff = |now: &BTreeMap<String, u64>, then: &BTreeMap<String, u64>| {
            now.iter()
                .map(|(k, v)| (k.clone(), v.saturating_sub(*then.get(k).unwrap_or(&0))))
                .filter(|(_, v)| *v > 0)
                .collect()
        };
        Calls {
            kimai: diff(&self.kimai, &earlier.kimai),
            zammad: diff(&self.zammad, &earlier.zammad),
        }
    }
}

/// The creating route of Kimai, as kimai-sim counts it.
pub const KIMAI_CREATE: &str = "POST /api/timesheets";

/// Decides when the pipeline is idle, from a stream of observations.
#[derive(Debug, Clone)]
pub struct Settling {
    quiet: Duration,
    /// Calls and creates at the previous observation (at first: before the invoke).
    last: (u64, u64),
    /// When anything last changed or was still queued.
    pub last_activity: Duration,
    /// When the create counter last moved (the last timesheet written).
    pub last_create: Option<Duration>,
}

impl Settling {
    /// `calls_before` and `creates_before`: the counters just before the invoke (time zero).
    pub fn new(quiet: Duration, calls_before: u64, creates_before: u64) -> Self {
        Settling {
            quiet,
            last: (calls_before, creates_before),
            last_activity: Duration::ZERO,
            last_create: None,
        }
    }

    /// One observation at `at` since the start; true once idle.
    pub fn observe(&mut self, at: Duration, calls_total: u64, creates: u64, queued: u64) -> bool {
        let (calls, created) = self.last;
        if created != creates {
            self.last_create = Some(at);
        }
        if calls != calls_total || queued > 0 {
            self.last_activity = at;
        }
        self.last = (calls_total, creates);
        queued == 0 && at.saturating_sub(self.last_activity) >= self.quiet
    }
}

/// What the run was set up with, to read its numbers against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Setting {
    /// Added by kimai-sim to every Kimai call.
    pub kimai_latency_ms: u64,
    /// The writer's reserved concurrency as deployed.
    pub writer_concurrency: u64,
    /// Accountings in the world.
    pub accountings: u64,
}

/// One sync, measured.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub label: String,
    pub setting: Setting,
    /// What scheduled-fetch answered.
    pub fetch_outcome: Value,
    pub fetch_invoke_s: f64,
    /// Invoke → the last create seen (None: nothing was created).
    pub last_create_s: Option<f64>,
    /// Invoke → the last activity before the pipeline went quiet.
    pub idle_s: f64,
    pub timesheets_before: usize,
    pub timesheets_after: usize,
    /// Calls made during the run, per route.
    pub calls: Calls,
    /// The run's own counters in the control store (created, conflicts, ...).
    pub run_counters: Option<Value>,
    pub dead_letters: BTreeMap<String, u64>,
    /// What the functions asked of AWS, when the emulator recorded it.
    pub aws: Option<AwsUsage>,
}

impl SyncReport {
    pub fn created(&self) -> i64 {
        self.timesheets_after as i64 - self.timesheets_before as i64
    }

    /// The time the Kimai calls take at the set latency, `concurrency` at a time: what the
    /// run's time is held against.
    pub fn latency_bound_s(&self) -> f64 {
        let kimai: u64 = self.calls.kimai.values().sum();
        let lanes = self.setting.writer_concurrency.max(1);
        kimai as f64 * self.setting.kimai_latency_ms as f64 / 1000.0 / lanes as f64
    }
}

/// The clients a sync run needs.
pub struct Clients {
    pub http: reqwest::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub control: sync_store::aws::DynamoControl,
}

/// Invokes scheduled-fetch with `payload` and waits until the pipeline is idle.
pub async fn run(
    clients: &Clients,
    targets: &Targets,
    polling: Polling,
    (label, setting): (&str, Setting),
    payload: &Value,
) -> Result<SyncReport, BenchError> {
    let timesheets_before = timesheet_count(&clients.http, &targets.kimai_url).await?;
    let before = calls(&clients.http, targets).await?;
    let aws_from = targets
        .aws_files
        .as_ref()
        .map(|f| (aws_usage::offset(&f.calls), aws_usage::offset(&f.log)));
    let started = Instant::now();
    let fetch_outcome = invoke(&clients.lambda, &targets.fetch_function, payload).await?;
    let fetch_invoke_s = started.elapsed().as_secs_f64();
    if fetch_outcome.get("outcome").and_then(Value::as_str) != Some("ran")
        || fetch_outcome.get("state").and_then(Value::as_str) != Some("succeeded")
    {
        return Err(BenchError::Unsuccessful {
            function: "scheduled-fetch".into(),
            detail: "the fetch run did not succeed".into(),
            body: fetch_outcome.to_string(),
        });
    }

    let mut settling = Settling::new(
        polling.quiet,
        before.total(),
        before.kimai.get(KIMAI_CREATE).copied().unwrap_or(0),
    );
    let mut last_seen;
    loop {
        let now = calls(&clients.http, targets).await?;
        let queued = queue_depth(&clients.sqs, &targets.work_queues).await?;
        let at = started.elapsed();
        let creates = now.kimai.get(KIMAI_CREATE).copied().unwrap_or(0);
        last_seen = format!(
            "{queued} message(s) queued, {} calls so far",
            now.since(&before).total()
        );
        if settling.observe(at, now.total(), creates, queued) {
            break;
        }
        if at >= polling.limit {
            return Err(BenchError::NotSettled {
                limit: polling.limit,
                last: last_seen,
            });
        }
        tokio::time::sleep(polling.every).await;
    }
    let after = calls(&clients.http, targets).await?;
    let timesheets_after = timesheet_count(&clients.http, &targets.kimai_url).await?;
    let run_counters = match fetch_outcome.get("run_id").and_then(Value::as_str) {
        Some(id) => run_counters(&clients.control, id).await?,
        None => None,
    };
    let aws = match (&targets.aws_files, aws_from) {
        (Some(files), Some((calls_from, log_from))) => {
            let mut usage = AwsUsage::default();
            let read = |path: &PathBuf, from| {
                aws_usage::written_since(path, from).map_err(|source| BenchError::Io {
                    path: path.clone(),
                    source,
                })
            };
            aws_usage::add_calls(&mut usage, &read(&files.calls, calls_from)?);
            aws_usage::add_log(&mut usage, &read(&files.log, log_from)?);
            Some(usage)
        }
        _ => None,
    };
    let mut dead_letters = BTreeMap::new();
    for (name, url) in &targets.dead_letter_queues {
        let depth = queue_depth(&clients.sqs, &[(name.clone(), url.clone())]).await?;
        dead_letters.insert(name.clone(), depth);
    }
    Ok(SyncReport {
        label: label.to_owned(),
        setting,
        fetch_outcome,
        fetch_invoke_s,
        last_create_s: settling.last_create.map(|d| d.as_secs_f64()),
        idle_s: settling.last_activity.as_secs_f64(),
        timesheets_before,
        timesheets_after,
        calls: after.since(&before),
        run_counters,
        dead_letters,
        aws,
    })
}

/// Invokes a function synchronously; its error (`FunctionError`) is ours.
async fn invoke(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    payload: &Value,
) -> Result<Value, BenchError> {
    let out = lambda
        .invoke()
        .function_name(function)
        .payload(aws_sdk_lambda::primitives::Blob::new(
            serde_json::to_vec(payload).expect("JSON serialises"),
        ))
        .send()
        .await
        .map_err(|e| BenchError::aws("lambda:Invoke", e))?;
    let body = out
        .payload()
        .map(|b| b.as_ref().to_vec())
        .unwrap_or_default();
    if let Some(error) = out.function_error() {
        return Err(BenchError::HandlerFailed {
            function: function.to_owned(),
            body: format!("{error}: {}", String::from_utf8_lossy(&body)),
        });
    }
    serde_json::from_slice(&body).map_err(|e| BenchError::Unsuccessful {
        function: function.to_owned(),
        detail: format!("not JSON: {e}"),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Both simulators' call counters.
pub async fn calls(http: &reqwest::Client, targets: &Targets) -> Result<Calls, BenchError> {
    Ok(Calls {
        kimai: get_json(http, &admin(&targets.kimai_url, "calls")).await?,
        zammad: get_json(http, &admin(&targets.zammad_url, "counters")).await?,
    })
}

/// How many timesheets Kimai holds (all users).
pub async fn timesheet_count(http: &reqwest::Client, kimai_url: &str) -> Result<usize, BenchError> {
    let all: Vec<Value> = get_json(http, &admin(kimai_url, "timesheets")).await?;
    Ok(all.len())
}

/// `<base>/__admin/<what>`, whether or not the base URL ends with a slash.
fn admin(base: &str, what: &str) -> String {
    format!("{}/__admin/{what}", base.trim_end_matches('/'))
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, BenchError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| BenchError::http(url, e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(BenchError::http(url, format!("status {status}")));
    }
    response.json().await.map_err(|e| BenchError::http(url, e))
}

/// Messages visible, in flight and delayed, over the given queues.
pub async fn queue_depth(
    sqs: &aws_sdk_sqs::Client,
    queues: &[(String, String)],
) -> Result<u64, BenchError> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let mut total = 0;
    for (_, url) in queues {
        let out = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(A::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| BenchError::aws("sqs:GetQueueAttributes", e))?;
        if let Some(attributes) = out.attributes() {
            total += attributes
                .values()
                .filter_map(|v| v.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    Ok(total)
}

pub async fn run_counters(
    control: &sync_store::aws::DynamoControl,
    run_id: &str,
) -> Result<Option<Value>, BenchError> {
    use sync_store::control::{ControlStore, RunId};
    let run = control
        .get_run(&RunId(run_id.to_owned()))
        .await
        .map_err(|e| BenchError::aws("dynamodb:GetItem (sync run)", e))?;
    Ok(run.map(|run| {
        let counters: serde_json::Map<String, Value> = run
            .counters
            .fields()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        serde_json::json!({"state": format!("{:?}", run.state), "counters": counters})
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn idle_only_after_a_quiet_period_with_empty_queues() {
        let mut settling = Settling::new(s(3), 0, 0);
        assert!(!settling.observe(s(0), 10, 0, 5));
        assert!(!settling.observe(s(1), 20, 3, 2));
        assert!(!settling.observe(s(2), 30, 6, 0)); // calls still moving
        assert!(!settling.observe(s(3), 30, 6, 0));
        assert!(!settling.observe(s(4), 30, 6, 0));
        assert!(settling.observe(s(5), 30, 6, 0)); // quiet since 2 s
        assert_eq!(settling.last_activity, s(2));
        assert_eq!(settling.last_create, Some(s(2)));
    }

    #[test]
    fn queued_messages_keep_it_busy_even_without_calls() {
        let mut settling = Settling::new(s(2), 5, 0);
        settling.observe(s(0), 5, 0, 1);
        for t in 1..10 {
            // A message waiting for the poller: no calls, but not idle.
            assert!(!settling.observe(s(t), 5, 0, 1));
        }
        assert!(!settling.observe(s(10), 5, 0, 0));
        assert!(settling.observe(s(12), 5, 0, 0));
        assert_eq!(settling.last_create, None);
    }

    #[test]
    fn work_done_before_the_first_poll_is_compared_with_before_the_invoke() {
        // Everything happened between the invoke and the first look.
        let mut settling = Settling::new(s(2), 100, 7);
        assert!(!settling.observe(s(1), 180, 27, 0));
        assert_eq!(settling.last_create, Some(s(1)));
        assert!(!settling.observe(s(2), 180, 27, 0));
        assert!(settling.observe(s(3), 180, 27, 0));
        assert_eq!(settling.last_activity, s(1));
    }

    #[test]
    fn nothing_to_do_is_idle_after_the_quiet_period_from_the_invoke() {
        let mut settling = Settling::new(s(1), 4, 0);
        assert!(!settling.observe(Duration::from_millis(500), 4, 0, 0));
        assert!(settling.observe(s(1), 4, 0, 0));
        assert_eq!(settling.last_create, None);
    }

    #[test]
    fn calls_since_keeps_only_routes_that_moved() {
        let before = Calls {
            kimai: BTreeMap::from([
                ("GET /api/users".into(), 2),
                ("POST /api/timesheets".into(), 1),
            ]),
            zammad: BTreeMap::new(),
        };
        let after = Calls {
            kimai: BTreeMap::from([
                ("GET /api/users".into(), 2),
                ("POST /api/timesheets".into(), 11),
                ("GET /api/timesheets".into(), 4),
            ]),
            zammad: BTreeMap::from([("GET /api/v1/tickets/{id}".into(), 7)]),
        };
        let d = after.since(&before);
        assert_eq!(
            d.kimai,
            BTreeMap::from([
                ("POST /api/timesheets".into(), 10),
                ("GET /api/timesheets".into(), 4)
            ])
        );
        assert_eq!(d.zammad["GET /api/v1/tickets/{id}"], 7);
        assert_eq!(d.total(), 21);
    }
}
