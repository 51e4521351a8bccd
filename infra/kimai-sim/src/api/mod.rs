//! The Kimai API routes the client uses, with Kimai's authentication and strict parameters.

pub mod catalog;
pub mod catalog_forms;
pub mod form;
pub mod profiles;
pub mod timesheets;

use crate::respond::{bad_token, no_credentials, status_error};
use crate::state::{SimUser, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

/// A handler's body written with `?`: the error side is already the answer.
pub fn done(r: Result<Response, Response>) -> Response {
    r.unwrap_or_else(|e| e)
}

/// Bearer token → user, with Kimai's two 401 shapes.
pub fn authenticate(st: &State, headers: &HeaderMap) -> Result<SimUser, Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(no_credentials());
    };
    let Some(token) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
        // Not a bearer token (Kimai's matcher is case-sensitive): treated as no credentials.
        return Err(no_credentials());
    };
    match st.user_by_token(token.trim()) {
        Some(u) if u.record.enabled => Ok(u.clone()),
        _ => Err(bad_token()),
    }
}

pub fn bad_request() -> Response {
    status_error(StatusCode::BAD_REQUEST)
}

pub fn forbidden() -> Response {
    status_error(StatusCode::FORBIDDEN)
}

pub fn not_found() -> Response {
    status_error(StatusCode::NOT_FOUND)
}

/// The id of a `/{id}` route; anything else is Kimai's 404 (its routes require digits).
pub fn entity_id(raw: &str) -> Result<u64, Response> {
    raw.parse().map_err(|_| not_found())
}

fn json_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, Response> {
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(body)) => Ok(body),
        _ => Err(bad_request()),
    }
}

/// The start of every create route: an authenticated user with the route's permission (else
/// 403), and a body that is a JSON object (else Kimai's plain 400).
pub fn creation_body(
    st: &State,
    headers: &HeaderMap,
    permission: &str,
    body: &[u8],
) -> Result<(SimUser, serde_json::Map<String, serde_json::Value>), Response> {
    let me = authenticate(st, headers)?;
    if !me.can(permission) {
        return Err(forbidden());
    }
    Ok((me, json_object(body)?))
}

/// What an update route starts from: the caller, the record's id and the body.
pub struct Update {
    pub me: SimUser,
    pub id: u64,
    pub body: serde_json::Map<String, serde_json::Value>,
}

/// The start of every update route, in Kimai's order: the caller (401), the record (404: Kimai
/// resolves the record before its permission check, so an unknown id is a 404 even for a
/// caller without the permission), the permission (403), then a JSON object body (400).
pub fn update_target(
    st: &State,
    headers: &HeaderMap,
    raw_id: &str,
    exists: impl Fn(&State, u64) -> bool,
    allowed: impl Fn(&SimUser, u64) -> bool,
    body: &[u8],
) -> Result<Update, Response> {
    let me = authenticate(st, headers)?;
    let id = entity_id(raw_id)?;
    if !exists(st, id) {
        return Err(not_found());
    }
    if !allowed(&me, id) {
        return Err(forbidden());
    }
    let body = json_object(body)?;
    Ok(Update { me, id, body })
}

/// Query parameters, checked against the route's declared list: an undeclared one is a 400.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn strict(raw: Option<&str>, allowed: &[&str]) -> Result<Params, Response> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        if pairs.iter().any(|(k, _)| !allowed.contains(&k.as_str())) {
            return Err(bad_request());
        }
        Ok(Params(pairs))
    }

    /// The last value of a parameter; an empty value counts as absent (`allowEmptyValue`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A value that must match one of `choices` (Kimai's regex requirements).
    pub fn choice(&self, name: &str, choices: &[&str]) -> Result<Option<&str>, Response> {
        match self.get(name) {
            Some(v) if !choices.contains(&v) => Err(bad_request()),
            other => Ok(other),
        }
    }

    pub fn id(&self, name: &str) -> Result<Option<u64>, Response> {
        self.get(name)
            .map(|v| parse_digits(v).ok_or_else(bad_request))
            .transpose()
    }

    /// Every value of a list parameter (`users[]`).
    pub fn many_ids(&self, many: &str) -> Result<Vec<u64>, Response> {
        self.all(many)
            .into_iter()
            .map(|v| parse_digits(v).ok_or_else(bad_request))
            .collect()
    }

    /// `name` and `name[]` together.
    pub fn ids(&self, single: &str, many: &str) -> Result<Vec<u64>, Response> {
        let mut out: Vec<u64> = self.id(single)?.into_iter().collect();
        out.extend(self.many_ids(many)?);
        Ok(out)
    }
}

fn parse_digits(v: &str) -> Option<u64> {
    if v.chars().all(|c| c.is_ascii_digit()) {
        v.parse().ok()
    } else {
        None
    }
}

/// Kimai's `visible` filter: 1 = visible (default), 2 = hidden, 3 = both.
pub fn visible_filter(p: &Params) -> Result<impl Fn(bool) -> bool + use<>, Response> {
    let v = p
        .choice("visible", &["1", "2", "3"])?
        .unwrap_or("1")
        .to_owned();
    Ok(move |visible: bool| match v.as_str() {
        "2" => !visible,
        "3" => true,
        _ => visible,
    })
}

/// `term` over names: every whitespace-separated word must occur, case-insensitively.
pub fn term_matches(term: Option<&str>, haystacks: &[Option<&str>]) -> bool {
    let Some(term) = term else { return true };
    let hay: Vec<String> = haystacks
        .iter()
        .flatten()
        .map(|h| h.to_lowercase())
        .collect();
    term.split_whitespace()
        .all(|w| hay.iter().any(|h| h.contains(&w.to_lowercase())))
}

/// Order a list by `orderBy`/`order` when given.
pub fn ascending(p: &Params) -> Result<bool, Response> {
    Ok(p.choice("order", &["ASC", "DESC"])?
        .is_none_or(|o| o == "ASC"))
}
