//! The sync policies (design §4 and §7) as the console edits them, stored in the `policy/sync`
//! document beside the mappings ([`SyncPolicyDocument`]): placement, aggregation, rounding,
//! approval mode, project strategy, customer auto-create, unmapped users, description
//! template, default activity, fallback customer, tags and billable flag. Saving replaces them
//! all (fields left out take their defaults) and never touches the mappings. The time unit and
//! the default zone belong to the Zammad connection, as in [`crate::settings`].

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult, FieldError};
use crate::console::schemas;
use crate::policies::SyncPolicyDocument;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sync_core::aggregation::Aggregation;
use sync_core::mapping::{AutoCreate, ProjectStrategy, UnmappedUserPolicy};
use sync_core::placement::Placement;
use sync_core::rounding::Rounding;
use sync_store::control::ControlStore;
use utoipa::ToSchema;

/// Placeholders the description template may use (see `sync_core::mapping`).
pub const PLACEHOLDERS: [&str; 7] = [
    "marker",
    "ticket_number",
    "ticket_title",
    "ticket_id",
    "agent",
    "type",
    "organisation",
];
pub const MAX_TEMPLATE_LEN: usize = 500;
pub const MAX_TAGS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// `end_at_logged` or `begin_at_logged`.
    #[serde(default)]
    #[schema(schema_with = schemas::placement)]
    pub placement: Placement,
    /// `per_accounting` or `per_ticket_agent_activity_day`.
    #[serde(default)]
    #[schema(schema_with = schemas::aggregation)]
    pub aggregation: Aggregation,
    /// `{"mode": "none" | "up" | "down" | "nearest", "step_minutes": 15, "minimum_minutes": null}`.
    #[serde(default)]
    #[schema(schema_with = schemas::rounding)]
    pub rounding: Rounding,
    /// Approval mode: creates wait for a human before they are posted.
    #[serde(default)]
    pub approval_required: bool,
    /// `{"strategy": "per_customer", "name": "Support"}`, `{"strategy": "per_ticket"}` or
    /// `{"strategy": "by_group"}`.
    #[serde(default)]
    #[schema(schema_with = schemas::project_strategy)]
    pub project_strategy: ProjectStrategy,
    /// `off`, `on` or `after_review`.
    #[serde(default)]
    #[schema(schema_with = schemas::auto_create)]
    pub customer_auto_create: AutoCreate,
    /// `conflict` or `book_as_api_user`.
    #[serde(default)]
    #[schema(schema_with = schemas::unmapped_user)]
    pub unmapped_user: UnmappedUserPolicy,
    /// Empty means the default `{marker} #{ticket_number} {ticket_title}`.
    #[serde(default)]
    #[schema(schema_with = schemas::description_template)]
    pub description_template: String,
    /// "Time only": descriptions are `{marker} #{ticket_number}`, whatever the template (no
    /// ticket title, agent or organisation reaches Kimai).
    #[serde(default)]
    pub time_only_descriptions: bool,
    #[serde(default)]
    #[schema(schema_with = schemas::optional_id)]
    pub default_activity: Option<u64>,
    #[serde(default)]
    #[schema(schema_with = schemas::optional_id)]
    pub fallback_customer: Option<u64>,
    #[serde(default)]
    #[schema(schema_with = schemas::tags)]
    pub tags: Vec<String>,
    /// `null` leaves Kimai's billable mode alone.
    #[serde(default)]
    pub billable: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct PoliciesView {
    pub version: u64,
    #[serde(flatten)]
    pub policies: Policies,
}

/// The longest rounding step or minimum the console takes: a day (longer is a typo).
pub const MAX_ROUNDING_MINUTES: u32 = 1440;

/// Field-level checks, all reported at once.
pub fn validate(p: &Policies) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(e) = p.rounding.validate() {
        errors.push(FieldError::new("rounding", e.to_string()));
    } else if p.rounding.step_minutes > MAX_ROUNDING_MINUTES
        || (p.rounding.minimum_minutes).is_some_and(|m| m > MAX_ROUNDING_MINUTES)
    {
        // Checked here, not by the core: a stored policy from before still loads.
        errors.push(FieldError::new(
            "rounding",
            format!("the step and the minimum are at most {MAX_ROUNDING_MINUTES} minutes (a day)"),
        ));
    }
    if let ProjectStrategy::PerCustomer { name } = &p.project_strategy
        && (name.trim().is_empty() || name.chars().count() > 150)
    {
        errors.push(FieldError::new(
            "project_strategy.name",
            "the project name must have 1 to 150 characters",
        ));
    }
    if let Err(e) = check_template(&p.description_template) {
        errors.push(FieldError::new("description_template", e));
    }
    for (field, id) in [
        ("default_activity", p.default_activity),
        ("fallback_customer", p.fallback_customer),
    ] {
        if id.is_some_and(|id| !schemas::is_id(id)) {
            errors.push(FieldError::new(
                field,
                format!("must be a Kimai id (1 to {})", schemas::MAX_ID),
            ));
        }
    }
    errors.extend(check_tags(&p.tags));
    errors
}

