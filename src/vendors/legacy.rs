//! The error type all vendors shared before each got its own (being
//! retired: a vendor that moves to [`super::Api`] defines its own enum).

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

    /// The error an old-style vendor renders for one the shared layer raised.
    pub fn from_shared(error: &super::SharedError) -> ApiError {
        use super::{BodyProblem, SharedError};
        match error {
            SharedError::PayloadTooLarge { limit } => ApiError::PayloadTooLarge { limit: *limit },
            SharedError::RouteNotFound { path } => ApiError::RouteNotFound { path: path.clone() },
            // Old-style vendors answer their own 405s; the shared layer never
            // raises one for them.
            SharedError::MethodNotAllowed { .. } => ApiError::Internal,
            SharedError::UnsupportedMediaType { declared } => ApiError::UnsupportedMediaType {
                declared: declared.clone(),
            },
            SharedError::BadBody(BodyProblem::Unreadable) => {
                ApiError::invalid("The request body could not be read")
            }
            SharedError::BodyTimeout => {
                ApiError::invalid("The request body did not arrive in time")
            }
            SharedError::BadBody(_) | SharedError::Internal => ApiError::Internal,
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

/// The vendor interface before route tables: what a vendor that has not
/// moved to [`super::Api`] yet implements. [`adapt`] turns it into a
/// [`super::Vendor`].
pub(crate) trait LegacyVendor: Send + Sync {
    fn name(&self) -> &'static str;
    fn real_host(&self) -> &'static str;
    fn route_patterns(&self) -> &'static [&'static str];
    fn scenario_error(
        &self,
        request: &super::ErrorRequest,
        call: &crate::http::Call,
    ) -> Option<ApiError>;
    fn handle(
        &self,
        call: &crate::http::Call,
        state: &crate::store::State,
    ) -> Result<crate::http::Reply, ApiError>;
    fn check_record(&self, id: &str, record: &Value) -> Result<Value, super::RecordProblem>;
    fn render_error(&self, error: &ApiError) -> crate::http::Reply;
    fn reset_counters(&self) {}
}

/// `impl Vendor` for a [`LegacyVendor`].
macro_rules! adapt {
    ($vendor:ty) => {
        impl $crate::vendors::Vendor for $vendor {
            fn name(&self) -> &'static str {
                $crate::vendors::legacy::LegacyVendor::name(self)
            }
            fn real_host(&self) -> &'static str {
                $crate::vendors::legacy::LegacyVendor::real_host(self)
            }
            fn route_patterns(&self) -> Vec<$crate::http::PathPattern> {
                $crate::vendors::legacy::LegacyVendor::route_patterns(self)
                    .iter()
                    .filter_map(|p| $crate::http::PathPattern::parse(p).ok())
                    .collect()
            }
            fn handle(
                &self,
                call: &$crate::http::Call,
                state: &$crate::store::State,
            ) -> $crate::http::Reply {
                use $crate::vendors::legacy::LegacyVendor;
                LegacyVendor::handle(self, call, state).unwrap_or_else(|e| {
                    let reply = self.render_error(&e);
                    match e {
                        $crate::vendors::legacy::ApiError::MethodNotAllowed { allow } => reply
                            .with_header(
                                hyper::header::ALLOW,
                                hyper::header::HeaderValue::from_static(allow),
                            ),
                        _ => reply,
                    }
                })
            }
            fn scenario_reply(
                &self,
                request: &$crate::vendors::ErrorRequest,
                call: &$crate::http::Call,
            ) -> Option<$crate::http::Reply> {
                use $crate::vendors::legacy::LegacyVendor;
                LegacyVendor::scenario_error(self, request, call).map(|e| self.render_error(&e))
            }
            fn render_shared(&self, error: &$crate::vendors::SharedError) -> $crate::http::Reply {
                use $crate::vendors::legacy::LegacyVendor;
                self.render_error(&$crate::vendors::legacy::ApiError::from_shared(error))
            }
            fn check_record(
                &self,
                id: &str,
                record: &serde_json::Value,
            ) -> Result<serde_json::Value, $crate::vendors::RecordProblem> {
                $crate::vendors::legacy::LegacyVendor::check_record(self, id, record)
            }
            fn reset_counters(&self) {
                $crate::vendors::legacy::LegacyVendor::reset_counters(self)
            }
        }
    };
}
pub(crate) use adapt;
