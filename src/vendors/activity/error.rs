//! The vendor's errors, and the one place they become replies.
//!
//! ScalePad documents one envelope for every error:
//! `{"error": {"code", "message", "details"}}`, where `details` is always an
//! object and codes are lower-snake (`invalid_request`, `not_found`,
//! `conflict`). Messages are the documented ones where the docs give them
//! in a body ("Department not found", "One or more departments not
//! found", …). The 401/403/404-client/404-user/500 texts appear in the docs
//! only as status descriptions ("Authentication required", …): used by
//! default, noted as inferred, switchable to reason phrases.

use hyper::header::{HeaderValue, WWW_AUTHENTICATE};
use hyper::StatusCode;
use serde_json::{json, Map, Value};

use super::fixture::StatusMessages;
use crate::http::{Note, Reply};
use crate::store::{BrokenRecord, StoreFull};
use crate::vendors::{BodyProblem, SharedError};

/// Exactly the errors the vendor documents, plus the shared layer's own.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ActivityError {
    /// 401: no bearer token, or one that no fixture credential holds.
    Unauthenticated { reason: &'static str },
    /// 403: the token may not access this client.
    Forbidden { client_id: String },
    /// 400: the request's own shape or formats. `field` names the place
    /// (`departments[1]`, `client_id`, `page_size`), `value` echoes it.
    InvalidRequest {
        message: String,
        field: Option<String>,
        value: Option<Value>,
    },
    /// 400: the body is not declared as JSON.
    UnsupportedMediaType { declared: Option<String> },
    /// 404 "Client not found".
    ClientNotFound { client_id: String },
    /// 404 "User not found".
    UserNotFound { user_id: String },
    /// 404 "Department not found" (a department in the path).
    DepartmentNotFound { department_id: String },
    /// 404 with the seed's body: every department id of the body that is
    /// not one of the client's, in request order, each once.
    DepartmentsNotFound { ids: Vec<String> },
    /// 409: another department of the client has this name.
    DepartmentNameTaken { name: String },
    /// 404: the path names no route of the vendor.
    RouteNotFound { path: String },
    /// 405; `allow` is the `Allow` value.
    MethodNotAllowed { allow: String },
    /// 413: the body is larger than `--max-body`.
    PayloadTooLarge { limit: usize },
    /// 408: the body did not arrive within `--body-timeout` (inferred code).
    RequestTimeout,
    /// 500; logged where it happened, never explained to the client.
    Internal,
    /// 507: a write would pass a store cap (usermock's, documented in
    /// docs/limits.md); nothing was written.
    InsufficientStorage(StoreFull),
    /// 507: a page of users would embed more than `limit` bytes of
    /// departments (usermock's bound, docs/limits.md).
    AnswerTooLarge { limit: usize },
}

impl ActivityError {
    pub fn invalid(message: impl Into<String>) -> ActivityError {
        ActivityError::InvalidRequest {
            message: message.into(),
            field: None,
            value: None,
        }
    }

    pub fn invalid_field(
        message: impl Into<String>,
        field: impl Into<String>,
        value: Option<Value>,
    ) -> ActivityError {
        ActivityError::InvalidRequest {
            message: message.into(),
            field: Some(field.into()),
            value,
        }
    }

    pub fn user_not_found(user_id: &str) -> ActivityError {
        ActivityError::UserNotFound {
            user_id: user_id.to_owned(),
        }
    }