fn check_tags(tags: &[String]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if tags.len() > MAX_TAGS {
        errors.push(FieldError::new("tags", format!("at most {MAX_TAGS} tags")));
    }
    for tag in tags {
        // Kimai sends tags as one comma-separated string: a comma would split the tag.
        if tag.trim().is_empty() || tag.contains(',') || tag.chars().count() > 100 {
            errors.push(FieldError::new(
                "tags",
                format!("{tag:?}: 1 to 100 characters, no commas"),
            ));
        }
    }
    errors
}

pub fn check_template(template: &str) -> Result<(), String> {
    // Characters, not bytes: the document's `maxLength` counts characters, and so does a person.
    if template.chars().count() > MAX_TEMPLATE_LEN {
        return Err(format!("at most {MAX_TEMPLATE_LEN} characters"));
    }
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "a `{` is not closed".to_owned())?;
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{name}}}; known: {}",
                PLACEHOLDERS.join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// The policies of the document as the pipeline reads them.
fn view(doc: &SyncPolicyDocument) -> ConsoleResult<PoliciesView> {
    let p = doc
        .parse()
        .map_err(|e| ConsoleError::Internal(format!("policy/sync is unreadable: {e}")))?;
    let m = p.mappings;
    let policies = Policies {
        placement: p.placement,
        aggregation: p.aggregation,
        rounding: p.rounding,
        approval_required: p.approval_required,
        project_strategy: m.project_strategy,
        customer_auto_create: m.customer_auto_create,
        unmapped_user: m.unmapped_user,
        description_template: m.description_template,
        time_only_descriptions: m.time_only_descriptions,
        default_activity: m.default_activity.map(|a| a.0),
        fallback_customer: m.fallback_customer.map(|c| c.0),
        tags: m.tags,
        billable: m.billable,
    };
    Ok(PoliciesView {
        version: doc.version,
        policies,
    })
}

/// Writes `p` into the document's JSON, leaving the mappings and unknown fields alone.
fn apply(doc: &mut SyncPolicyDocument, p: &Policies) {
    doc.body.insert("placement".into(), to_json(&p.placement));
    doc.body
        .insert("aggregation".into(), to_json(&p.aggregation));
    doc.body.insert("rounding".into(), to_json(&p.rounding));
    doc.body
        .insert("approval_required".into(), json!(p.approval_required));
    let m = doc.mappings_mut();
    m.insert("project_strategy".into(), to_json(&p.project_strategy));
    m.insert(
        "customer_auto_create".into(),
        to_json(&p.customer_auto_create),
    );
    m.insert("unmapped_user".into(), to_json(&p.unmapped_user));
    m.insert("description_template".into(), json!(p.description_template));
    m.insert(
        "time_only_descriptions".into(),
        json!(p.time_only_descriptions),
    );
    m.insert("default_activity".into(), json!(p.default_activity));
    m.insert("fallback_customer".into(), json!(p.fallback_customer));
    m.insert("tags".into(), json!(p.tags));
    m.insert("billable".into(), json!(p.billable));
}

fn to_json(v: &impl Serialize) -> Value {
    serde_json::to_value(v).expect("policy types always serialise")
}

/// The policy document's store and (for changes) the access log.
#[derive(Clone, Copy)]
pub struct PolicyStores<'a> {
    pub control: &'a dyn ControlStore,
    pub access: AccessLog<'a>,
}

/// The sync policies (defaults until saved).
pub async fn policies(stores: PolicyStores<'_>) -> ConsoleResult<PoliciesView> {
    view(&SyncPolicyDocument::load(stores.control).await?)
}

/// Replaces the sync policies (the mappings stay as they are), conditional on the version the
/// caller read (`read_at`), audited.
pub async fn replace_policies(
    stores: PolicyStores<'_>,
    actor: &Actor,
    read_at: Option<u64>,
    input: &Policies,
) -> ConsoleResult<PoliciesView> {
    ConsoleError::check("the policies are invalid", validate(input))?;
    let PolicyStores { control, access } = stores;
    let mut doc = SyncPolicyDocument::load(control).await?;
    doc.check_version(read_at)?;
    apply(&mut doc, input);
    let version = doc.save(control, access.clock.now()).await?;
    let detail = json!({"version": version, "policies": to_json(input)});
    access.record(actor, "policies.update", detail).await?;
    view(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_may_use_known_placeholders_only() {
        assert_eq!(
            check_template("{marker} #{ticket_number} for {agent}"),
            Ok(())
        );
        assert_eq!(check_template(""), Ok(()));
        assert!(
            check_template("{ticket_nr}")
                .unwrap_err()
                .contains("ticket_nr")
        );
        assert!(
            check_template("{marker")
                .unwrap_err()
                .contains("not closed")
        );
    }
}
