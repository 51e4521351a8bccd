//! Reading template.yaml in the template tests: the document, `!Ref`/`!GetAtt` values, and a
//! queue consumer's SQS event.
#![allow(dead_code)]

use serde_norway::Value;

pub fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml is readable");
    serde_norway::from_str(&text).expect("template.yaml is YAML")
}

/// A CloudFormation intrinsic such as `!Ref X` or `!GetAtt X.Arn`, as (tag, value).
pub fn tagged(value: &Value) -> Option<(String, String)> {
    match value {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_owned(),
            t.value.as_str()?.to_owned(),
        )),
        _ => None,
    }
}

/// The SQS event of a queue consumer.
pub fn sqs_event<'a>(template: &'a Value, function: &str) -> &'a Value {
    template["Resources"][function]["Properties"]["Events"]
        .as_mapping()
        .unwrap_or_else(|| panic!("{function} has events"))
        .values()
        .find(|e| e["Type"] == "SQS")
        .unwrap_or_else(|| panic!("{function} has an SQS event"))
}

/// The parameter a `!Ref` names, and its name.
pub fn referenced_parameter<'a>(template: &'a Value, value: &Value) -> (&'a Value, String) {
    let (tag, name) = tagged(value).unwrap_or_else(|| panic!("{value:?} is not a !Ref"));
    assert_eq!(tag, "Ref", "{value:?}");
    let parameter = &template["Parameters"][name.as_str()];
    assert!(!parameter.is_null(), "no parameter {name}");
    (parameter, name)
}
