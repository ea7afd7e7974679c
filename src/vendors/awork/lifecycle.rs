//! A user's lifecycle: `GET /users/me` (and `/me`), `POST
//! /users/{id}/deactivate`, `/activate`, `/setarchived`, and `DELETE
//! /users/{id}` (a soft delete), each with the permission the spec's
//! "Required Permissions" names.

use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{json, Value};

use super::error::{Action, AworkError, PropertyError};
use super::list::bool_query;
use super::update::{refuse_inactive, touch};
use super::user::{Timestamp, User};
use super::{path_guid, permission, Awork, Caller};
use crate::http::Reply;
use crate::store::{BrokenRecord, State};
use crate::vendors::{Api, Request};

/// Refusal to leave the workspace without an active admin.
pub(super) fn last_admin(id: &str) -> AworkError {
    AworkError::InvalidOperation {
        detail: format!("User '{id}' is the last admin of the workspace."),
    }
}

fn no_content() -> Reply {
    Reply {
        status: StatusCode::NO_CONTENT,
        headers: crate::http::Headers::new(),
        body: Bytes::new(),
        notes: Vec::new(),
    }
}

/// `user` with members appended after its own (`ExtendedUser`,
/// `UserAndWorkspace` repeat `User`'s properties first).
fn extended(user: &User, more: Value) -> Result<Value, AworkError> {
    let mut value = serde_json::to_value(user).map_err(|_| AworkError::ServerError)?;
    if let (Some(map), Value::Object(more)) = (value.as_object_mut(), more) {
        map.extend(more);
    }
    Ok(value)
}

