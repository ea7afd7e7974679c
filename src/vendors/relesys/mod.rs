//! Relesys API v1.3: `PATCH /api/v1.3/users/{userId}` (RFC 6902 JSON Patch),
//! `GET` of the same user, and the OAuth token endpoint.
//!
//! Sources: `shared/seeds/relesys-update-user.txt` (the truth for fields and
//! the example) and `shared/vendor-notes.md` §1/§1b (token endpoint, scopes,
//! throttling, all confirmed from Relesys' docs). Choices where both are
//! silent are in `docs/vendors/relesys.md`, marked inferred.

mod auth;
mod user;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use hyper::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::{Method, StatusCode};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use self::auth::{Grant, OAuthClient, Tokens, READ_SCOPES, WRITE_SCOPES};
use self::user::{Catalog, User};
use super::{
    check_credential, fixture_records, is_hyphenated_uuid, seeded_user, stored, LoadOptions,
    Loaded, VendorSpec,
};
use crate::diagnostics::{FileProblem, SourceFile};
use crate::http::{match_path, path_param, Call, Reply};
use crate::rate_limit::{Quota, RateLimiter};
use crate::store::State;
use crate::timestamps;
use crate::vendors::legacy::{ApiError, LegacyVendor};
use crate::vendors::ErrorRequest;

pub(crate) const SPEC: VendorSpec = VendorSpec {
    name: NAME,
    embedded_fixture: include_str!("../../../fixtures/relesys.json"),
    load,
    fixture_schema: || schemars::schema_for!(RelesysFixture),
};

const NAME: &str = "relesys";
const USER_PATH: &str = "/api/v1.3/users/{userId}";
const TOKEN_PATH: &str = "/login/oauth/authorize";

// ---------------------------------------------------------------- fixture --

/// `fixtures/relesys.json`: the vendor's whole world.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelesysFixture {
    #[serde(default)]
    pub settings: Settings,
    /// OAuth clients for `POST /login/oauth/authorize`.
    pub clients: Vec<ClientFixture>,
    /// Ready-made bearer tokens (never expire), e.g. `relesys-admin`.
    pub tokens: Vec<TokenFixture>,
    pub departments: Vec<NamedFixture>,
    pub user_groups: Vec<NamedFixture>,
    /// The custom fields defined in the tenant; other keys are dropped.
    pub custom_fields: Vec<CustomFieldFixture>,
    /// Users exactly as `GET /users/{id}` shows them (the `data` object).
    pub users: Vec<User>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Lifetime of issued tokens, reported as the string `expires_in`.
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime_seconds: u64,
    #[serde(default)]
    pub rate_limit: RateLimitSettings,
    /// `drop` (default, as the seed's example shows) or `reject` custom-field
    /// keys that the tenant does not define.
    #[serde(default)]
    pub unknown_custom_fields: UnknownCustomFields,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            token_lifetime_seconds: default_token_lifetime(),
            rate_limit: RateLimitSettings::default(),
            unknown_custom_fields: UnknownCustomFields::Drop,
        }
    }
}

fn default_token_lifetime() -> u64 {
    3600
}

/// Relesys throttles per client id: 100 requests per minute, all endpoints.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Off by default; `--rate-limit relesys` turns it on too.
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_requests_per_minute")]
    pub requests_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> RateLimitSettings {
        RateLimitSettings {
            enabled: false,
            requests_per_minute: default_requests_per_minute(),
        }
    }
}

