//! A bootstrap on the real `lambda_runtime`, for the tests of the benchmark's Runtime API and
//! cold-start measurement. `ECHO_MODE` picks its behaviour:
//! - `echo` (default): answers with the event;
//! - `alloc`: touches `ECHO_ALLOC_MIB` MiB while handling, then answers (peak memory grows);
//! - `fail`: the handler returns an error;
//! - `exit-in-init`: prints a reason and exits with status 3 before asking for an event;
//! - `hang-in-init`: never asks for an event.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mode = std::env::var("ECHO_MODE").unwrap_or_else(|_| "echo".to_owned());
    match mode.as_str() {
        "exit-in-init" => {
            eprintln!("echo-bootstrap: missing configuration (on purpose)");
            std::process::exit(3);
        }
        "hang-in-init" => loop {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        },
        _ => {}
    }
    let mode = &mode;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        match mode.as_str() {
            "fail" => Err(Error::from("failing on purpose")),
            "alloc" => {
                let mib: usize = std::env::var("ECHO_ALLOC_MIB")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(32);
                // Touch every page so it is resident, and keep the compiler from skipping it.
                let block = vec![1u8; mib * 1024 * 1024];
                let sum: u64 = block.iter().step_by(4096).map(|b| u64::from(*b)).sum();
                Ok(serde_json::json!({"touched_pages": sum}))
            }
            _ => Ok(event.payload),
        }
    }))
    .await
}
