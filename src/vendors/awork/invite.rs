//! `POST /invitations` (awork's guide, `fern/pages/api/users.mdx`; the
//! operation left the spec at commit d7cd21b, its schemas did not): the
//! `invite` flow into the caller's workspace. The invited user exists at
//! once, with `status.invitationAccepted: false`.

use std::sync::Arc;

use hyper::StatusCode;
use serde_json::{json, Map, Value};

use super::error::{Action, AworkError, PropertyError};
use super::fixture::InvitationRole;
use super::update::{json_kind, not_a_string};
use super::user::{Timestamp, User, UserStatus};
use super::{form, permission, Awork};
use crate::http::Reply;
use crate::timestamps;
use crate::vendors::{is_hyphenated_uuid, Api, Request};

/// Every member of the spec's `Invitation`.
const MEMBERS: &[&str] = &[
    "workspaceId",
    "invitationFlow",
    "roleId",
    "connectInviteCode",
    "passcode",
    "email",
    "password",
    "firstName",
    "lastName",
    "title",
    "position",
    "gender",
    "skipSendingEmail",
    "teamIds",
    "bookedSeats",
];

/// The note rule ids of `POST /invitations` (`docs/vendors/awork.md`).
const NOTE_FLOW: &str = "awork-invitation-flow";
const NOTE_ROLE_REQUIRED: &str = "awork-invitation-role-required";

pub(super) fn email_taken(email: &str) -> AworkError {
    AworkError::AlreadyExists {
        detail: format!("A user with the email '{email}' already exists in this workspace."),
    }
}

/// The invitation as read from the body.
struct Invitation {
    workspace_id: Option<String>,
    role_id: Option<String>,
    email: String,
    texts: Vec<(&'static str, Option<String>)>,
    team_ids: Vec<String>,
}

impl Awork {
    pub(super) fn invite_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        let caller = self.authenticate(request)?;
        let call = request.call;
        if call.header("content-type").is_some() && !call.declares_json() {
            return Err(AworkError::UnsupportedMediaType {
                declared: call.header("content-type").map(str::to_owned),
            });
        }
        let Value::Object(members) = request.json(false)? else {
            return Err(AworkError::ServerError);
        };
        let invitation = self.read_invitation(request, &members)?;
        let workspace = invitation
            .workspace_id
            .clone()
            .ok_or(AworkError::WorkspaceIdMissing)?;
        if !workspace.eq_ignore_ascii_case(&self.world.workspace.id) {
            return Err(AworkError::ForeignWorkspace { id: workspace });
        }
        if !caller.may(permission::MANAGE_USERS) {
            return Err(AworkError::Unauthorized(Action::Invite));
        }
        if let Some(role_id) = &invitation.role_id {
            if !self
                .world
                .roles
                .iter()
                .any(|r| r.id.eq_ignore_ascii_case(role_id))
            {
                return Err(AworkError::RelatedNotFound {
                    entity: "role",
                    ids: vec![role_id.clone()],
                });
            }
        }
        let teams = self.teams(&invitation.team_ids)?;
        let by = self.canonical_id(request, &caller.user_id)?;
        let user = invited_user(&invitation, teams, &by, request.now());
        // The e-mail check and the store are one step: two invitations of
        // one address at once cannot both get in.
        request.state.transaction(|| {
            let users: Vec<Arc<User>> = request.state.all_typed(Awork::NAME);
            if users.iter().filter(|u| !u.is_deleted()).any(|u| {
                u.emails()
                    .any(|e| e.eq_ignore_ascii_case(&invitation.email))
            }) {
                return Err(email_taken(&invitation.email));
            }
            request
                .state
                .put_typed(Awork::NAME, user.id.clone(), &user)?;
            Ok(())
        })?;
        Ok(Reply::json(
            StatusCode::OK,
            &json!({
                "invitationCode": self.invitation_code(&user.id),
                "passwordResetCode": null,
                "userId": user.id,
                "workspace": {
                    "name": self.world.workspace.name,
                    "id": self.world.workspace.id,
                    "allowSocialLogin": true,
                    "allowCredentialsLogin": true,
                },
            }),
        ))
    }

