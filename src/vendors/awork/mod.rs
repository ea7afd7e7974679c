//! awork API v1: `PUT /api/v1/users/{userId}` and `GET` of the same user.
//!
//! Sources: `shared/seeds/awork-update-user.txt` (fields, the permission
//! rule) and `shared/vendor-notes.md` §3 (awork's own developer docs: the
//! error body and its codes, 401 for missing permissions, PUT answers 200
//! with the updated object, rate limits and their headers). Choices where
//! both are silent are in `docs/vendors/awork.md`, marked inferred.

mod languages;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use hyper::header::{HeaderName, HeaderValue, WWW_AUTHENTICATE};
use hyper::{Method, StatusCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{
    capitalised, check_credential, fixture_records, is_hyphenated_uuid, seeded_user, stored,
    LoadOptions, Loaded, StoredUser, VendorSpec,
};
use crate::diagnostics::{FileProblem, SourceFile};
use crate::http::{match_path, path_param, Call, Reply};
use crate::rate_limit::{Quota, RateLimiter};
use crate::store::State;
use crate::timestamps;
use crate::vendors::legacy::{ApiError, FieldProblem, LegacyVendor};
use crate::vendors::ErrorRequest;

pub(crate) const SPEC: VendorSpec = VendorSpec {
    name: NAME,
    embedded_fixture: include_str!("../../../fixtures/awork.json"),
    load,
    fixture_schema: || schemars::schema_for!(AworkFixture),
};

const NAME: &str = "awork";
const USER_PATH: &str = "/api/v1/users/{userId}";
/// The permission the seed names besides admin and creator.
const USER_MASTER_DATA_WRITE: &str = "user-master-data:write";
/// awork's error bodies point here (developers.awork.com, error handling).
const ERROR_LINK: &str = "https://developers.awork.com/#response-types";
/// The fields a PUT may set, with the property name awork's validation
/// errors use for each.
const UPDATABLE: &[(&str, &str)] = &[
    ("firstName", "FirstName"),
    ("lastName", "LastName"),
    ("birthDate", "BirthDate"),
    ("gender", "Gender"),
    ("title", "Title"),
    ("position", "Position"),
    ("language", "Language"),
];

// ---------------------------------------------------------------- fixture --

/// `fixtures/awork.json`: one workspace.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AworkFixture {
    #[serde(default)]
    pub settings: Settings,
    /// Bearer tokens, each acting as one workspace user.
    pub credentials: Vec<CredentialFixture>,
    /// Users exactly as `GET /users/{id}` shows them.
    pub users: Vec<User>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// What PUT does with an updatable field the body leaves out: `keep`
    /// (default) or `clear` (set it to null). An explicit `null` clears.
    #[serde(default)]
    pub omitted_fields: OmittedFields,
    /// `ignore` (default, like .NET model binding) or `reject` body members
    /// that are not updatable (read-only or unknown).
    #[serde(default)]
    pub other_fields: OtherFields,
    #[serde(default)]
    pub rate_limit: RateLimitSettings,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            omitted_fields: OmittedFields::Keep,
            other_fields: OtherFields::Ignore,
            rate_limit: RateLimitSettings::default(),
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OmittedFields {
    #[default]
    Keep,
    Clear,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OtherFields {
    #[default]
    Ignore,
    Reject,
}

/// awork limits per workspace (Premium: 1000/minute and 500/second).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Off by default; `--rate-limit awork` turns it on too.
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_per_second")]
    pub requests_per_second: u32,
    #[serde(default = "default_per_minute")]
    pub requests_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> RateLimitSettings {
        RateLimitSettings {
            enabled: false,
            requests_per_second: default_per_second(),
            requests_per_minute: default_per_minute(),
        }
    }
}

fn default_per_second() -> u32 {
    500
}

fn default_per_minute() -> u32 {
    1000
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialFixture {
    pub token: String,
    /// The workspace user this token acts as (`updatedBy` of its writes).
    pub user_id: String,
    /// Whether that user has the workspace's admin role.
    #[serde(default)]
    pub is_admin: bool,
    /// Feature permissions, e.g. `user-master-data:write`.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// An awork user, in the order of the seed's response fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub title: Option<String>,
    pub position: Option<String>,
    pub language: Option<String>,
    pub id: String,
    pub status: UserStatus,
    pub created_on: String,
    pub created_by: String,
    pub updated_on: String,
    pub updated_by: String,
    pub is_archived: bool,
    pub is_deactivated: bool,
    pub deactivated_on: Option<String>,
    pub has_image: bool,
    pub should_migrate_to_connect: bool,
    pub user_contact_infos: Vec<Value>,
    /// UTC ticks (100 ns since 0001-01-01) of the last modification.
    pub resource_version: i64,
    pub tags: Vec<Value>,
    pub teams: Vec<Value>,
    pub is_external: bool,
}

impl StoredUser for User {
    fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserStatus {
    pub invitation_accepted: bool,
    pub is_deactivated: bool,
}

fn load(file: &SourceFile, options: &LoadOptions) -> Result<Loaded, Vec<FileProblem>> {
    let fixture: AworkFixture = file.parse().map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    let mut bad = |pointer: String, message: String| problems.push(file.problem(pointer, message));

    let records = fixture_records(&fixture.users, user_problems, &mut bad);
    let user_ids: HashSet<String> = fixture
        .users
        .iter()
        .map(|u| u.id.to_ascii_lowercase())
        .collect();
    let mut credentials = HashMap::new();
    for (i, cred) in fixture.credentials.iter().enumerate() {
        check_credential(&cred.token, format!("/credentials/{i}/token"), &mut bad);
        if !user_ids.contains(&cred.user_id.to_ascii_lowercase()) {
            bad(
                format!("/credentials/{i}/user_id"),
                format!("no user has id '{}'", cred.user_id),
            );
        }
        let caller = Caller {
            user_id: cred.user_id.to_ascii_lowercase(),
            is_admin: cred.is_admin,
            may_write_master_data: cred.permissions.iter().any(|p| p == USER_MASTER_DATA_WRITE),
        };
        if credentials.insert(cred.token.clone(), caller).is_some() {
            bad(
                format!("/credentials/{i}/token"),
                format!("duplicate token '{}'", cred.token),
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let limits = &fixture.settings.rate_limit;
    let rate_limits = (limits.enabled || options.rate_limit).then(|| RateLimits {
        per_second: RateLimiter::new(limits.requests_per_second, Duration::from_secs(1)),
        per_minute: RateLimiter::new(limits.requests_per_minute, Duration::from_secs(60)),
    });
    Ok(Loaded {
        vendor: Arc::new(Awork {
            omitted_fields: fixture.settings.omitted_fields,
            other_fields: fixture.settings.other_fields,
            credentials,
            rate_limits,
            requests_per_minute: limits.requests_per_minute,
        }),
        records,
    })
}

/// Everything wrong with a stored user, as (JSON pointer, message) pairs.
fn user_problems(user: &User) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (member, id) in [
        ("id", &user.id),
        ("createdBy", &user.created_by),
        ("updatedBy", &user.updated_by),
    ] {
        if !is_hyphenated_uuid(id) {
            problems.push((format!("/{member}"), format!("'{id}' is not a GUID")));
        }
    }
    let stamps = [
        ("createdOn", Some(&user.created_on)),
        ("updatedOn", Some(&user.updated_on)),
        ("birthDate", user.birth_date.as_ref()),
        ("deactivatedOn", user.deactivated_on.as_ref()),
    ];
    for (member, stamp) in stamps {
        if let Some(stamp) = stamp.filter(|s| timestamps::parse(s).is_none()) {
            problems.push((
                format!("/{member}"),
                format!("'{stamp}' is not an RFC 3339 datetime"),
            ));
        }
    }
    if let Some(language) = user
        .language
        .as_ref()
        .filter(|l| !languages::is_iso_639_1(l))
    {
        problems.push((
            "/language".into(),
            format!("'{language}' is not an ISO 639-1 code"),
        ));
    }
    if user.status.is_deactivated != user.is_deactivated {
        problems.push((
            "/status/isDeactivated".into(),
            "must equal /isDeactivated".into(),
        ));
    }
    if user.is_deactivated != user.deactivated_on.is_some() {
        problems.push((
            "/deactivatedOn".into(),
            "is set exactly when the user is deactivated".into(),
        ));
    }
    if user.resource_version <= 0 {
        problems.push((
            "/resourceVersion".into(),
            "must be positive UTC ticks".into(),
        ));
    }
    problems
}

// ----------------------------------------------------------------- vendor --

/// The workspace user behind a token.
#[derive(Debug)]
struct Caller {
    /// Lower-cased.
    user_id: String,
    is_admin: bool,
    may_write_master_data: bool,
}

struct RateLimits {
    per_second: RateLimiter,
    per_minute: RateLimiter,
}

pub(crate) struct Awork {
    omitted_fields: OmittedFields,
    other_fields: OtherFields,
    credentials: HashMap<String, Caller>,
    rate_limits: Option<RateLimits>,
    /// The per-minute limit, also shown by a scenario's 429.
    requests_per_minute: u32,
}

/// The validated fields of a PUT body: `Some(None)` clears a field.
type Changes = Vec<(&'static str, Option<String>)>;

crate::vendors::legacy::adapt!(Awork);

impl LegacyVendor for Awork {
    fn name(&self) -> &'static str {
        NAME
    }

    fn real_host(&self) -> &'static str {
        "api.awork.com"
    }

    fn route_patterns(&self) -> &'static [&'static str] {
        &[USER_PATH]
    }

    fn scenario_error(&self, request: &ErrorRequest, call: &Call) -> Option<ApiError> {
        let user_id = path_param(USER_PATH, &call.path, 0);
        Some(match (request.status, request.kind.as_deref()) {
            (400, None | Some("validation_failed")) => ApiError::ValidationFailed {
                errors: vec![FieldProblem {
                    field: "FirstName".to_owned(),
                    message: "'FirstName' must be a string, not a number.".to_owned(),
                }],
            },
            (400, Some("invalid_model")) => {
                ApiError::invalid("The request body is not valid JSON.")
            }
            (400, Some("date_out_of_range")) => ApiError::DateOutOfRange {
                field: "BirthDate".to_owned(),
                message: "The birth date must not be in the future.".to_owned(),
            },
            (400, Some("entity_archived")) => ApiError::Archived {
                resource: "user",
                id: user_id,
            },
            (400, Some("deactivated_user")) => ApiError::Deactivated {
                resource: "user",
                id: user_id,
            },
            (401, None | Some("unauthorized")) => ApiError::Forbidden {
                resource: "user",
                id: user_id,
            },
            (401, Some("unauthenticated")) => ApiError::Unauthenticated {
                reason: "The bearer token is not valid.",
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
        let Some(params) = match_path(USER_PATH, &call.path) else {
            return Err(ApiError::RouteNotFound {
                path: call.path.clone(),
            });
        };
        if !matches!(call.method, Method::GET | Method::PUT) {
            return Err(ApiError::MethodNotAllowed { allow: "GET, PUT" });
        }
        // awork's limits are per workspace: every request counts, and every
        // answer carries the headers while the limit is on.
        let quotas = self.rate_limits.as_ref().map(|limits| {
            (
                limits.per_second.check("workspace"),
                limits.per_minute.check("workspace"),
            )
        });
        let result = match quotas {
            Some((second, minute)) if !second.allowed || !minute.allowed => {
                Err(ApiError::RateLimited(if second.allowed {
                    minute
                } else {
                    second
                }))
            }
            _ if call.method == Method::GET => self.get_user(call, state, params[0]),
            _ => self.update_user(call, state, params[0]),
        };
        let reply = result.unwrap_or_else(|e| self.render_error(&e));
        Ok(match quotas {
            Some((second, minute)) => with_rate_limit_headers(reply, Some(second), minute),
            None => reply,
        })
    }

    fn check_record(
        &self,
        id: &str,
        record: &Value,
    ) -> Result<Value, crate::vendors::RecordProblem> {
        let user: User = seeded_user(id, record, user_problems)?;
        stored(&user)
    }

    fn render_error(&self, error: &ApiError) -> Reply {
        if let ApiError::RateLimited(quota) = error {
            // The RateLimit-* headers are those of awork's gateway (Kong);
            // its 429 body is Kong's own, not awork's error model (inferred).
            let reply = Reply::json(
                StatusCode::TOO_MANY_REQUESTS,
                &json!({ "message": "API rate limit exceeded" }),
            );
            return with_rate_limit_headers(reply, None, *quota);
        }
        let (status, code, description, details, validation) = match error {
            ApiError::Unauthenticated { reason } => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "The request requires a valid access token.".to_owned(),
                vec![reason.to_string()],
                vec![],
            ),
            ApiError::Forbidden { .. } | ApiError::MissingScope { .. } => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "The requesting user is lacking the necessary permissions for this request.".to_owned(),
                vec![format!(
                    "Updating a user requires being an admin, the creator of the user, or the permission {USER_MASTER_DATA_WRITE}."
                )],
                vec![],
            ),
            ApiError::Deactivated { resource, id } if resource == &"caller" => (
                StatusCode::UNAUTHORIZED,
                "deactivated-user",
                "The requesting user is deactivated.".to_owned(),
                vec![format!("User '{id}' is deactivated and cannot use the API.")],
                vec![],
            ),
            ApiError::Deactivated { id, .. } => (
                StatusCode::BAD_REQUEST,
                "deactivated-user",
                "The user is deactivated and cannot be changed.".to_owned(),
                vec![format!("User '{id}' is deactivated.")],
                vec![],
            ),
            ApiError::Archived { id, .. } => (
                StatusCode::BAD_REQUEST,
                "entity-archived",
                "The entity is archived and cannot be changed.".to_owned(),
                vec![format!("User '{id}' is archived.")],
                vec![],
            ),
            ApiError::ValidationFailed { errors } => (
                StatusCode::BAD_REQUEST,
                "validation-failed",
                "The model sent in the request is invalid. See the validation errors for details.".to_owned(),
                vec![],
                errors.clone(),
            ),
            ApiError::DateOutOfRange { field, message } => (
                StatusCode::BAD_REQUEST,
                "date-out-of-range",
                "A date is outside of the allowed range.".to_owned(),
                vec![message.clone()],
                vec![FieldProblem {
                    field: field.clone(),
                    message: message.clone(),
                }],
            ),
            ApiError::InvalidRequest { message, .. } | ApiError::OAuth { description: message, .. } => (
                StatusCode::BAD_REQUEST,
                "invalid-model",
                "The model sent in the request is invalid or empty.".to_owned(),
                vec![message.clone()],
                vec![],
            ),
            ApiError::UnsupportedMediaType { declared } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid-model",
                "The request body must be JSON.".to_owned(),
                vec![format!("Content-Type '{}' is not supported.", declared.as_deref().unwrap_or(""))],
                vec![],
            ),
            ApiError::NotFound { resource, id } => (
                StatusCode::NOT_FOUND,
                "not-found",
                "The requested entity was not found.".to_owned(),
                vec![format!("No {resource} with id '{id}' exists.")],
                vec![],
            ),
            ApiError::DepartmentsNotFound { ids } => (
                StatusCode::NOT_FOUND,
                "not-found",
                "The requested entity was not found.".to_owned(),
                ids.clone(),
                vec![],
            ),
            ApiError::RouteNotFound { path } => (
                StatusCode::NOT_FOUND,
                "not-found",
                "The requested resource was not found.".to_owned(),
                vec![format!("No endpoint matches '{path}'.")],
                vec![],
            ),
            ApiError::MethodNotAllowed { allow } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid-operation",
                "The operation is not allowed on this resource.".to_owned(),
                vec![format!("Allowed methods: {allow}.")],
                vec![],
            ),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "request-body-too-large",
                "The request body is too large.".to_owned(),
                vec![format!("The limit is {limit} bytes.")],
                vec![],
            ),
            ApiError::RateLimited(_) | ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server-error",
                "An unexpected error occurred.".to_owned(),
                vec![],
                vec![],
            ),
        };
        let validation: Vec<Value> = validation
            .iter()
            .map(|p| json!({ "property": p.field, "message": p.message }))
            .collect();
        let reply = Reply::json(
            status,
            &json!({
                "code": code,
                "description": description,
                "link": ERROR_LINK,
                "details": details,
                "validationErrors": validation,
            }),
        );
        if matches!(error, ApiError::Unauthenticated { .. }) {
            reply.with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
        } else {
            reply
        }
    }

    fn reset_counters(&self) {
        if let Some(limits) = &self.rate_limits {
            limits.per_second.reset();
            limits.per_minute.reset();
        }
    }
}

