//! Kimai's answer shapes (apis.md K5, K7 "Error body shapes").

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

pub const EXTRA_FIELDS: &str = "This form should not contain extra fields.";

/// `{"code":<int>,"message":"<HTTP status text>"}`: production Kimai hides exception texts.
pub fn status_error(status: StatusCode) -> Response {
    let message = status.canonical_reason().unwrap_or("Error");
    (
        status,
        axum::Json(json!({"code": status.as_u16(), "message": message})),
    )
        .into_response()
}

/// A bad or expired token: 401 with an empty body and a `WWW-Authenticate` challenge.
pub fn bad_token() -> Response {
    let mut r = StatusCode::UNAUTHORIZED.into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Bearer error=\"invalid_token\",error_description=\"Invalid credentials.\"",
        ),
    );
    r
}

/// No credentials at all.
pub fn no_credentials() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"message": "Unauthorized", "code": 401})),
    )
        .into_response()
}

/// Field errors collected while reading a form.
#[derive(Debug, Default)]
pub struct FormErrors {
    pub form: Vec<String>,
    /// Every field of the form, in order, with its messages (empty = no error).
    pub children: Vec<(&'static str, Vec<String>)>,
}

impl FormErrors {
    pub fn for_fields(fields: &[&'static str]) -> Self {
        FormErrors {
            form: Vec::new(),
            children: fields.iter().map(|f| (*f, Vec::new())).collect(),
        }
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        match self.children.iter_mut().find(|(f, _)| *f == field) {
            Some((_, msgs)) => msgs.push(message.into()),
            None => self.children.push((field, vec![message.into()])),
        }
    }

    pub fn has_field_error(&self, field: &str) -> bool {
        self.children
            .iter()
            .any(|(f, m)| *f == field && !m.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.form.is_empty() && self.children.iter().all(|(_, m)| m.is_empty())
    }

    /// Shape 1: `code` int, `errors.errors` only when there are form-level messages, every
    /// field listed under `children` (as `{}` when it has no error).
    pub fn into_response(self) -> Response {
        let mut children = Map::new();
        for (field, msgs) in self.children {
            let node = if msgs.is_empty() {
                json!({})
            } else {
                json!({"errors": msgs})
            };
            children.insert(field.to_owned(), node);
        }
        let mut errors = Map::new();
        if !self.form.is_empty() {
            errors.insert("errors".into(), json!(self.form));
        }
        errors.insert("children".into(), Value::Object(children));
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"code": 400, "message": "Validation Failed", "errors": errors})),
        )
            .into_response()
    }
}

/// Shape 2 (`ValidationFailedException`): `code` is the string `"400"`.
pub fn service_validation_error(path: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({
            "code": "400",
            "message": message,
            "errors": {"children": {path: {"errors": [message]}}}
        })),
    )
        .into_response()
}