    /// The body's members, every problem listed at once.
    fn read_invitation(
        &self,
        request: &Request<'_>,
        members: &Map<String, Value>,
    ) -> Result<Invitation, AworkError> {
        let mut errors = self.other_member_errors(request, members, MEMBERS, "Invitation");
        let mut text = |member: &str, property: &str| match members.get(member) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                errors.push(not_a_string(property, other));
                None
            }
        };
        let workspace_id = text("workspaceId", "WorkspaceId");
        let flow = text("invitationFlow", "InvitationFlow");
        let role_id = text("roleId", "RoleId");
        let email = text("email", "Email");
        let mut texts = Vec::new();
        for member in ["firstName", "lastName", "title", "position", "gender"] {
            texts.push((member, text(member, form::property(member))));
        }
        for member in ["connectInviteCode", "passcode", "password"] {
            text(member, member);
        }
        for (member, value) in &texts {
            if let Some(problem) = value
                .as_deref()
                .and_then(|v| form::field_problem(member, v))
            {
                errors.push(PropertyError::new(form::property(member), problem));
            }
        }
        if let Some(problem) = flow_problem(flow.as_deref()) {
            request.note(
                NOTE_FLOW,
                format!(
                    "invitationFlow {} was refused: only 'invite' is emulated",
                    flow.as_deref().map_or("null".to_owned(), |f| format!("'{f}'"))
                ),
                "inferred: the Invitation schema lists three flows; the two that create a workspace are not emulated, and a missing flow is not described",
            );
            errors.push(PropertyError::new("InvitationFlow", problem));
        }
        for (id, property) in [(&workspace_id, "WorkspaceId"), (&role_id, "RoleId")] {
            if let Some(id) = id.as_deref().filter(|id| !is_hyphenated_uuid(id)) {
                errors.push(PropertyError::new(
                    property,
                    format!("'{id}' is not a valid GUID."),
                ));
            }
        }
        if role_id.is_none() && self.world.invitation_role == InvitationRole::Required {
            request.note(
                NOTE_ROLE_REQUIRED,
                "an invitation without roleId was refused",
                "inferred: the spec marks Invitation.roleId nullable, the guide's minimal call sends one (settings.invitation_role)",
            );
            errors.push(PropertyError::new("RoleId", "'RoleId' must not be empty."));
        }
        match email.as_deref() {
            Some(e) if is_email(e) => {}
            Some(e) => errors.push(PropertyError::new(
                "Email",
                format!("'{e}' is not a valid email address."),
            )),
            None => errors.push(PropertyError::new("Email", "'Email' must not be empty.")),
        }
        check_flags(members, &mut errors);
        let team_ids = team_ids(members.get("teamIds"), &mut errors);
        if !errors.is_empty() {
            return Err(AworkError::ValidationFailed(errors));
        }
        Ok(Invitation {
            workspace_id,
            role_id,
            email: email.unwrap_or_default(),
            texts,
            team_ids,
        })
    }

    /// The fixture teams for `ids`; every unknown id is listed.
    fn teams(&self, ids: &[String]) -> Result<Vec<Value>, AworkError> {
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for id in ids {
            match self
                .world
                .teams
                .iter()
                .find(|t| t.id.eq_ignore_ascii_case(id))
            {
                Some(team) => {
                    found.push(serde_json::to_value(team).map_err(|_| AworkError::ServerError)?)
                }
                None => missing.push(id.clone()),
            }
        }
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(AworkError::RelatedNotFound {
                entity: "team",
                ids: missing,
            })
        }
    }
}

/// `skipSendingEmail` is a boolean, `bookedSeats` a whole number or null.
fn check_flags(members: &Map<String, Value>, errors: &mut Vec<PropertyError>) {
    for (member, property) in [
        ("skipSendingEmail", "SkipSendingEmail"),
        ("bookedSeats", "BookedSeats"),
    ] {
        let ok = match (member, members.get(member)) {
            (_, None) => true,
            ("skipSendingEmail", Some(v)) => v.is_boolean(),
            (_, Some(v)) => v.is_null() || v.is_i64(),
        };
        if !ok {
            errors.push(PropertyError::new(
                property,
                format!("'{property}' has the wrong type."),
            ));
        }
    }
}

fn team_ids(value: Option<&Value>, errors: &mut Vec<PropertyError>) -> Vec<String> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut ids = Vec::new();
            for item in items {
                match item.as_str().filter(|s| is_hyphenated_uuid(s)) {
                    Some(id) if !ids.contains(&id.to_ascii_lowercase()) => {
                        ids.push(id.to_ascii_lowercase())
                    }
                    Some(_) => {}
                    None => errors.push(PropertyError::new(
                        "TeamIds",
                        format!("'{item}' is not a valid GUID."),
                    )),
                }
            }
            ids
        }
        Some(other) => {
            errors.push(PropertyError::new(
                "TeamIds",
                format!("'TeamIds' must be an array, not {}.", json_kind(other)),
            ));
            Vec::new()
        }
    }
}

/// One `@` with text on both sides and a dot in the domain, no white space.
fn is_email(text: &str) -> bool {
    text.len() <= 1000
        && !text.contains(char::is_whitespace)
        && text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
}

/// What is wrong with `invitationFlow`, in awork's words, if anything.
fn flow_problem(flow: Option<&str>) -> Option<String> {
    match flow {
        Some("invite") => None,
        Some(flow @ ("new_user_new_workspace" | "existing_user_new_workspace")) => Some(format!(
            "The invitation flow '{flow}' creates a new workspace and cannot be used with 'WorkspaceId'."
        )),
        Some(other) => Some(format!(
            "'{other}' is not a valid invitation flow: use 'invite', 'new_user_new_workspace' or 'existing_user_new_workspace'."
        )),
        None => Some("'InvitationFlow' must not be empty.".to_owned()),
    }
}

fn invited_user(
    invitation: &Invitation,
    teams: Vec<Value>,
    by: &str,
    now: time::OffsetDateTime,
) -> User {
    let at = Timestamp::next_write(None, now);
    let text = |member: &str| {
        invitation
            .texts
            .iter()
            .find(|(m, _)| *m == member)
            .and_then(|(_, v)| v.clone())
    };
    let id = uuid::Uuid::new_v4().to_string();
    User {
        first_name: text("firstName"),
        last_name: text("lastName"),
        birth_date: None,
        gender: text("gender"),
        title: text("title"),
        position: text("position"),
        language: None,
        status: UserStatus {
            invitation_accepted: false,
            is_deactivated: false,
        },
        created_on: at,
        created_by: by.to_owned(),
        updated_on: at,
        updated_by: by.to_owned(),
        is_archived: false,
        is_deactivated: false,
        is_agent: false,
        deactivated_on: None,
        deleted_on: None,
        has_image: false,
        should_migrate_to_connect: false,
        user_contact_infos: vec![json!({
            "type": "email",
            "subType": "work",
            "value": invitation.email,
            "isAddress": false,
            "id": uuid::Uuid::new_v4().to_string(),
            "createdOn": at,
            "createdBy": by,
            "updatedOn": at,
            "updatedBy": by,
        })],
        resource_version: timestamps::utc_ticks(now).max(1),
        tags: Vec::new(),
        teams,
        is_external: false,
        id,
    }
}
