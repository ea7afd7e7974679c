//! A user's status and deletion: `PUT /users/{userId}/status` and
//! `DELETE /users/{userId}`. Neither is on Relesys' own pages; the public
//! client `getsno/relesys-users` calls both (`Users.php`:
//! `changeUserStatus` sends `{"status": …}`, `deleteUser` sends nothing
//! and reads nothing back), so they are served as `[D-3p]` routes and
//! every answer carries the [`THIRD_PARTY_ROUTE`] note.
//!
//! Because that client changes status only through its own route (its
//! `UserPatch` has no `/status` path), a user PATCH that writes `/status`
//! is refused unless `settings.patch_status` is `allow` (inferred).

use json_patch::PatchOperation;
use serde_json::Value;

use super::auth::WRITE_SCOPES;
use super::error::{Expected, RelesysError};
use super::organisation::{Department, Writable};
use super::patch::{describe, status_change_allowed};
use super::user::{Status, User};
use super::{no_content, path_guid, Relesys, THIRD_PARTY_ROUTE, THIRD_PARTY_SOURCE};
use crate::http::Reply;
use crate::timestamps;
use crate::store::{State, StoreFull};
use crate::vendors::{Api, Request};

/// The note on a user PATCH that wrote `/status` with `patch_status: allow`.
const STATUS_BY_PATCH: &str = "relesys-status-by-patch";

impl Relesys {
    /// A user PATCH that writes `/status` (a `test` only reads it): 400
    /// naming the status route, or, with `settings.patch_status: allow`,
    /// accepted with a note.
    pub(super) fn status_by_patch(
        &self,
        request: &Request<'_>,
        ops: &[PatchOperation],
    ) -> Result<(), RelesysError> {
        let writes_status = |op: &PatchOperation| {
            let touches = |pointer: &json_patch::jsonptr::Pointer| {
                pointer.first().is_some_and(|t| t.decoded() == "status")
            };
            match op {
                PatchOperation::Test(_) => false,
                PatchOperation::Move(m) => touches(&m.path) || touches(&m.from),
                other => touches(other.path()),
            }
        };
        let Some((i, op)) = ops.iter().enumerate().find(|(_, op)| writes_status(op)) else {
            return Ok(());
        };
        if self.tenant.status_by_patch {
            request.note(
                STATUS_BY_PATCH,
                format!("operation {i} ({}) changed the status by PATCH", describe(op)),
                "inferred: https://github.com/getsno/relesys-users (UserPatch.php has no /status path; Users.php changes status with PUT users/{id}/status); allowed by settings.patch_status",
            );
            return Ok(());
        }
        Err(RelesysError::invalid(format!(
            "Operation {i} ({}): '/status' is changed with PUT /users/{{userId}}/status, not by PATCH",
            describe(op)
        )))
    }

    /// `PUT /users/{userId}/status` with `{"status": "Disabled"}`: 204, the
    /// status changed as a PATCH would change it (inferred rules).
    pub(super) fn change_status(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        request.note(
            THIRD_PARTY_ROUTE,
            "PUT /users/{userId}/status",
            THIRD_PARTY_SOURCE,
        );
        let grant = self.admit(request)?;
        let user_id = path_guid(request, "userId")?;
        const SHAPE: &str = "a JSON object {\"status\": …}";
        let body = request
            .json(true)
            .map_err(|e| RelesysError::from_body(e, Expected::Json, SHAPE))?;
        let Value::Object(members) = body else {
            return Err(RelesysError::invalid(format!(
                "The request body must be {SHAPE}"
            )));
        };
        let mut status = None;
        for (key, value) in members {
            if !key.eq_ignore_ascii_case("status") {
                return Err(RelesysError::invalid(format!(
                    "'/{key}' is not a member of a status change; send {{\"status\": …}}"
                )));
            }
            status = Some(
                serde_json::from_value::<Status>(value)
                    .map_err(|e| RelesysError::invalid(format!("/status: {e}")))?,
            );
        }
        let status =
            status.ok_or_else(|| RelesysError::invalid("/status: the member is required"))?;
        grant.require_any(WRITE_SCOPES)?;
        let now = request.now();
        request
            .state
            .update_typed(Relesys::NAME, &user_id, |user: &mut User| {
                status_change_allowed(user.status, status)
                    .map_err(|message| RelesysError::invalid(format!("/status: {message}")))?;
                if user.status != status {
                    user.status = status;
                    user.last_modified_date_time =
                        timestamps::next_write_ticks(Some(&user.last_modified_date_time), now);
                }
                Ok::<_, RelesysError>(())
            })?
            .ok_or_else(|| RelesysError::UserNotFound(user_id.to_string()))?;
        Ok(no_content())
    }

    /// `DELETE /users/{userId}`: 204; the user is gone, and a department
    /// it managed has no manager any more (inferred).
    pub(super) fn delete_user(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        request.note(
            THIRD_PARTY_ROUTE,
            "DELETE /users/{userId}",
            THIRD_PARTY_SOURCE,
        );
        let grant = self.admit(request)?;
        let user_id = path_guid(request, "userId")?;
        grant.require_any(WRITE_SCOPES)?;
        let now = request.now();
        let found = self.remove_user(request.state, &user_id, now, |department| {
            request.note(
                "relesys-manager-cleared",
                format!(
                    "the department '{department}' lost its manager with the deleted user"
                ),
                "inferred: no source says what becomes of a deleted user's departments",
            );
        })?;
        if !found {
            return Err(RelesysError::UserNotFound(user_id.into_owned()));
        }
        Ok(no_content())
    }

    /// Deletes user `id` (lower-cased) as `DELETE /users/{userId}` does:
    /// a department it managed gets `managerUserId: null` and a new
    /// `lastModifiedDateTime` (`cleared` is told each department's id).
    /// One step: the references lock first, then the state's, as the user
    /// routes take them, so no department can come to name the user in
    /// between. False when there is no such user. Past a store cap the
    /// user stays, and the departments cleared so far stay cleared (each
    /// is valid without a manager).
    pub(super) fn remove_user(
        &self,
        state: &State,
        id: &str,
        now: time::OffsetDateTime,
        mut cleared: impl FnMut(&str),
    ) -> Result<bool, StoreFull> {
        let _removing = self.removing_references();
        let departments = &self.tenant.organisation.departments;
        let id = id.to_ascii_lowercase();
        state.transaction(|| {
            if state.get(Relesys::NAME, &id).is_none() {
                return Ok(false);
            }
            for department in departments.all(state) {
                let manages = department
                    .manager_user_id
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(&id));
                if manages {
                    let mut department: Department = (*department).clone();
                    department.manager_user_id = None;
                    let stamp = timestamps::next_write_ticks(Some(department.last_modified()), now);
                    department.set_last_modified(stamp);
                    cleared(&department.id);
                    departments.put(state, department)?;
                }
            }
            Ok(state.delete(Relesys::NAME, &id))
        })
    }
}