impl Awork {
    fn authenticate(&self, call: &Call, state: &State) -> Result<&Caller, ApiError> {
        let token = call.bearer_token().ok_or(ApiError::Unauthenticated {
            reason: "No bearer token was sent.",
        })?;
        let caller = self
            .credentials
            .get(token)
            .ok_or(ApiError::Unauthenticated {
                reason: "The bearer token is not valid.",
            })?;
        // A deactivated user's token no longer works.
        let acting = state.get(NAME, &caller.user_id);
        if acting.is_some_and(|u| u.get("isDeactivated") == Some(&Value::Bool(true))) {
            return Err(ApiError::Deactivated {
                resource: "caller",
                id: caller.user_id.clone(),
            });
        }
        Ok(caller)
    }

    fn get_user(&self, call: &Call, state: &State, user_id: &str) -> Result<Reply, ApiError> {
        self.authenticate(call, state)?;
        let user_id = path_guid(user_id)?;
        let user = state
            .get(NAME, &user_id)
            .ok_or_else(|| ApiError::user_not_found(&user_id))?;
        Ok(Reply::json(StatusCode::OK, &*user))
    }

    fn update_user(&self, call: &Call, state: &State, user_id: &str) -> Result<Reply, ApiError> {
        let caller = self.authenticate(call, state)?;
        let user_id = path_guid(user_id)?;
        let changes = self.parse_body(call)?;
        let target = state.get(NAME, &user_id);
        let created_by_caller = target
            .as_ref()
            .and_then(|u| u.get("createdBy").and_then(Value::as_str))
            .is_some_and(|creator| creator.eq_ignore_ascii_case(&caller.user_id));
        if !(caller.is_admin || caller.may_write_master_data || created_by_caller) {
            return Err(ApiError::Forbidden {
                resource: "user",
                id: user_id,
            });
        }
        if target.is_none() {
            return Err(ApiError::user_not_found(&user_id));
        }

        // Read before `update`: its closure runs under the record's lock and
        // must not touch the state again.
        let updated_by = caller_id_canonical(state, &caller.user_id);
        let updated = state.update(NAME, &user_id, |current| {
            let mut user: User =
                serde_json::from_value(current.clone()).map_err(|_| ApiError::Internal)?;
            if user.is_archived {
                return Err(ApiError::Archived {
                    resource: "user",
                    id: user.id.clone(),
                });
            }
            if user.is_deactivated {
                return Err(ApiError::Deactivated {
                    resource: "user",
                    id: user.id.clone(),
                });
            }
            for (field, value) in &changes {
                let slot = match *field {
                    "firstName" => &mut user.first_name,
                    "lastName" => &mut user.last_name,
                    "birthDate" => &mut user.birth_date,
                    "gender" => &mut user.gender,
                    "title" => &mut user.title,
                    "position" => &mut user.position,
                    _ => &mut user.language,
                };
                slot.clone_from(value);
            }
            let now = OffsetDateTime::now_utc();
            user.updated_on = timestamps::format_millis(now);
            user.updated_by.clone_from(&updated_by);
            user.resource_version = timestamps::utc_ticks(now).max(user.resource_version + 1);
            serde_json::to_value(&user).map_err(|_| ApiError::Internal)
        })?;
        let updated = updated.ok_or_else(|| ApiError::user_not_found(&user_id))?;
        Ok(Reply::json(StatusCode::OK, &*updated))
    }

