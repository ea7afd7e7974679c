//! `POST /roles/{roleId}/users/{userId}/deactivate` and `/activate` (the
//! spec's `PostRoleUserDeactivateByRoleIdAndUserId` and
//! `…Activate…`: "Deactivates / Activates the user with the specified
//! id", 200 without a body, 404, 500; admin or
//! `workspace-manage-config:write`).
//!
//! The spec's `UserInRole.isDeactivated` ("deactivated in this role")
//! suggests a state per role; a workspace user has one role, so usermock
//! reads these as the user routes' deactivation and activation (inferred,
//! noted), with the same rules.

use std::borrow::Cow;
use bytes::Bytes;
use hyper::StatusCode;

use super::error::{Action, AworkError};
use super::{path_guid, permission, Awork};
use crate::http::Reply;
use crate::vendors::Request;

/// The note rule id of these routes (`docs/vendors/awork.md`).
const NOTE_ROLE_ACTIVATION: &str = "awork-role-activation";

impl Awork {
    pub(super) fn role_deactivate_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.role_activation(request, false)
    }

    pub(super) fn role_activate_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.role_activation(request, true)
    }

    fn role_activation(&self, request: &Request<'_>, activate: bool) -> Result<Reply, AworkError> {
        let caller = self.authenticate(request)?;
        let role_id = path_guid_named(request.param("roleId"), "RoleId")?;
        let user_id = path_guid(request.param("userId"))?;
        if !caller.may(permission::MANAGE_WORKSPACE) {
            return Err(AworkError::Unauthorized(Action::RoleActivation));
        }
        let Some(role) = self
            .world
            .roles
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(&role_id))
        else {
            return Err(AworkError::RelatedNotFound {
                entity: "role",
                ids: vec![role_id],
            });
        };
        let target = self.visible_user(request, &user_id)?;
        // Users of the fixture's roles belong to the role they are listed
        // in; a user invited while running has no recorded role.
        let in_some_role = self
            .world
            .roles
            .iter()
            .any(|r| r.user_ids.iter().any(|u| u.eq_ignore_ascii_case(&user_id)));
        let in_this_role = role
            .user_ids
            .iter()
            .any(|u| u.eq_ignore_ascii_case(&user_id));
        if in_some_role && !in_this_role {
            return Err(AworkError::NotInRole {
                user: target.id.clone(),
                role: role.id.clone(),
            });
        }
        request.note(
            NOTE_ROLE_ACTIVATION,
            format!(
                "read as POST /users/{}/{}",
                target.id,
                if activate { "activate" } else { "deactivate" }
            ),
            "inferred: the spec says only 'Deactivates / Activates the user with the specified id' (200, 404, 500)",
        );
        if activate {
            self.activate_user(request, caller, &user_id)?;
        } else {
            self.deactivate_user(request, caller, &user_id)?;
        }
        Ok(Reply {
            status: StatusCode::OK,
            headers: crate::http::Headers::new(),
            body: Bytes::new(),
            notes: Vec::new(),
        })
    }
}

/// A path GUID other than `userId`, lower-cased, or awork's 400.
fn path_guid_named(value: &str, property: &str) -> Result<String, AworkError> {
    path_guid(value).map(Cow::into_owned).map_err(|_| {
        AworkError::ValidationFailed(vec![super::error::PropertyError::new(
            property,
            format!("'{value}' is not a valid GUID."),
        )])
    })
}
