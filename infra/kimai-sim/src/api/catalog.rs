//! Customers, projects, activities, users, tags and the status routes. None of these lists is
//! paginated in Kimai.

use super::{
    Params, ascending, authenticate, creation_body, done, entity_id, forbidden, term_matches,
    visible_filter,
};
use crate::dataset::TagRecord;
use crate::respond::{EXTRA_FIELDS, FormErrors};
use crate::state::{Shared, SimUser, State, perm};
use crate::views::View;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

fn sorted(mut rows: Vec<(u64, String, Value)>, by_id: bool, asc: bool) -> Response {
    rows.sort_by(|a, b| {
        let o = if by_id {
            a.0.cmp(&b.0)
        } else {
            a.1.to_lowercase()
                .cmp(&b.1.to_lowercase())
                .then(a.0.cmp(&b.0))
        };
        if asc { o } else { o.reverse() }
    });
    Json(rows.into_iter().map(|r| r.2).collect::<Vec<_>>()).into_response()
}

pub async fn ping(AxState(sim): AxState<Shared>, headers: HeaderMap) -> Response {
    done((|| {
        authenticate(&sim.lock(), &headers)?;
        Ok(Json(json!({"message": "pong"})).into_response())
    })())
}

pub async fn version(AxState(sim): AxState<Shared>, headers: HeaderMap) -> Response {
    done((|| {
        let st = sim.lock();
        authenticate(&st, &headers)?;
        let v = &st.seed.version;
        Ok(Json(json!({
            "version": v,
            "versionId": st.version_id,
            "copyright": format!("Kimai {v} by Kevin Papst."),
        }))
        .into_response())
    })())
}

pub async fn me(AxState(sim): AxState<Shared>, headers: HeaderMap) -> Response {
    done((|| {
        let st = sim.lock();
        let me = authenticate(&st, &headers)?;
        Ok(Json(st.user_json(&me, true)).into_response())
    })())
}

pub async fn customers(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let st = sim.lock();
        authenticate(&st, &headers)?;
        let p = Params::strict(
            raw.as_deref(),
            &["visible", "order", "orderBy", "term", "full"],
        )?;
        let visible = visible_filter(&p)?;
        let by_id = p.choice("orderBy", &["id", "name"])? == Some("id");
        p.choice("full", &["0", "1", "true", "false"])?;
        let rows = st
            .customers
            .values()
            .filter(|c| visible(c.visible))
            .filter(|c| term_matches(p.get("term"), &[Some(&c.name), c.number.as_deref()]))
            .map(|c| (c.id, c.name.clone(), st.customer_json(c, View::LIST)))
            .collect();
        Ok(sorted(rows, by_id, ascending(&p)?))
    })())
}

pub async fn projects(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let st = sim.lock();
        authenticate(&st, &headers)?;
        let p = Params::strict(
            raw.as_deref(),
            &[
                "customer",
                "customers[]",
                "visible",
                "start",
                "end",
                "ignoreDates",
                "globalActivities",
                "order",
                "orderBy",
                "term",
            ],
        )?;
        let visible = visible_filter(&p)?;
        let customers = p.ids("customer", "customers[]")?;
        let global = p.choice("globalActivities", &["0", "1"])?.map(|v| v == "1");
        let by_id = p.choice("orderBy", &["id", "name", "customer"])? == Some("id");
        // Simulated projects have no start or end date, so the date filters keep everything.
        let rows = st
            .projects
            .values()
            .filter(|pr| visible(pr.visible))
            .filter(|pr| customers.is_empty() || customers.contains(&pr.customer))
            .filter(|pr| global.is_none_or(|g| pr.global_activities == g))
            .filter(|pr| term_matches(p.get("term"), &[Some(&pr.name), pr.number.as_deref()]))
            .map(|pr| (pr.id, pr.name.clone(), st.project_json(pr, View::LIST)))
            .collect();
        Ok(sorted(rows, by_id, ascending(&p)?))
    })())
}

