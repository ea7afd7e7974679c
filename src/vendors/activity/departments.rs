//! Departments: list, get, create, update, soft delete, bulk membership
//! (https://api-docs.amm-scalepad.com/departments).
//!
//! Fixture departments live in the vendor; a department a request creates
//! or changes (deletion included: it is soft) is a record in the request's
//! state under [`DEPARTMENTS`], so it is seen only in that session, a reset
//! drops it, and the admin API's user listing never shows it. Memberships
//! are the users' `departments` lists, so `member_count` and every user's
//! `departments` always agree.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{json, Map, Value};

use super::error::ActivityError;
use super::fixture::{
    same_name, DepartmentRecord, FieldPolicy, MalformedMemberIds, UserRecord, DEPARTMENTS,
};
use super::paging::{self, Keyed, Query, SortKey};
use super::{path_uuid, Activity};
use crate::http::Reply;
use crate::store::{BrokenRecord, State};
use crate::timestamps;
use crate::vendors::{is_hyphenated_uuid, Api, Request};


/// Fields the docs mark "not updatable via API", plus `updated_at`.
const READ_ONLY_FIELDS: &[&str] = &["id", "member_count", "created_at", "updated_at"];

impl DepartmentRecord {
    /// `Department`.
    fn render(&self, member_count: usize) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "member_count": member_count,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// What a create or update body asks for.
#[derive(Debug, Default)]
struct DepartmentChange {
    name: Option<String>,
    /// `Some(None)`: clear it.
    description: Option<Option<String>>,
}

impl Activity {
    /// Every live department of a client, by lower-cased id, as `state`
    /// sees them.
    pub(super) fn client_departments(
        &self,
        state: &State,
        client_id: &str,
    ) -> HashMap<String, Arc<DepartmentRecord>> {
        let mut all: HashMap<String, Arc<DepartmentRecord>> = self
            .departments
            .iter()
            .filter(|(_, d)| d.client_id.eq_ignore_ascii_case(client_id))
            .map(|(id, d)| (id.clone(), Arc::clone(d)))
            .collect();
        for record in state.all_typed::<DepartmentRecord>(DEPARTMENTS) {
            all.insert(record.id.to_ascii_lowercase(), record);
        }
        all.retain(|_, d| d.deleted_at.is_none() && d.client_id.eq_ignore_ascii_case(client_id));
        all
    }

    /// The department `id` (lower-cased) as `state` sees it, when it is a
    /// live one of the client: the session's version (a change or a soft
    /// delete) over the fixture's. The user routes look up just their
    /// user's departments this way instead of collecting the client's whole
    /// list on every request.
    pub(super) fn live_department(
        &self,
        state: &State,
        client_id: &str,
        id: &str,
    ) -> Result<Option<Arc<DepartmentRecord>>, BrokenRecord> {
        let record = match state.read::<DepartmentRecord>(DEPARTMENTS, id)? {
            Some(record) => Some(record),
            None => self.departments.get(id).cloned(),
        };
        Ok(
            record
                .filter(|d| d.deleted_at.is_none() && d.client_id.eq_ignore_ascii_case(client_id)),
        )
    }

    /// The live department `id` (lower-cased) of the client, else 404.
    fn find_department(
        &self,
        state: &State,
        client_id: &str,
        id: &str,
    ) -> Result<DepartmentRecord, ActivityError> {
        self.live_department(state, client_id, id)?
            .map(Arc::unwrap_or_clone)
            .ok_or_else(|| ActivityError::DepartmentNotFound {
                department_id: id.to_owned(),
            })
    }

    /// How many of the client's users are in each department.
    fn member_counts(&self, state: &State, client_id: &str) -> HashMap<String, usize> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for user in self.client_users(state, client_id) {
            for id in &user.departments {
                let count = counts.entry(id.to_ascii_lowercase()).or_default();
                *count = count.saturating_add(1);
            }
        }
        counts
    }