    /// The PUT body: a JSON object whose updatable members are strings or
    /// null. Every invalid member is reported at once, as awork does.
    fn parse_body(&self, call: &Call) -> Result<Changes, ApiError> {
        if call.header("content-type").is_some() && !call.declares_json() {
            return Err(ApiError::UnsupportedMediaType {
                declared: call.header("content-type").map(str::to_owned),
            });
        }
        if call.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::invalid("The request body is empty."));
        }
        let body: Value = serde_json::from_slice(&call.body)
            .map_err(|e| ApiError::invalid(format!("The request body is not valid JSON: {e}")))?;
        let Value::Object(members) = body else {
            return Err(ApiError::invalid("The request body must be a JSON object."));
        };

        let mut errors = Vec::new();
        if self.other_fields == OtherFields::Reject {
            for name in members
                .keys()
                .filter(|k| !UPDATABLE.iter().any(|(f, _)| f == k))
            {
                errors.push(FieldProblem {
                    field: capitalised(name),
                    message: format!("'{name}' cannot be updated."),
                });
            }
        }
        let mut changes = Changes::new();
        let mut birth_date = None;
        for &(field, property) in UPDATABLE {
            let value = match members.get(field) {
                None if self.omitted_fields == OmittedFields::Keep => continue,
                None | Some(Value::Null) => None,
                Some(Value::String(text)) => Some(text.clone()),
                Some(other) => {
                    errors.push(FieldProblem {
                        field: property.to_owned(),
                        message: format!(
                            "'{property}' must be a string, not {}.",
                            json_kind(other)
                        ),
                    });
                    continue;
                }
            };
            match (field, &value) {
                ("language", Some(code)) if !languages::is_iso_639_1(code) => {
                    errors.push(FieldProblem {
                        field: property.to_owned(),
                        message: format!("'{code}' is not a valid ISO 639-1 language code."),
                    })
                }
                ("birthDate", Some(text)) => match timestamps::parse_date_or_datetime(text) {
                    Some(at) => birth_date = Some(at),
                    None => errors.push(FieldProblem {
                        field: property.to_owned(),
                        message: format!("'{text}' is not a valid date time."),
                    }),
                },
                _ => {}
            }
            changes.push((field, value));
        }
        if !errors.is_empty() {
            return Err(ApiError::ValidationFailed { errors });
        }
        if let Some(at) = birth_date {
            if at > OffsetDateTime::now_utc() {
                return Err(ApiError::DateOutOfRange {
                    field: "BirthDate".to_owned(),
                    message: "The birth date must not be in the future.".to_owned(),
                });
            }
            for change in &mut changes {
                if change.0 == "birthDate" {
                    change.1 = Some(timestamps::format_millis(at));
                }
            }
        }
        Ok(changes)
    }
}

