//! `/api/timesheets`: list with paging headers, get, create (POST 200), patch, delete (204).

use super::{Params, authenticate, bad_request, done, forbidden, not_found};
use crate::respond::{EXTRA_FIELDS, FormErrors, service_validation_error};
use crate::state::{Shared, SimUser, State, StoredTimesheet, perm};
use crate::time::{parse_local, parse_utc};
use crate::views::View;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use std::cmp::Ordering;

const LIST_PARAMS: [&str; 20] = [
    "user",
    "users[]",
    "customer",
    "customers[]",
    "project",
    "projects[]",
    "activity",
    "activities[]",
    "page",
    "size",
    "tags[]",
    "orderBy",
    "order",
    "begin",
    "end",
    "exported",
    "active",
    "billable",
    "full",
    "term",
];
const MORE_LIST_PARAMS: [&str; 1] = ["modified_after"];
const ENTITY_PARAMS: [&str; 1] = ["full"];

/// Kimai's `term`: words with a colon (`name:value`) search meta fields, which plain Kimai does
/// not have, so they match nothing; every other word must occur in the description.
fn term_matches_description(term: &str, description: Option<&str>) -> bool {
    let desc = description.unwrap_or("").to_lowercase();
    term.split_whitespace().all(|word| {
        if word.contains(':') {
            false
        } else {
            desc.contains(&word.to_lowercase())
        }
    })
}

fn bool_param(p: &Params, name: &str) -> Result<Option<bool>, Response> {
    Ok(p.choice(name, &["0", "1"])?.map(|v| v == "1"))
}

