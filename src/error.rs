//! The one error type on the request path.
//!
//! An [`ApiError`] says *what* went wrong; each vendor module decides how it
//! looks on the wire (status code, body shape, headers), because the point of
//! usermock is that errors arrive exactly in the vendor's own format.

use serde_json::Value;

use crate::rate_limit::Quota;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ApiError {
    /// No credential, or one the vendor does not know.
    Unauthenticated { reason: &'static str },
    /// The credential is valid but may not touch this resource.
    Forbidden { resource: &'static str, id: String },
    /// The token lacks every scope that the route accepts.
    MissingScope { accepted: &'static [&'static str] },
    /// The caller used up its quota; `quota` says when it refills.
    RateLimited(Quota),
    /// The request's own shape or formats are wrong. `field` names the place
    /// (a JSON path such as `departments[1]`), `value` echoes what was sent.
    InvalidRequest {
        message: String,
        field: Option<String>,
        value: Option<Value>,
    },
    /// Several fields failed validation at once (vendors that list them all).
    ValidationFailed { errors: Vec<FieldProblem> },
    /// A date lies outside what the vendor allows (e.g. a birth date in the future).
    DateOutOfRange { field: String, message: String },
    /// The target exists but is archived and cannot change.
    Archived { resource: &'static str, id: String },
    /// The target (or the caller) is deactivated and cannot change (or act).
    Deactivated { resource: &'static str, id: String },
    /// A path resource (user, client, …) does not exist for this caller.
    NotFound { resource: &'static str, id: String },
    /// Some department ids of the body do not exist. Every one is listed, in
    /// request order, without duplicates.
    DepartmentsNotFound { ids: Vec<String> },
    /// The path is under a vendor's prefix but names no route of it.
    RouteNotFound { path: String },
    /// The route exists but not for this method; `allow` is the `Allow` value.
    MethodNotAllowed { allow: &'static str },
    /// The body's declared media type is not one the route reads.
    UnsupportedMediaType { declared: Option<String> },
    /// An OAuth 2.0 token-endpoint error (RFC 6749 §5.2), e.g. `invalid_client`.
    OAuth {
        error: &'static str,
        description: String,
    },
    /// The body is larger than `--max-body`.
    PayloadTooLarge { limit: usize },
    /// Something inside usermock broke; logged, never explained to the client.
    Internal,
}

/// One field's validation failure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldProblem {
    /// The field as the vendor names it in errors (e.g. `FirstName`).
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn user_not_found(id: &str) -> ApiError {
        ApiError::NotFound {
            resource: "user",
            id: id.to_owned(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::InvalidRequest {
            message: message.into(),
            field: None,
            value: None,
        }
    }

    pub fn invalid_field(
        message: impl Into<String>,
        field: impl Into<String>,
        value: Option<Value>,
    ) -> ApiError {
        ApiError::InvalidRequest {
            message: message.into(),
            field: Some(field.into()),
            value,
        }
    }
}

/// A scenario's request for a vendor error: the status, and which error of
/// that status where the vendor has several.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErrorRequest {
    pub status: u16,
    pub kind: Option<String>,
    /// Seconds for `Retry-After` on a 429.
    pub retry_after: Option<u64>,
}
