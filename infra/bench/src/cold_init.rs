//! Cold init of one bootstrap: start the process behind a fresh [`RuntimeApi`], time process
//! start → first `GET /invocation/next`, hand it one event, check the answer, and read its
//! peak memory once it asks for the next event.
//!
//! The process gets exactly the environment Lambda would give it (the function's variables plus
//! Lambda's own), nothing inherited from the shell, so a missing variable shows as an init
//! failure here as it would on AWS.

use crate::error::BenchError;
use crate::runtime_api::{Invocation, RuntimeApi, Seen};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How long each phase may take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// To the first `/next`, and back to `/next` after answering.
    pub init: Duration,
    /// To the answer of the event.
    pub event: Duration,
}

impl Default for Limits {
    /// Lambda's 10 s for init; the functions' template timeout (60 s) for the event.
    fn default() -> Self {
        Limits {
            init: Duration::from_secs(10),
            event: Duration::from_secs(60),
        }
    }
}

/// One bootstrap binary and the environment it runs with.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// Function name for messages and the ARN (e.g. `reconcile`).
    pub function: String,
    pub path: PathBuf,
    pub env: BTreeMap<String, String>,
}

/// How to tell a successful answer from a failed one (a handler may answer "failed" inside a
/// normal response: an HTTP 500, an SQS batch item failure).
pub type Check = dyn Fn(&serde_json::Value) -> Result<(), String> + Send + Sync;

/// One cold start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ColdStart {
    /// Process start (just before spawn) → first `GET /invocation/next`.
    pub init_ms: f64,
    /// Event handed out → answer posted (the first, cold, invocation).
    pub first_event_ms: f64,
    /// Peak resident memory (VmHWM) when ready, before any event.
    pub ready_hwm_kib: u64,
    /// Peak resident memory (VmHWM) after the event, back at `/next`.
    pub peak_hwm_kib: u64,
}

