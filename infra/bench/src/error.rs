//! What can go wrong in a benchmark run, and whose fault it is.
//!
//! Every variant ends the run with a message: a benchmark that measured something other than
//! what it claims (a handler that failed, a pipeline that never drained) must not print numbers.

use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum BenchError {
    /// Wrong command line: fix the arguments (exit status 2).
    #[error("{0}")]
    Usage(String),

    /// The bootstrap could not be started at all (missing file, not executable).
    #[error("cannot start {path}: {source}")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The bootstrap died during its init phase: usually a missing variable or an unreachable
    /// dependency. Its own output says which.
    #[error(
        "{function}: exited ({status}) before asking for its first event; its last output:\n{output}"
    )]
    ExitedBeforeReady {
        function: String,
        status: String,
        output: String,
    },

    /// The bootstrap reported a failed init through the Runtime API.
    #[error("{function}: reported an init error: {body}")]
    InitFailed { function: String, body: String },

    /// No `GET /invocation/next` within the limit (Lambda allows 10 s of init).
    #[error("{function}: not ready for an event within {:.1} s", .limit.as_secs_f64())]
    NotReady { function: String, limit: Duration },

    /// The handler answered through `/error`: the event was not representative.
    #[error("{function}: the handler failed the event: {body}")]
    HandlerFailed { function: String, body: String },

    /// The handler answered, but not with the success the event should produce.
    #[error("{function}: the answer is not a success ({detail}): {body}")]
    Unsuccessful {
        function: String,
        detail: String,
        body: String,
    },

    /// The process died or hung while handling the event.
    #[error("{function}: {what}")]
    EventNotHandled { function: String, what: String },

    /// A file or `/proc` entry could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// An HTTP call to a simulator failed or answered something unexpected.
    #[error("{url}: {detail}")]
    Http { url: String, detail: String },

    /// A call to the AWS emulator failed.
    #[error("AWS {operation}: {detail}")]
    Aws { operation: String, detail: String },

    /// The pipeline kept working (or kept messages) past the time limit.
    #[error("the sync did not settle within {:.0} s; last seen: {last}", .limit.as_secs_f64())]
    NotSettled { limit: Duration, last: String },

    /// The demo-data generator cannot produce the asked size.
    #[error("dataset: {0}")]
    Dataset(String),
}

impl BenchError {
    pub fn http(url: &str, detail: impl std::fmt::Display) -> Self {
        BenchError::Http {
            url: url.to_owned(),
            detail: detail.to_string(),
        }
    }

    pub fn aws(operation: &str, detail: impl std::fmt::Debug) -> Self {
        BenchError::Aws {
            operation: operation.to_owned(),
            detail: format!("{detail:?}"),
        }
    }

    /// Exit status: 2 for the caller's mistakes, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            BenchError::Usage(_) => 2,
            _ => 1,
        }
    }
}
