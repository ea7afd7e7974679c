//! Invitations, by two routes:
//! - `POST /api/user` (Create User (Invite),
//!   https://docs.replay.sale/api-reference/user/create-user-invite): into
//!   the caller's company or a direct child; idempotent on `externalId`.
//! - `POST /api/user/invite` (Invite User,
//!   https://docs.replay.sale/api-reference/user/invite-user): into a team
//!   of the caller's company; "Invitation created or resent successfully".
//!
//! Both make the same kind of record (a pending invitation, `status:
//! "invited"`), so e-mail addresses stay unique across both and either
//! route's invitations show in the user lists and take `PATCH`.

use std::sync::Arc;

use hyper::StatusCode;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::body::{self, Invite, InviteUser};
use super::error::ReplayError;
use super::fixture::{legacy_role_for, RetryWithOtherMembers, UserRecord};
use super::notes;
use super::shapes::Unified;
use super::users::note_legacy_role;
use super::{Replay, NAME};
use crate::http::Reply;
use crate::store::Text;
use crate::timestamps;
use crate::vendors::{Request, SharedError};

/// "When the invitation expires (30 days from creation)" (Invite User).
const INVITATION_LIFETIME: Duration = Duration::days(30);

/// The URL an invited user visits, in the form of Invite User's example
/// (`https://app.replay.sale/onboard/link?invitationId=<id>`).
pub(super) fn invitation_url(id: &str) -> String {
    format!("https://app.replay.sale/onboard/link?invitationId={id}")
}

/// Invite User's answer, in its documented member order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvitationResponse<'a> {
    id: &'a str,
    email: &'a str,
    team_id: &'a Option<Text>,
    role: &'a str,
    expiration_date: String,
    created_at: &'a str,
    resend_count: u32,
    invitation_url: &'a Option<Text>,
}

impl Replay {
    /// `POST /api/user`: 201 (`settings.created_status`) with the new
    /// invitation; 200 with the existing record on a retry (same
    /// `externalId` in the same company).
    pub(super) fn create_user(&self, request: &Request<'_>) -> Result<Reply, ReplayError> {
        let company = self.authenticate(request)?;
        let invite = body::invite(&request.json(true)?)?;
        // The checks (the child company exists, e-mail and externalId are
        // free) and the insert are one step: no other creation, and no
        // reset that drops the child company, can come between. The
        // vendor's creation lock first, then the state's, everywhere.
        let _creating = self.creating();
        let _step = request.state.lock();
        let scope = match &invite.child_company_id {
            Some(child) => self.direct_child(request.state, company, child)?.into_owned(),
            None => company.to_owned(),
        };
        let records: Vec<Arc<UserRecord>> = request.state.all_typed(NAME);
        if let Some(external_id) = &invite.external_id {
            let retried = records.iter().find(|u| {
                u.company_id.eq_ignore_ascii_case(&scope)
                    && u.external_id.as_deref() == Some(external_id.as_str())
            });
            if let Some(existing) = retried {
                return self.retried(request, existing, &invite);
            }
        }
        if records
            .iter()
            .any(|u| u.email.eq_ignore_ascii_case(&invite.email))
        {
            return Err(ReplayError::EmailTaken);
        }
        let id = uuid::Uuid::new_v4().to_string();
        let record = UserRecord {
            invitation_url: Some(invitation_url(&id).into()),
            id: id.into(),
            email: invite.email.into(),
            first_name: Some(invite.first_name.into()),
            last_name: invite.last_name.map(Text::from),
            legacy_role: Some(legacy_role_for(&invite.role, None).into()),
            role: invite.role.into(),
            status: "invited".into(),
            external_id: invite.external_id.map(Text::from),
            created_at: timestamps::format_millis(request.now()).into(),
            company_id: scope.into(),
            team_id: None,
            expiration_date: None,
            resend_count: None,
        };
        request.state.put_typed(NAME, record.id.to_string(), &record)?;
        let status = self.created_status();
        request.note(
            notes::INVITATION_URL_FORM,
            "invitationUrl takes the form of Invite User's example: https://app.replay.sale/onboard/link?invitationId=<id>",
            notes::INVITATION_URL,
        );
        note_legacy_role(request, &record);
        note_created(request, status);
        Ok(Reply::json(status, &Unified::from(&record)))
    }

