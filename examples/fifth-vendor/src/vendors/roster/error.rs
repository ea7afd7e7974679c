//! Roster's errors: exactly those its documentation lists, plus the shared
//! layer's, rendered in one place as `{"error": {"code", "message"}}`.

use hyper::header::{HeaderValue, WWW_AUTHENTICATE};
use hyper::StatusCode;
use serde_json::json;

use crate::http::Reply;
use crate::store::{BrokenRecord, StoreFull};
use crate::vendors::SharedError;

#[derive(Debug)]
pub(crate) enum RosterError {
    /// No or an unknown bearer token.
    Unauthorized,
    /// `name` missing, not a string, or not 1–60 characters.
    InvalidName,
    /// No person has this id.
    NotFound(String),
    Shared(SharedError),
}

impl From<SharedError> for RosterError {
    fn from(error: SharedError) -> RosterError {
        RosterError::Shared(error)
    }
}

impl From<StoreFull> for RosterError {
    fn from(full: StoreFull) -> RosterError {
        RosterError::Shared(full.into())
    }
}

impl From<BrokenRecord> for RosterError {
    fn from(broken: BrokenRecord) -> RosterError {
        RosterError::Shared(broken.into())
    }
}

/// The one rendering of Roster's errors.
pub(super) fn render(error: &RosterError) -> Reply {
    use RosterError as E;
    let (status, code, message) = match error {
        E::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required".to_owned(),
        ),
        E::InvalidName => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
            "name must be a string of 1 to 60 characters".to_owned(),
        ),
        E::NotFound(id) => (
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no person '{id}'"),
        ),
        E::Shared(shared) => shared_error(shared),
    };
    let reply = Reply::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    );
    match error {
        E::Unauthorized => reply.with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")),
        _ => reply,
    }
}

fn shared_error(shared: &SharedError) -> (StatusCode, &'static str, String) {
    use SharedError as S;
    match shared {
        S::RouteNotFound { path } => (
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route {path}"),
        ),
        S::MethodNotAllowed { allow } => (
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("allowed: {allow}"),
        ),
        S::UnsupportedMediaType { .. } => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json".to_owned(),
        ),
        S::BadBody(problem) => (StatusCode::BAD_REQUEST, "bad_body", format!("{problem:?}")),
        S::PayloadTooLarge { limit } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("at most {limit} bytes"),
        ),
        S::BodyTimeout => (
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the body did not arrive in time".to_owned(),
        ),
        // Past a store cap (docs/limits.md): usermock's documented 507.
        S::StoreFull(full) => (
            StatusCode::INSUFFICIENT_STORAGE,
            "storage_full",
            full.message(),
        ),
        S::Internal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error".to_owned(),
        ),
    }
}
