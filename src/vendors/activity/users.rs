//! The user routes: get one user and update its departments (the seed).

#[cfg(test)]
use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::fixture::DepartmentRecord;
use super::error::ActivityError;
use super::fixture::UserRecord;
use super::{path_uuid, Activity};
use crate::http::Reply;
use crate::store::{BrokenRecord, Shown, State, Text, View};
use crate::timestamps;
use crate::vendors::{is_hyphenated_uuid, lowercase_id, present, Api, Request};

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

/// A user's live departments, in its order: room for a few without a heap
/// block of their own (a user is in one or two, as a rule).
pub(super) type Departments = smallvec::SmallVec<[Arc<DepartmentRecord>; 4]>;

/// What a valid PATCH body asks for.
#[derive(Debug, Default, PartialEq)]
struct UserUpdate {
    /// Department ids as sent, de-duplicated, in request order.
    departments: Option<Vec<String>>,
}

/// A PATCH body as it usually comes: `departments` alone, an array of
/// strings (a duplicate, a null or any other member fails to read, and the
/// body goes to the JSON-tree route).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserUpdateBody {
    #[serde(default, deserialize_with = "present")]
    departments: Option<Vec<String>>,
}

impl UserUpdateBody {
    /// The update, when [`parse_department_ids`] would find every id valid
    /// (the same check); `None` leaves the body to the JSON-tree route,
    /// which says what is wrong.
    fn accepted(self) -> Option<UserUpdate> {
        let Some(sent) = self.departments else {
            return Some(UserUpdate::default());
        };
        if !sent.iter().all(|id| is_hyphenated_uuid(id)) {
            return None;
        }
        let mut ids = Vec::with_capacity(sent.len());
        for id in sent {
            if is_new_id(&ids, &id) {
                ids.push(id);
            }
        }
        Some(UserUpdate {
            departments: Some(ids),
        })
    }
}

/// Whether `id` is not yet among `ids` (ids compare without case).
fn is_new_id(ids: &[String], id: &str) -> bool {
    !ids.iter().any(|seen| seen.eq_ignore_ascii_case(id))
}

impl Activity {
    pub(super) fn get_user(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        let user_id = path_uuid(request, "user_id")?;
        self.authorise(access, &client_id)?;
        let user = self.find_user(request, &client_id, &user_id)?;
        let departments =
            self.user_departments(request.state, &client_id, &user.record.departments)?;
        let shell = user.view_text::<Shell>()?;
        // Room for the departments as written when nothing in them needs
        // escaping (measuring them exactly would write each one twice).
        let room = departments.iter().fold(shell.len(), |room, d| {
            room.saturating_add(d.id.len())
                .saturating_add(d.name.len())
                .saturating_add(d.description.as_ref().map_or(0, String::len))
                .saturating_add(r#",{"id":"","name":"","description":null}"#.len())
        });
        let mut body = Vec::with_capacity(room);
        write_user(&mut body, &shell, |out| {
            for (i, department) in departments.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, &DepartmentRef::of(department))?;
            }
            Ok(())
        })?;
        Ok(Reply::json_text(StatusCode::OK, Bytes::from(body)))
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
            let ids: Option<Vec<Text>> = departments
                .as_ref()
                .map(|found| found.iter().map(|d| Text::from(d.id.as_str())).collect());

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
                        updated_at: timestamps::next_write_millis(Some(&user.updated_at), now)
                            .into(),
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
    ) -> Result<Shown<UserRecord>, ActivityError> {
        self.client_exists(client_id)?;
        let user: Shown<UserRecord> = request
            .state
            .read_shown(Activity::NAME, user_id)?
            .ok_or_else(|| ActivityError::user_not_found(user_id))?;
        // A user of another client does not exist as far as this client's
        // URL is concerned.
        if user.record.client_id.eq_ignore_ascii_case(client_id) {
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
        ids: &[Text],
    ) -> Result<Departments, BrokenRecord> {
        let mut live = Departments::with_capacity(ids.len());
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
    ) -> Result<Departments, ActivityError> {
        let mut resolved = Departments::with_capacity(requested.len());
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
        let body = match request.json_as(
            self.settings.require_json_content_type,
            UserUpdateBody::accepted,
        )? {
            Ok(update) => return Ok(update),
            Err(body) => body,
        };
        read_update(body, |name| {
            self.other_field(request, name, READ_ONLY_FIELDS)
        })
    }
}

/// A PATCH body read from its JSON tree: `departments`, and `other` for
/// each other member.
fn read_update(
    body: Value,
    mut other: impl FnMut(&str) -> Result<(), ActivityError>,
) -> Result<UserUpdate, ActivityError> {
    let Value::Object(fields) = body else {
        return Err(ActivityError::invalid("Request body must be a JSON object"));
    };
    let mut update = UserUpdate::default();
    for (name, value) in fields {
        if name == "departments" {
            update.departments = Some(parse_department_ids(&value)?);
        } else {
            other(&name)?;
        }
    }
    Ok(update)
}

