//! Creating and updating customers, projects and activities with Kimai's full forms.
//!
//! The field lists follow Kimai's `CustomerEditForm`, `ProjectEditForm` and `ActivityEditForm`
//! with the common fields of `EntityFormTrait` (`src/Form/`), which the API forms
//! (`src/Form/API/*ApiEditForm.php`) reuse with the budget fields switched on. A create and an
//! update read the same form with `clearMissing = false`: an update changes only the fields it
//! sends. Values the dataset record has no place for are kept in the state's `*_extra` maps.

use super::form::{self, BLANK, Field, Kind, field};
use super::{creation_body, done, update_target};
use crate::api::catalog::entity_view;
use crate::dataset::{ActivityRecord, CustomerRecord, ProjectRecord};
use crate::respond::FormErrors;
use crate::state::{Extra, Shared, SimUser, State, perm};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

const TOO_SHORT: &str = "This value is too short. It should have 2 characters or more.";
const TOO_LONG: &str = "This value is too long. It should have 150 characters or less.";

/// Kimai's length rule for names (2–150 characters).
fn check_name(errors: &mut FormErrors, name: &str) {
    let n = name.chars().count();
    if n < 2 && !errors.has_field_error("name") {
        errors.add("name", TOO_SHORT);
    } else if n > 150 {
        errors.add("name", TOO_LONG);
    }
}

/// The fields every entity form ends with (`EntityFormTrait::addCommonFields`). The budget
/// fields exist only for a caller with the budget permission; Kimai checks `budget_*` for the
/// money field and `time_*` for the time budget, the simulator asks `budget_*` for both.
fn common_fields(fields: &mut Vec<Field>, me: &SimUser, budget_permission: &str) {
    fields.push(field("color", Kind::Color));
    if me.can(budget_permission) {
        fields.push(field("budget", Kind::Money));
        fields.push(field("timeBudget", Kind::Duration));
        fields.push(field("budgetType", Kind::BudgetType));
    }
    fields.push(field("metaFields", Kind::MetaFields));
    fields.push(field("visible", Kind::Bool));
    fields.push(field("billable", Kind::Bool));
}

/// Kimai's customer form. `address` (one free-text block) is a plain field before 2.41; from
/// 2.41 on it is kept only for customers that already have one, beside the structured lines.
/// Teams can be given only on create.
fn customer_fields(st: &State, me: &SimUser, existing: Option<u64>) -> Vec<Field> {
    let mut f = vec![
        field("name", Kind::Name),
        field("number", Kind::Text(Some(50))),
        field("comment", Kind::Text(None)),
        field("company", Kind::Text(Some(100))),
        field("vatId", Kind::Text(Some(50))),
        field("contact", Kind::Text(Some(100))),
    ];
    let has_address = existing
        .and_then(|id| st.customer_extra.get(&id))
        .and_then(|e| e.get("address"))
        .is_some_and(|a| a.as_str().is_some_and(|a| !a.is_empty()));
    if st.version_id < 24100 || has_address {
        f.push(field("address", Kind::Text(None)));
    }
    f.extend([
        field("addressLine1", Kind::Text(Some(150))),
        field("addressLine2", Kind::Text(Some(150))),
        field("addressLine3", Kind::Text(Some(150))),
        field("postCode", Kind::Text(Some(20))),
        field("city", Kind::Text(Some(50))),
        field("country", Kind::Country),
        field("language", Kind::Language),
        field("currency", Kind::Currency),
        field("phone", Kind::Text(Some(30))),
        field("fax", Kind::Text(Some(30))),
        field("mobile", Kind::Text(Some(30))),
        field("email", Kind::Email(75)),
        field("homepage", Kind::Url(100)),
        field("timezone", Kind::Timezone),
        field("invoiceText", Kind::Text(None)),
        field("invoiceTemplate", Kind::InvoiceTemplate),
        field("invoiceEmail", Kind::Email(75)),
        field("buyerReference", Kind::Text(Some(50))),
    ]);
    if existing.is_none() {
        f.push(field("teams", Kind::Teams));
    }
    common_fields(&mut f, me, perm::BUDGET_CUSTOMER);
    f
}

/// Kimai's project form. Dates are `Y-m-d` on create and HTML5 date-times on update, as Kimai's
/// project controller configures them.
fn project_fields(me: &SimUser, is_new: bool) -> Vec<Field> {
    let date = Kind::Date { with_time: !is_new };
    let mut f = vec![
        field("name", Kind::Name),
        field("number", Kind::Text(Some(10))),
        field("comment", Kind::Text(None)),
        field("invoiceText", Kind::Text(None)),
        field("orderNumber", Kind::Text(Some(50))),
        field("orderDate", date),
        field("start", date),
        field("end", date),
        field("customer", Kind::Customer),
        field("globalActivities", Kind::Bool),
        field("lockedUntil", date),
    ];
    if is_new {
        f.push(field("teams", Kind::Teams));
    }
    common_fields(&mut f, me, perm::BUDGET_PROJECT);
    f
}

