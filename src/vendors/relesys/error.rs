//! Relesys' errors, exactly those its documentation describes, and the one
//! place they become replies.
//!
//! Only the 429 body is documented (`{"errorCode":"429","message":…}`, the
//! status as a string); every other API error reuses that shape (inferred).
//! The token endpoint answers OAuth 2.0 errors (RFC 6749 §5.2).

use hyper::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::StatusCode;
use serde_json::json;

use crate::http::{Note, Reply};
use crate::store::{BrokenRecord, StoreFull};
use crate::vendors::{BodyProblem, SharedError};

/// Why a bearer token is refused (401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Missing,
    Unknown,
    Expired,
}

impl TokenProblem {
    fn reason(self) -> &'static str {
        match self {
            TokenProblem::Missing => "missing bearer token",
            TokenProblem::Unknown => "unknown token",
            TokenProblem::Expired => "token expired",
        }
    }
}

/// A used-up per-client quota: the documented limit and when it refills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Throttled {
    pub limit: u32,
    pub retry_after_secs: u64,
}

/// What a route expects its body to be declared as, for the 415 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expected {
    JsonPatch,
    Json,
}

impl Expected {
    fn media_type(self) -> &'static str {
        match self {
            Expected::JsonPatch => "application/json-patch+json",
            Expected::Json => "application/json",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RelesysError {
    /// 401: no bearer token, an unknown one, or an expired one.
    Unauthenticated(TokenProblem),
    /// 403: the token holds none of the scopes the route accepts; the body
    /// lists them ("a list of the accepted scopes", scopes page).
    InsufficientScope { accepted: &'static [&'static str] },
    /// 429: the client's quota for this minute is used up.
    RateLimited(Throttled),
    /// 400: the request's own shape, formats or values are wrong.
    Invalid(String),
    /// 404: no user with this id.
    UserNotFound(String),
    /// 404: no department or user group (`what`) with this id.
    EntryNotFound { what: &'static str, id: String },
    /// 415: the body is not declared as the route expects.
    UnsupportedMediaType {
        declared: Option<String>,
        expected: Expected,
    },
    /// 400 from the token endpoint, e.g. `invalid_client`.
    OAuth {
        error: &'static str,
        description: String,
    },
    /// 401 `invalid_client` from the token endpoint to a client that sent
    /// HTTP Basic credentials (RFC 6749 §5.2: answered with a
    /// `WWW-Authenticate` of the scheme it used).
    BasicClientAuth { description: String },
    /// Raised by the shared layer (no route, 405, body too large, …).
    Shared(SharedError),
}

impl From<SharedError> for RelesysError {
    fn from(error: SharedError) -> RelesysError {
        RelesysError::Shared(error)
    }
}

impl From<BrokenRecord> for RelesysError {
    fn from(broken: BrokenRecord) -> RelesysError {
        RelesysError::Shared(broken.into())
    }
}

impl From<StoreFull> for RelesysError {
    fn from(full: StoreFull) -> RelesysError {
        RelesysError::Shared(full.into())
    }
}

impl RelesysError {
    pub fn invalid(message: impl Into<String>) -> RelesysError {
        RelesysError::Invalid(message.into())
    }

    /// The shared body checks of a route that expects `expected`, with
    /// `shape` naming what the body must be when it is empty or of the
    /// wrong kind.
    pub fn from_body(error: SharedError, expected: Expected, shape: &str) -> RelesysError {
        match error {
            SharedError::UnsupportedMediaType { declared } => {
                RelesysError::UnsupportedMediaType { declared, expected }
            }
            SharedError::BadBody(BodyProblem::NotJson(message)) => {
                RelesysError::Invalid(format!("The request body is not valid JSON: {message}"))
            }
            SharedError::BadBody(_) => {
                RelesysError::Invalid(format!("The request body must be {shape}"))
            }
            other => RelesysError::Shared(other),
        }
    }
}

/// The reply for `error`, headers included.
pub(crate) fn render(error: &RelesysError) -> Reply {
    if let RelesysError::OAuth { error, description } = error {
        return Reply::json(
            StatusCode::BAD_REQUEST,
            &json!({ "error": error, "error_description": description }),
        )
        .noted(token_error_note(400));
    }
    if let RelesysError::BasicClientAuth { description } = error {
        return Reply::json(
            StatusCode::UNAUTHORIZED,
            &json!({ "error": "invalid_client", "error_description": description }),
        )
        .with_header(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"relesys\""),
        )
        .noted(token_error_note(401));
    }
    let (status, message) = status_and_message(error);
    let mut body = json!({ "errorCode": status.as_u16().to_string(), "message": message });
    if let RelesysError::InsufficientScope { accepted } = error {
        // The scopes page promises "a list of the accepted scopes"; the
        // member's name is not documented (inferred).
        body["acceptedScopes"] = json!(accepted);
    }
    let mut reply = Reply::json(status, &body);
    if status != StatusCode::TOO_MANY_REQUESTS {
        reply.notes.push(Note {
            rule: "relesys-error-body",
            message: format!(
                "the {} body reuses the shape of the documented 429 body",
                status.as_u16()
            ),
            source: "inferred: only the 429 body is documented (https://api.relesysapp.net/docs/latest/concepts/throttling)",
        });
    }
    match error {
        RelesysError::RateLimited(throttled) => {
            reply.with_header(RETRY_AFTER, HeaderValue::from(throttled.retry_after_secs))
        }
        RelesysError::Unauthenticated(_) => {
            reply.with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
        }
        _ => reply,
    }
}

/// The token endpoint's error bodies follow RFC 6749 §5.2; Relesys' access
/// page shows none.
fn token_error_note(status: u16) -> Note {
    Note {
        rule: "relesys-token-error-body",
        message: format!("the {status} body is an RFC 6749 error response"),
        source: "inferred: https://api.relesysapp.net/docs/latest/intro/access shows no error; the public client getsno/relesys-users reads its `error` member",
    }
}

trait Noted {
    fn noted(self, note: Note) -> Self;
}

impl Noted for Reply {
    fn noted(mut self, note: Note) -> Reply {
        self.notes.push(note);
        self
    }
}

fn status_and_message(error: &RelesysError) -> (StatusCode, String) {
    match error {
        RelesysError::Unauthenticated(problem) => (
            StatusCode::UNAUTHORIZED,
            format!(
                "Authorization has been denied for this request: {}",
                problem.reason()
            ),
        ),
        RelesysError::InsufficientScope { accepted } => (
            StatusCode::FORBIDDEN,
            format!(
                "Insufficient scope for this endpoint. Accepted scopes: {}",
                accepted.join(", ")
            ),
        ),
        RelesysError::RateLimited(throttled) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Request quota exceeded. A maximum of {} requests are allowed per minute",
                throttled.limit
            ),
        ),
        RelesysError::Invalid(message) => (StatusCode::BAD_REQUEST, message.clone()),
        RelesysError::UserNotFound(id) => (
            StatusCode::NOT_FOUND,
            format!("The user '{id}' was not found"),
        ),
        RelesysError::EntryNotFound { what, id } => (
            StatusCode::NOT_FOUND,
            format!("The {what} '{id}' was not found"),
        ),
        RelesysError::UnsupportedMediaType { declared, expected } => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Unsupported content type '{}'; send {}",
                declared.as_deref().unwrap_or(""),
                expected.media_type()
            ),
        ),
        // Rendered before this point; kept total for the match.
        RelesysError::OAuth { description, .. } => (StatusCode::BAD_REQUEST, description.clone()),
        RelesysError::BasicClientAuth { description } => {
            (StatusCode::UNAUTHORIZED, description.clone())
        }
        RelesysError::Shared(shared) => shared_status_and_message(shared),
    }
}

