//! `PATCH /api/users/{id}`: Kimai's user profile form (`src/Form/API/UserApiEditForm.php` on
//! top of `src/Form/UserEditType.php`), with the permissions of `src/Voter/UserVoter.php`.

use super::form::{self, BLANK, Field, Kind, field};
use super::update_target;
use crate::state::{Shared, SimUser, State, perm};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Oneself with `edit_own_profile`, anyone else with `edit_other_profile` (the voter's
/// `edit` on a profile).
fn may_edit(me: &SimUser, subject: u64) -> bool {
    if subject == me.record.id {
        me.can(perm::EDIT_OWN_PROFILE)
    } else {
        me.can(perm::EDIT_OTHER_PROFILE)
    }
}

/// The form's fields for this caller and subject. Kimai switches parts on by further voter
/// checks (`preferences`, `password`, `supervisor`, `roles`); by default each of those comes in
/// the same permission set as editing the profile, so the simulator derives them from who edits
/// whom. `username` is never part of the update form; an avatar URL only when the instance
/// allows avatar URLs, which is off by default and not simulated.
fn user_fields(st: &State, me: &SimUser, subject: u64) -> Vec<Field> {
    let own = subject == me.record.id;
    let subject_is_super_admin = st.users.get(&subject).is_some_and(SimUser::is_super_admin);
    let mut f = vec![
        field("alias", Kind::Text(Some(60))),
        field("title", Kind::Text(Some(50))),
        field("accountNumber", Kind::Text(Some(30))),
        field("color", Kind::Color),
        field("email", Kind::Email(180)),
        field("language", Kind::Language),
        field("locale", Kind::Locale),
        field("timezone", Kind::Timezone),
    ];
    // Nobody switches their own account off.
    if !own {
        f.push(field("enabled", Kind::Bool));
    }
    // One's own supervisor only a super admin may set.
    if !own || me.is_super_admin() {
        f.push(field("supervisor", Kind::User));
    }
    f.push(field("systemAccount", Kind::Bool));
    f.push(field("requiresPasswordReset", Kind::Bool));
    // Own roles: super admins only. Someone else's: not when they hold a role the caller
    // could not assign, which for the built-in roles means a super admin's.
    let roles = if own {
        me.is_super_admin()
    } else {
        me.is_super_admin() || !subject_is_super_admin
    };
    if roles {
        f.push(field("roles", Kind::Roles));
    }
    f
}

pub async fn patch_user(
    AxState(sim): AxState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    (|| {
        let mut st = sim.lock();
        let u = update_target(
            &st,
            &headers,
            &id,
            |st, id| st.users.contains_key(&id),
            may_edit,
            &body,
        )?;
        let fields = user_fields(&st, &u.me, u.id);
        let form::Submitted { values, mut errors } = form::read(&st, &u.body, &fields, Some(u.id));
        match values.get("email") {
            Some(Value::Null) => errors.add("email", BLANK),
            Some(Value::String(e))
                if st
                    .users
                    .values()
                    .any(|o| o.record.id != u.id && o.record.email.eq_ignore_ascii_case(e)) =>
            {
                errors.add("email", "This value is already used.");
            }
            _ => {}
        }
        if !errors.is_empty() {
            return Err(errors.into_response());
        }
        let mut user = st.users[&u.id].clone();
        let mut extra = st.user_extra.get(&u.id).cloned().unwrap_or_default();
        for (key, v) in values {
            let text = v.as_str().map(str::to_owned);
            match key.as_str() {
                "alias" => user.record.alias = text,
                "email" => user.record.email = text.unwrap_or_default(),
                "timezone" => {
                    if let Some(tz) = text.as_deref().and_then(|t| t.parse().ok()) {
                        user.tz = tz;
                    }
                    user.record.timezone = text.unwrap_or_default();
                }
                "enabled" => user.record.enabled = v.as_bool().unwrap_or(true),
                "roles" => {
                    user.record.roles = serde_json::from_value(v).unwrap_or_default();
                    user.refresh_permissions();
                }
                _ => {
                    extra.insert(key, v);
                }
            }
        }
        st.user_extra.insert(u.id, extra);
        st.users.insert(u.id, user);
        let json = st.user_json(&st.users[&u.id], true);
        Ok(Json(json).into_response())
    })()
    .unwrap_or_else(|e| e)
}
