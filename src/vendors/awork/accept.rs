//! The rest of awork's `Invitations` routes: `GET /invitations` (the spec's
//! `GetInvitations`, documented as answering 404 with an `ErrorResponse`,
//! anonymously) and `POST /invitations/accept` (the spec's `Accept`: an
//! `AcceptInvitation` body, 200 without a body).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;
use serde_json::Value;

use super::error::{AworkError, PropertyError};
use super::update::not_a_string;
use super::user::User;
use super::Awork;
use crate::http::Reply;
use crate::vendors::{Api, Request};

/// "The code is valid for 24 hours." (`InvitationResponse.invitationCode`).
const CODE_VALID_FOR: time::Duration = time::Duration::hours(24);

/// The note rule ids of these routes (`docs/vendors/awork.md`).
const NOTE_ACCEPT_ERRORS: &str = "awork-invitation-accept-errors";

impl Awork {
    /// "Prevents GET requests to the invitations route from throwing
    /// errors": always awork's 404, with or without a token.
    pub(super) fn list_invitations_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        Err(AworkError::RouteNotFound {
            path: request.call.path.to_string(),
        })
    }

    /// The code an invitation of `user_id` answers with: derived from the
    /// user's id and this server's secret, so that `accept` can find the
    /// user again without storing codes, and a client cannot forge one.
    pub(super) fn invitation_code(&self, user_id: &str) -> String {
        let half = |salt: u64| {
            let mut hasher = DefaultHasher::new();
            (
                self.world.invitation_secret,
                salt,
                user_id.to_ascii_lowercase(),
            )
                .hash(&mut hasher);
            hasher.finish()
        };
        format!("{:016x}{:016x}=", half(1), half(2))
    }

    /// Marks the invited user whose code this is as having accepted.
    pub(super) fn accept_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.authenticate(request)?;
        let call = request.call;
        if call.header("content-type").is_some() && !call.declares_json() {
            return Err(AworkError::UnsupportedMediaType {
                declared: call.header("content-type").map(str::to_owned),
            });
        }
        let Value::Object(members) = request.json(false)? else {
            return Err(AworkError::ServerError);
        };
        let mut errors = self.other_member_errors(
            request,
            &members,
            &["invitationCode", "referralCode"],
            "AcceptInvitation",
        );
        let mut code = None;
        for (member, property) in [
            ("invitationCode", "InvitationCode"),
            ("referralCode", "ReferralCode"),
        ] {
            match members.get(member) {
                None | Some(Value::Null) => {}
                Some(Value::String(text)) if member == "invitationCode" => {
                    code = Some(text.clone())
                }
                Some(Value::String(_)) => {}
                Some(other) => errors.push(not_a_string(property, other)),
            }
        }
        if code.is_none() && errors.is_empty() {
            errors.push(PropertyError::new(
                "InvitationCode",
                "'InvitationCode' must not be empty.",
            ));
        }
        let Some(code) = code.filter(|_| errors.is_empty()) else {
            return Err(AworkError::ValidationFailed(errors));
        };
        let source = "inferred: the spec documents only the 200 of POST /invitations/accept";
        let users: Vec<Arc<User>> = request.state.all_typed(Awork::NAME);
        let invited = users
            .iter()
            .filter(|u| !u.is_deleted() && !u.status.invitation_accepted)
            .find(|u| self.invitation_code(&u.id) == code);
        let Some(invited) = invited else {
            request.note(
                NOTE_ACCEPT_ERRORS,
                "no open invitation has this code: 404 not-found",
                source,
            );
            return Err(AworkError::InvitationNotFound);
        };
        let now = request.now();
        let expired = invited
            .created_on
            .0
            .checked_add(CODE_VALID_FOR)
            .is_some_and(|until| now > until);
        if expired {
            request.note(
                NOTE_ACCEPT_ERRORS,
                "the invitation is older than 24 hours: 400 invalid-operation",
                source,
            );
            return Err(AworkError::InvalidOperation {
                detail: "The invitation code has expired.".to_owned(),
            });
        }
        let id = invited.id.clone();
        self.write(request, &id, |user| {
            if user.status.invitation_accepted {
                return Err(AworkError::InvitationNotFound);
            }
            user.status.invitation_accepted = true;
            let by = user.id.clone();
            super::update::touch(user, &by, now)
        })?;
        Ok(Reply {
            status: StatusCode::OK,
            headers: crate::http::Headers::new(),
            body: Bytes::new(),
            notes: Vec::new(),
        })
    }
}