    /// Status, code, message and details: the envelope's parts.
    fn parts(&self) -> (StatusCode, &'static str, String, Value) {
        match self {
            ActivityError::Unauthenticated { reason } => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required".to_owned(),
                json!({ "reason": reason }),
            ),
            ActivityError::Forbidden { client_id } => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Insufficient permissions for this client".to_owned(),
                json!({ "client_id": client_id }),
            ),
            ActivityError::InvalidRequest {
                message,
                field,
                value,
            } => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                message.clone(),
                field_details(field.as_deref(), value.as_ref()),
            ),
            ActivityError::UnsupportedMediaType { declared } => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Content-Type must be application/json".to_owned(),
                json!({ "field": "Content-Type", "value": declared }),
            ),
            ActivityError::ClientNotFound { client_id } => {
                not_found("Client", "client_id", client_id)
            }
            ActivityError::UserNotFound { user_id } => not_found("User", "user_id", user_id),
            ActivityError::DepartmentNotFound { department_id } => {
                not_found("Department", "department_id", department_id)
            }
            ActivityError::DepartmentsNotFound { ids } => (
                StatusCode::NOT_FOUND,
                "not_found",
                "One or more departments not found".to_owned(),
                json!({ "invalid_department_ids": ids }),
            ),
            ActivityError::DepartmentNameTaken { name } => (
                StatusCode::CONFLICT,
                "conflict",
                "A department with this name already exists".to_owned(),
                json!({ "name": name }),
            ),
            ActivityError::RouteNotFound { path } => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Resource not found".to_owned(),
                json!({ "path": path }),
            ),
            ActivityError::MethodNotAllowed { allow } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed".to_owned(),
                json!({ "allow": allow.split(", ").collect::<Vec<_>>() }),
            ),
            ActivityError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Request body too large".to_owned(),
                json!({ "limit_bytes": limit }),
            ),
            ActivityError::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "Request body timed out".to_owned(),
                json!({}),
            ),
            ActivityError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Server error".to_owned(),
                json!({}),
            ),
            ActivityError::AnswerTooLarge { limit } => (
                StatusCode::INSUFFICIENT_STORAGE,
                "insufficient_storage",
                format!("The page would embed more than {limit} bytes of departments; ask for a smaller page_size"),
                json!({ "field": "page_size", "limit": limit }),
            ),
            ActivityError::InsufficientStorage(full) => (
                StatusCode::INSUFFICIENT_STORAGE,
                "insufficient_storage",
                full.message(),
                json!({ "limit": full.limit }),
            ),
        }
    }

    /// The message a status-only error carries, for the ones whose text
    /// the docs give as a status description rather than a body (`None`
    /// for the others).
    fn described_message(&self, messages: StatusMessages) -> Option<String> {
        let (description, phrase) = match self {
            ActivityError::Unauthenticated { .. } => ("Authentication required", "Unauthorized"),
            ActivityError::Forbidden { .. } => {
                ("Insufficient permissions for this client", "Forbidden")
            }
            ActivityError::ClientNotFound { .. } => ("Client not found", "Not Found"),
            ActivityError::UserNotFound { .. } => ("User not found", "Not Found"),
            ActivityError::Internal => ("Server error", "Internal Server Error"),
            _ => return None,
        };
        Some(
            match messages {
                StatusMessages::StatusDescriptions => description,
                StatusMessages::ReasonPhrases => phrase,
            }
            .to_owned(),
        )
    }

    /// The reply: the envelope, plus `WWW-Authenticate: Bearer` on a 401
    /// (RFC 6750). The 405's `Allow` header is added by the shared layer.
    /// A message taken from the docs' status tables carries a note.
    pub fn render(&self, messages: StatusMessages) -> Reply {
        let (status, code, mut message, details) = self.parts();
        let described = self.described_message(messages);
        if let Some(described) = &described {
            message.clone_from(described);
        }
        let mut reply = Reply::json(
            status,
            &json!({ "error": { "code": code, "message": message, "details": details } }),
        );
        if described.is_some() {
            reply.notes.push(Note {
                rule: "activity-status-message",
                message: format!("the {} message '{message}' is not a documented body", status.as_u16()),
                source: "inferred: the docs give this text as a status description in their error tables (e.g. https://api-docs.amm-scalepad.com/users/summary), not as a response body; settings.status_messages: reason_phrases uses the HTTP reason phrase",
            });
        }
        if status == StatusCode::UNAUTHORIZED {
            reply.with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
        } else {
            reply
        }
    }
}

/// `{field, value}`, each only when known.
fn field_details(field: Option<&str>, value: Option<&Value>) -> Value {
    let mut details = Map::new();
    if let Some(field) = field {
        details.insert("field".into(), json!(field));
    }
    if let Some(value) = value {
        details.insert("value".into(), value.clone());
    }
    Value::Object(details)
}

fn not_found(resource: &str, key: &str, id: &str) -> (StatusCode, &'static str, String, Value) {
    let mut details = Map::new();
    details.insert(key.to_owned(), json!(id));
    (
        StatusCode::NOT_FOUND,
        "not_found",
        format!("{resource} not found"),
        Value::Object(details),
    )
}

impl From<SharedError> for ActivityError {
    fn from(error: SharedError) -> ActivityError {
        match error {
            SharedError::PayloadTooLarge { limit } => ActivityError::PayloadTooLarge { limit },
            SharedError::RouteNotFound { path } => ActivityError::RouteNotFound { path },
            SharedError::MethodNotAllowed { allow } => ActivityError::MethodNotAllowed { allow },
            SharedError::UnsupportedMediaType { declared } => {
                ActivityError::UnsupportedMediaType { declared }
            }
            SharedError::BadBody(BodyProblem::Empty) => {
                ActivityError::invalid("Request body is required")
            }
            SharedError::BadBody(BodyProblem::NotJson(err)) => {
                ActivityError::invalid(format!("Request body is not valid JSON: {err}"))
            }
            SharedError::BadBody(BodyProblem::WrongKind(_)) => {
                ActivityError::invalid("Request body must be a JSON object")
            }
            SharedError::BadBody(BodyProblem::Unreadable) => {
                ActivityError::invalid("Request body could not be read")
            }
            SharedError::BodyTimeout => ActivityError::RequestTimeout,
            SharedError::Internal => ActivityError::Internal,
            SharedError::StoreFull(full) => ActivityError::InsufficientStorage(full),
        }
    }
}

impl From<BrokenRecord> for ActivityError {
    fn from(_: BrokenRecord) -> ActivityError {
        ActivityError::Internal
    }
}

impl From<StoreFull> for ActivityError {
    fn from(full: StoreFull) -> ActivityError {
        ActivityError::InsufficientStorage(full)
    }
}
