//! template.yaml declares exactly the tables, key attributes, indexes, TTL attributes and queue
//! settings of `sync_store::schema` (the one definition), and hands every function the
//! environment variables the adapters read.

#[path = "template/load.rs"]
mod load;

use load::{referenced_parameter, sqs_event, tagged, template};
use serde_norway::Value;
use std::collections::BTreeSet;
use sync_store::schema::{self, KeyAttr, KeyType, Projected, QueueDef, TableDef};

/// `EntriesTable` for `entries`, `TicketSyncQueue` for `ticket-sync`.
fn logical_id(short: &str, suffix: &str) -> String {
    let camel: String = short
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("{camel}{suffix}")
}

fn resource<'a>(template: &'a Value, logical: &str) -> &'a Value {
    let r = &template["Resources"][logical];
    assert!(!r.is_null(), "template.yaml has no resource {logical}");
    r
}

fn kind(k: KeyType) -> &'static str {
    match k {
        KeyType::S => "S",
        KeyType::N => "N",
    }
}

fn key_schema(hash: KeyAttr, range: Option<KeyAttr>) -> Vec<(String, String)> {
    let mut keys = vec![(hash.name.to_owned(), "HASH".to_owned())];
    if let Some(r) = range {
        keys.push((r.name.to_owned(), "RANGE".to_owned()));
    }
    keys
}