fn default_requests_per_minute() -> u32 {
    100
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnknownCustomFields {
    #[default]
    Drop,
    Reject,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFixture {
    /// A GUID, as Relesys issues them.
    pub client_id: String,
    pub client_secret: String,
    /// The scopes this client may request.
    pub scopes: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenFixture {
    pub token: String,
    /// The client the token acts for (rate limits count per client).
    pub client_id: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedFixture {
    pub id: String,
    #[allow(dead_code)]
    pub name: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldFixture {
    /// The key used in a user's `customFields`.
    pub key: String,
    #[allow(dead_code)]
    pub name: String,
}

fn load(file: &SourceFile, options: &LoadOptions) -> Result<Loaded, Vec<FileProblem>> {
    let fixture: RelesysFixture = file.parse().map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    let mut bad = |pointer: String, message: String| problems.push(file.problem(pointer, message));

    let ids = |list: &[NamedFixture], member: &str, bad: &mut dyn FnMut(String, String)| {
        let mut map = HashMap::new();
        for (i, item) in list.iter().enumerate() {
            if !is_hyphenated_uuid(&item.id) {
                bad(
                    format!("/{member}/{i}/id"),
                    format!("'{}' is not a GUID", item.id),
                );
            } else if map
                .insert(item.id.to_ascii_lowercase(), item.id.clone())
                .is_some()
            {
                bad(
                    format!("/{member}/{i}/id"),
                    format!("duplicate id '{}'", item.id),
                );
            }
        }
        map
    };
    let departments = ids(&fixture.departments, "departments", &mut bad);
    let user_groups = ids(&fixture.user_groups, "user_groups", &mut bad);

    let mut clients = Vec::new();
    let mut client_ids = HashSet::new();
    for (i, client) in fixture.clients.iter().enumerate() {
        if !is_hyphenated_uuid(&client.client_id) {
            bad(
                format!("/clients/{i}/client_id"),
                format!("'{}' is not a GUID", client.client_id),
            );
        } else if !client_ids.insert(client.client_id.to_ascii_lowercase()) {
            bad(
                format!("/clients/{i}/client_id"),
                format!("duplicate client id '{}'", client.client_id),
            );
        }
        check_scopes(&client.scopes, &format!("/clients/{i}/scopes"), &mut bad);
        clients.push(OAuthClient {
            client_id: client.client_id.clone(),
            secret: client.client_secret.clone(),
            scopes: client.scopes.clone(),
        });
    }
    let mut fixed = HashMap::new();
    for (i, token) in fixture.tokens.iter().enumerate() {
        check_credential(&token.token, format!("/tokens/{i}/token"), &mut bad);
        if !client_ids.contains(&token.client_id.to_ascii_lowercase()) {
            bad(
                format!("/tokens/{i}/client_id"),
                format!("no client has id '{}'", token.client_id),
            );
        }
        check_scopes(&token.scopes, &format!("/tokens/{i}/scopes"), &mut bad);
        let grant = Grant::fixed(token.client_id.clone(), token.scopes.clone());
        if fixed.insert(token.token.clone(), grant).is_some() {
            bad(
                format!("/tokens/{i}/token"),
                format!("duplicate token '{}'", token.token),
            );
        }
    }
    let catalog = Catalog {
        departments,
        user_groups,
        custom_fields: fixture
            .custom_fields
            .iter()
            .map(|f| f.key.clone())
            .collect(),
        drop_unknown_custom_fields: fixture.settings.unknown_custom_fields
            == UnknownCustomFields::Drop,
    };

    // Fixture users must define only known custom fields, whatever the
    // policy for patches: a silently dropped fixture value is a mistake.
    for (i, user) in fixture.users.iter().enumerate() {
        for key in user
            .custom_fields
            .keys()
            .filter(|k| !catalog.custom_fields.contains(*k))
        {
            bad(
                format!("/users/{i}/customFields/{key}"),
                format!("no custom field has key '{key}'"),
            );
        }
    }
    let normalised: Vec<User> = fixture
        .users
        .iter()
        .map(|user| {
            let mut user = user.clone();
            catalog.normalise(&mut user);
            user
        })
        .collect();
    let records = fixture_records(&normalised, |u| catalog.problems(u), &mut bad);

    if !problems.is_empty() {
        return Err(problems);
    }
    let settings = &fixture.settings;
    let rate_limiter = (settings.rate_limit.enabled || options.rate_limit).then(|| {
        RateLimiter::new(
            settings.rate_limit.requests_per_minute,
            Duration::from_secs(60),
        )
    });
    Ok(Loaded {
        vendor: Arc::new(Relesys {
            tokens: Tokens::new(
                clients,
                fixed,
                Duration::from_secs(settings.token_lifetime_seconds),
            ),
            catalog,
            rate_limiter,
            requests_per_minute: settings.rate_limit.requests_per_minute,
        }),
        records,
    })
}

fn check_scopes(scopes: &[String], at: &str, bad: &mut dyn FnMut(String, String)) {
    for (j, scope) in scopes.iter().enumerate() {
        if !auth::is_scope_name(scope) {
            bad(
                format!("{at}/{j}"),
                format!("'{scope}' is not a Relesys scope"),
            );
        }
    }
}

// ----------------------------------------------------------------- vendor --

pub(crate) struct Relesys {
    tokens: Tokens,
    catalog: Catalog,
    rate_limiter: Option<RateLimiter>,
    /// The documented limit, also shown by a scenario's 429.
    requests_per_minute: u32,
}

crate::vendors::legacy::adapt!(Relesys);

impl LegacyVendor for Relesys {
    fn name(&self) -> &'static str {
        NAME
    }

    fn real_host(&self) -> &'static str {
        "api.relesysapp.net"
    }

    fn route_patterns(&self) -> &'static [&'static str] {
        &[USER_PATH, TOKEN_PATH]
    }

    fn scenario_error(&self, request: &ErrorRequest, call: &Call) -> Option<ApiError> {
        let user_id = path_param(USER_PATH, &call.path, 0);
        Some(match (request.status, request.kind.as_deref()) {
            (400, None) => ApiError::invalid("The request is invalid"),
            (401, None) => ApiError::Unauthenticated {
                reason: "unknown token",
            },
            (403, None) => ApiError::MissingScope {
                accepted: if call.method == Method::GET {
                    READ_SCOPES
                } else {
                    WRITE_SCOPES
                },
            },
            (404, None) => ApiError::user_not_found(&user_id),
            (429, None) => ApiError::RateLimited(Quota::exhausted(
                self.requests_per_minute,
                request.retry_after.unwrap_or(60),
            )),
            (500, None) => ApiError::Internal,
            _ => return None,
        })
    }

    fn handle(&self, call: &Call, state: &State) -> Result<Reply, ApiError> {
        if match_path(TOKEN_PATH, &call.path).is_some() {
            return match call.method {
                Method::POST => self
                    .tokens
                    .issue(call)
                    .map(|body| Reply::json(StatusCode::OK, &body)),
                _ => Err(ApiError::MethodNotAllowed { allow: "POST" }),
            };
        }
        let Some(params) = match_path(USER_PATH, &call.path) else {
            return Err(ApiError::RouteNotFound {
                path: call.path.clone(),
            });
        };
        match call.method {
            Method::GET => self.get_user(call, state, params[0]),
            Method::PATCH => self.update_user(call, state, params[0]),
            _ => Err(ApiError::MethodNotAllowed {
                allow: "GET, PATCH",
            }),
        }
    }

    fn check_record(
        &self,
        id: &str,
        record: &serde_json::Value,
    ) -> Result<serde_json::Value, crate::vendors::RecordProblem> {
        let mut user: User = seeded_user(id, record, |u| self.catalog.problems(u))?;
        self.catalog.normalise(&mut user);
        stored(&user)
    }

    fn render_error(&self, error: &ApiError) -> Reply {
        let (status, message) = match error {
            ApiError::OAuth { error, description } => {
                return Reply::json(
                    StatusCode::BAD_REQUEST,
                    &json!({ "error": error, "error_description": description }),
                );
            }
            ApiError::Unauthenticated { reason } => (
                StatusCode::UNAUTHORIZED,
                format!("Authorization has been denied for this request: {reason}"),
            ),
            ApiError::MissingScope { accepted } => (
                StatusCode::FORBIDDEN,
                format!(
                    "Insufficient scope for this endpoint. Accepted scopes: {}",
                    accepted.join(", ")
                ),
            ),
            ApiError::Forbidden { resource, id } => (
                StatusCode::FORBIDDEN,
                format!("Access to {resource} '{id}' is denied"),
            ),
            ApiError::RateLimited(quota) => (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Request quota exceeded. A maximum of {} requests are allowed per minute",
                    quota.limit
                ),
            ),
            ApiError::InvalidRequest { message, .. } | ApiError::DateOutOfRange { message, .. } => {
                (StatusCode::BAD_REQUEST, message.clone())
            }
            ApiError::ValidationFailed { errors } => (
                StatusCode::BAD_REQUEST,
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            ApiError::Archived { resource, id } | ApiError::Deactivated { resource, id } => (
                StatusCode::BAD_REQUEST,
                format!("The {resource} '{id}' cannot be changed in its current state"),
            ),
            ApiError::UnsupportedMediaType { declared } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Unsupported content type '{}'; send application/json-patch+json",
                    declared.as_deref().unwrap_or("")
                ),
            ),
            ApiError::NotFound { resource, id } => (
                StatusCode::NOT_FOUND,
                format!("The {resource} '{id}' was not found"),
            ),
            ApiError::DepartmentsNotFound { ids } => (
                StatusCode::NOT_FOUND,
                format!("Departments not found: {}", ids.join(", ")),
            ),
            ApiError::RouteNotFound { path } => (
                StatusCode::NOT_FOUND,
                format!("No endpoint matches '{path}'"),
            ),
            ApiError::MethodNotAllowed { allow } => (
                StatusCode::METHOD_NOT_ALLOWED,
                format!("The requested resource does not support this method; allowed: {allow}"),
            ),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The request body is larger than {limit} bytes"),
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "An error has occurred.".to_owned(),
            ),
        };
        // The 429 body is the one Relesys documents; the others reuse its
        // shape (inferred): `errorCode` is the status as a string.
        let reply = Reply::json(
            status,
            &json!({ "errorCode": status.as_u16().to_string(), "message": message }),
        );
        match error {
            ApiError::RateLimited(quota) => {
                reply.with_header(RETRY_AFTER, HeaderValue::from(quota.reset_after_secs))
            }
            ApiError::Unauthenticated { .. } => {
                reply.with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
            }
            _ => reply,
        }
    }

    fn reset_counters(&self) {
        if let Some(limiter) = &self.rate_limiter {
            limiter.reset();
        }
    }
}

