//! awork's errors: exactly the codes its error-handling guide lists that
//! this emulation can raise, rendered in one place as awork's
//! `ErrorResponse` (`{code, description, link, details, validationErrors,
//! traceId}`, the spec's schema and the error-handling guide's example).

use hyper::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::StatusCode;
use serde_json::{json, Value};

use super::rate::with_rate_limit_headers;
use crate::http::Reply;
use crate::rate_limit::Quota;
use crate::store::{BrokenRecord, StoreFull};
use crate::vendors::{BodyKind, BodyProblem, SharedError};

/// awork's error bodies point here (developers.awork.com, error handling).
pub(super) const ERROR_LINK: &str = "https://developers.awork.com/#response-types";

/// Every error an awork route answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AworkError {
    /// No bearer token, or one the workspace does not know (401).
    Unauthenticated(TokenProblem),
    /// The caller lacks the permission `action` requires (awork: 401 `unauthorized`).
    Unauthorized(Action),
    /// The caller's own user is deactivated (401 `deactivated-user`).
    CallerDeactivated { id: String },
    /// The target user is deactivated (400 `deactivated-user`).
    DeactivatedUser { id: String },
    /// The target user is archived (400 `entity-archived`).
    EntityArchived { id: String },
    /// Every invalid property of the request (400 `validation-failed`).
    ValidationFailed(Vec<PropertyError>),
    /// The body is empty or not the JSON the route reads (400 `invalid-model`).
    InvalidModel { detail: String },
    /// The body is declared as something other than JSON (415 `invalid-model`).
    UnsupportedMediaType { declared: Option<String> },
    /// A date outside what awork allows, e.g. a birth date in the future.
    DateOutOfRange {
        property: &'static str,
        message: &'static str,
    },
    /// No user with this id (404 `not-found`).
    UserNotFound { id: String },
    /// Ids the body refers to that do not exist: a role, teams (404 `not-found`).
    RelatedNotFound {
        entity: &'static str,
        ids: Vec<String>,
    },
    /// `filterby` or `orderby` that usermock cannot read (400 `invalid-filter-or-order`).
    InvalidFilterOrOrder { detail: String },
    /// An operation the target's state forbids, e.g. deactivating the last
    /// admin (400 `invalid-operation`).
    InvalidOperation { detail: String },
    /// An invitation without `workspaceId` (400 `workspaceid-missing`).
    WorkspaceIdMissing,
    /// An invitation to a workspace the caller is not in (401 `unauthorized`).
    ForeignWorkspace { id: String },
    /// An invitation for an e-mail address a user already has (400 `already-exist-error`).
    AlreadyExists { detail: String },
    /// No open invitation has the code (404 `not-found`).
    InvitationNotFound,
    /// The user is not a member of the role a route names (404 `not-found`).
    NotInRole { user: String, role: String },
    /// No route for this path (404 `not-found`).
    RouteNotFound { path: String },
    /// The route exists for other methods (405 `invalid-operation`).
    MethodNotAllowed { allow: String },
    /// The body is larger than `--max-body` (413 `request-body-too-large`).
    RequestBodyTooLarge { limit: usize },
    /// The workspace used up a rate-limit window (429, the gateway's body).
    RateLimited(Quota),
    /// Something inside usermock broke (500 `server-error`), logged.
    ServerError,
    /// A write would pass a store cap (507 `insufficient-storage`, usermock's).
    InsufficientStorage(StoreFull),
}

/// Why a request carries no usable token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Missing,
    Unknown,
}

/// What the caller tried that needs a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Update,
    Activate,
    Archive,
    Delete,
    Invite,
    RoleActivation,
}

impl Action {
    fn rule(self) -> &'static str {
        match self {
            Action::Update => "Updating a user requires being an admin, the creator of the user, or the permission user-master-data:write.",
            Action::Activate => "Activating or deactivating a user requires being an admin or the permission user-manage-config:write.",
            Action::Archive => "Archiving a user requires being an admin or the permission project-manage-config:write.",
            Action::Delete => "Deleting a user requires being an admin or the permission user-manage-config:delete.",
            Action::Invite => "Inviting a user requires being an admin or the permission user-manage-config:write.",
            Action::RoleActivation => "Activating or deactivating a user in a role requires being an admin or the permission workspace-manage-config:write.",
        }
    }
}

/// One property's validation failure, as awork names it (`FirstName`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PropertyError {
    pub property: String,
    pub message: String,
}

impl PropertyError {
    pub fn new(property: impl Into<String>, message: impl Into<String>) -> PropertyError {
        PropertyError {
            property: property.into(),
            message: message.into(),
        }
    }
}