pub async fn activities(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let st = sim.lock();
        authenticate(&st, &headers)?;
        let p = Params::strict(
            raw.as_deref(),
            &[
                "project",
                "projects[]",
                "visible",
                "globals",
                "orderBy",
                "order",
                "term",
            ],
        )?;
        let visible = visible_filter(&p)?;
        let projects = p.ids("project", "projects[]")?;
        let only_globals = p
            .choice("globals", &["0", "1", "true", "false"])?
            .is_some_and(|v| v == "1" || v == "true");
        let by_id = p.choice("orderBy", &["id", "name", "project"])? == Some("id");
        // One project: its own activities plus the global ones, unless it forbids them.
        let globals_allowed = projects
            .iter()
            .all(|id| st.projects.get(id).is_none_or(|pr| pr.global_activities));
        let rows = st
            .activities
            .values()
            .filter(|a| visible(a.visible))
            .filter(|a| !only_globals || a.project.is_none())
            .filter(|a| match a.project {
                Some(pid) => projects.is_empty() || projects.contains(&pid),
                None => projects.is_empty() || globals_allowed,
            })
            .filter(|a| term_matches(p.get("term"), &[Some(&a.name)]))
            .map(|a| (a.id, a.name.clone(), st.activity_json(a, View::LIST)))
            .collect();
        Ok(sorted(rows, by_id, ascending(&p)?))
    })())
}

pub async fn users(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let st = sim.lock();
        let me = authenticate(&st, &headers)?;
        let p = Params::strict(
            raw.as_deref(),
            &["visible", "orderBy", "order", "term", "full"],
        )?;
        if !me.can(perm::VIEW_USER) {
            return Err(forbidden());
        }
        let visible = visible_filter(&p)?;
        let by_id = p.choice("orderBy", &["id", "username", "alias", "email"])? == Some("id");
        p.choice("full", &["0", "1", "true", "false"])?;
        // `term` also searches the email, even on versions that do not print it.
        let rows = st
            .users
            .values()
            .filter(|u| visible(u.record.enabled))
            .filter(|u| {
                let r = &u.record;
                term_matches(
                    p.get("term"),
                    &[Some(&r.username), r.alias.as_deref(), Some(&r.email)],
                )
            })
            .map(|u| {
                (
                    u.record.id,
                    u.record.username.clone(),
                    st.user_json(u, false),
                )
            })
            .collect();
        Ok(sorted(rows, by_id, ascending(&p)?))
    })())
}

/// A catalog entity read by id in its entity view (any authenticated user); 404 if unknown.
fn by_id(
    sim: &Shared,
    headers: &HeaderMap,
    id: &str,
    render: impl Fn(&State, &SimUser, u64) -> Option<Value>,
) -> Response {
    done((|| {
        let st = sim.lock();
        let me = authenticate(&st, headers)?;
        let json = render(&st, &me, entity_id(id)?).ok_or_else(super::not_found)?;
        Ok(Json(json).into_response())
    })())
}

/// The entity view, with the budget fields when the caller holds `budget_permission`.
pub fn entity_view(me: &SimUser, budget_permission: &str) -> View {
    View {
        entity: true,
        budget: me.can(budget_permission),
    }
}

/// `GET /api/customers/{id}`.
pub async fn customer(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    by_id(&sim, &headers, &id, |st, me, id| {
        let view = entity_view(me, perm::BUDGET_CUSTOMER);
        st.customers.get(&id).map(|c| st.customer_json(c, view))
    })
}

/// `GET /api/projects/{id}`.
pub async fn project(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    by_id(&sim, &headers, &id, |st, me, id| {
        let view = entity_view(me, perm::BUDGET_PROJECT);
        st.projects.get(&id).map(|p| st.project_json(p, view))
    })
}

/// `GET /api/activities/{id}`.
pub async fn activity(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    by_id(&sim, &headers, &id, |st, me, id| {
        let view = entity_view(me, perm::BUDGET_ACTIVITY);
        st.activities.get(&id).map(|a| st.activity_json(a, view))
    })
}

