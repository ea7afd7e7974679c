//! The user routes: get one user and update its departments (the seed).

use std::collections::HashMap;
use std::sync::Arc;

use hyper::StatusCode;
use serde_json::Value;

use super::fixture::DepartmentRecord;
use super::error::ActivityError;
use super::fixture::UserRecord;
use super::{path_uuid, Activity};
use crate::http::Reply;
use crate::store::{BrokenRecord, State};
use crate::timestamps;
use crate::vendors::{is_hyphenated_uuid, lowercase_id, Api, Request};

/// Fields the seed lists under "Fields Not Updatable via API", plus
/// `updated_at`, which the system sets on every write.
const READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "username",
    "user_key",
    "last_activity",
    "created_at",
    "updated_at",
];

/// What a valid PATCH body asks for.
#[derive(Debug, Default)]
struct UserUpdate {
    /// Department ids as sent, de-duplicated, in request order.
    departments: Option<Vec<String>>,
}

impl Activity {
    pub(super) fn get_user(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        let user_id = path_uuid(request, "user_id")?;
        self.authorise(access, &client_id)?;
        let user = self.find_user(request, &client_id, &user_id)?;
        let departments = self.user_departments(request.state, &client_id, &user.departments)?;
        Ok(Reply::json(StatusCode::OK, &user_view(&user, departments)))
    }

    pub(super) fn update_user(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        let user_id = path_uuid(request, "user_id")?;
        let update = self.parse_update(request)?;
        self.authorise(access, &client_id)?;
        self.find_user(request, &client_id, &user_id)?;
        // The departments are resolved and the user written in one step of
        // the state: a department deleted at the same time is either gone
        // here (404) or deleted after, taking this membership with it.
        let (user, departments) = request.state.transaction(|| {
            let departments = match update.departments {
                Some(ids) => Some(self.resolve_departments(request.state, &client_id, ids)?),
                None => None,
            };
            let ids: Option<Vec<String>> = departments
                .as_ref()
                .map(|found| found.iter().map(|d| d.id.clone()).collect());

            // The user may have been deleted (admin API) since `find_user`;
            // the update itself is the authority and answers 404 then.
            let now = request.now();
            // Built from the stored user rather than copied and then
            // changed: the two members written are not copied in vain.
            let user = request
                .state
                .replace_typed(Activity::NAME, &user_id, |user: &UserRecord| {
                    Ok::<_, ActivityError>(UserRecord {
                        id: user.id.clone(),
                        client_id: user.client_id.clone(),
                        username: user.username.clone(),
                        user_key: user.user_key.clone(),
                        last_activity: user.last_activity.clone(),
                        departments: ids.unwrap_or_else(|| user.departments.clone()),
                        created_at: user.created_at.clone(),
                        updated_at: timestamps::next_write_millis(Some(&user.updated_at), now),
                    })
                })?
                .ok_or_else(|| ActivityError::user_not_found(&user_id))?;
            Ok::<_, ActivityError>((user, departments))
        })?;
        let departments = match departments {
            Some(departments) => departments,
            None => self.user_departments(request.state, &client_id, &user.departments)?,
        };
        Ok(Reply::json(StatusCode::OK, &user_view(&user, departments)))
    }

    /// Every user of the client, as `state` sees them.
    pub(super) fn client_users(&self, state: &State, client_id: &str) -> Vec<Arc<UserRecord>> {
        let mut users: Vec<Arc<UserRecord>> = state.all_typed(Activity::NAME);
        users.retain(|u| u.client_id.eq_ignore_ascii_case(client_id));
        users
    }

    /// The client (404 first), then the user within it (404).
    fn find_user(
        &self,
        request: &Request<'_>,
        client_id: &str,
        user_id: &str,
    ) -> Result<Arc<UserRecord>, ActivityError> {
        self.client_exists(client_id)?;
        let user: Arc<UserRecord> = request
            .state
            .read(Activity::NAME, user_id)?
            .ok_or_else(|| ActivityError::user_not_found(user_id))?;
        // A user of another client does not exist as far as this client's
        // URL is concerned.
        if user.client_id.eq_ignore_ascii_case(client_id) {
            Ok(user)
        } else {
            Err(ActivityError::user_not_found(user_id))
        }
    }

    /// The live departments among a user's memberships, in its order (a
    /// department deleted since is left out).
    fn user_departments(
        &self,
        state: &State,
        client_id: &str,
        ids: &[String],
    ) -> Result<Vec<Arc<DepartmentRecord>>, BrokenRecord> {
        let mut live = Vec::with_capacity(ids.len());
        for id in ids {
            live.extend(self.live_department(state, client_id, &lowercase_id(id))?);
        }
        Ok(live)
    }