    /// The answer to a retry of `POST /api/user` that found `existing`.
    fn retried(
        &self,
        request: &Request<'_>,
        existing: &UserRecord,
        invite: &Invite,
    ) -> Result<Reply, ReplayError> {
        let differing = differing_members(existing, invite);
        if !differing.is_empty() {
            if self.settings.retry_with_other_members == RetryWithOtherMembers::Conflict {
                return Err(ReplayError::InvitationExternalIdTaken);
            }
            note_retry_with_other_members(request, &differing);
        }
        note_retry(request);
        Ok(Reply::json(StatusCode::OK, &Unified::from(existing)))
    }

    /// `POST /api/user/invite`: a new invitation into a team of the
    /// caller's company, or the caller's open invitation of the same
    /// address resent (`resendCount` + 1). 200 either way.
    pub(super) fn invite_user(&self, request: &Request<'_>) -> Result<Reply, ReplayError> {
        let company = self.authenticate(request)?.to_owned();
        let invite = body::invite_user(&request.json(true)?)?;
        if !self.team_is_in(&invite.team_id, &company) {
            return Err(ReplayError::TeamNotFound);
        }
        let now = request.now();
        // Check-then-insert must not interleave with another creation,
        // nor with a reset of the state (which takes the state's lock), as
        // on the other creating routes.
        let _creating = self.creating();
        let _step = request.state.lock();
        let records: Vec<Arc<UserRecord>> = request.state.all_typed(NAME);
        let same_address = records
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(&invite.email));
        if let Some(existing) = same_address {
            let ours = existing.company_id.eq_ignore_ascii_case(&company);
            if !ours || existing.status != "invited" {
                return Err(ReplayError::EmailTaken);
            }
            let expires = expiration(existing)?;
            if expires > now {
                note_invite_user(request, &invite);
                return self.resend(request, existing, &invite, expires);
            }
            request
                .state
                .delete(NAME, &existing.id.to_ascii_lowercase());
            request.note(
                notes::INVITE_EXPIRED_REPLACED,
                format!(
                    "the invitation {} of this address expired: replaced by a new one",
                    existing.id
                ),
                notes::INVITE_USER,
            );
        }
        let expires = now
            .checked_add(INVITATION_LIFETIME)
            .ok_or(SharedError::Internal)?;
        note_invite_user(request, &invite);
        let id = uuid::Uuid::new_v4().to_string();
        let record = UserRecord {
            invitation_url: Some(invitation_url(&id).into()),
            id: id.into(),
            email: invite.email.into(),
            first_name: None,
            last_name: None,
            legacy_role: Some(legacy_role_for(&invite.role, None).into()),
            role: invite.role.into(),
            status: "invited".into(),
            external_id: None,
            created_at: timestamps::format_millis(now).into(),
            company_id: company.into(),
            team_id: Some(invite.team_id.into()),
            expiration_date: Some(timestamps::format_millis(expires).into()),
            resend_count: Some(0),
        };
        request.state.put_typed(NAME, record.id.to_string(), &record)?;
        note_legacy_role(request, &record);
        Ok(invitation_reply(&record, expires))
    }

    /// Resends `existing` (open, of the caller's company): `resendCount`
    /// goes up by one; its role, and its team when it has one, stay.
    fn resend(
        &self,
        request: &Request<'_>,
        existing: &UserRecord,
        invite: &InviteUser,
        expires: OffsetDateTime,
    ) -> Result<Reply, ReplayError> {
        let updated = request
            .state
            .update_typed(
                NAME,
                &existing.id.to_ascii_lowercase(),
                |user: &mut UserRecord| {
                    user.resend_count = Some(user.resend_count.unwrap_or(0).saturating_add(1));
                    user.expiration_date = Some(timestamps::format_millis(expires).into());
                    if user.team_id.is_none() {
                        user.team_id = Some(invite.team_id.as_str().into());
                    }
                    Ok::<(), ReplayError>(())
                },
            )?
            .ok_or(ReplayError::UserNotFound)?;
        let mut kept = Vec::new();
        if updated.role != invite.role {
            kept.push(format!("its role {}", updated.role));
        }
        if updated.team_id.as_deref() != Some(invite.team_id.as_str()) {
            kept.push(format!(
                "its team {}",
                updated.team_id.as_deref().unwrap_or_default()
            ));
        }
        request.note(
            notes::INVITE_RESEND,
            if kept.is_empty() {
                format!(
                    "the open invitation {} of this address was resent (resendCount + 1)",
                    updated.id
                )
            } else {
                format!(
                    "the open invitation {} of this address was resent (resendCount + 1); it keeps {}",
                    updated.id,
                    kept.join(" and ")
                )
            },
            notes::INVITE_USER,
        );
        Ok(invitation_reply(&updated, expires))
    }
}