/// The caller's id as its user record spells it.
fn caller_id_canonical(state: &State, lower: &str) -> String {
    state
        .get(NAME, lower)
        .and_then(|u| u.get("id").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| lower.to_owned())
}

/// `RateLimit-*` describe the window closest to running out; the
/// `X-RateLimit-*` pairs describe each window (the second's only when known).
fn with_rate_limit_headers(mut reply: Reply, second: Option<Quota>, minute: Quota) -> Reply {
    let tightest = match second {
        Some(second) if second.remaining <= minute.remaining => second,
        _ => minute,
    };
    let mut headers: Vec<(&'static str, u64)> = vec![
        ("ratelimit-limit", u64::from(tightest.limit)),
        ("ratelimit-remaining", u64::from(tightest.remaining)),
        ("ratelimit-reset", tightest.reset_after_secs),
    ];
    if let Some(second) = second {
        headers.push(("x-ratelimit-limit-second", u64::from(second.limit)));
        headers.push(("x-ratelimit-remaining-second", u64::from(second.remaining)));
    }
    headers.push(("x-ratelimit-limit-minute", u64::from(minute.limit)));
    headers.push(("x-ratelimit-remaining-minute", u64::from(minute.remaining)));
    for (name, value) in headers {
        reply = reply.with_header(HeaderName::from_static(name), HeaderValue::from(value));
    }
    reply
}

fn path_guid(user_id: &str) -> Result<String, ApiError> {
    if is_hyphenated_uuid(user_id) {
        Ok(user_id.to_ascii_lowercase())
    } else {
        Err(ApiError::ValidationFailed {
            errors: vec![FieldProblem {
                field: "UserId".to_owned(),
                message: format!("'{user_id}' is not a valid GUID."),
            }],
        })
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
