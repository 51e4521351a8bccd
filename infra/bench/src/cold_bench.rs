//! Cold starts of every function, several times each, against the deployed stack's resources.
//!
//! Each run is a new process (a cold start). One extra run per function comes first and is not
//! counted: it fills the page cache with the binary, as a warm Lambda host would have it, and
//! lets the api function create its first admin (done once per deployment, not per start).

use crate::cold_init::{Bootstrap, ColdStart, Limits, cold_start};
use crate::error::BenchError;
use crate::events::{self, Representative};
use crate::function_env::{AwsTarget, lambda_environment, read_deployed};
use crate::stats::{Summary, summarise};
use serde::Serialize;
use std::path::{Path, PathBuf};
use sync_store::entries::EntriesStore;

/// The Kimai user, project and activity of the writer's create: Anna (Kimai user 2), customer
/// 1's "Support" project (1) and activity 1 exist in every demo-data world.
const WRITER_TARGET: (u64, u64, u64) = (2, 1, 1);

/// One function to start: its crate name, its deployed name, the binary to run.
#[derive(Debug, Clone)]
pub struct Subject {
    pub function: String,
    pub deployed_name: String,
    pub bootstrap: PathBuf,
}

impl Subject {
    /// `crate=deployed-name=path`.
    pub fn parse(spec: &str) -> Result<Subject, BenchError> {
        let mut parts = spec.splitn(3, '=');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(f), Some(d), Some(p)) if !f.is_empty() && !d.is_empty() && !p.is_empty() => {
                Ok(Subject {
                    function: f.to_owned(),
                    deployed_name: d.to_owned(),
                    bootstrap: PathBuf::from(p),
                })
            }
            _ => Err(BenchError::Usage(format!(
                "--function wants crate=deployed-name=path, got {spec:?}"
            ))),
        }
    }
}

/// The numbers of one function.
#[derive(Debug, Clone, Serialize)]
pub struct ColdReport {
    pub function: String,
    pub build: String,
    pub binary_bytes: u64,
    pub runs: Vec<ColdStart>,
    pub init_ms: Summary,
    pub first_event_ms: Summary,
    pub ready_hwm_kib: Summary,
    pub peak_hwm_kib: Summary,
}

/// What every event needs from the stack.
pub struct Context {
    pub aws: AwsTarget,
    pub config: aws_config::SdkConfig,
    /// A real ticket with an organisation (already synced): reconcile's and the webhook's.
    pub ticket_id: u64,
    pub log_dir: PathBuf,
}

/// Runs `runs` counted cold starts (plus one uncounted) of each subject.
pub async fn bench(
    subjects: &[Subject],
    build: &str,
    runs: u32,
    ctx: &Context,
) -> Result<Vec<ColdReport>, BenchError> {
    let lambda = aws_sdk_lambda::Client::new(&ctx.config);
    let mut reports = Vec::new();
    for subject in subjects {
        let deployed = read_deployed(&lambda, &subject.deployed_name).await?;
        let task_root = subject
            .bootstrap
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let bootstrap = Bootstrap {
            function: subject.function.clone(),
            path: subject.bootstrap.clone(),
            env: lambda_environment(&deployed, &ctx.aws, &task_root),
        };
        let binary_bytes = std::fs::metadata(&subject.bootstrap)
            .map_err(|source| BenchError::Io {
                path: subject.bootstrap.clone(),
                source,
            })?
            .len();
        let log = ctx
            .log_dir
            .join(format!("{}-{build}.log", subject.function));
        let mut measured = Vec::new();
        for run in 0..=runs {
            let event = prepare(subject, &bootstrap, ctx, run).await?;
            let start = cold_start(
                &bootstrap,
                &event.event,
                event.check.as_ref(),
                &log,
                Limits::default(),
            )
            .await?;
            if run > 0 {
                measured.push(start);
            }
        }
        let summary = |f: fn(&ColdStart) -> f64| {
            summarise(&measured.iter().map(f).collect::<Vec<_>>()).expect("at least one run")
        };
        reports.push(ColdReport {
            function: subject.function.clone(),
            build: build.to_owned(),
            binary_bytes,
            init_ms: summary(|s| s.init_ms),
            first_event_ms: summary(|s| s.first_event_ms),
            ready_hwm_kib: summary(|s| s.ready_hwm_kib as f64),
            peak_hwm_kib: summary(|s| s.peak_hwm_kib as f64),
            runs: measured,
        });
    }
    Ok(reports)
}