/// Notes what every successful Invite User answer relies on.
fn note_invite_user(request: &Request<'_>, invite: &InviteUser) {
    if invite.send_email {
        request.note(
            notes::SEND_EMAIL,
            "sendEmail is true: Replay would e-mail the invitation; usermock sends nothing",
            notes::SEND_EMAIL_SOURCE,
        );
    }
    request.note(
        notes::INVITE_USER_STATUS,
        "200 whether the invitation was created or resent",
        notes::INVITE_USER,
    );
}

fn invitation_reply(record: &UserRecord, expires: OffsetDateTime) -> Reply {
    Reply::json(
        StatusCode::OK,
        &InvitationResponse {
            id: &record.id,
            email: &record.email,
            team_id: &record.team_id,
            role: &record.role,
            expiration_date: timestamps::format_millis(expires),
            created_at: &record.created_at,
            resend_count: record.resend_count.unwrap_or(0),
            invitation_url: &record.invitation_url,
        },
    )
}

/// When an invitation expires: as stored, else 30 days after its creation
/// (invitations of `POST /api/user` and of fixtures carry no date).
fn expiration(invitation: &UserRecord) -> Result<OffsetDateTime, ReplayError> {
    let stored = invitation
        .expiration_date
        .as_deref()
        .and_then(timestamps::parse);
    let derived = || {
        timestamps::parse(&invitation.created_at).and_then(|at| at.checked_add(INVITATION_LIFETIME))
    };
    Ok(stored.or_else(derived).ok_or(SharedError::Internal)?)
}

/// The members of a retried create that differ from the existing record.
fn differing_members(existing: &UserRecord, invite: &Invite) -> Vec<&'static str> {
    let mut differing = Vec::new();
    if !existing.email.eq_ignore_ascii_case(&invite.email) {
        differing.push("email");
    }
    if existing.first_name.as_deref() != Some(invite.first_name.as_str()) {
        differing.push("firstName");
    }
    if invite.last_name.is_some() && existing.last_name.as_deref() != invite.last_name.as_deref() {
        differing.push("lastName");
    }
    if existing.role != invite.role {
        differing.push("role");
    }
    differing
}

/// Notes a retry whose other members differ from the existing record's.
pub(super) fn note_retry_with_other_members(request: &Request<'_>, differing: &[&str]) {
    request.note(
        notes::RETRY_WITH_OTHER_MEMBERS,
        format!(
            "a retry with the same externalId but another {}: the existing record, unchanged (settings.retry_with_other_members)",
            differing.join(", ")
        ),
        notes::RETRY,
    );
}

/// Notes the status of a create that made a new record.
pub(super) fn note_created(request: &Request<'_>, status: StatusCode) {
    request.note(
        notes::CREATE_STATUS,
        format!(
            "{} for a created record (settings.created_status; a retry gets 200)",
            status.as_u16()
        ),
        notes::CREATE_CODES,
    );
}

/// Notes the 200 of a create answered by an existing record.
pub(super) fn note_retry(request: &Request<'_>) {
    request.note(
        notes::CREATE_STATUS,
        "200 for the existing record returned to a retry",
        notes::CREATE_CODES,
    );
}

impl Replay {
    /// The status of a create that made a new record (201 unless the
    /// fixture says 200).
    pub(super) fn created_status(&self) -> StatusCode {
        StatusCode::from_u16(self.settings.created_status).unwrap_or(StatusCode::CREATED)
    }
}
