//! What the OpenAPI document says of inputs whose Rust types are looser than their checks:
//! strings that take a few values, ids that start at 1, text with a shape. Each schema states
//! what the matching check in this crate accepts, so a client (and schemathesis) can generate
//! valid data from the document alone. Used with `#[schema(schema_with = …)]`.

use serde_json::json;
use utoipa::openapi::schema::{
    AdditionalProperties, Array, ArrayBuilder, Object, ObjectBuilder, OneOfBuilder, Schema,
    SchemaType, Type,
};

use crate::console::gdpr::{MAX_IDENTIFIER_LEN, MAX_IDENTIFIERS};
use crate::console::policy_settings::{MAX_ROUNDING_MINUTES, MAX_TEMPLATE_LEN, PLACEHOLDERS};
use crate::console::users::{MAX_USERNAME_LEN, USERNAME_PATTERN};
use crate::privacy::find::MIN_IDENTIFIER_LEN;

/// A string that is one of `values`; the first is the example.
pub fn one_of_strings(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .examples([json!(values[0])])
        .build()
}

/// `schema`, or `null`: for optional fields, where leaving the field out and sending `null`
/// mean the same. An enum gets `null` among its values, or `null` would still be refused.
pub fn or_null(mut schema: Object) -> Object {
    if let SchemaType::Type(t) = schema.schema_type {
        schema.schema_type = SchemaType::from_iter([t, Type::Null]);
    }
    if let Some(values) = &mut schema.enum_values {
        values.push(serde_json::Value::Null);
    }
    schema
}

/// The largest id the API takes: JavaScript's largest exact integer, so the console (and any
/// JSON reader with doubles) reads back the id it was given.
pub const MAX_ID: u64 = 9_007_199_254_740_991;

/// Whether `id` is one the document's [`id`] schema allows: 1 to [`MAX_ID`].
pub fn is_id(id: u64) -> bool {
    (1..=MAX_ID).contains(&id)
}

/// A Kimai or Zammad id: a whole number from 1.
pub fn id() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .minimum(Some(1))
        .maximum(Some(MAX_ID as i64))
        .examples([json!(1)])
        .build()
}

/// An id, or `null`.
pub fn optional_id() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .minimum(Some(1))
        .maximum(Some(MAX_ID as i64))
        .build()
}

/// A list of ids, or `null`.
pub fn ids() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(id())
        .build()
}

pub fn placement() -> Object {
    one_of_strings(&["end_at_logged", "begin_at_logged"])
}

pub fn aggregation() -> Object {
    one_of_strings(&["per_accounting", "per_ticket_agent_activity_day"])
}

pub fn auto_create() -> Object {
    one_of_strings(&["off", "on", "after_review"])
}

pub fn unmapped_user() -> Object {
    one_of_strings(&["conflict", "book_as_api_user"])
}

/// `{mode, step_minutes, minimum_minutes}`, as one of two shapes, because a mode other than
/// `none` needs a step of at least one minute (`none` keeps the stored step, 0 by default).
/// A single object could not say so, and a generator would send `nearest` with a step of 0.
pub fn rounding() -> Schema {
    let shape = |modes: &[&str], min_step: u32| {
        ObjectBuilder::new()
            .property("mode", one_of_strings(modes))
            .required("mode")
            .property(
                "step_minutes",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(min_step))
                    .maximum(Some(MAX_ROUNDING_MINUTES))
                    .examples([json!(15)]),
            )
            .required("step_minutes")
            .property(
                "minimum_minutes",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
                    .minimum(Some(0))
                    .maximum(Some(MAX_ROUNDING_MINUTES)),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
    };
    OneOfBuilder::new()
        .item(shape(&["none"], 0))
        .item(shape(&["up", "down", "nearest"], 1))
        .examples([json!({"mode": "none", "step_minutes": 15, "minimum_minutes": null})])
        .build()
        .into()
}