fn shared_status_and_message(error: &SharedError) -> (StatusCode, String) {
    match error {
        SharedError::PayloadTooLarge { limit } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The request body is larger than {limit} bytes"),
        ),
        SharedError::RouteNotFound { path } => (
            StatusCode::NOT_FOUND,
            format!("No endpoint matches '{path}'"),
        ),
        SharedError::MethodNotAllowed { allow } => (
            StatusCode::METHOD_NOT_ALLOWED,
            format!("The requested resource does not support this method; allowed: {allow}"),
        ),
        SharedError::UnsupportedMediaType { declared } => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Unsupported content type '{}'",
                declared.as_deref().unwrap_or("")
            ),
        ),
        SharedError::BadBody(BodyProblem::NotJson(message)) => (
            StatusCode::BAD_REQUEST,
            format!("The request body is not valid JSON: {message}"),
        ),
        SharedError::BadBody(_) => (
            StatusCode::BAD_REQUEST,
            "The request body is not what this endpoint reads".to_owned(),
        ),
        SharedError::BodyTimeout => (
            StatusCode::REQUEST_TIMEOUT,
            "The request body did not arrive in time".to_owned(),
        ),
        SharedError::Internal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "An error has occurred.".to_owned(),
        ),
        SharedError::StoreFull(full) => (StatusCode::INSUFFICIENT_STORAGE, full.message()),
    }
}