/// Runs the bootstrap once with `event`; its output is appended to `log`.
pub async fn cold_start(
    bootstrap: &Bootstrap,
    event: &serde_json::Value,
    check: &Check,
    log: &Path,
    limits: Limits,
) -> Result<ColdStart, BenchError> {
    let function = bootstrap.function.clone();
    let arn = format!(
        "arn:aws:lambda:{}:000000000000:function:{}",
        bootstrap
            .env
            .get("AWS_REGION")
            .map_or("us-east-1", String::as_str),
        function
    );
    let mut api = RuntimeApi::start(&arn)
        .await
        .map_err(|source| BenchError::Io {
            path: "127.0.0.1:0".into(),
            source,
        })?;
    let log_file = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|source| BenchError::Io {
                path: log.to_owned(),
                source,
            })
    };
    let mut command = Command::new(&bootstrap.path);
    command
        .env_clear()
        .envs(&bootstrap.env)
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .current_dir(bootstrap.path.parent().unwrap_or(Path::new(".")))
        .stdin(Stdio::null())
        .stdout(log_file()?)
        .stderr(log_file()?)
        .kill_on_drop(true);

    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| BenchError::Spawn {
        path: bootstrap.path.clone(),
        source,
    })?;
    let pid = child.id().ok_or_else(|| BenchError::EventNotHandled {
        function: function.clone(),
        what: "exited at once".into(),
    })?;

    let outcome = drive(
        &mut api, &mut child, pid, started, &function, event, check, log, limits,
    )
    .await;
    // Our own child, by its handle: stop it whatever happened.
    let _ = child.start_kill();
    let _ = child.wait().await;
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    api: &mut RuntimeApi,
    child: &mut Child,
    pid: u32,
    started: Instant,
    function: &str,
    event: &serde_json::Value,
    check: &Check,
    log: &Path,
    limits: Limits,
) -> Result<ColdStart, BenchError> {
    // 1. Ready: the first `/next`.
    let ready_at = match wait_seen(api, child, limits.init).await {
        Waited::Seen(Seen::Next { at }) => at,
        Waited::Seen(Seen::InitError { body, .. }) => {
            return Err(BenchError::InitFailed {
                function: function.to_owned(),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Waited::Seen(other) => {
            return Err(BenchError::EventNotHandled {
                function: function.to_owned(),
                what: format!("answered before any event was sent: {other:?}"),
            });
        }
        Waited::Exited(status) => {
            return Err(BenchError::ExitedBeforeReady {
                function: function.to_owned(),
                status,
                output: tail(log),
            });
        }
        Waited::TimedOut => {
            return Err(BenchError::NotReady {
                function: function.to_owned(),
                limit: limits.init,
            });
        }
    };
    let init = ready_at.duration_since(started);
    let ready_hwm_kib = peak_rss_kib(pid)?;

    // 2. One event; the answer must be a success.
    let request_id = uuid::Uuid::new_v4().to_string();
    let sent = Instant::now();
    api.invoke(Invocation {
        request_id: request_id.clone(),
        body: serde_json::to_vec(event).expect("a JSON value serialises"),
    });
    let answered_at = match wait_seen(api, child, limits.event).await {
        Waited::Seen(Seen::Response {
            request_id: id,
            body,
            at,
        }) if id == request_id => {
            let value: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| BenchError::Unsuccessful {
                    function: function.to_owned(),
                    detail: format!("not JSON: {e}"),
                    body: String::from_utf8_lossy(&body).into_owned(),
                })?;
            check(&value).map_err(|detail| BenchError::Unsuccessful {
                function: function.to_owned(),
                detail,
                body: truncate(&value.to_string(), 600),
            })?;
            at
        }
        Waited::Seen(Seen::Error { body, .. }) => {
            return Err(BenchError::HandlerFailed {
                function: function.to_owned(),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Waited::Seen(other) => {
            return Err(BenchError::EventNotHandled {
                function: function.to_owned(),
                what: format!("unexpected call while handling the event: {other:?}"),
            });
        }
        Waited::Exited(status) => {
            return Err(BenchError::EventNotHandled {
                function: function.to_owned(),
                what: format!(
                    "exited ({status}) while handling the event; its last output:\n{}",
                    tail(log)
                ),
            });
        }
        Waited::TimedOut => {
            return Err(BenchError::EventNotHandled {
                function: function.to_owned(),
                what: format!("no answer within {:.1} s", limits.event.as_secs_f64()),
            });
        }
    };

    // 3. Back at `/next`: the invocation is over, everything it allocated has been touched.
    match wait_seen(api, child, limits.init).await {
        Waited::Seen(Seen::Next { .. }) => {}
        other => {
            return Err(BenchError::EventNotHandled {
                function: function.to_owned(),
                what: format!("did not ask for the next event after answering: {other:?}"),
            });
        }
    }
    let peak_hwm_kib = peak_rss_kib(pid)?;
    Ok(ColdStart {
        init_ms: init.as_secs_f64() * 1000.0,
        first_event_ms: answered_at.duration_since(sent).as_secs_f64() * 1000.0,
        ready_hwm_kib,
        peak_hwm_kib,
    })
}

#[derive(Debug)]
enum Waited {
    Seen(Seen),
    Exited(String),
    TimedOut,
}

async fn wait_seen(api: &mut RuntimeApi, child: &mut Child, limit: Duration) -> Waited {
    tokio::select! {
        // Prefer what the process said over its exit: an init error is posted, then it exits.
        biased;
        seen = api.next_seen(limit) => seen.map_or(Waited::TimedOut, Waited::Seen),
        status = child.wait() => Waited::Exited(
            status.map_or_else(|e| e.to_string(), |s| s.to_string()),
        ),
    }
}

/// `VmHWM` of a live process, in KiB: the peak resident set since it started.
pub fn peak_rss_kib(pid: u32) -> Result<u64, BenchError> {
    let path = PathBuf::from(format!("/proc/{pid}/status"));
    let text = std::fs::read_to_string(&path).map_err(|source| BenchError::Io {
        path: path.clone(),
        source,
    })?;
    parse_vm_hwm(&text).ok_or_else(|| BenchError::Io {
        path,
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "no VmHWM line"),
    })
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse().ok())
}

/// The last lines of a log, for error messages.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(15);
    truncate(&lines[from..].join("\n"), 3000)
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_hwm_in_kib() {
        let status =
            "Name:\tbootstrap\nVmPeak:\t  123456 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   19000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(20480));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM:\tlots kB\n"), None);
    }

    #[test]
    fn own_process_has_a_peak() {
        let kib = peak_rss_kib(std::process::id()).unwrap();
        assert!(kib > 100, "{kib} KiB");
    }

    #[test]
    fn a_gone_process_is_an_io_error_naming_the_path() {
        // Pid numbers stop well below this on Linux (pid_max is at most 2^22).
        let err = peak_rss_kib(4_194_304 + 17).unwrap_err();
        assert!(err.to_string().contains("/proc/4194321/status"), "{err}");
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("äöü", 2), "äö…");
        assert_eq!(truncate("ab", 5), "ab");
    }
}