impl Relesys {
    /// 401, then the per-client quota (429), in that order: throttling
    /// counts per client id, which only a valid token reveals.
    fn admit(&self, call: &Call) -> Result<Grant, ApiError> {
        let grant = self.tokens.authenticate(call)?;
        if let Some(limiter) = &self.rate_limiter {
            let quota = limiter.check(&grant.client_id.to_ascii_lowercase());
            if !quota.allowed {
                return Err(ApiError::RateLimited(quota));
            }
        }
        Ok(grant)
    }

    fn get_user(&self, call: &Call, state: &State, user_id: &str) -> Result<Reply, ApiError> {
        let grant = self.admit(call)?;
        let user_id = path_guid(user_id)?;
        grant.require_any(READ_SCOPES)?;
        let user = state
            .get(NAME, &user_id)
            .ok_or_else(|| ApiError::user_not_found(&user_id))?;
        Ok(Reply::json(StatusCode::OK, &json!({ "data": *user })))
    }

    fn update_user(&self, call: &Call, state: &State, user_id: &str) -> Result<Reply, ApiError> {
        let grant = self.admit(call)?;
        let user_id = path_guid(user_id)?;
        if !call.declares_json() {
            return Err(ApiError::UnsupportedMediaType {
                declared: call.header("content-type").map(str::to_owned),
            });
        }
        let ops = user::parse_patch(&call.body)?;
        user::reject_read_only(&ops)?;
        grant.require_any(WRITE_SCOPES)?;

        let updated = state.update(NAME, &user_id, |current| {
            let mut patched = user::apply(current, &ops, &self.catalog)?;
            patched.last_modified_date_time = timestamps::next_write_ticks(
                current.get("lastModifiedDateTime").and_then(|v| v.as_str()),
                state.now(),
            );
            serde_json::to_value(&patched).map_err(|_| ApiError::Internal)
        })?;
        let updated = updated.ok_or_else(|| ApiError::user_not_found(&user_id))?;
        Ok(Reply::json(StatusCode::OK, &json!({ "data": *updated })))
    }
}

/// `userId` is documented as `string / guid`; returned lower-cased.
fn path_guid(user_id: &str) -> Result<String, ApiError> {
    if is_hyphenated_uuid(user_id) {
        Ok(user_id.to_ascii_lowercase())
    } else {
        Err(ApiError::invalid(format!(
            "The value '{user_id}' is not a valid GUID for userId"
        )))
    }
}
