//! The limits AWS enforces and the template's numbers fit together (CloudFormation cannot
//! compare two numbers, so this test does it for every deploy):
//! - each queue's visibility, at its minimum, is at least 6 x its consumer's timeout (AWS's
//!   guidance for SQS event sources) and at least kimai-writer's claim lease;
//! - scheduled-fetch's timeout is the one the fetch settings are validated against;
//! - the api's timeout fits API Gateway's 30 s integration limit;
//! - every queue consumer has a maximum concurrency from a parameter.

#[path = "template/load.rs"]
mod load;

use load::{referenced_parameter, sqs_event, template};
use serde_norway::Value;
use sync_service::settings::FETCH_FUNCTION_TIMEOUT_SECS;
use sync_service::writer::DEFAULT_CLAIM_LEASE_SECS;

/// A function's timeout: its own, else the Globals'.
fn timeout(template: &Value, function: &str) -> u64 {
    let own = &template["Resources"][function]["Properties"]["Timeout"];
    own.as_u64()
        .or_else(|| template["Globals"]["Function"]["Timeout"].as_u64())
        .unwrap_or_else(|| panic!("{function} has no timeout"))
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

#[test]
fn the_daily_connection_check_sends_the_payload_scheduled_fetch_reads_as_a_check() {
    let template = template();
    let target = &template["Resources"]["ConnectionCheckSchedule"]["Properties"]["Target"];
    assert_eq!(
        target["Input"].as_str(),
        Some(sync_lambda::fetch::CHECK_INPUT)
    );
    let arn = &target["Arn"];
    assert_eq!(
        load::tagged(arn),
        Some(("GetAtt".to_owned(), "ScheduledFetchFunction.Arn".to_owned()))
    );
}