    /// Maps requested ids to the client's live departments; every id that
    /// is not one of them (unknown, deleted, another client's) is reported
    /// at once.
    fn resolve_departments(
        &self,
        state: &State,
        client_id: &str,
        requested: Vec<String>,
    ) -> Result<Vec<Arc<DepartmentRecord>>, ActivityError> {
        let mut resolved = Vec::with_capacity(requested.len());
        let mut invalid = Vec::new();
        for id in requested {
            match self.live_department(state, client_id, &lowercase_id(&id))? {
                Some(d) => resolved.push(d),
                None => invalid.push(id),
            }
        }
        if invalid.is_empty() {
            Ok(resolved)
        } else {
            Err(ActivityError::DepartmentsNotFound { ids: invalid })
        }
    }

    /// Validates the PATCH body's shape and formats (the 400 class).
    fn parse_update(&self, request: &Request<'_>) -> Result<UserUpdate, ActivityError> {
        let body = request.json(self.settings.require_json_content_type)?;
        let Value::Object(fields) = body else {
            return Err(ActivityError::invalid("Request body must be a JSON object"));
        };
        let mut update = UserUpdate::default();
        for (name, value) in fields {
            if name == "departments" {
                update.departments = Some(parse_department_ids(&value)?);
            } else {
                self.other_field(request, &name, READ_ONLY_FIELDS)?;
            }
        }
        Ok(update)
    }
}

/// The `User` object, in the seed's field order, with `departments` (the
/// live ones, in the user's order) as `DepartmentRef`s. Serialised straight
/// from the records (no intermediate JSON tree: this is on every user
/// request's path).
pub(super) fn user_view(
    user: &UserRecord,
    departments: Vec<Arc<DepartmentRecord>>,
) -> UserView<'_> {
    UserView {
        id: &user.id,
        username: &user.username,
        user_key: &user.user_key,
        last_activity: &user.last_activity,
        departments: DepartmentRefs(departments),
        created_at: &user.created_at,
        updated_at: &user.updated_at,
    }
}

/// [`user_view`] for a page of users, with the client's live departments
/// at hand; written straight into the page's answer.
pub(super) fn render_user<'a>(
    user: &'a UserRecord,
    departments: &HashMap<String, Arc<DepartmentRecord>>,
) -> UserView<'a> {
    let live = user
        .departments
        .iter()
        .filter_map(|id| departments.get(lowercase_id(id).as_ref()).cloned())
        .collect();
    user_view(user, live)
}

#[derive(serde::Serialize)]
pub(super) struct UserView<'a> {
    id: &'a str,
    username: &'a str,
    user_key: &'a str,
    last_activity: &'a super::fixture::LastActivity,
    departments: DepartmentRefs,
    created_at: &'a str,
    updated_at: &'a str,
}

/// A user's departments as `DepartmentRef`s: `{id, name, description}`.
pub(super) struct DepartmentRefs(Vec<Arc<DepartmentRecord>>);

impl serde::Serialize for DepartmentRefs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct DepartmentRef<'a> {
            id: &'a str,
            name: &'a str,
            description: Option<&'a str>,
        }
        serializer.collect_seq(self.0.iter().map(|d| DepartmentRef {
            id: &d.id,
            name: &d.name,
            description: d.description.as_deref(),
        }))
    }
}

/// The size of one department as a user embeds it, as compact JSON.
pub(super) fn department_ref_bytes(department: &Arc<DepartmentRecord>) -> usize {
    crate::store::json_len(&DepartmentRefs(vec![Arc::clone(department)])).saturating_sub(2)
}

/// `departments` must be an array of UUID strings; duplicates collapse to
/// their first occurrence (the list is a set of memberships).
pub(super) fn parse_department_ids(value: &Value) -> Result<Vec<String>, ActivityError> {
    let Value::Array(items) = value else {
        return Err(ActivityError::invalid_field(
            "'departments' must be an array of department ids",
            "departments",
            Some(value.clone()),
        ));
    };
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let invalid = |problem: &str| {
            let field = format!("departments[{i}]");
            ActivityError::invalid_field(format!("'{field}' {problem}"), field, Some(item.clone()))
        };
        let Some(id) = item.as_str() else {
            return Err(invalid("must be a string"));
        };
        if !is_hyphenated_uuid(id) {
            return Err(invalid("is not a valid UUID"));
        }
        if !ids.iter().any(|seen| seen.eq_ignore_ascii_case(id)) {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}
