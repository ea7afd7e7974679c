//! Replay's errors, and the one place they become replies.
//!
//! Replay documents no error body (only "rejected with 403" for a company
//! that is not a direct child), so the body is usermock's inference, kept
//! the same on every route: `{"error": "<message>"}`, plus `details`
//! listing every field problem of a 400 (docs/vendors/replay.md).

use hyper::StatusCode;
use serde_json::json;

use super::notes;
use crate::http::{Note, Reply};
use crate::store::{BrokenRecord, StoreFull};
use crate::vendors::{BodyProblem, SharedError};

/// Exactly the errors usermock's Replay answers, and the shared layer's.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ReplayError {
    /// No `x-api-key` header.
    MissingApiKey,
    /// An `x-api-key` no company has.
    InvalidApiKey,
    /// Fields of the path, query or body are wrong; every one is listed.
    InvalidFields(Vec<FieldProblem>),
    /// A `childCompanyId` that is not a direct child of the caller.
    NotDirectChild { company: String },
    /// No such user in the company the request is scoped to.
    UserNotFound,
    /// No such team in the caller's company (`PATCH /api/team/{teamId}`,
    /// Invite User's `teamId`).
    TeamNotFound,
    /// "Disabled users cannot be updated via this endpoint"; the status is
    /// the fixture's `settings.disabled_update_status` (400 or 409).
    UserDisabled { status: u16 },
    /// `POST /api/user` with an `email` some user or invitation has.
    EmailTaken,
    /// `POST /api/user` with the `externalId` of a record of the same
    /// company that has another `email` (not a retry).
    InvitationExternalIdTaken,
    /// `POST /api/company/child` with a `name` some company has.
    CompanyNameTaken,
    /// `POST /api/company/child` with the `externalId` of another child of
    /// the caller that has another `name` (not a retry).
    ChildExternalIdTaken,
    /// Raised by the shared layer (route, method, media type, body, size).
    Shared(SharedError),
}

/// One field's validation failure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldProblem {
    /// The field as the client named it (`firstName`, `userId`).
    pub field: String,
    pub message: String,
    /// A member the route's schema does not have (noted as such).
    pub unrecognized: bool,
}

impl FieldProblem {
    pub fn new(field: &str, message: impl Into<String>) -> FieldProblem {
        FieldProblem {
            field: field.to_owned(),
            message: message.into(),
            unrecognized: false,
        }
    }

    pub fn unrecognized(field: &str) -> FieldProblem {
        FieldProblem {
            unrecognized: true,
            ..FieldProblem::new(field, format!("Unrecognized field '{field}'"))
        }
    }
}

impl From<SharedError> for ReplayError {
    fn from(error: SharedError) -> ReplayError {
        ReplayError::Shared(error)
    }
}

impl From<BrokenRecord> for ReplayError {
    fn from(broken: BrokenRecord) -> ReplayError {
        ReplayError::Shared(broken.into())
    }
}

impl From<StoreFull> for ReplayError {
    fn from(full: StoreFull) -> ReplayError {
        ReplayError::Shared(full.into())
    }
}

/// `error` in Replay's (inferred) format. Every error answer is noted: its
/// body, and except for the documented 403 its status, are usermock's.
pub(super) fn render(error: &ReplayError) -> Reply {
    let mut reply = if let ReplayError::InvalidFields(problems) = error {
        let details: Vec<_> = problems
            .iter()
            .map(|p| json!({ "field": p.field, "message": p.message }))
            .collect();
        Reply::json(
            StatusCode::BAD_REQUEST,
            &json!({ "error": "Invalid request body", "details": details }),
        )
    } else {
        let (status, message) = status_and_message(error);
        Reply::json(status, &json!({ "error": message }))
    };
    reply.notes.push(Note {
        rule: notes::ERROR_BODY,
        message: format!(
            "the {} answer's body is usermock's {{\"error\"}} format",
            reply.status.as_u16()
        ),
        source: notes::NO_ERROR_BODY,
    });
    if let ReplayError::InvalidFields(problems) = error {
        for problem in problems.iter().filter(|p| p.unrecognized) {
            reply.notes.push(Note {
                rule: notes::UNKNOWN_MEMBER,
                message: format!(
                    "the member '{}' is not in the route's schema: refused, where Replay might ignore it",
                    problem.field
                ),
                source: notes::NO_UNKNOWN_MEMBERS,
            });
        }
    }
    reply
}

fn status_and_message(error: &ReplayError) -> (StatusCode, String) {
    let plain = |status, message: &str| (status, message.to_owned());
    match error {
        ReplayError::MissingApiKey => plain(StatusCode::UNAUTHORIZED, "Missing x-api-key header"),
        ReplayError::InvalidApiKey => plain(StatusCode::UNAUTHORIZED, "Invalid API key"),
        ReplayError::InvalidFields(_) => plain(StatusCode::BAD_REQUEST, "Invalid request body"),
        ReplayError::NotDirectChild { company } => (
            StatusCode::FORBIDDEN,
            format!("Company '{company}' is not a direct child of your company"),
        ),
        ReplayError::UserNotFound => plain(StatusCode::NOT_FOUND, "User not found"),
        ReplayError::TeamNotFound => plain(StatusCode::NOT_FOUND, "Team not found"),
        ReplayError::UserDisabled { status } => plain(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
            "Disabled users cannot be updated",
        ),
        ReplayError::EmailTaken => plain(
            StatusCode::CONFLICT,
            "A user or invitation with this email already exists",
        ),
        ReplayError::InvitationExternalIdTaken => plain(
            StatusCode::CONFLICT,
            "externalId is already used by another user of this company",
        ),
        ReplayError::CompanyNameTaken => plain(
            StatusCode::CONFLICT,
            "A company with this name already exists",
        ),
        ReplayError::ChildExternalIdTaken => plain(
            StatusCode::CONFLICT,
            "externalId is already used by another child company",
        ),
        ReplayError::Shared(shared) => shared_status_and_message(shared),
    }
}

fn shared_status_and_message(error: &SharedError) -> (StatusCode, String) {
    if let SharedError::StoreFull(full) = error {
        return (StatusCode::INSUFFICIENT_STORAGE, full.message());
    }
    let (status, message) = match error {
        SharedError::PayloadTooLarge { .. } => {
            (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
        }
        SharedError::RouteNotFound { .. } => (StatusCode::NOT_FOUND, "Not found"),
        SharedError::MethodNotAllowed { .. } => {
            (StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
        }
        SharedError::UnsupportedMediaType { .. } => (
            StatusCode::BAD_REQUEST,
            "Content-Type must be application/json",
        ),
        SharedError::BadBody(BodyProblem::Empty) => {
            (StatusCode::BAD_REQUEST, "Request body is required")
        }
        SharedError::BadBody(BodyProblem::NotJson(_)) => {
            (StatusCode::BAD_REQUEST, "Request body is not valid JSON")
        }
        SharedError::BadBody(BodyProblem::WrongKind(_)) => (
            StatusCode::BAD_REQUEST,
            "Request body must be a JSON object",
        ),
        SharedError::BadBody(BodyProblem::Unreadable) => {
            (StatusCode::BAD_REQUEST, "Request body could not be read")
        }
        SharedError::BodyTimeout => (StatusCode::REQUEST_TIMEOUT, "Request body timed out"),
        SharedError::Internal | SharedError::StoreFull(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        }
    };
    (status, message.to_owned())
}