pub async fn list(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let st = sim.lock();
        let me = authenticate(&st, &headers)?;
        let allowed: Vec<&str> = LIST_PARAMS
            .iter()
            .chain(&MORE_LIST_PARAMS)
            .copied()
            .collect();
        let p = Params::strict(raw.as_deref(), &allowed)?;

        // Whose records: `all` = everyone the caller may see.
        let may_see_others = me.can(perm::VIEW_OTHER_TIMESHEET);
        let users: Option<Vec<u64>> = match p.get("user") {
            Some("all") => (!may_see_others).then(|| vec![me.record.id]),
            Some(_) => {
                let id = p.id("user")?.ok_or_else(bad_request)?;
                if id != me.record.id && !may_see_others {
                    return Err(forbidden());
                }
                Some(vec![id])
            }
            None => {
                let many = p.many_ids("users[]")?;
                if !many.is_empty() && may_see_others {
                    Some(many)
                } else {
                    Some(vec![me.record.id])
                }
            }
        };
        let customers = p.ids("customer", "customers[]")?;
        let projects = p.ids("project", "projects[]")?;
        let activities = p.ids("activity", "activities[]")?;
        let page: usize = match p.id("page")? {
            Some(0) | None => 1,
            Some(n) => n as usize,
        };
        let size: usize = match p.id("size")? {
            Some(0) | None => 50,
            Some(n) => n.min(500) as usize,
        };
        let tag_filter: Vec<String> = p.all("tags[]").iter().map(|t| t.to_lowercase()).collect();
        if !tag_filter.is_empty()
            && !st
                .tags
                .values()
                .any(|t| tag_filter.contains(&t.name.to_lowercase()))
        {
            return Err(bad_request());
        }
        let order_by = p
            .choice("orderBy", &["id", "begin", "end", "rate"])?
            .unwrap_or("begin");
        let ascending = p.choice("order", &["ASC", "DESC"])? == Some("ASC");
        let local = |name: &str| -> Result<Option<DateTime<Utc>>, Response> {
            p.get(name)
                .map(|v| parse_local(v, me.tz).ok_or_else(bad_request))
                .transpose()
        };
        let begin = local("begin")?;
        let end = local("end")?;
        let exported = bool_param(&p, "exported")?;
        let active = bool_param(&p, "active")?;
        let billable = bool_param(&p, "billable")?;
        let full = p
            .choice("full", &["0", "1", "true", "false"])?
            .is_some_and(|v| v == "1" || v == "true");
        let term = p.get("term");
        let modified_after = p
            .get("modified_after")
            .map(|v| parse_utc(v).ok_or_else(bad_request))
            .transpose()?;

        let mut rows: Vec<&StoredTimesheet> = st
            .timesheets
            .values()
            .filter(|t| users.as_ref().is_none_or(|u| u.contains(&t.user)))
            .filter(|t| {
                customers.is_empty()
                    || st
                        .customer_of_project(t.project)
                        .is_some_and(|c| customers.contains(&c))
            })
            .filter(|t| projects.is_empty() || projects.contains(&t.project))
            .filter(|t| activities.is_empty() || activities.contains(&t.activity))
            .filter(|t| {
                tag_filter.is_empty()
                    || t.tags
                        .iter()
                        .any(|n| tag_filter.contains(&n.to_lowercase()))
            })
            .filter(|t| begin.is_none_or(|b| t.begin >= b))
            .filter(|t| end.is_none_or(|e| t.begin <= e))
            .filter(|t| exported.is_none_or(|x| t.exported == x))
            .filter(|t| active.is_none_or(|a| t.end.is_none() == a))
            .filter(|t| billable.is_none_or(|b| t.billable == b))
            .filter(|t| term.is_none_or(|q| term_matches_description(q, t.description.as_deref())))
            .filter(|t| modified_after.is_none_or(|m| t.modified_at >= m))
            .collect();
        rows.sort_by(|a, b| {
            let primary = match order_by {
                "id" => a.id.cmp(&b.id),
                "end" => a.end.cmp(&b.end),
                // Every simulated rate is 0, so rate order falls back to the id.
                "rate" => Ordering::Equal,
                _ => a.begin.cmp(&b.begin),
            };
            let o = primary.then(a.id.cmp(&b.id));
            if ascending { o } else { o.reverse() }
        });

        let total = rows.len();
        // Like Kimai's paginator: at least one page, even when it is empty.
        let total_pages = total.div_ceil(size).max(1);
        if page > total_pages {
            return Err(not_found());
        }
        let items: Vec<Value> = rows
            .iter()
            .skip((page - 1) * size)
            .take(size)
            .map(|t| {
                let mut v = st.timesheet_json(t, false);
                if full {
                    expand(&st, &mut v, t);
                }
                v
            })
            .collect();
        let mut resp = Json(items).into_response();
        let h = resp.headers_mut();
        for (name, value) in [
            ("X-Page", page),
            ("X-Total-Count", total),
            ("X-Total-Pages", total_pages),
            ("X-Per-Page", size),
        ] {
            h.insert(name, HeaderValue::from(value));
        }
        Ok(resp)
    })())
}

/// `full=true`: activity, project (with its customer) and user as objects.
fn expand(st: &State, v: &mut Value, t: &StoredTimesheet) {
    if let Some(a) = st.activities.get(&t.activity) {
        v["activity"] = st.activity_json(a, View::LIST);
    }
    if let Some(p) = st.projects.get(&t.project) {
        let mut pj = st.project_json(p, View::LIST);
        if let Some(c) = st.customers.get(&p.customer) {
            pj["customer"] = st.customer_json(c, View::LIST);
        }
        v["project"] = pj;
    }
    if let Some(u) = st.users.get(&t.user) {
        v["user"] = st.user_json(u, false);
    }
}

/// The record, if it exists and the caller may see it.
fn visible_timesheet<'a>(
    st: &'a State,
    me: &SimUser,
    id: u64,
) -> Result<&'a StoredTimesheet, Response> {
    let t = st.timesheets.get(&id).ok_or_else(not_found)?;
    if t.user != me.record.id && !me.can(perm::VIEW_OTHER_TIMESHEET) {
        return Err(forbidden());
    }
    Ok(t)
}

