//! Departments and user groups by id: `PATCH` (Relesys' own pages
//! departments-patch-updatedepartment and usergroups-patch-updateusergroup:
//! a JSON Patch document, write scopes, `{"data": …}`) and `GET`, `POST`
//! and `DELETE` (only the public client `getsno/relesys-users` shows them:
//! `[D-3p]`, noted on every answer).
//!
//! A patch follows the user PATCH's rules (one operation after another on
//! a copy, member names case-insensitive, read-only members, removing a
//! nullable member sets `null`, the size bound); the result must read as
//! the typed entry and refer only to what exists (inferred).

use hyper::StatusCode;
use serde_json::{Map, Value};

use super::auth::{READ_SCOPES, WRITE_SCOPES};
use super::error::{Expected, RelesysError};
use super::organisation::{
    Department, Entries, UserGroup, Writable, DEPARTMENT_MEMBERS, DEPARTMENT_OPTIONAL,
    ENTRY_READ_ONLY, USER_GROUP_MEMBERS, USER_GROUP_OPTIONAL,
};
use super::patch::{self, json_size, Model};
use super::user::User;
use super::{
    no_content, path_guid, read_patch, Data, Relesys, Tenant, CREATED_STATUS, CREATED_STATUS_SOURCE,
    THIRD_PARTY_ROUTE, THIRD_PARTY_SOURCE,
};
use crate::diagnostics::pointer_of;
use crate::http::Reply;
use crate::store::State;
use crate::timestamps;
use crate::vendors::{Api, Request};

/// What the routes need to know of a department or a user group.
pub(super) trait Served: Writable {
    /// The path parameter: `departmentId`, `userGroupId`.
    const PARAM: &'static str;
    /// The routes, for notes: `/departments`, `/departments/{departmentId}`.
    const COLLECTION: &'static str;
    const ROUTE: &'static str;
    const MODEL: Model;
    fn entries(tenant: &Tenant) -> &Entries<Self>;
    /// Why `entry` cannot be stored as `state` sees the world: its
    /// references (as pointer, message).
    fn reference_problems(
        &self,
        entries: &Entries<Self>,
        state: &State,
    ) -> Option<(String, String)>;
    /// Why this entry cannot be deleted: what still refers to it.
    fn in_use(&self, relesys: &Relesys, state: &State) -> Option<String>;
}

fn no_names(_: &str) -> &'static [&'static str] {
    &[]
}

fn department_nested(member: &str) -> &'static [&'static str] {
    match member {
        "phoneNumber" => &["countryCode", "number"],
        _ => &[],
    }
}

fn department_items(member: &str) -> &'static [&'static str] {
    match member {
        "locales" => &["culture", "description"],
        _ => &[],
    }
}

impl Served for Department {
    const PARAM: &'static str = "departmentId";
    const COLLECTION: &'static str = "/departments";
    const ROUTE: &'static str = "/departments/{departmentId}";
    const MODEL: Model = Model {
        what: "department",
        members: DEPARTMENT_MEMBERS,
        optional: DEPARTMENT_OPTIONAL,
        read_only: ENTRY_READ_ONLY,
        nested: department_nested,
        items: department_items,
        keep_required: true,
    };

    fn entries(tenant: &Tenant) -> &Entries<Department> {
        &tenant.organisation.departments
    }

    fn reference_problems(
        &self,
        entries: &Entries<Department>,
        state: &State,
    ) -> Option<(String, String)> {
        if let Some(manager) = self.manager_user_id.as_deref() {
            let exists = state
                .read::<User>(Relesys::NAME, &manager.to_ascii_lowercase())
                .ok()
                .flatten()
                .is_some();
            if !exists {
                return Some((
                    "/managerUserId".into(),
                    format!("no user has id '{manager}'"),
                ));
            }
        }
        // The parents up from this one: each must exist, and none may be
        // this department (a bounded walk: a cycle elsewhere stops it).
        let mut parent = self.parent_id.clone();
        let mut steps = 0usize;
        while let Some(id) = parent {
            if id.eq_ignore_ascii_case(&self.id) {
                return Some((
                    "/parentId".into(),
                    "a department cannot be below itself".into(),
                ));
            }
            let found = entries.get(Some(state), &id).ok().flatten();
            let Some(found) = found else {
                return (steps == 0)
                    .then(|| ("/parentId".into(), format!("no department has id '{id}'")));
            };
            steps = steps.saturating_add(1);
            if steps > 10_000 {
                break;
            }
            parent = found.parent_id.clone();
        }
        None
    }

