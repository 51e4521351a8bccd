//! The cold-start measurement against a real bootstrap (`echo-bootstrap`, on the real
//! `lambda_runtime`) behind the benchmark's Runtime API on loopback.

use serde_json::{Value, json};
use stack_bench::cold_init::{Bootstrap, Limits, cold_start};
use stack_bench::error::BenchError;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

fn bootstrap(mode: &str, extra: &[(&str, &str)]) -> Bootstrap {
    let mut env = BTreeMap::from([
        ("AWS_LAMBDA_FUNCTION_NAME".to_owned(), "echo".to_owned()),
        (
            "AWS_LAMBDA_FUNCTION_VERSION".to_owned(),
            "$LATEST".to_owned(),
        ),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".to_owned(),
            "128".to_owned(),
        ),
        ("ECHO_MODE".to_owned(), mode.to_owned()),
    ]);
    for (k, v) in extra {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    Bootstrap {
        function: "echo".into(),
        path: PathBuf::from(env!("CARGO_BIN_EXE_echo-bootstrap")),
        env,
    }
}

fn log(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("stack-bench-{name}-{}.log", std::process::id()))
}

fn accept_all(_: &Value) -> Result<(), String> {
    Ok(())
}

fn short() -> Limits {
    Limits {
        init: Duration::from_secs(5),
        event: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn measures_init_event_and_memory_of_a_real_runtime() {
    let event = json!({"hello": "world", "n": 3});
    let expected = event.clone();
    let check = move |answer: &Value| {
        if *answer == expected {
            Ok(())
        } else {
            Err(format!("echo differs: {answer}"))
        }
    };
    let start = cold_start(
        &bootstrap("echo", &[]),
        &event,
        &check,
        &log("echo"),
        short(),
    )
    .await
    .unwrap();
    assert!(start.init_ms > 0.0 && start.init_ms < 5000.0, "{start:?}");
    assert!(start.first_event_ms > 0.0, "{start:?}");
    assert!(start.ready_hwm_kib > 500, "{start:?}");
    assert!(start.peak_hwm_kib >= start.ready_hwm_kib, "{start:?}");
}

#[tokio::test]
async fn peak_memory_is_read_after_the_event() {
    let start = cold_start(
        &bootstrap("alloc", &[("ECHO_ALLOC_MIB", "48")]),
        &json!({}),
        &accept_all,
        &log("alloc"),
        short(),
    )
    .await
    .unwrap();
    let grown_mib = (start.peak_hwm_kib - start.ready_hwm_kib) / 1024;
    assert!(grown_mib >= 44, "grew by {grown_mib} MiB: {start:?}");
}

#[tokio::test]
async fn a_failed_handler_is_an_error_with_its_message() {
    let err = cold_start(
        &bootstrap("fail", &[]),
        &json!({}),
        &accept_all,
        &log("fail"),
        short(),
    )
    .await
    .unwrap_err();
    match err {
        BenchError::HandlerFailed { body, .. } => {
            assert!(body.contains("failing on purpose"), "{body}")
        }
        other => panic!("expected HandlerFailed, got {other}"),
    }
}

#[tokio::test]
async fn an_answer_the_check_refuses_is_unsuccessful() {
    let refuse = |_: &Value| Err("status 500".to_owned());
    let err = cold_start(
        &bootstrap("echo", &[]),
        &json!({"statusCode": 500}),
        &refuse,
        &log("refuse"),
        short(),
    )
    .await
    .unwrap_err();
    match err {
        BenchError::Unsuccessful { detail, body, .. } => {
            assert_eq!(detail, "status 500");
            assert!(body.contains("500"), "{body}");
        }
        other => panic!("expected Unsuccessful, got {other}"),
    }
}

#[tokio::test]
async fn an_exit_during_init_shows_the_processs_own_output() {
    let err = cold_start(
        &bootstrap("exit-in-init", &[]),
        &json!({}),
        &accept_all,
        &log("exit"),
        short(),
    )
    .await
    .unwrap_err();
    match err {
        BenchError::ExitedBeforeReady { status, output, .. } => {
            assert!(status.contains('3'), "{status}");
            assert!(output.contains("missing configuration"), "{output}");
        }
        other => panic!("expected ExitedBeforeReady, got {other}"),
    }
}

#[tokio::test]
async fn a_bootstrap_that_never_asks_is_not_ready_in_time() {
    let limits = Limits {
        init: Duration::from_millis(700),
        event: Duration::from_secs(1),
    };
    let err = cold_start(
        &bootstrap("hang-in-init", &[]),
        &json!({}),
        &accept_all,
        &log("hang"),
        limits,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, BenchError::NotReady { .. }), "{err}");
}

#[tokio::test]
async fn without_lambdas_variables_the_runtime_fails_its_init() {
    // The environment is cleared: nothing from this shell leaks in, so a missing variable
    // fails here as it would on Lambda.
    let mut b = bootstrap("echo", &[]);
    b.env.remove("AWS_LAMBDA_FUNCTION_NAME");
    let err = cold_start(&b, &json!({}), &accept_all, &log("noenv"), short())
        .await
        .unwrap_err();
    match err {
        BenchError::ExitedBeforeReady { output, .. } => {
            assert!(output.contains("AWS_LAMBDA_FUNCTION_NAME"), "{output}")
        }
        other => panic!("expected ExitedBeforeReady, got {other}"),
    }
}

#[tokio::test]
async fn a_missing_binary_is_a_spawn_error_naming_it() {
    let mut b = bootstrap("echo", &[]);
    b.path = PathBuf::from("/nonexistent/bootstrap");
    let err = cold_start(&b, &json!({}), &accept_all, &log("missing"), short())
        .await
        .unwrap_err();
    assert!(matches!(err, BenchError::Spawn { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/bootstrap"));
}