pub async fn get_one(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let st = sim.lock();
        let me = authenticate(&st, &headers)?;
        Params::strict(raw.as_deref(), &ENTITY_PARAMS)?;
        let id: u64 = id.parse().map_err(|_| not_found())?;
        let t = visible_timesheet(&st, &me, id)?;
        Ok(Json(st.timesheet_json(t, true)).into_response())
    })())
}

/// Which form fields this caller may send (Kimai removes the others from the form).
fn form_fields(st: &State, me: &SimUser, creating: bool) -> Vec<&'static str> {
    let mut f = vec!["begin", "end"];
    if st.settings.break_enabled {
        f.push("break");
    }
    f.extend(["project", "activity", "description"]);
    if me.can(perm::EDIT_RATE) {
        f.extend(["fixedRate", "hourlyRate"]);
    }
    let user_perm = if creating {
        perm::CREATE_OTHER_TIMESHEET
    } else {
        perm::EDIT_OTHER_TIMESHEET
    };
    if me.can(user_perm) {
        f.push("user");
    }
    f.push("tags");
    if me.can(perm::EDIT_EXPORT) {
        f.push("exported");
    }
    if me.can(perm::EDIT_BILLABLE) {
        f.push("billable");
    }
    f
}

const INVALID: &str = "This value is not valid.";
const INVALID_CHOICE: &str = "The selected choice is invalid.";

fn tag_names(st: &State, value: &Value) -> Option<Vec<String>> {
    let requested: Vec<String> = match value {
        Value::String(s) => s.split(',').map(|t| t.trim().to_owned()).collect(),
        Value::Array(a) => a
            .iter()
            .map(|v| v.as_str().map(|s| s.trim().to_owned()))
            .collect::<Option<_>>()?,
        Value::Null => Vec::new(),
        _ => return None,
    };
    // Kimai ≥ 2.14: unknown names are dropped silently (no auto-create).
    let mut out = Vec::new();
    for name in requested.iter().filter(|n| !n.is_empty()) {
        if let Some(tag) = st.tags.values().find(|t| t.name.eq_ignore_ascii_case(name))
            && !out.contains(&tag.name)
        {
            out.push(tag.name.clone());
        }
    }
    Some(out)
}

/// Submit `body` onto `draft` like Kimai's timesheet form (`clearMissing=false`): fields not
/// sent keep their value. `begin`/`end` are read in `input_tz`.
fn submit(
    st: &State,
    me: &SimUser,
    body: &Map<String, Value>,
    draft: &mut StoredTimesheet,
    input_tz: chrono_tz::Tz,
    creating: bool,
) -> FormErrors {
    let fields = form_fields(st, me, creating);
    let mut errors = FormErrors::for_fields(&fields);
    for (key, value) in body {
        let Some(field) = fields.iter().copied().find(|f| f == key) else {
            if !errors.form.iter().any(|m| m == EXTRA_FIELDS) {
                errors.form.push(EXTRA_FIELDS.to_owned());
            }
            continue;
        };
        match (field, value) {
            ("begin", Value::String(s)) => match parse_local(s, input_tz) {
                Some(t) => draft.begin = t,
                None => errors.add(field, INVALID),
            },
            ("end", Value::String(s)) => match parse_local(s, input_tz) {
                Some(t) => draft.end = Some(t),
                None => errors.add(field, INVALID),
            },
            ("end", Value::Null) => draft.end = None,
            ("break", Value::Number(n)) if n.as_u64().is_some() => {
                draft.break_secs = n.as_u64().unwrap_or(0) as i64;
            }
            ("project", Value::Number(n)) => {
                match n.as_u64().filter(|id| st.projects.contains_key(id)) {
                    Some(id) => draft.project = id,
                    None => errors.add(field, INVALID_CHOICE),
                }
            }
            ("activity", Value::Number(n)) => {
                match n.as_u64().filter(|id| st.activities.contains_key(id)) {
                    Some(id) => draft.activity = id,
                    None => errors.add(field, INVALID_CHOICE),
                }
            }
            ("description", Value::String(s)) => draft.description = Some(s.clone()),
            ("description", Value::Null) => draft.description = None,
            ("tags", v) => match tag_names(st, v) {
                Some(names) => draft.tags = names,
                None => errors.add(field, INVALID),
            },
            ("user", Value::Number(n)) => match n.as_u64().filter(|id| st.users.contains_key(id)) {
                Some(id) => draft.user = id,
                None => errors.add(field, INVALID_CHOICE),
            },
            ("billable", Value::Bool(b)) => draft.billable = *b,
            ("exported", Value::Bool(b)) => draft.exported = *b,
            ("fixedRate" | "hourlyRate", Value::Number(_) | Value::Null) => {}
            _ => errors.add(field, INVALID),
        }
    }
    if draft.project == 0 && !errors.has_field_error("project") {
        errors.add("project", "A project needs to be selected.");
    }
    if draft.activity == 0 && !errors.has_field_error("activity") {
        errors.add("activity", "An activity needs to be selected.");
    }
    if let (Some(a), Some(p)) = (
        st.activities.get(&draft.activity),
        st.projects.get(&draft.project),
    ) {
        match a.project {
            Some(ap) if ap != p.id => errors.add(
                "activity",
                "Project mismatch, project specific activity and timesheet project are different.",
            ),
            None if !p.global_activities => errors.add(
                "activity",
                "Global activities are forbidden for the selected project.",
            ),
            _ => {}
        }
    }
    if let Some(end) = draft.end
        && end < draft.begin
    {
        errors.add(
            "end",
            "The end date must not be earlier than the start date.",
        );
    }
    if let Some(until) = locked_until(st, draft) {
        errors.form.push(format!(
            "The project is locked until {until}, please choose a later date."
        ));
    }
    if st.settings.reject_overlaps && overlaps(st, draft) {
        errors.add("begin", "You already have an entry for this time.");
    }
    errors
}