/// Kimai's activity form. A global activity cannot be moved into a project: on its update the
/// `project` field does not exist.
fn activity_fields(me: &SimUser, existing: Option<&ActivityRecord>) -> Vec<Field> {
    let mut f = vec![
        field("name", Kind::Name),
        field("number", Kind::Text(Some(10))),
        field("comment", Kind::Text(None)),
        field("invoiceText", Kind::Text(None)),
    ];
    if existing.is_none_or(|a| a.project.is_some()) {
        f.push(field("project", Kind::Project));
    }
    if existing.is_none() {
        f.push(field("teams", Kind::Teams));
    }
    common_fields(&mut f, me, perm::BUDGET_ACTIVITY);
    f
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// Store the submitted values: the record's own fields on the record, the rest in `extra`.
fn apply_customer(c: &mut CustomerRecord, extra: &mut Extra, values: Map<String, Value>) {
    for (key, v) in values {
        match key.as_str() {
            "name" => c.name = text(&v).unwrap_or_default(),
            "number" => c.number = text(&v),
            "comment" => c.comment = text(&v),
            "visible" => c.visible = v.as_bool().unwrap_or(c.visible),
            _ => {
                extra.insert(key, v);
            }
        }
    }
}

fn apply_project(p: &mut ProjectRecord, extra: &mut Extra, values: Map<String, Value>) {
    for (key, v) in values {
        match key.as_str() {
            "name" => p.name = text(&v).unwrap_or_default(),
            "number" => p.number = text(&v),
            "customer" => p.customer = v.as_u64().unwrap_or(p.customer),
            "visible" => p.visible = v.as_bool().unwrap_or(p.visible),
            "globalActivities" => p.global_activities = v.as_bool().unwrap_or(true),
            // A day is locked whole, whatever time came with it.
            "lockedUntil" => {
                p.locked_until = v
                    .as_str()
                    .and_then(|s| s.get(..10))
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            }
            _ => {
                extra.insert(key, v);
            }
        }
    }
}

fn apply_activity(a: &mut ActivityRecord, extra: &mut Extra, values: Map<String, Value>) {
    for (key, v) in values {
        match key.as_str() {
            "name" => a.name = text(&v).unwrap_or_default(),
            "project" => a.project = v.as_u64(),
            "visible" => a.visible = v.as_bool().unwrap_or(a.visible),
            _ => {
                extra.insert(key, v);
            }
        }
    }
}

/// The form's values applied to the customer (new or as stored) and kept, unless the form has
/// errors: the end of both its create and its update.
fn save_customer(
    st: &mut State,
    me: &SimUser,
    mut customer: CustomerRecord,
    mut extra: Extra,
    values: Map<String, Value>,
    mut errors: FormErrors,
) -> Result<Response, Response> {
    apply_customer(&mut customer, &mut extra, values);
    check_name(&mut errors, &customer.name);
    if !errors.is_empty() {
        return Err(errors.into_response());
    }
    st.customer_extra.insert(customer.id, extra);
    let json = st.customer_json(&customer, entity_view(me, perm::BUDGET_CUSTOMER));
    st.customers.insert(customer.id, customer);
    Ok(Json(json).into_response())
}

/// The form's values applied to the project (new or as stored) and kept, unless the form has
/// errors: the end of both its create and its update.
fn save_project(
    st: &mut State,
    me: &SimUser,
    mut project: ProjectRecord,
    mut extra: Extra,
    values: Map<String, Value>,
    mut errors: FormErrors,
) -> Result<Response, Response> {
    apply_project(&mut project, &mut extra, values);
    check_name(&mut errors, &project.name);
    if !errors.is_empty() {
        return Err(errors.into_response());
    }
    st.project_extra.insert(project.id, extra);
    let json = st.project_json(&project, entity_view(me, perm::BUDGET_PROJECT));
    st.projects.insert(project.id, project);
    Ok(Json(json).into_response())
}

/// The form's values applied to the activity (new or as stored) and kept, unless the form has
/// errors: the end of both its create and its update.
fn save_activity(
    st: &mut State,
    me: &SimUser,
    mut activity: ActivityRecord,
    mut extra: Extra,
    values: Map<String, Value>,
    mut errors: FormErrors,
) -> Result<Response, Response> {
    apply_activity(&mut activity, &mut extra, values);
    check_name(&mut errors, &activity.name);
    if !errors.is_empty() {
        return Err(errors.into_response());
    }
    st.activity_extra.insert(activity.id, extra);
    let json = st.activity_json(&activity, entity_view(me, perm::BUDGET_ACTIVITY));
    st.activities.insert(activity.id, activity);
    Ok(Json(json).into_response())
}

/// `POST /api/customers` (`create_customer`): only `name` is required; Kimai pre-fills country,
/// currency, language and zone from its defaults.
pub async fn create_customer(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done((|| {
        let mut st = sim.lock();
        let (me, body) = creation_body(&st, &headers, perm::CREATE_CUSTOMER, &body)?;
        let form::Submitted { values, errors } =
            form::read(&st, &body, &customer_fields(&st, &me, None), None);
        let customer = CustomerRecord {
            id: st.customers.keys().max().map_or(1, |m| m + 1),
            name: String::new(),
            number: None,
            visible: true,
            comment: None,
        };
        let extra = Extra::new();
        save_customer(&mut st, &me, customer, extra, values, errors)
    })())
}

/// `PATCH /api/customers/{id}` (`edit_customer`) → 200 with the entity.
pub async fn patch_customer(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    done((|| {
        let mut st = sim.lock();
        let u = update_target(
            &st,
            &headers,
            &id,
            |st, id| st.customers.contains_key(&id),
            |me, _| me.can(perm::EDIT_CUSTOMER),
            &body,
        )?;
        let fields = customer_fields(&st, &u.me, Some(u.id));
        let form::Submitted { values, errors } = form::read(&st, &u.body, &fields, None);
        let customer = st.customers[&u.id].clone();
        let extra = st.customer_extra.get(&u.id).cloned().unwrap_or_default();
        save_customer(&mut st, &u.me, customer, extra, values, errors)
    })())
}

/// `POST /api/projects` (`create_project`): `name` and an existing `customer` are required;
/// `globalActivities` defaults to true.
pub async fn create_project(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done((|| {
        let mut st = sim.lock();
        let (me, body) = creation_body(&st, &headers, perm::CREATE_PROJECT, &body)?;
        let form::Submitted { values, mut errors } =
            form::read(&st, &body, &project_fields(&me, true), None);
        if !body.contains_key("customer") {
            errors.add("customer", BLANK);
        }
        let project = ProjectRecord {
            id: st.projects.keys().max().map_or(1, |m| m + 1),
            customer: 0,
            name: String::new(),
            number: None,
            visible: true,
            global_activities: true,
            locked_until: None,
        };
        let extra = Extra::new();
        save_project(&mut st, &me, project, extra, values, errors)
    })())
}

/// `PATCH /api/projects/{id}` (`edit_project`) → 200 with the entity.
pub async fn patch_project(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    done((|| {
        let mut st = sim.lock();
        let u = update_target(
            &st,
            &headers,
            &id,
            |st, id| st.projects.contains_key(&id),
            |me, _| me.can(perm::EDIT_PROJECT),
            &body,
        )?;
        let fields = project_fields(&u.me, false);
        let form::Submitted { values, errors } = form::read(&st, &u.body, &fields, None);
        let project = st.projects[&u.id].clone();
        let extra = st.project_extra.get(&u.id).cloned().unwrap_or_default();
        save_project(&mut st, &u.me, project, extra, values, errors)
    })())
}

/// `POST /api/activities` (`create_activity`): `name` is required; without `project` the
/// activity is global.
pub async fn create_activity(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done((|| {
        let mut st = sim.lock();
        let (me, body) = creation_body(&st, &headers, perm::CREATE_ACTIVITY, &body)?;
        let form::Submitted { values, errors } =
            form::read(&st, &body, &activity_fields(&me, None), None);
        let activity = ActivityRecord {
            id: st.activities.keys().max().map_or(1, |m| m + 1),
            name: String::new(),
            project: None,
            visible: true,
        };
        let extra = Extra::new();
        save_activity(&mut st, &me, activity, extra, values, errors)
    })())
}

/// `PATCH /api/activities/{id}` (`edit_activity`) → 200 with the entity.
pub async fn patch_activity(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    done((|| {
        let mut st = sim.lock();
        let u = update_target(
            &st,
            &headers,
            &id,
            |st, id| st.activities.contains_key(&id),
            |me, _| me.can(perm::EDIT_ACTIVITY),
            &body,
        )?;
        let activity = st.activities[&u.id].clone();
        let fields = activity_fields(&u.me, Some(&activity));
        let form::Submitted { values, errors } = form::read(&st, &u.body, &fields, None);
        let extra = st.activity_extra.get(&u.id).cloned().unwrap_or_default();
        save_activity(&mut st, &u.me, activity, extra, values, errors)
    })())
}