    /// 409 when another live department of the client has `name`.
    fn name_is_free(
        &self,
        state: &State,
        client_id: &str,
        name: &str,
        except: Option<&str>,
    ) -> Result<(), ActivityError> {
        let taken = self.client_departments(state, client_id).values().any(|d| {
            Some(d.id.to_ascii_lowercase().as_str()) != except
                && same_name(self.settings.department_names, &d.name, name)
        });
        if taken {
            Err(ActivityError::DepartmentNameTaken {
                name: name.to_owned(),
            })
        } else {
            Ok(())
        }
    }

    /// Runs a department write as one step of the request's state: the
    /// checks it makes (a unique name, a live department) stay true until
    /// its writes are done (two creates of one name; a delete and a member
    /// add at once).
    fn one_department_write<T>(&self, request: &Request<'_>, write: impl FnOnce() -> T) -> T {
        request.state.transaction(write)
    }

    /// The client's path ids checked, permission, existence: the steps every
    /// department route shares after its own 400 checks.
    fn department_target(
        &self,
        request: &Request<'_>,
        access: &super::Access,
        client_id: &str,
        department_id: &str,
    ) -> Result<DepartmentRecord, ActivityError> {
        self.authorise(access, client_id)?;
        self.client_exists(client_id)?;
        self.find_department(request.state, client_id, department_id)
    }

    pub(super) fn list_departments(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        let query = Query::parse(
            request,
            &["q", "sort_by", "sort_order", "page_size", "cursor"],
            self.settings.unknown_query_parameters,
        )?;
        let sort_by = query.choice("sort_by", &["name", "member_count", "created_at"])?;
        let order = query.order()?;
        let page_size = query.page_size()?;
        let q = query.get("q").unwrap_or_default().to_lowercase();
        let order_name = if order == paging::Order::Desc {
            "desc"
        } else {
            "asc"
        };
        let fingerprint =
            paging::fingerprint(&[&client_id, "departments", sort_by, order_name, &q]);
        let after = paging::cursor(&query, fingerprint)?;
        self.authorise(access, &client_id)?;
        self.client_exists(&client_id)?;

        let counts = self.member_counts(request.state, &client_id);
        let count_of =
            |d: &DepartmentRecord| counts.get(&d.id.to_ascii_lowercase()).copied().unwrap_or(0);
        let items: Vec<Keyed<Arc<DepartmentRecord>>> = self
            .client_departments(request.state, &client_id)
            .into_values()
            .filter(|d| d.name.to_lowercase().contains(&q))
            .map(|d| Keyed {
                key: match sort_by {
                    "member_count" => {
                        SortKey::Count(u64::try_from(count_of(&d)).unwrap_or(u64::MAX))
                    }
                    "created_at" => SortKey::Time(instant(&d.created_at)),
                    _ => SortKey::Text(Cow::Owned(d.name.to_lowercase())),
                },
                id: Cow::Owned(d.id.to_ascii_lowercase()),
                item: d,
            })
            .collect();
        let page = paging::page(items, order, page_size, after.as_ref(), fingerprint);
        let reply = Reply::json(StatusCode::OK, &page.render(|d| d.render(count_of(d))));
        Ok(reply)
    }

    pub(super) fn get_department(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        let department_id = path_uuid(request, "department_id")?;
        let department = self.department_target(request, access, &client_id, &department_id)?;
        Ok(self.department_reply(request.state, &client_id, &department, StatusCode::OK))
    }

    pub(super) fn create_department(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        let change = self.parse_department_change(request, true)?;
        self.authorise(access, &client_id)?;
        self.client_exists(&client_id)?;
        let name = change.name.unwrap_or_default();
        let department = self.one_department_write(request, || {
            self.name_is_free(request.state, &client_id, &name, None)?;
            let now = timestamps::next_write_millis(None, request.now());
            let record = DepartmentRecord {
                id: uuid::Uuid::new_v4().to_string(),
                client_id: client_id.to_string(),
                name,
                description: change.description.flatten(),
                created_at: now.clone(),
                updated_at: now,
                deleted_at: None,
            };
            request
                .state
                .put_typed(DEPARTMENTS, record.id.clone(), &record)?;
            Ok::<_, ActivityError>(record)
        })?;
        Ok(Reply::json(StatusCode::CREATED, &department.render(0)))
    }