impl From<SharedError> for AworkError {
    fn from(error: SharedError) -> AworkError {
        match error {
            SharedError::PayloadTooLarge { limit } => AworkError::RequestBodyTooLarge { limit },
            SharedError::RouteNotFound { path } => AworkError::RouteNotFound { path },
            SharedError::MethodNotAllowed { allow } => AworkError::MethodNotAllowed { allow },
            SharedError::UnsupportedMediaType { declared } => {
                AworkError::UnsupportedMediaType { declared }
            }
            SharedError::BadBody(problem) => AworkError::InvalidModel {
                detail: body_problem(&problem),
            },
            // awork documents no 408; its own code for a body it cannot
            // use is `invalid-model` (inferred).
            SharedError::BodyTimeout => AworkError::InvalidModel {
                detail: "The request body did not arrive in time.".to_owned(),
            },
            SharedError::Internal => AworkError::ServerError,
            SharedError::StoreFull(full) => AworkError::InsufficientStorage(full),
        }
    }
}

impl From<BrokenRecord> for AworkError {
    fn from(_: BrokenRecord) -> AworkError {
        AworkError::ServerError
    }
}

impl From<StoreFull> for AworkError {
    fn from(full: StoreFull) -> AworkError {
        AworkError::InsufficientStorage(full)
    }
}

fn body_problem(problem: &BodyProblem) -> String {
    match problem {
        BodyProblem::Empty => "The request body is empty.".to_owned(),
        BodyProblem::NotJson(message) => format!("The request body is not valid JSON: {message}"),
        BodyProblem::WrongKind(BodyKind::JsonArray) => {
            "The request body must be a JSON array.".to_owned()
        }
        BodyProblem::WrongKind(_) => "The request body must be a JSON object.".to_owned(),
        BodyProblem::Unreadable => "The request body could not be read.".to_owned(),
    }
}

/// The parts of one `ErrorResponse`.
struct Parts {
    status: StatusCode,
    code: &'static str,
    description: &'static str,
    details: Vec<String>,
    validation: Vec<PropertyError>,
}

fn parts(
    status: StatusCode,
    code: &'static str,
    description: &'static str,
    details: Vec<String>,
) -> Parts {
    Parts {
        status,
        code,
        description,
        details,
        validation: Vec::new(),
    }
}

impl AworkError {
    /// The one place an awork error becomes a reply.
    pub(super) fn render(&self) -> Reply {
        if let AworkError::RateLimited(quota) = self {
            // The RateLimit-* headers are those of awork's gateway (Kong);
            // its 429 body is Kong's own, not awork's error model, and Kong's
            // rate-limiting plugin adds `Retry-After`, the seconds until the
            // exceeded window resets (Kong/kong#5329; inferred for awork).
            let reply = Reply::json(
                StatusCode::TOO_MANY_REQUESTS,
                &json!({ "message": "API rate limit exceeded" }),
            )
            .with_header(
                RETRY_AFTER,
                HeaderValue::from(quota.reset_after_secs.max(1)),
            );
            return with_rate_limit_headers(reply, None, *quota);
        }
        let p = self.parts();
        let validation: Vec<Value> = p
            .validation
            .iter()
            .map(|e| json!({ "property": e.property, "message": e.message }))
            .collect();
        let reply = Reply::json(
            p.status,
            &json!({
                "code": p.code,
                "description": p.description,
                "link": ERROR_LINK,
                "details": p.details,
                "validationErrors": validation,
                "traceId": trace_id(),
            }),
        );
        if matches!(self, AworkError::Unauthenticated(_)) {
            reply.with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
        } else {
            reply
        }
    }