impl Awork {
    pub(super) fn me_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        let caller = self.authenticate(request)?;
        let user = self.visible_user(request, &caller.user_id)?;
        let workspace = &self.world.workspace;
        let body = extended(
            &user,
            json!({
                "accountId": null,
                "workspace": { "id": workspace.id, "name": workspace.name, "url": workspace.url },
            }),
        )?;
        Ok(Reply::json(StatusCode::OK, &body))
    }

    pub(super) fn deactivate_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        let caller = self.authenticate(request)?;
        let id = path_guid(request.param("userId"))?;
        let summary = bool_query(request, "includeSummary", "IncludeSummary")?.unwrap_or(false);
        self.permitted_target(request, caller, &id, permission::MANAGE_USERS)?;
        self.deactivate_user(request, caller, &id)?;
        if summary {
            // usermock has no projects: nothing is reassigned or deleted.
            request.note(
                "awork-deactivate-summary",
                "the summary's counts are 0: the emulated workspace has no projects",
                "inferred: usermock emulates users only; awork counts the user's private projects",
            );
            Ok(Reply::json(
                StatusCode::OK,
                &json!({ "privateProjectManagersReassignedCount": 0, "privateProjectsDeletedCount": 0 }),
            ))
        } else {
            Ok(no_content())
        }
    }

    pub(super) fn activate_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        let caller = self.authenticate(request)?;
        let id = path_guid(request.param("userId"))?;
        self.permitted_target(request, caller, &id, permission::MANAGE_USERS)?;
        self.activate_user(request, caller, &id)?;
        Ok(no_content())
    }

    /// Deactivates the (visible) user `id` on behalf of `caller`: an
    /// archived or deactivated one cannot be.
    pub(super) fn deactivate_user(
        &self,
        request: &Request<'_>,
        caller: &Caller,
        id: &str,
    ) -> Result<(), AworkError> {
        let by = self.canonical_id(request, &caller.user_id)?;
        let now = request.now();
        // The last-admin check and the write are one step (atomic).
        self.keeping_an_admin(request, id, |user| {
            refuse_inactive(user)?;
            user.is_deactivated = true;
            user.status.is_deactivated = true;
            user.deactivated_on = Some(Timestamp::next_write(None, now));
            touch(user, &by, now)
        })?;
        Ok(())
    }

    /// Activates the (visible) deactivated user `id` on behalf of `caller`.
    pub(super) fn activate_user(
        &self,
        request: &Request<'_>,
        caller: &Caller,
        id: &str,
    ) -> Result<(), AworkError> {
        let by = self.canonical_id(request, &caller.user_id)?;
        let now = request.now();
        self.write(request, id, |user| {
            if user.is_archived {
                return Err(AworkError::EntityArchived {
                    id: user.id.clone(),
                });
            }
            if !user.is_deactivated {
                return Err(AworkError::InvalidOperation {
                    detail: format!("User '{}' is not deactivated.", user.id),
                });
            }
            user.is_deactivated = false;
            user.status.is_deactivated = false;
            user.deactivated_on = None;
            touch(user, &by, now)
        })?;
        Ok(())
    }

    pub(super) fn set_archived_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        let caller = self.authenticate(request)?;
        let id = path_guid(request.param("userId"))?;
        let archived = self.archived_form(request)?;
        self.permitted_target(request, caller, &id, permission::MANAGE_PROJECTS)?;
        let by = self.canonical_id(request, &caller.user_id)?;
        let now = request.now();
        let archive = |user: &mut User| {
            user.is_archived = archived;
            touch(user, &by, now)
        };
        let user = if archived {
            self.keeping_an_admin(request, &id, archive)?
        } else {
            self.write(request, &id, archive)?
        };
        let body = extended(&user, json!({ "accountId": null }))?;
        Ok(Reply::json(StatusCode::OK, &body))
    }

    pub(super) fn delete_user_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        let caller = self.authenticate(request)?;
        let id = path_guid(request.param("userId"))?;
        self.permitted_target(request, caller, &id, permission::DELETE_USERS)?;
        let by = self.canonical_id(request, &caller.user_id)?;
        let now = request.now();
        self.keeping_an_admin(request, &id, |user| {
            user.deleted_on = Some(Timestamp::next_write(None, now));
            touch(user, &by, now)
        })?;
        Ok(no_content())
    }

    /// Permission first (401), then existence (404).
    fn permitted_target(
        &self,
        request: &Request<'_>,
        caller: &Caller,
        id: &str,
        needed: &str,
    ) -> Result<Arc<User>, AworkError> {
        if !caller.may(needed) {
            let action = match needed {
                permission::MANAGE_PROJECTS => Action::Archive,
                permission::DELETE_USERS => Action::Delete,
                _ => Action::Activate,
            };
            return Err(AworkError::Unauthorized(action));
        }
        self.visible_user(request, id)
    }

    /// `change` applied to user `id` unless it takes the workspace's last
    /// active admin away: the check and the write are one step, so two
    /// admins archived or deleted at once cannot both go.
    pub(super) fn keeping_an_admin(
        &self,
        request: &Request<'_>,
        id: &str,
        change: impl FnOnce(&mut User) -> Result<(), AworkError>,
    ) -> Result<Arc<User>, AworkError> {
        request.state.transaction(|| {
            let target = self.visible_user(request, id)?;
            self.keep_an_admin(request, &target)?;
            self.write(request, id, change)
        })
    }

    /// "This is only possible if the user is not the last admin user":
    /// an active admin may only leave while another active admin remains.
    pub(super) fn keep_an_admin(
        &self,
        request: &Request<'_>,
        target: &User,
    ) -> Result<(), AworkError> {
        let id = target.id.to_ascii_lowercase();
        if !self.world.admins.contains(&id) || !is_active(target) {
            return Ok(());
        }
        if self.another_active_admin(request.state, &id)? {
            return Ok(());
        }
        Err(last_admin(&target.id))
    }

    /// Whether a member of an admin role other than `id` (lower-cased) is
    /// active in `state`.
    pub(super) fn another_active_admin(
        &self,
        state: &State,
        id: &str,
    ) -> Result<bool, BrokenRecord> {
        for other in self.world.admins.iter().filter(|a| *a != id) {
            let user: Option<Arc<User>> = state.read(Awork::NAME, other)?;
            if user.is_some_and(|u| is_active(&u)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `ArchivedForm`: `{"isArchived": bool}`.
    fn archived_form(&self, request: &Request<'_>) -> Result<bool, AworkError> {
        let call = request.call;
        if call.header("content-type").is_some() && !call.declares_json() {
            return Err(AworkError::UnsupportedMediaType {
                declared: call.header("content-type").map(str::to_owned),
            });
        }
        let Value::Object(members) = request.json(false)? else {
            return Err(AworkError::ServerError);
        };
        let mut errors =
            self.other_member_errors(request, &members, &["isArchived"], "ArchivedForm");
        let archived = match members.get("isArchived") {
            Some(Value::Bool(flag)) => Some(*flag),
            Some(other) => {
                errors.push(PropertyError::new(
                    "IsArchived",
                    format!(
                        "'IsArchived' must be a boolean, not {}.",
                        super::update::json_kind(other)
                    ),
                ));
                None
            }
            None => {
                errors.push(PropertyError::new(
                    "IsArchived",
                    "'IsArchived' must be set.",
                ));
                None
            }
        };
        match archived {
            Some(flag) if errors.is_empty() => Ok(flag),
            _ => Err(AworkError::ValidationFailed(errors)),
        }
    }
}

/// Signed in and usable: invited and accepted, not deactivated, archived
/// or deleted.
pub(super) fn is_active(user: &User) -> bool {
    user.status.invitation_accepted
        && !user.is_deactivated
        && !user.is_archived
        && !user.is_deleted()
}