    pub(super) fn update_department(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        let department_id = path_uuid(request, "department_id")?;
        let change = self.parse_department_change(request, false)?;
        self.department_target(request, access, &client_id, &department_id)?;
        let department = self.one_department_write(request, || {
            let mut record = self.find_department(request.state, &client_id, &department_id)?;
            if let Some(name) = change.name {
                self.name_is_free(request.state, &client_id, &name, Some(&department_id))?;
                record.name = name;
            }
            if let Some(description) = change.description {
                record.description = description;
            }
            record.updated_at =
                timestamps::next_write_millis(Some(&record.updated_at), request.now());
            request
                .state
                .put_typed(DEPARTMENTS, department_id.to_string(), &record)?;
            Ok::<_, ActivityError>(record)
        })?;
        Ok(self.department_reply(request.state, &client_id, &department, StatusCode::OK))
    }

    /// Soft delete: the record stays, hidden everywhere, and leaves every
    /// member's `departments`.
    pub(super) fn delete_department(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        let department_id = path_uuid(request, "department_id")?;
        self.department_target(request, access, &client_id, &department_id)?;
        // The delete and the members leaving are one step: a member added
        // or a user PATCH at the same time either comes before (and leaves
        // again) or finds the department gone (404).
        self.one_department_write(request, || {
            let mut record = self.find_department(request.state, &client_id, &department_id)?;
            let now = timestamps::next_write_millis(Some(&record.updated_at), request.now());
            record.deleted_at = Some(now.clone());
            record.updated_at = now;
            request
                .state
                .put_typed(DEPARTMENTS, department_id.to_string(), &record)?;
            for user in self.client_users(request.state, &client_id) {
                if user
                    .departments
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(&department_id))
                {
                    self.set_membership(request, &user.id, &department_id, false)?;
                }
            }
            Ok::<_, ActivityError>(())
        })?;
        Ok(Reply {
            status: StatusCode::NO_CONTENT,
            headers: crate::http::Headers::new(),
            body: Bytes::new(),
            notes: Vec::new(),
        })
    }

    pub(super) fn add_members(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        self.change_members(request, true)
    }

    pub(super) fn remove_members(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        self.change_members(request, false)
    }

    /// `{user_ids}` → `BulkMemberResult`: always 200 once the request is
    /// valid; each id succeeds (already in the wanted state counts) or fails
    /// with "User not found" (unknown, or of another client).
    fn change_members(&self, request: &Request<'_>, add: bool) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        let department_id = path_uuid(request, "department_id")?;
        let user_ids = self.parse_user_ids(request)?;
        self.department_target(request, access, &client_id, &department_id)?;
        let mut succeeded = Vec::new();
        let mut failed = Vec::new();
        // The department is looked up again inside the step that writes the
        // memberships, so a delete at the same time cannot slip between.
        self.one_department_write(request, || {
            let department = self.find_department(request.state, &client_id, &department_id)?;
            for id in user_ids {
                let lower = id.to_ascii_lowercase();
                let user = request
                    .state
                    .read::<UserRecord>(Activity::NAME, &lower)?
                    .filter(|u| u.client_id.eq_ignore_ascii_case(&client_id));
                let done = match user {
                    Some(_) => self.set_membership(request, &lower, &department.id, add)?,
                    None => None,
                };
                match done {
                    Some(user) => succeeded.push(json!(user.id)),
                    None => failed.push(json!({ "id": id, "error": "User not found" })),
                }
            }
            Ok::<_, ActivityError>(())
        })?;
        Ok(Reply::json(
            StatusCode::OK,
            &json!({ "succeeded": succeeded, "failed": failed }),
        ))
    }

    /// Puts the user in (or takes it out of) the department; a change moves
    /// its `updated_at`, the state already wanted writes nothing. `None`
    /// when the user no longer exists.
    fn set_membership(
        &self,
        request: &Request<'_>,
        user_id: &str,
        department_id: &str,
        member: bool,
    ) -> Result<Option<Arc<UserRecord>>, ActivityError> {
        let now = request.now();
        if let Some(user) = request.state.read::<UserRecord>(Activity::NAME, user_id)? {
            let is_member = user
                .departments
                .iter()
                .any(|d| d.eq_ignore_ascii_case(department_id));
            if is_member == member {
                return Ok(Some(user));
            }
        }
        request
            .state
            .update_typed(Activity::NAME, user_id, |user: &mut UserRecord| {
                user.departments
                    .retain(|d| !d.eq_ignore_ascii_case(department_id));
                if member {
                    user.departments.push(department_id.into());
                }
                user.updated_at = timestamps::next_write_millis(Some(&user.updated_at), now).into();
                Ok::<_, ActivityError>(())
            })
    }

    fn department_reply(
        &self,
        state: &State,
        client_id: &str,
        department: &DepartmentRecord,
        status: StatusCode,
    ) -> Reply {
        let count = self
            .member_counts(state, client_id)
            .get(&department.id.to_ascii_lowercase())
            .copied()
            .unwrap_or(0);
        Reply::json(status, &department.render(count))
    }

    /// The create (`creating`) or update body: `name` (required to create,
    /// never empty), `description` (string or `null`).
    fn parse_department_change(
        &self,
        request: &Request<'_>,
        creating: bool,
    ) -> Result<DepartmentChange, ActivityError> {
        let body = request.json(self.settings.require_json_content_type)?;
        let mut change = DepartmentChange::default();
        for (field, value) in body.as_object().cloned().unwrap_or_default() {
            match field.as_str() {
                "name" => change.name = Some(department_name(&value)?),
                "description" => change.description = Some(description(&value)?),
                _ => self.other_field(request, &field, READ_ONLY_FIELDS)?,
            }
        }
        if creating && change.name.is_none() {
            return Err(name_required());
        }
        Ok(change)
    }

    /// `{"user_ids": [uuid, …]}`; ids de-duplicated, in request order.
    fn parse_user_ids(&self, request: &Request<'_>) -> Result<Vec<String>, ActivityError> {
        let body = request.json(self.settings.require_json_content_type)?;
        let fields: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
        for field in fields.keys().filter(|f| f.as_str() != "user_ids") {
            self.other_field(request, field, &[])?;
        }
        let Some(value) = fields.get("user_ids") else {
            return Err(ActivityError::invalid_field(
                "'user_ids' is required",
                "user_ids",
                None,
            ));
        };
        let Value::Array(items) = value else {
            return Err(ActivityError::invalid_field(
                "'user_ids' must be an array of user ids",
                "user_ids",
                Some(value.clone()),
            ));
        };
        let mut ids: Vec<String> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let field = format!("user_ids[{i}]");
            let id = item.as_str().ok_or_else(|| {
                ActivityError::invalid_field(
                    format!("'{field}' must be a string"),
                    &field,
                    Some(item.clone()),
                )
            })?;
            if !is_hyphenated_uuid(id) {
                if self.settings.malformed_member_ids == MalformedMemberIds::Reject {
                    return Err(ActivityError::invalid_field(
                        format!("'{field}' is not a valid UUID"),
                        field,
                        Some(item.clone()),
                    ));
                }
                // The docs' own example sends such an id in a valid
                // request ("always 200 as long as the request itself is
                // valid"); no user has it, so it fails on its own.
                request.note(
                    "activity-malformed-member-id",
                    format!("'{field}' ('{id}') is not a UUID: listed in failed as \"User not found\""),
                    "inferred: https://api-docs.amm-scalepad.com/departments/members-add sends the non-UUID id b2e08142-15f3-5018-b350-104g8547318c in its example and answers 200; settings.malformed_member_ids: reject makes it a 400",
                );
            }
            if !ids.iter().any(|seen| seen.eq_ignore_ascii_case(id)) {
                ids.push(id.to_owned());
            }
        }
        Ok(ids)
    }

    /// A body field the route does not read: read-only ones and unknown
    /// ones follow the fixture's settings.
    pub(super) fn other_field(
        &self,
        request: &Request<'_>,
        field: &str,
        read_only: &[&str],
    ) -> Result<(), ActivityError> {
        if read_only.contains(&field) {
            if self.settings.read_only_fields == FieldPolicy::Reject {
                return Err(ActivityError::invalid_field(
                    format!("Field '{field}' cannot be updated via the API"),
                    field,
                    None,
                ));
            }
            request.note(
                "activity-read-only-field",
                format!("the read-only field '{field}' was ignored"),
                "inferred: https://api-docs.amm-scalepad.com/users/update lists the fields \"not updatable via API\" without saying what sending one does; ignored under settings.read_only_fields: ignore",
            );
        } else if self.settings.unknown_fields == FieldPolicy::Reject {
            return Err(ActivityError::invalid_field(
                format!("Unknown field '{field}'"),
                field,
                None,
            ));
        } else {
            request.note(
                "activity-unknown-field",
                format!("the field '{field}' is not in the vendor's schema and was ignored"),
                "inferred: the docs' request tables name every field and say nothing of others; ignored under settings.unknown_fields: ignore",
            );
        }
        Ok(())
    }
}