fn declared_key_schema(v: &Value) -> Vec<(String, String)> {
    v.as_sequence()
        .expect("KeySchema is a list")
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_owned(),
                k["KeyType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn check_table(template: &Value, table: &TableDef) {
    let logical = logical_id(table.logical, "Table");
    let props = &resource(template, &logical)["Properties"];
    assert_eq!(resource(template, &logical)["Type"], "AWS::DynamoDB::Table");
    assert_eq!(props["BillingMode"], "PAY_PER_REQUEST", "{logical}");

    assert_eq!(
        declared_key_schema(&props["KeySchema"]),
        key_schema(table.hash, table.range),
        "{logical}: key schema"
    );

    // Attribute definitions: exactly the key attributes of the table and its indexes.
    let mut expected = BTreeSet::new();
    let mut add = |a: KeyAttr| {
        expected.insert((a.name.to_owned(), kind(a.kind).to_owned()));
    };
    add(table.hash);
    table.range.into_iter().for_each(&mut add);
    for index in table.indexes {
        add(index.hash);
        index.range.into_iter().for_each(&mut add);
    }
    let declared: BTreeSet<(String, String)> = props["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions is a list")
        .iter()
        .map(|a| {
            (
                a["AttributeName"].as_str().unwrap().to_owned(),
                a["AttributeType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(declared, expected, "{logical}: attribute definitions");

    // Indexes: same names, keys, projection ALL.
    let declared_indexes = props["GlobalSecondaryIndexes"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        declared_indexes.len(),
        table.indexes.len(),
        "{logical}: number of GSIs"
    );
    for index in table.indexes {
        let gsi = declared_indexes
            .iter()
            .find(|g| g["IndexName"] == index.name)
            .unwrap_or_else(|| panic!("{logical}: index {} is missing", index.name));
        assert_eq!(
            declared_key_schema(&gsi["KeySchema"]),
            key_schema(index.hash, index.range),
            "{logical}/{}: key schema",
            index.name
        );
        let projection = match index.projection {
            Projected::All => "ALL",
            Projected::KeysOnly => "KEYS_ONLY",
        };
        assert_eq!(
            gsi["Projection"]["ProjectionType"], projection,
            "{}",
            index.name
        );
    }

    // TTL.
    let ttl = &props["TimeToLiveSpecification"];
    match table.ttl_attribute {
        Some(attr) => {
            assert_eq!(ttl["AttributeName"], attr, "{logical}: TTL attribute");
            assert_eq!(ttl["Enabled"], true, "{logical}: TTL enabled");
        }
        None => assert!(ttl.is_null(), "{logical}: no TTL expected"),
    }
}

/// The default of the parameter a property refers to with `!Ref`.
fn parameter_default(template: &Value, property: &Value) -> u64 {
    let (parameter, name) = referenced_parameter(template, property);
    parameter["Default"]
        .as_u64()
        .unwrap_or_else(|| panic!("parameter {name} has no numeric default"))
}

fn check_queue(template: &Value, queue: &QueueDef) {
    let logical = logical_id(queue.logical, "Queue");
    let dlq_logical = logical_id(queue.logical, "DeadLetterQueue");
    let props = &resource(template, &logical)["Properties"];
    let dlq = &resource(template, &dlq_logical)["Properties"];
    // Both come from parameters whose defaults (what AWS gets) are the schema's values; the
    // local stack deploys short ones.
    assert_eq!(
        parameter_default(template, &props["VisibilityTimeout"]),
        u64::from(queue.visibility_timeout_secs),
        "{logical}: visibility timeout"
    );
    let redrive = &props["RedrivePolicy"];
    assert_eq!(
        parameter_default(template, &redrive["maxReceiveCount"]),
        u64::from(queue.max_receive_count),
        "{logical}: maxReceiveCount"
    );
    assert_eq!(
        tagged(&redrive["deadLetterTargetArn"]),
        Some(("GetAtt".to_owned(), format!("{dlq_logical}.Arn"))),
        "{logical}: redrive target"
    );
    assert_eq!(
        dlq["MessageRetentionPeriod"].as_u64(),
        Some(u64::from(queue.dlq_retention_secs)),
        "{dlq_logical}: retention"
    );
}

#[test]
fn every_table_matches_the_schema() {
    let template = template();
    for table in &schema::TABLES {
        check_table(&template, table);
    }
    let declared = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::DynamoDB::Table")
        .count();
    assert_eq!(
        declared,
        schema::TABLES.len(),
        "no tables beyond the schema"
    );
}

#[test]
fn every_queue_matches_the_schema() {
    let template = template();
    for queue in &schema::QUEUES {
        check_queue(&template, queue);
    }
    let declared = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::SQS::Queue")
        .count();
    assert_eq!(declared, 2 * schema::QUEUES.len(), "queues and DLQs only");
}

#[test]
fn functions_get_the_environment_the_adapters_read() {
    let template = template();
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    for table in &schema::TABLES {
        assert_eq!(
            tagged(&env[table.env_var]),
            Some(("Ref".to_owned(), logical_id(table.logical, "Table"))),
            "{}",
            table.env_var
        );
    }
    for queue in &schema::QUEUES {
        assert_eq!(
            tagged(&env[queue.env_var]),
            Some(("Ref".to_owned(), logical_id(queue.logical, "Queue"))),
            "{}",
            queue.env_var
        );
        assert_eq!(
            tagged(&env[queue.dlq_env_var]),
            Some((
                "Ref".to_owned(),
                logical_id(queue.logical, "DeadLetterQueue")
            )),
            "{}",
            queue.dlq_env_var
        );
    }
    use sync_store::env as vars;
    for var in [
        vars::ZAMMAD_TOKEN_SECRET,
        vars::KIMAI_TOKEN_SECRET,
        vars::WEBHOOK_SECRET,
        vars::CONSOLE_SIGNING_KEY_SECRET,
        vars::AUDIT_SYNC_RETENTION_DAYS,
        vars::QUEUE_MAX_RECEIVE_COUNT,
    ] {
        assert!(
            tagged(&env[var]).is_some(),
            "{var} is set from the template"
        );
    }
    // The consumers learn the queues' maxReceiveCount from the same parameter the queues use.
    assert_eq!(
        tagged(&env[vars::QUEUE_MAX_RECEIVE_COUNT]),
        Some(("Ref".to_owned(), "QueueMaxReceiveCount".to_owned()))
    );
    let api_env = &resource(&template, "ApiFunction")["Properties"]["Environment"]["Variables"];
    for var in [
        vars::SCHEDULE_NAME,
        vars::SCHEDULE_TARGET_ARN,
        vars::SCHEDULE_ROLE_ARN,
        vars::SCHEDULE_GROUP,
        console_api::runtime::CONSOLE_ADMIN_PASSWORD_SECRET,
        console_api::runtime::CONSOLE_ADMIN_USER,
    ] {
        assert!(!api_env[var].is_null(), "api gets {var}");
    }
    // The first admin's password is generated on deploy, never a literal in the template.
    assert_eq!(
        tagged(&api_env[console_api::runtime::CONSOLE_ADMIN_PASSWORD_SECRET]),
        Some(("Ref".to_owned(), "ConsoleAdminPasswordSecret".to_owned()))
    );
    assert!(
        !resource(&template, "ConsoleAdminPasswordSecret")["Properties"]["GenerateSecretString"]
            .is_null(),
        "the admin password is generated"
    );
}

#[test]
fn queue_consumers_report_partial_batch_failures() {
    let template = template();
    for (function, queue) in [
        ("ReconcileFunction", "TicketSyncQueue"),
        ("KimaiWriterFunction", "KimaiWriteQueue"),
    ] {
        let sqs = sqs_event(&template, function);
        assert_eq!(
            tagged(&sqs["Properties"]["Queue"]),
            Some(("GetAtt".to_owned(), format!("{queue}.Arn")))
        );
        let types = sqs["Properties"]["FunctionResponseTypes"]
            .as_sequence()
            .unwrap();
        assert!(
            types.iter().any(|t| t == "ReportBatchItemFailures"),
            "{function}"
        );
    }
}

#[test]
fn logical_ids_follow_the_schema_names() {
    assert_eq!(logical_id("ticket-sync", "Queue"), "TicketSyncQueue");
    assert_eq!(logical_id("entries", "Table"), "EntriesTable");
}

#[test]
fn the_functions_that_publish_events_may_and_the_notification_rules_match_what_needs_a_person() {
    let template = template();
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(
        tagged(&env[sync_store::env::EVENT_BUS_NAME]),
        Some(("Ref".to_owned(), "EventBus".to_owned()))
    );
    // `!If [MetricsOn, "on", "off"]`: the metrics follow the EmitMetrics parameter.
    let Value::Tagged(metrics) = &env[sync_lambda::metrics::SYNC_METRICS] else {
        panic!("SYNC_METRICS is set from the EmitMetrics parameter")
    };
    assert_eq!(metrics.tag.to_string(), "!If");
    assert_eq!(metrics.value[0].as_str(), Some("MetricsOn"));
    assert_eq!(metrics.value[2].as_str(), Some("off"));
    // Every function that ends runs, opens conflicts or dead-letters messages may PutEvents
    // on the stack's bus (and IAM on AWS refuses the others).
    for function in [
        "ScheduledFetchFunction",
        "ReconcileFunction",
        "KimaiWriterFunction",
        "ApiFunction",
    ] {
        let policies = resource(&template, function)["Properties"]["Policies"]
            .as_sequence()
            .unwrap();
        let allowed = policies.iter().any(|p| {
            tagged(&p["EventBridgePutEventsPolicy"]["EventBusName"])
                == Some(("Ref".to_owned(), "EventBus".to_owned()))
        });
        assert!(allowed, "{function} may put events on the bus");
    }
    let wanted: BTreeSet<&str> = sync_service::events::NOTIFIED.iter().copied().collect();
    for rule in ["NotifyByEmailRule", "NotifyChatRule"] {
        let pattern = &resource(&template, rule)["Properties"]["EventPattern"];
        assert_eq!(
            pattern["source"][0].as_str(),
            Some(sync_store::events::EVENT_SOURCE),
            "{rule}"
        );
        let types: BTreeSet<&str> = pattern["detail-type"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(types, wanted, "{rule}");
        // Muted types are published with notify: false; the rules must not deliver them.
        let notify = pattern["detail"]["notify"].as_sequence();
        assert_eq!(
            notify.map(|v| v.iter().map(|b| b.as_bool()).collect::<Vec<_>>()),
            Some(vec![Some(true)]),
            "{rule} matches notify: true only"
        );
    }
    // The chat's text is the event's one-line summary, which every detail carries.
    let target = &resource(&template, "NotifyChatRule")["Properties"]["Targets"][0];
    let transformer = &target["InputTransformer"];
    assert_eq!(
        transformer["InputPathsMap"]["summary"].as_str(),
        Some("$.detail.summary")
    );
    let rendered = transformer["InputTemplate"]
        .as_str()
        .unwrap()
        .replace("<type>", "SyncRun Failed")
        .replace("<summary>", "a summary");
    let json: serde_json::Value = serde_json::from_str(&rendered).expect("the template is JSON");
    assert!(json["text"].as_str().unwrap().contains("a summary"));
}

/// The console API answers only what the console's CloudFront forwards: the distribution sends
/// the origin secret the api function is told to require, and the function may read it.
#[test]
fn the_console_api_is_reached_only_through_cloudfront_by_default() {
    let template = template();
    let api = resource(&template, "ApiFunction");
    let origin_env =
        &api["Properties"]["Environment"]["Variables"][sync_store::env::CONSOLE_ORIGIN_SECRET];
    let text = serde_norway::to_string(origin_env).unwrap();
    assert!(
        text.contains("ApiOnlyThroughCloudFront") && text.contains("ConsoleOriginSecret"),
        "{text}"
    );
    assert_eq!(
        template["Parameters"]["ConsoleApiDirectAccess"]["Default"], "false",
        "direct access is off unless asked for"
    );
    let origins =
        &resource(&template, "ConsoleDistribution")["Properties"]["DistributionConfig"]["Origins"];
    let api_origin = origins
        .as_sequence()
        .unwrap()
        .iter()
        .find(|o| o["Id"] == "console-api")
        .expect("the API origin");
    let headers = serde_norway::to_string(&api_origin["OriginCustomHeaders"]).unwrap();
    assert!(
        headers.to_lowercase().contains(&format!(
            "headername: {}",
            console_api::context::ORIGIN_VERIFY_HEADER
        )) && headers.contains("{{resolve:secretsmanager:${ConsoleOriginSecret}:SecretString}}"),
        "{headers}"
    );
    let policies = serde_norway::to_string(&api["Properties"]["Policies"]).unwrap();
    let reads = policies
        .split("- Effect")
        .filter(|s| s.contains("secretsmanager:GetSecretValue"))
        .any(|s| s.contains("ConsoleOriginSecret"));
    assert!(
        reads,
        "the api function may read the origin secret: {policies}"
    );
    // The viewer's address reaches the API: the managed policy AllViewerExceptHostHeader
    // forwards the viewer location headers, CloudFront-Viewer-Address among them.
    let behaviour = serde_norway::to_string(
        &resource(&template, "ConsoleDistribution")["Properties"]["DistributionConfig"]
            ["CacheBehaviors"],
    )
    .unwrap();
    assert!(
        behaviour.contains("b689b0a8-53d0-40ab-baf2-68738e2966ac"),
        "{behaviour}"
    );
}