/// The project's lock day when the timesheet begins on or before it. Kimai compares the begin
/// with the end of the lock day in the project's zone; the simulator uses the owner's zone.
fn locked_until(st: &State, t: &StoredTimesheet) -> Option<chrono::NaiveDate> {
    let until = st.projects.get(&t.project)?.locked_until?;
    let tz = st.users.get(&t.user).map_or(t.tz, |u| u.tz);
    (t.begin.with_timezone(&tz).date_naive() <= until).then_some(until)
}

fn overlaps(st: &State, draft: &StoredTimesheet) -> bool {
    let far = draft.begin + Duration::days(3650);
    let end = draft.end.unwrap_or(far);
    st.timesheets.values().any(|o| {
        o.id != draft.id
            && o.user == draft.user
            && o.begin < end
            && o.end.unwrap_or(far) > draft.begin
    })
}

fn round_down(t: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    let step = minutes * 60;
    DateTime::from_timestamp(t.timestamp().div_euclid(step) * step, 0).unwrap_or(t)
}

/// What Kimai does on save: rounding, the owner's zone, the service-level checks.
fn finish_save(st: &State, draft: &mut StoredTimesheet) -> Result<(), Response> {
    if let Some(m) = st
        .settings
        .rounding_minutes
        .filter(|m| *m > 0)
        .map(i64::from)
    {
        draft.begin = round_down(draft.begin, m);
        draft.end = draft.end.map(|e| {
            let down = round_down(e, m);
            if down == e {
                e
            } else {
                down + Duration::minutes(m)
            }
        });
    }
    draft.tz = st.users.get(&draft.user).map(|u| u.tz).unwrap_or(draft.tz);
    draft.modified_at = Utc::now();
    if let Some(max) = st.settings.max_duration_minutes
        && draft.duration_secs() > i64::from(max) * 60
    {
        let hours = f64::from(max) / 60.0;
        let message = format!("Maximum duration of {hours} hours exceeded.");
        return Err(service_validation_error("duration", &message));
    }
    Ok(())
}

fn json_object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad_request()),
    }
}

