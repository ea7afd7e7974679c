//! Every error the admin API answers, and the one place they become
//! replies: `{"error": CODE, "message": TEXT}` (plus `problems` for a file
//! that did not load) in usermock's own format.

use hyper::header::{HeaderValue, ALLOW, WWW_AUTHENTICATE};
use hyper::StatusCode;
use serde_json::{json, Value};

use crate::diagnostics::FileProblem;
use crate::http::Reply;

/// What went wrong with an admin call.
#[derive(Debug, Clone)]
pub(crate) enum AdminError {
    /// `--admin-token` is set and the call does not carry it (401).
    TokenRequired,
    /// No admin route has this path (404).
    NoRoute { path: String },
    /// The path is a route, the method is not one of its (405 with `Allow`).
    MethodNotAllowed { allow: HeaderValue },
    /// The body is larger than `--max-body` (413).
    PayloadTooLarge { limit: usize },
    /// The body's HTTP framing is broken (400).
    UnreadableBody,
    /// The body did not arrive within `--body-timeout` (408).
    BodyTimeout,
    /// `X-Usermock-Session` is malformed (400); the parser's message.
    InvalidSession(String),
    /// A body the route cannot read as one of its forms (400).
    InvalidRequest(String),
    /// No scenario has this name (404).
    NoSuchScenario { name: String },
    /// `--max-uploaded-scenarios` are loaded already (409).
    TooManyScenarios { limit: usize },
    /// An uploaded scenario file did not load (400), with every problem.
    InvalidScenario(Vec<FileProblem>),
    /// A find/count body is not a matcher (400), with every problem.
    InvalidMatcher(Vec<FileProblem>),
    /// No vendor has this key (404).
    UnknownVendor { name: String },
    /// A record body that is not JSON (400); the parser's message.
    InvalidJson(String),
    /// A record that is not a valid user of the vendor (400).
    InvalidRecord(String),
    /// The vendor has no user with this id (404).
    NoSuchUser { vendor: &'static str, id: String },
    /// A user delete refused: records no API call changes still name the
    /// user (409); each one described.
    UserReferenced {
        vendor: &'static str,
        id: String,
        by: Vec<String>,
    },
    /// A user write refused: it would leave no active admin (409).
    LastAdmin { vendor: &'static str, id: String },
    /// A journal filter that cannot be used (400).
    InvalidFilter(String),
    /// A clock body that does not say a time or a number of seconds (400).
    InvalidClock(String),
    /// The `Host` is not one admin calls answer (403; DNS rebinding).
    HostRefused { host: String },
    /// A browser call from another web origin (403); what gave it away.
    CrossSite(String),
    /// An admin write whose body is not declared JSON (415); the type given.
    JsonRequired { given: String },
    /// Uploaded scenarios hold `--max-scenario-bytes` already (507).
    ScenarioStorageFull { limit: usize },
    /// A write past a store cap (507), nothing written.
    StoreFull(String),
    /// The admin call failed inside usermock (500); details are in the log.
    Internal(String),
}

impl AdminError {
    fn status(&self) -> StatusCode {
        use AdminError as E;
        match self {
            E::TokenRequired => StatusCode::UNAUTHORIZED,
            E::NoRoute { .. }
            | E::NoSuchScenario { .. }
            | E::UnknownVendor { .. }
            | E::NoSuchUser { .. } => StatusCode::NOT_FOUND,
            E::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            E::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            E::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            E::TooManyScenarios { .. } | E::UserReferenced { .. } | E::LastAdmin { .. } => {
                StatusCode::CONFLICT
            }
            E::HostRefused { .. } | E::CrossSite(_) => StatusCode::FORBIDDEN,
            E::JsonRequired { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            E::ScenarioStorageFull { .. } | E::StoreFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            E::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            E::UnreadableBody
            | E::InvalidSession(_)
            | E::InvalidRequest(_)
            | E::InvalidScenario(_)
            | E::InvalidMatcher(_)
            | E::InvalidJson(_)
            | E::InvalidRecord(_)
            | E::InvalidFilter(_)
            | E::InvalidClock(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn code(&self) -> &'static str {
        use AdminError as E;
        match self {
            E::TokenRequired => "admin_token_required",
            E::NoRoute { .. } => "no_route",
            E::MethodNotAllowed { .. } => "method_not_allowed",
            E::PayloadTooLarge { .. } => "payload_too_large",
            E::UnreadableBody => "unreadable_body",
            E::BodyTimeout => "body_timeout",
            E::InvalidSession(_) => "invalid_session",
            E::InvalidRequest(_) => "invalid_request",
            E::NoSuchScenario { .. } => "no_such_scenario",
            E::TooManyScenarios { .. } => "too_many_scenarios",
            E::InvalidScenario(_) => "invalid_scenario",
            E::InvalidMatcher(_) => "invalid_matcher",
            E::UnknownVendor { .. } => "unknown_vendor",
            E::InvalidJson(_) => "invalid_json",
            E::InvalidRecord(_) => "invalid_record",
            E::NoSuchUser { .. } => "no_such_user",
            E::UserReferenced { .. } => "user_referenced",
            E::LastAdmin { .. } => "last_admin",
            E::InvalidFilter(_) => "invalid_filter",
            E::InvalidClock(_) => "invalid_clock",
            E::HostRefused { .. } => "admin_host_refused",
            E::CrossSite(_) => "cross_site_refused",
            E::JsonRequired { .. } => "json_required",
            E::ScenarioStorageFull { .. } => "scenario_storage_full",
            E::StoreFull(_) => "store_full",
            E::Internal(_) => "internal",
        }
    }

    fn message(&self) -> String {
        use AdminError as E;
        match self {
            E::TokenRequired => "this usermock was started with --admin-token: send it as `Authorization: Bearer <token>` or `X-Usermock-Admin-Token: <token>`".to_owned(),
            E::NoRoute { path } => format!("no admin route for {path}"),
            E::MethodNotAllowed { allow } => format!(
                "this admin route allows {}",
                allow.to_str().unwrap_or_default()
            ),
            E::PayloadTooLarge { limit } => format!("request body is larger than {limit} bytes"),
            E::UnreadableBody => "the request body's framing is broken".to_owned(),
            E::BodyTimeout => "the request body did not arrive in time".to_owned(),
            E::InvalidSession(message)
            | E::InvalidRequest(message)
            | E::InvalidJson(message)
            | E::InvalidRecord(message)
            | E::InvalidFilter(message) => message.clone(),
            E::NoSuchScenario { name } => format!("no scenario is named '{name}'"),
            E::TooManyScenarios { limit } => format!(
                "{limit} uploaded scenarios are loaded already (--max-uploaded-scenarios); delete one or reset"
            ),
            E::InvalidScenario(_) => "the scenario was not loaded".to_owned(),
            E::InvalidMatcher(_) => "the matcher was not understood".to_owned(),
            E::UnknownVendor { name } => format!("no vendor named '{name}'"),
            E::NoSuchUser { vendor, id } => format!("{vendor} has no user '{id}'"),
            E::UserReferenced { vendor, id, by } => format!(
                "{vendor} user '{id}' is still referred to by {}, which no {vendor} call changes; the user was not deleted",
                by.join(", ")
            ),
            E::LastAdmin { vendor, id } => format!(
                "{vendor} user '{id}' is the last active admin: the record would leave none (the vendor refuses that too); the user was not changed"
            ),
            E::InvalidClock(message) | E::StoreFull(message) | E::Internal(message) => {
                message.clone()
            }
            E::HostRefused { host } => format!(
                "admin calls answer only a Host that is a loopback name or address, the address usermock listens on, a vendor's host, or a name given with --admin-host (USERMOCK_ADMIN_HOST); '{host}' is none of these (this guards against DNS rebinding)"
            ),
            E::CrossSite(why) => {
                format!("admin calls from another web origin are refused ({why})")
            }
            E::JsonRequired { given } => format!(
                "an admin write with a body needs Content-Type: application/json (got {given}); a bodiless one needs no Content-Type"
            ),
            E::ScenarioStorageFull { limit } => format!(
                "uploaded scenarios may hold {limit} bytes of scenario files in all (--max-scenario-bytes); delete one or reset"
            ),
        }
    }

    /// The one rendering of an admin error.
    pub(crate) fn reply(&self) -> Reply {
        let mut body = json!({ "error": self.code(), "message": self.message() });
        if let AdminError::InvalidScenario(problems) | AdminError::InvalidMatcher(problems) = self {
            body["problems"] = Value::Array(problems_json(problems));
        }
        let reply = Reply::json(self.status(), &body);
        match self {
            AdminError::TokenRequired => {
                reply.with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
            }
            AdminError::MethodNotAllowed { allow } => reply.with_header(ALLOW, allow.clone()),
            _ => reply,
        }
    }
}

impl From<AdminError> for Reply {
    fn from(error: AdminError) -> Reply {
        error.reply()
    }
}

/// File problems as the admin API lists them.
pub(crate) fn problems_json(problems: &[FileProblem]) -> Vec<Value> {
    problems
        .iter()
        .map(|p| {
            json!({
                "pointer": p.pointer,
                "line": p.line_column.map(|(l, _)| l),
                "column": p.line_column.map(|(_, c)| c),
                "message": p.message,
            })
        })
        .collect()
}