    fn in_use(&self, relesys: &Relesys, state: &State) -> Option<String> {
        let users = state
            .all_typed::<User>(Relesys::NAME)
            .iter()
            .filter(|u| {
                u.primary_department_id.eq_ignore_ascii_case(&self.id)
                    || u.additional_departments
                        .iter()
                        .any(|m| m.id.eq_ignore_ascii_case(&self.id))
            })
            .count();
        if users > 0 {
            return Some(format!(
                "the department '{}' is still a department of {users} user(s); move them first",
                self.id
            ));
        }
        let children = relesys
            .tenant
            .organisation
            .departments
            .all(state)
            .iter()
            .filter(|d| {
                d.parent_id
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case(&self.id))
            })
            .count();
        (children > 0).then(|| {
            format!(
                "the department '{}' is still the parent of {children} department(s)",
                self.id
            )
        })
    }
}

impl Served for UserGroup {
    const PARAM: &'static str = "userGroupId";
    const COLLECTION: &'static str = "/userGroups";
    const ROUTE: &'static str = "/userGroups/{userGroupId}";
    const MODEL: Model = Model {
        what: "user group",
        members: USER_GROUP_MEMBERS,
        optional: USER_GROUP_OPTIONAL,
        read_only: ENTRY_READ_ONLY,
        nested: no_names,
        items: no_names,
        keep_required: true,
    };

    fn entries(tenant: &Tenant) -> &Entries<UserGroup> {
        &tenant.organisation.user_groups
    }

    fn reference_problems(&self, _: &Entries<UserGroup>, _: &State) -> Option<(String, String)> {
        None
    }

    fn in_use(&self, _: &Relesys, state: &State) -> Option<String> {
        let users = state
            .all_typed::<User>(Relesys::NAME)
            .iter()
            .filter(|u| {
                u.user_groups
                    .iter()
                    .any(|m| m.id.eq_ignore_ascii_case(&self.id))
            })
            .count();
        (users > 0).then(|| {
            format!(
                "the user group '{}' still has {users} member(s); remove them first",
                self.id
            )
        })
    }
}

/// The first problem of `entry`'s own values and references, as a 400.
fn check<T: Served>(
    entry: &T,
    entries: &Entries<T>,
    state: &State,
    prefix: &str,
) -> Result<(), RelesysError> {
    let problem = entry
        .problems()
        .into_iter()
        .next()
        .or_else(|| entry.reference_problems(entries, state));
    match problem {
        Some((pointer, message)) => Err(RelesysError::invalid(format!(
            "{prefix}{pointer}: {message}"
        ))),
        None => Ok(()),
    }
}

const IN_USE: &str = "relesys-entry-in-use";
const IN_USE_SOURCE: &str =
    "inferred: no source says what deleting a department or user group that is still referred to does";

impl Relesys {
    fn entry_or_404<T: Served>(&self, state: &State, id: &str) -> Result<T, RelesysError> {
        T::entries(&self.tenant)
            .get(Some(state), id)?
            .map(|entry| (*entry).clone())
            .ok_or_else(|| RelesysError::EntryNotFound {
                what: T::WHAT,
                id: id.to_owned(),
            })
    }

    /// `GET /departments/{id}`, `GET /userGroups/{id}`: `{"data": entry}`.
    pub(super) fn get_entry<T: Served>(
        &self,
        request: &Request<'_>,
    ) -> Result<Reply, RelesysError> {
        request.note(
            THIRD_PARTY_ROUTE,
            format!("GET {}", T::ROUTE),
            THIRD_PARTY_SOURCE,
        );
        let grant = self.admit(request)?;
        let id = path_guid(request, T::PARAM)?;
        grant.require_any(READ_SCOPES)?;
        let entry: T = self.entry_or_404(request.state, &id)?;
        Ok(Reply::json(StatusCode::OK, &Data { data: &entry }))
    }

    /// `PATCH /departments/{id}`, `PATCH /userGroups/{id}` (documented).
    pub(super) fn update_entry<T: Served>(
        &self,
        request: &Request<'_>,
    ) -> Result<Reply, RelesysError> {
        let grant = self.admit(request)?;
        let id = path_guid(request, T::PARAM)?;
        let ops = read_patch(request, &T::MODEL)?;
        patch::reject_read_only(&ops, &T::MODEL)?;
        grant.require_any(WRITE_SCOPES)?;

        let _removing = self.removing_references();
        let before: T = self.entry_or_404(request.state, &id)?;
        let mut entry: T =
            patch::patched_document(&before, &ops, &T::MODEL, self.tenant.max_record_bytes)?;
        let entries = T::entries(&self.tenant);
        let prefix = |pointer: &str| patch::blame(&ops, pointer);
        if let Some((pointer, message)) = entry
            .problems()
            .into_iter()
            .next()
            .or_else(|| entry.reference_problems(entries, request.state))
        {
            return Err(RelesysError::invalid(format!(
                "{}{pointer}: {message}",
                prefix(&pointer)
            )));
        }
        let stamp = timestamps::next_write_ticks(Some(before.last_modified()), request.now());
        entry.set_last_modified(stamp);
        entries.put(request.state, entry.clone())?;
        Ok(Reply::json(StatusCode::OK, &Data { data: &entry }))
    }

