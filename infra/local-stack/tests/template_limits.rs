//! The limits AWS enforces and the template's numbers fit together (CloudFormation cannot
//! compare two numbers, so this test does it for every deploy):
//! - each queue's visibility, at its minimum, is at least 6 x its consumer's timeout (AWS's
//!   guidance for SQS event sources) and at least kimai-writer's claim lease;
//! - scheduled-fetch's timeout is the one the fetch settings are validated against;
//! - the api's timeout fits API Gateway's 30 s integration limit;
//! - every queue consumer has a maximum concurrency from a parameter.

use serde_norway::Value;
use sync_service::settings::FETCH_FUNCTION_TIMEOUT_SECS;
use sync_service::writer::DEFAULT_CLAIM_LEASE_SECS;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml is readable");
    serde_norway::from_str(&text).expect("template.yaml is YAML")
}

/// A function's timeout: its own, else the Globals'.
fn timeout(template: &Value, function: &str) -> u64 {
    let own = &template["Resources"][function]["Properties"]["Timeout"];
    own.as_u64()
        .or_else(|| template["Globals"]["Function"]["Timeout"].as_u64())
        .unwrap_or_else(|| panic!("{function} has no timeout"))
}

/// The parameter a `!Ref` names.
fn referenced_parameter<'a>(template: &'a Value, value: &Value) -> (&'a Value, String) {
    let Value::Tagged(t) = value else {
        panic!("{value:?} is not a !Ref");
    };
    assert_eq!(t.tag.to_string(), "!Ref", "{value:?}");
    let name = t.value.as_str().unwrap().to_owned();
    let parameter = &template["Parameters"][name.as_str()];
    assert!(!parameter.is_null(), "no parameter {name}");
    (parameter, name)
}

fn sqs_event(template: &Value, function: &str) -> Value {
    template["Resources"][function]["Properties"]["Events"]
        .as_mapping()
        .unwrap_or_else(|| panic!("{function} has events"))
        .values()
        .find(|e| e["Type"] == "SQS")
        .unwrap_or_else(|| panic!("{function} has an SQS event"))
        .clone()
}

#[test]
fn queue_visibility_covers_six_consumer_timeouts_and_the_claim_lease() {
    let template = template();
    for (function, queue) in [
        ("ReconcileFunction", "TicketSyncQueue"),
        ("KimaiWriterFunction", "KimaiWriteQueue"),
    ] {
        let visibility = &template["Resources"][queue]["Properties"]["VisibilityTimeout"];
        let (parameter, name) = referenced_parameter(&template, visibility);
        let least = parameter["MinValue"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} has no MinValue: any visibility would deploy"));
        let consumer = timeout(&template, function);
        assert!(
            least >= 6 * consumer,
            "{queue}: {name} may be {least} s, less than 6 x {function}'s {consumer} s timeout"
        );
        assert!(
            least >= DEFAULT_CLAIM_LEASE_SECS as u64,
            "{queue}: {name} may be {least} s, shorter than the writer's {DEFAULT_CLAIM_LEASE_SECS} s claim lease"
        );
    }
}

#[test]
fn the_fetch_settings_are_validated_against_the_deployed_fetch_timeout() {
    let template = template();
    assert_eq!(
        timeout(&template, "ScheduledFetchFunction"),
        u64::from(FETCH_FUNCTION_TIMEOUT_SECS)
    );
}

#[test]
fn the_api_answers_within_api_gateways_limit() {
    let template = template();
    assert!(timeout(&template, "ApiFunction") <= 29);
}

#[test]
fn every_queue_consumer_has_a_maximum_concurrency_from_a_parameter() {
    let template = template();
    for function in ["ReconcileFunction", "KimaiWriterFunction"] {
        let event = sqs_event(&template, function);
        let maximum = &event["Properties"]["ScalingConfig"]["MaximumConcurrency"];
        let (parameter, name) = referenced_parameter(&template, maximum);
        // SQS event sources accept 2..=1000; a default within it deploys as is.
        let default = parameter["Default"].as_u64().unwrap();
        let (min, max) = (
            parameter["MinValue"].as_u64().unwrap(),
            parameter["MaxValue"].as_u64().unwrap(),
        );
        assert!(
            (2..=1000).contains(&min) && (min..=max).contains(&default) && max <= 1000,
            "{function}: {name} {min}..={max}, default {default}"
        );
    }
}

#[test]
fn the_schedule_target_is_the_one_a_console_edit_writes_back() {
    let template = template();
    let target = &template["Resources"]["FetchSchedule"]["Properties"]["Target"];
    assert_eq!(
        target["Input"].as_str(),
        Some(sync_store::aws::SCHEDULED_INPUT)
    );
    assert_eq!(
        target["RetryPolicy"]["MaximumRetryAttempts"].as_i64(),
        Some(i64::from(sync_store::aws::SCHEDULED_RETRY_ATTEMPTS))
    );
}