fn name_required() -> ActivityError {
    ActivityError::invalid_field("Department name is required", "name", None)
}

/// The longest department `name`, in characters. ScalePad documents none;
/// usermock's bound (docs/vendors/activity.md, inferred) keeps every record
/// and every answer that embeds departments small.
pub(super) const MAX_NAME_CHARS: usize = 255;

/// The longest department `description`, in characters (usermock's bound,
/// as for the name).
pub(super) const MAX_DESCRIPTION_CHARS: usize = 1000;

/// 400 for a string member longer than `max` characters; the value is not
/// echoed (it is the long part).
fn too_long(field: &str, max: usize) -> ActivityError {
    ActivityError::invalid_field(
        format!("'{field}' must be at most {max} characters"),
        field,
        None,
    )
}

/// A name: a string with something besides white space, at most
/// [`MAX_NAME_CHARS`] characters.
fn department_name(value: &Value) -> Result<String, ActivityError> {
    match value {
        Value::String(name) if name.chars().count() > MAX_NAME_CHARS => {
            Err(too_long("name", MAX_NAME_CHARS))
        }
        Value::String(name) if !name.trim().is_empty() => Ok(name.clone()),
        Value::String(_) | Value::Null => Err(name_required()),
        other => Err(ActivityError::invalid_field(
            "'name' must be a string",
            "name",
            Some(other.clone()),
        )),
    }
}

fn description(value: &Value) -> Result<Option<String>, ActivityError> {
    match value {
        Value::String(text) if text.chars().count() > MAX_DESCRIPTION_CHARS => {
            Err(too_long("description", MAX_DESCRIPTION_CHARS))
        }
        Value::String(text) => Ok(Some(text.clone())),
        Value::Null => Ok(None),
        other => Err(ActivityError::invalid_field(
            "'description' must be a string or null",
            "description",
            Some(other.clone()),
        )),
    }
}

/// An RFC 3339 timestamp as nanoseconds since 1970 (`None`: none or bad).
pub(super) fn instant(stamp: &str) -> Option<i128> {
    timestamps::parse(stamp).map(|t| t.unix_timestamp_nanos())
}