    /// `POST /departments`, `POST /userGroups` `[D-3p]`: a new entry from a
    /// JSON object of its writable members (`name` required), answered as
    /// a user create is (`settings.created_status`).
    pub(super) fn create_entry<T: Served>(
        &self,
        request: &Request<'_>,
    ) -> Result<Reply, RelesysError> {
        request.note(
            THIRD_PARTY_ROUTE,
            format!("POST {}", T::COLLECTION),
            THIRD_PARTY_SOURCE,
        );
        let grant = self.admit(request)?;
        const SHAPE: &str = "a JSON object";
        let body = request
            .json(true)
            .map_err(|e| RelesysError::from_body(e, Expected::Json, SHAPE))?;
        let Value::Object(body) = body else {
            return Err(RelesysError::invalid(format!(
                "The request body must be {SHAPE}"
            )));
        };
        let model = &T::MODEL;
        let mut members = Map::new();
        for (key, value) in body {
            let name = model
                .members
                .iter()
                .filter(|m| !model.read_only.contains(m))
                .find(|m| m.eq_ignore_ascii_case(&key));
            let Some(name) = name else {
                return Err(RelesysError::invalid(format!(
                    "'/{key}' is not a member of a new {}",
                    model.what
                )));
            };
            if members.insert((*name).to_owned(), value).is_some() {
                return Err(RelesysError::invalid(format!("'/{name}' is given twice")));
            }
        }
        if members.get("name").is_none_or(Value::is_null) {
            return Err(RelesysError::invalid("/name: the member is required"));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let stamp = timestamps::format_ticks(request.now());
        let mut doc = Map::new();
        doc.insert("id".into(), Value::String(id));
        doc.insert("creationDateTime".into(), Value::String(stamp.clone()));
        doc.insert("lastModifiedDateTime".into(), Value::String(stamp));
        doc.extend(members);
        let doc = Value::Object(doc);
        let max = self.tenant.max_record_bytes;
        if json_size(&doc) > max {
            return Err(RelesysError::invalid(format!(
                "The {} would be larger than {max} bytes",
                model.what
            )));
        }
        let entry: T = serde_path_to_error::deserialize(&doc).map_err(|e| {
            let pointer = pointer_of(e.path());
            RelesysError::invalid(format!("{pointer}: {}", e.into_inner()))
        })?;
        grant.require_any(WRITE_SCOPES)?;
        let entries = T::entries(&self.tenant);
        let _removing = self.removing_references();
        check(&entry, entries, request.state, "")?;
        entries.put(request.state, entry.clone())?;
        request.note(
            CREATED_STATUS,
            format!(
                "answered {} to a create: no source gives the status",
                self.tenant.created_status.as_u16()
            ),
            CREATED_STATUS_SOURCE,
        );
        Ok(Reply::json(
            self.tenant.created_status,
            &Data { data: &entry },
        ))
    }

    /// `DELETE /departments/{id}`, `DELETE /userGroups/{id}` `[D-3p]`: 204;
    /// refused (400) while a user (or a sub-department) still refers to it.
    pub(super) fn delete_entry<T: Served>(
        &self,
        request: &Request<'_>,
    ) -> Result<Reply, RelesysError> {
        request.note(
            THIRD_PARTY_ROUTE,
            format!("DELETE {}", T::ROUTE),
            THIRD_PARTY_SOURCE,
        );
        let grant = self.admit(request)?;
        let id = path_guid(request, T::PARAM)?;
        grant.require_any(WRITE_SCOPES)?;
        let _removing = self.removing_references();
        let entry: T = self.entry_or_404(request.state, &id)?;
        if let Some(reason) = entry.in_use(self, request.state) {
            request.note(IN_USE, reason.clone(), IN_USE_SOURCE);
            return Err(RelesysError::invalid(format!(
                "The {} cannot be deleted: {reason}",
                T::WHAT
            )));
        }
        T::entries(&self.tenant).delete(request.state, &id)?;
        Ok(no_content())
    }
}