/// The `User` object, in the seed's field order, with `departments` (the
/// live ones, in the user's order) as `DepartmentRef`s. Serialised straight
/// from the records (no intermediate JSON tree: this is on every user
/// request's path).
pub(super) fn user_view(
    user: &UserRecord,
    departments: Departments,
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
/// at hand (what a listed user's text is held to in tests).
#[cfg(test)]
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

/// A user's `User` object with no departments (`"departments":[]`): the
/// text a shown user keeps, into which an answer writes the user's live
/// departments ([`write_user`]; they change without the user changing).
/// Without `client_id` and the department ids it is smaller than the record
/// it shows, as a [`View`] must be.
pub(super) struct Shell;

impl View for Shell {
    type Of = UserRecord;

    fn write(user: &UserRecord, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, &user_view(user, Departments::new()))
    }
}

/// Where a [`Shell`]'s departments go: just after this.
const DEPARTMENTS_OPEN: &[u8] = b",\"departments\":[";

/// The user `shell` (its [`Shell`] text) with `departments` writing its
/// `DepartmentRef`s, comma-separated, into its empty `departments` array.
pub(super) fn write_user(
    out: &mut Vec<u8>,
    shell: &[u8],
    departments: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>,
) -> Result<(), BrokenRecord> {
    // The key is found from the end, where it is near (only the two
    // timestamps follow it), by the `[`s before it. It occurs once: inside
    // a JSON string every quote is escaped, so no value can hold
    // `,"departments":[`.
    let mut before = shell.len();
    let at = loop {
        let Some(open) = shell[..before].iter().rposition(|b| *b == b'[') else {
            tracing::error!("a user's kept text has no departments");
            return Err(BrokenRecord);
        };
        let through = open.saturating_add(1);
        if shell[..through].ends_with(DEPARTMENTS_OPEN) {
            break through;
        }
        before = open;
    };
    let (head, tail) = shell.split_at(at);
    out.extend_from_slice(head);
    departments(out).map_err(|err| {
        tracing::error!(%err, "a department does not serialise");
        BrokenRecord
    })?;
    out.extend_from_slice(tail);
    Ok(())
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
pub(super) struct DepartmentRefs(Departments);

impl serde::Serialize for DepartmentRefs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|d| DepartmentRef::of(d)))
    }
}

/// One department as a user embeds it.
#[derive(serde::Serialize)]
pub(super) struct DepartmentRef<'a> {
    id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
}

impl<'a> DepartmentRef<'a> {
    pub fn of(department: &'a DepartmentRecord) -> DepartmentRef<'a> {
        DepartmentRef {
            id: &department.id,
            name: &department.name,
            description: department.description.as_deref(),
        }
    }
}

/// The size of one department as a user embeds it, as compact JSON.
#[cfg(test)]
pub(super) fn department_ref_bytes(department: &Arc<DepartmentRecord>) -> usize {
    crate::store::json_len(&DepartmentRef::of(department))
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
        if is_new_id(&ids, id) {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed read of a PATCH body agrees with the JSON-tree read on
    /// every body it accepts, and accepts the valid ones.
    #[test]
    fn typed_update_reads_as_the_tree_does() {
        const D1: &str = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";
        const D2: &str = "7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f";
        let bodies = [
            "{}".to_owned(),
            format!(r#"{{"departments":["{D1}"]}}"#),
            r#"{"departments":[]}"#.to_owned(),
            format!(r#"{{"departments":["{D1}","{D2}","{}"]}}"#, D1.to_uppercase()),
            format!(r#"{{"departments":["\u0064{}"]}}"#, &D1[1..]),
            format!(r#"{{"departments":["{D1}","not-a-uuid"]}}"#),
            format!(r#"{{"departments":["{D1}",7]}}"#),
            r#"{"departments":null}"#.to_owned(),
            format!(r#"{{"departments":"{D1}"}}"#),
            format!(r#"{{"departments":["{D1}"],"username":"x"}}"#),
            format!(r#"{{"departments":["{D1}"],"departments":["{D2}"]}}"#),
            format!(r#"{{"Departments":["{D1}"]}}"#),
        ];
        let read = crate::vendors::typed_against_tree(
            &bodies,
            UserUpdateBody::accepted,
            |value| read_update(value, |name| Err(ActivityError::invalid(name.to_owned()))),
        );
        // Left to the tree: only the duplicate member, read as its last.
        assert_eq!(read, (5, 1));
    }
}