/// `{"strategy": "by_group"}`, `{"strategy": "per_ticket"}` or `{"strategy": "per_customer",
/// "name": <1 to 150 characters>}`.
pub fn project_strategy() -> Schema {
    let strategy = |name: &str| {
        ObjectBuilder::new()
            .property("strategy", one_of_strings(&[name]))
            .required("strategy")
    };
    OneOfBuilder::new()
        .item(
            strategy("by_group").additional_properties(Some(AdditionalProperties::FreeForm(false))),
        )
        .item(
            strategy("per_ticket")
                .additional_properties(Some(AdditionalProperties::FreeForm(false))),
        )
        .item(
            strategy("per_customer")
                .property(
                    "name",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(r"^\S.{0,148}\S?$"))
                        .max_length(Some(150))
                        .examples([json!("Support")]),
                )
                .required("name")
                .additional_properties(Some(AdditionalProperties::FreeForm(false))),
        )
        .examples([json!({"strategy": "by_group"})])
        .build()
        .into()
}

/// Text with `{placeholder}`s of the known names only, at most [`MAX_TEMPLATE_LEN`] characters.
pub fn description_template() -> Object {
    let names = PLACEHOLDERS.join("|");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!(r"^([^{{]|\{{({names})\}})*$")))
        .max_length(Some(MAX_TEMPLATE_LEN))
        .examples([json!("{marker} #{ticket_number} {ticket_title}")])
        .build()
}

/// Tags: at most [`MAX_TAGS`](crate::console::policy_settings::MAX_TAGS), each 1 to 100
/// characters without a comma (Kimai splits tags at commas).
pub fn tags() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[^,]*[^,\s][^,]*$"))
                .max_length(Some(100)),
        )
        .max_items(Some(crate::console::policy_settings::MAX_TAGS))
        .examples([json!(["zammad"])])
        .build()
}

/// The five common cron fields (minute, hour, day of month, month, day of week) with numbers,
/// `*` and `*/n`, one of the day fields `*`: the form the console writes. The schedule's check
/// also takes lists, ranges, names and the six-field EventBridge form; the pattern keeps to
/// what every reader can take.
pub fn cron() -> Object {
    let minute = r"(\*|\*/([1-9]|[1-5][0-9])|[1-5]?[0-9])";
    let hour = r"(\*|\*/([1-9]|1[0-9]|2[0-3])|1?[0-9]|2[0-3])";
    let day = r"([1-9]|[12][0-9]|3[01])";
    let month = r"(\*|[1-9]|1[0-2])";
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!(
            r"^{minute} {hour} (\* {month} (\*|[0-6])|{day} {month} \*)$"
        )))
        .examples([json!("0 */6 * * *")])
        .build()
}

/// An IANA zone name, as the time-zone database (`chrono-tz`) knows them.
pub fn time_zone() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
        .examples([json!("Europe/Berlin")])
        .build()
}

/// A console user's name ([`USERNAME_PATTERN`]).
pub fn username() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(USERNAME_PATTERN))
        .max_length(Some(MAX_USERNAME_LEN))
        .description(Some(
            "1 to 64 characters: letters, digits, `.`, `_`, `-`, `@`, with at least one letter or digit.",
        ))
        .examples([json!("pat.viewer")])
        .build()
}

/// The e-mail addresses a GDPR request names: up to 20, each 3..=200 characters with an `@`
/// and no spaces (the check takes any text with an `@` once trimmed; this is the form an
/// address has).
pub fn email_identifiers() -> Array {
    identifiers(r"^[^\s@]+@[^\s@]+$", "kim.doe@example.com")
}

/// The names a GDPR request names: up to 20, each 3..=200 characters, not starting or ending
/// with a space (the check trims before it counts).
pub fn name_identifiers() -> Array {
    identifiers(r"^\S(.*\S)?$", "Kim Doe")
}

fn identifiers(pattern: &str, example: &str) -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(MIN_IDENTIFIER_LEN))
                .max_length(Some(MAX_IDENTIFIER_LEN))
                .pattern(Some(pattern)),
        )
        .max_items(Some(MAX_IDENTIFIERS))
        .examples([json!([example])])
        .build()
}