    fn parts(&self) -> Parts {
        if let Some(parts) = self.more_parts() {
            return parts;
        }
        use StatusCode as S;
        match self {
            AworkError::Unauthenticated(problem) => parts(
                S::UNAUTHORIZED,
                "unauthorized",
                "The request requires a valid access token.",
                vec![match problem {
                    TokenProblem::Missing => "No bearer token was sent.",
                    TokenProblem::Unknown => "The bearer token is not valid.",
                }
                .to_owned()],
            ),
            AworkError::Unauthorized(action) => parts(
                S::UNAUTHORIZED,
                "unauthorized",
                "The requesting user is lacking the necessary permissions for this request.",
                vec![action.rule().to_owned()],
            ),
            AworkError::CallerDeactivated { id } => parts(
                S::UNAUTHORIZED,
                "deactivated-user",
                "The requesting user is deactivated.",
                vec![format!("User '{id}' is deactivated and cannot use the API.")],
            ),
            AworkError::DeactivatedUser { id } => parts(
                S::BAD_REQUEST,
                "deactivated-user",
                "The user is deactivated and cannot be changed.",
                vec![format!("User '{id}' is deactivated.")],
            ),
            AworkError::EntityArchived { id } => parts(
                S::BAD_REQUEST,
                "entity-archived",
                "The entity is archived and cannot be changed.",
                vec![format!("User '{id}' is archived.")],
            ),
            AworkError::ValidationFailed(errors) => Parts {
                validation: errors.clone(),
                ..parts(
                    S::BAD_REQUEST,
                    "validation-failed",
                    "The model sent in the request is invalid. See the validation errors for details.",
                    vec![],
                )
            },
            AworkError::InvalidModel { detail } => parts(
                S::BAD_REQUEST,
                "invalid-model",
                "The model sent in the request is invalid or empty.",
                vec![detail.clone()],
            ),
            AworkError::UnsupportedMediaType { declared } => parts(
                S::UNSUPPORTED_MEDIA_TYPE,
                "invalid-model",
                "The request body must be JSON.",
                vec![format!(
                    "Content-Type '{}' is not supported.",
                    declared.as_deref().unwrap_or("")
                )],
            ),
            AworkError::DateOutOfRange { property, message } => Parts {
                validation: vec![PropertyError::new(*property, *message)],
                ..parts(
                    S::BAD_REQUEST,
                    "date-out-of-range",
                    "A date is outside of the allowed range.",
                    vec![(*message).to_owned()],
                )
            },
            AworkError::UserNotFound { id } => parts(
                S::NOT_FOUND,
                "not-found",
                "The requested entity was not found.",
                vec![format!("No user with id '{id}' exists.")],
            ),
            AworkError::RouteNotFound { path } => parts(
                S::NOT_FOUND,
                "not-found",
                "The requested resource was not found.",
                vec![format!("No endpoint matches '{path}'.")],
            ),
            AworkError::MethodNotAllowed { allow } => parts(
                S::METHOD_NOT_ALLOWED,
                "invalid-operation",
                "The operation is not allowed on this resource.",
                vec![format!("Allowed methods: {allow}.")],
            ),
            AworkError::RequestBodyTooLarge { limit } => parts(
                S::PAYLOAD_TOO_LARGE,
                "request-body-too-large",
                "The request body is too large.",
                vec![format!("The limit is {limit} bytes.")],
            ),
            _ => parts(
                S::INTERNAL_SERVER_ERROR,
                "server-error",
                "An unexpected error occurred.",
                vec![],
            ),
        }
    }

    /// The errors of the lifecycle routes.
    fn more_parts(&self) -> Option<Parts> {
        use StatusCode as S;
        Some(match self {
            AworkError::RelatedNotFound { entity, ids } => parts(
                S::NOT_FOUND,
                "not-found",
                "The requested entity was not found.",
                ids.iter()
                    .map(|id| format!("No {entity} with id '{id}' exists."))
                    .collect(),
            ),
            AworkError::InvalidFilterOrOrder { detail } => parts(
                S::BAD_REQUEST,
                "invalid-filter-or-order",
                "The request contains an invalid filter or sort statement.",
                vec![detail.clone()],
            ),
            AworkError::InvalidOperation { detail } => parts(
                S::BAD_REQUEST,
                "invalid-operation",
                "The operation is not allowed.",
                vec![detail.clone()],
            ),
            AworkError::WorkspaceIdMissing => parts(
                S::BAD_REQUEST,
                "workspaceid-missing",
                "The request requires a workspace id.",
                vec![
                    "Set 'workspaceId' to the id of your workspace (see GET /users/me).".to_owned(),
                ],
            ),
            AworkError::ForeignWorkspace { id } => parts(
                S::UNAUTHORIZED,
                "unauthorized",
                "The requesting user is lacking the necessary permissions for this request.",
                vec![format!(
                    "The requesting user is not a member of workspace '{id}'."
                )],
            ),
            AworkError::InsufficientStorage(full) => parts(
                S::INSUFFICIENT_STORAGE,
                "insufficient-storage",
                "The change cannot be stored.",
                vec![full.message()],
            ),
            AworkError::InvitationNotFound => parts(
                S::NOT_FOUND,
                "not-found",
                "The requested entity was not found.",
                vec!["No open invitation has this code.".to_owned()],
            ),
            AworkError::NotInRole { user, role } => parts(
                S::NOT_FOUND,
                "not-found",
                "The requested entity was not found.",
                vec![format!("User '{user}' is not in role '{role}'.")],
            ),
            AworkError::AlreadyExists { detail } => parts(
                S::BAD_REQUEST,
                "already-exist-error",
                "The entity already exists.",
                vec![detail.clone()],
            ),
            _ => return None,
        })
    }
}

/// A request trace id like awork's (`a65ce5745df02af216715ff06661fb3a`):
/// 32 lower-case hex digits, new for every error.
fn trace_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}