/// `GET /api/users/{id}`: oneself, or anyone with `view_user`.
pub async fn user(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    done((|| {
        let st = sim.lock();
        let me = authenticate(&st, &headers)?;
        let id = entity_id(&id)?;
        if id != me.record.id && !me.can(perm::VIEW_USER) {
            return Err(forbidden());
        }
        let u = st.users.get(&id).ok_or_else(super::not_found)?;
        Ok(Json(st.user_json(u, true)).into_response())
    })())
}

fn matching_tags<'a>(st: &'a State, p: &Params) -> Vec<&'a TagRecord> {
    let name = p.get("name").map(str::to_lowercase);
    st.tags
        .values()
        .filter(|t| {
            name.as_ref()
                .is_none_or(|n| t.name.to_lowercase().contains(n))
        })
        .collect()
}

/// `GET /api/tags` (deprecated): names only.
pub async fn tag_names(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let st = sim.lock();
        authenticate(&st, &headers)?;
        let p = Params::strict(raw.as_deref(), &["name"])?;
        let names: Vec<&str> = matching_tags(&st, &p)
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        Ok(Json(names).into_response())
    })())
}

/// `GET /api/tags/find`: tag entities.
pub async fn find_tags(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    done((|| {
        let st = sim.lock();
        authenticate(&st, &headers)?;
        let p = Params::strict(raw.as_deref(), &["name"])?;
        let tags: Vec<Value> = matching_tags(&st, &p)
            .into_iter()
            .map(State::tag_json)
            .collect();
        Ok(Json(tags).into_response())
    })())
}

/// `POST /api/tags` `{name, color, visible}` → 200 tag entity.
pub async fn create_tag(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done((|| {
        let mut st = sim.lock();
        let (_, body) = creation_body(&st, &headers, perm::CREATE_TAG, &body)?;
        let mut errors = FormErrors::for_fields(&["name", "color", "visible"]);
        let mut tag = TagRecord {
            id: st.next_tag_id,
            name: String::new(),
            color: None,
            visible: true,
        };
        for (key, value) in &body {
            match (key.as_str(), value) {
                ("name", Value::String(s)) => tag.name = s.trim().to_owned(),
                ("color", Value::String(s)) => tag.color = Some(s.clone()),
                ("color", Value::Null) => {}
                ("visible", Value::Bool(b)) => tag.visible = *b,
                ("name", _) => errors.add("name", "This value is not valid."),
                ("color", _) => errors.add("color", "This value is not valid."),
                ("visible", _) => errors.add("visible", "This value is not valid."),
                _ => {
                    if errors.form.is_empty() {
                        errors.form.push(EXTRA_FIELDS.to_owned());
                    }
                }
            }
        }
        if tag.name.chars().count() < 2 && !errors.has_field_error("name") {
            errors.add(
                "name",
                "This value is too short. It should have 2 characters or more.",
            );
        }
        if tag.name.contains(',') {
            errors.add("name", "This value is not valid.");
        }
        if st
            .tags
            .values()
            .any(|t| t.name.eq_ignore_ascii_case(&tag.name))
        {
            errors.add("name", "This value is already used.");
        }
        if !errors.is_empty() {
            return Err(errors.into_response());
        }
        st.next_tag_id += 1;
        let json = State::tag_json(&tag);
        st.tags.insert(tag.id, tag);
        Ok(Json(json).into_response())
    })())
}

/// `DELETE /api/tags/{id}` → 204. Kimai looks the tag up before it checks `delete_tag`, so an
/// unknown id is a 404 for everyone. The tag leaves every timesheet that carried it (a database
/// cascade in Kimai, so the timesheets' modification times stay as they were).
pub async fn delete_tag(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    done((|| {
        let mut st = sim.lock();
        let me = authenticate(&st, &headers)?;
        let id = entity_id(&id)?;
        let name = st.tags.get(&id).ok_or_else(super::not_found)?.name.clone();
        if !me.can(perm::DELETE_TAG) {
            return Err(forbidden());
        }
        st.tags.remove(&id);
        for t in st.timesheets.values_mut() {
            t.tags.retain(|n| *n != name);
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}