pub async fn create(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    done((|| {
        let mut st = sim.lock();
        let me = authenticate(&st, &headers)?;
        Params::strict(raw.as_deref(), &ENTITY_PARAMS)?;
        let body = json_object(&body)?;
        let now = Utc::now();
        let mut draft = StoredTimesheet {
            id: st.next_timesheet_id,
            user: me.record.id,
            project: 0,
            activity: 0,
            begin: DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now),
            end: None,
            tz: me.tz,
            break_secs: 0,
            description: None,
            tags: Vec::new(),
            exported: false,
            billable: true,
            modified_at: now,
        };
        // New records are read in the API user's zone, even when `user` names someone else.
        let errors = submit(&st, &me, &body, &mut draft, me.tz, true);
        if !errors.is_empty() {
            return Err(errors.into_response());
        }
        finish_save(&st, &mut draft)?;
        st.next_timesheet_id += 1;
        let json = st.timesheet_json(&draft, true);
        st.timesheets.insert(draft.id, draft);
        Ok((StatusCode::OK, Json(json)).into_response())
    })())
}

/// Edit and delete: the owner or someone with the `*_other_*` permission, and for exported
/// records only with `edit_exported_timesheet`; never in a project's locked period (Kimai's
/// voter lets a running record be edited out of it). Kimai answers a bare 403 otherwise.
fn check_change_allowed(
    st: &State,
    me: &SimUser,
    t: &StoredTimesheet,
    other_perm: &str,
    editing: bool,
) -> Result<(), Response> {
    if t.user != me.record.id && !me.can(other_perm) {
        return Err(forbidden());
    }
    if t.exported && !me.can(perm::EDIT_EXPORTED_TIMESHEET) {
        return Err(forbidden());
    }
    if locked_until(st, t).is_some() && !(editing && t.end.is_none()) {
        return Err(forbidden());
    }
    Ok(())
}

pub async fn patch(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    done((|| {
        let mut st = sim.lock();
        let me = authenticate(&st, &headers)?;
        Params::strict(raw.as_deref(), &ENTITY_PARAMS)?;
        let id: u64 = id.parse().map_err(|_| not_found())?;
        let existing = visible_timesheet(&st, &me, id)?.clone();
        check_change_allowed(&st, &me, &existing, perm::EDIT_OTHER_TIMESHEET, true)?;
        let body = json_object(&body)?;
        let mut draft = existing.clone();
        // An existing record is read in its own (the owner's) zone.
        let errors = submit(&st, &me, &body, &mut draft, existing.tz, false);
        if !errors.is_empty() {
            return Err(errors.into_response());
        }
        finish_save(&st, &mut draft)?;
        let json = st.timesheet_json(&draft, true);
        st.timesheets.insert(id, draft);
        Ok(Json(json).into_response())
    })())
}

pub async fn delete(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let mut st = sim.lock();
        let me = authenticate(&st, &headers)?;
        Params::strict(raw.as_deref(), &[])?;
        let id: u64 = id.parse().map_err(|_| not_found())?;
        let existing = visible_timesheet(&st, &me, id)?.clone();
        check_change_allowed(&st, &me, &existing, perm::DELETE_OTHER_TIMESHEET, false)?;
        st.timesheets.remove(&id);
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_words_with_a_colon_search_meta_fields_and_find_nothing() {
        let d = Some("Printer fix [zammad:ta=12]");
        assert!(term_matches_description("ta=12]", d));
        assert!(term_matches_description("PRINTER ta=12]", d));
        assert!(!term_matches_description("ta=1]", d));
        assert!(!term_matches_description("[zammad:ta=12]", d));
        assert!(!term_matches_description("x", None));
    }

    #[test]
    fn rounding_steps_down_on_minute_boundaries() {
        let t = DateTime::parse_from_rfc3339("2026-01-01T09:07:30Z")
            .unwrap()
            .to_utc();
        assert_eq!(round_down(t, 15).to_rfc3339(), "2026-01-01T09:00:00+00:00");
    }
}