/// The event of one run, with whatever it needs prepared in the stack first.
async fn prepare(
    subject: &Subject,
    bootstrap: &Bootstrap,
    ctx: &Context,
    run: u32,
) -> Result<Representative, BenchError> {
    let var = |name: &str| {
        bootstrap.env.get(name).cloned().ok_or_else(|| {
            BenchError::Usage(format!(
                "{} has no {name} in its deployed environment",
                subject.deployed_name
            ))
        })
    };
    let message_id = uuid::Uuid::new_v4().to_string();
    Ok(match subject.function.as_str() {
        "scheduled-fetch" => events::scheduled_fetch(),
        "reconcile" => events::reconcile(ctx.ticket_id, &message_id),
        "kimai-writer" => {
            let (user, project, activity) = WRITER_TARGET;
            // Each build gets its own ticket range, so a second build never meets the first's.
            let salt = build_salt(&bootstrap.path);
            let (record, message) =
                events::writer_create(salt + run, user, project, activity, chrono::Utc::now());
            let entries = sync_store::aws::DynamoEntries::new(
                aws_sdk_dynamodb::Client::new(&ctx.config),
                var("ENTRIES_TABLE")?,
            );
            entries
                .save(&record)
                .await
                .map_err(|e| BenchError::aws("dynamodb:PutItem (entry)", e))?;
            events::kimai_writer(&message, &message_id)
        }
        "webhook-ingest" => {
            let secret = secret(&ctx.config, &var("WEBHOOK_SECRET")?).await?;
            events::webhook_ingest(&secret, ctx.ticket_id, &message_id)
        }
        "api" => {
            let password = secret(&ctx.config, &var("CONSOLE_ADMIN_PASSWORD_SECRET")?).await?;
            events::api_login(&var("CONSOLE_ADMIN_USER")?, &password)
        }
        other => {
            return Err(BenchError::Usage(format!(
                "no representative event for function {other:?}"
            )));
        }
    })
}

/// 0, 1000, 2000, ... from the binary's path, so two builds in one stack use other tickets.
fn build_salt(path: &Path) -> u32 {
    let text = path.display().to_string();
    let sum: u32 = text.bytes().map(u32::from).sum();
    (sum % 97) * 1000
}

async fn secret(config: &aws_config::SdkConfig, id: &str) -> Result<String, BenchError> {
    let client = aws_sdk_secretsmanager::Client::new(config);
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| BenchError::aws("secretsmanager:GetSecretValue", e))?;
    out.secret_string().map(str::to_owned).ok_or_else(|| {
        BenchError::aws(
            "secretsmanager:GetSecretValue",
            format!("{id} has no string"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_parse_and_bad_ones_are_usage_errors() {
        let s = Subject::parse("reconcile=stack-ReconcileFunction-1=/x/y/bootstrap").unwrap();
        assert_eq!(s.function, "reconcile");
        assert_eq!(s.deployed_name, "stack-ReconcileFunction-1");
        assert_eq!(s.bootstrap, PathBuf::from("/x/y/bootstrap"));
        for bad in ["reconcile", "reconcile=name", "=a=b", "a==b", "a=b="] {
            assert!(
                matches!(Subject::parse(bad), Err(BenchError::Usage(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn build_salts_are_stable_multiples_of_a_thousand() {
        let a = build_salt(Path::new("/t/bench-release/kimai-writer"));
        assert_eq!(a, build_salt(Path::new("/t/bench-release/kimai-writer")));
        assert_eq!(a % 1000, 0);
        assert!(a < 97_000);
    }
}
