//! The activity-monitoring vendor: `PATCH /v2/clients/{client_id}/users/{user_id}`.
//!
//! Source of truth: `shared/seeds/activity-update-user.txt`. The vendor is
//! unnamed; its real base URL is `https://api.example.com/v2`. Behaviour the
//! seed leaves open is decided in `docs/vendors/activity.md` and marked
//! "inferred" there; the fixture's `settings` switch the inferred choices.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use hyper::header::{HeaderValue, WWW_AUTHENTICATE};
use hyper::{Method, StatusCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{
    capitalised, check_credential, fixture_records, is_hyphenated_uuid, seeded_user, stored,
    LoadOptions, Loaded, StoredUser, VendorSpec,
};
use crate::diagnostics::{FileProblem, SourceFile};
use crate::http::{match_path, path_param, Call, Reply};
use crate::store::State;
use crate::timestamps;
use crate::vendors::legacy::{ApiError, LegacyVendor};
use crate::vendors::ErrorRequest;

pub(crate) const SPEC: VendorSpec = VendorSpec {
    name: NAME,
    embedded_fixture: include_str!("../../fixtures/activity.json"),
    load,
    fixture_schema: || schemars::schema_for!(ActivityFixture),
};

const NAME: &str = "activity";
const USER_PATH: &str = "/v2/clients/{client_id}/users/{user_id}";

/// Fields the seed lists under "Fields Not Updatable via API", plus
/// `updated_at`, which the system sets on every write.
const READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "username",
    "user_key",
    "last_activity",
    "created_at",
    "updated_at",
];

// ---------------------------------------------------------------- fixture --

/// `fixtures/activity.json`: the vendor's whole world.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityFixture {
    /// Switches for behaviour the seed leaves open (all inferred).
    #[serde(default)]
    pub settings: Settings,
    /// Client organisations (tenants); every user belongs to one.
    pub clients: Vec<ClientFixture>,
    /// Departments, each owned by one client.
    pub departments: Vec<DepartmentFixture>,
    /// Bearer tokens and the clients they may access.
    pub credentials: Vec<CredentialFixture>,
    /// The users, as the API shows them, plus the `client_id` they belong to
    /// and `departments` as a list of department ids.
    pub users: Vec<UserRecord>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// What a body field that the seed marks "not updatable" does:
    /// `reject` (400, default) or `ignore` (accepted, left unchanged).
    #[serde(default)]
    pub read_only_fields: FieldPolicy,
    /// What a body field the API does not know does: `reject` (400,
    /// default) or `ignore`.
    #[serde(default)]
    pub unknown_fields: FieldPolicy,
    /// Whether a PATCH must declare `Content-Type: application/json`
    /// (default true; false accepts any declared type if the body is JSON).
    #[serde(default = "yes")]
    pub require_json_content_type: bool,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            read_only_fields: FieldPolicy::Reject,
            unknown_fields: FieldPolicy::Reject,
            require_json_content_type: true,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldPolicy {
    #[default]
    Reject,
    Ignore,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFixture {
    pub id: String,
    /// Documentation only: the API never shows clients.
    #[allow(dead_code)]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentFixture {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialFixture {
    /// The bearer token, sent as `Authorization: Bearer <token>`.
    pub token: String,
    /// What this credential is for (documentation only).
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
    /// Access to every client, including ones added later.
    #[serde(default)]
    pub all_clients: bool,
    /// The client ids this token may access (when not `all_clients`).
    #[serde(default)]
    pub clients: Vec<String>,
}

/// A user as stored: the API's fields plus `client_id`, with departments as ids.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub id: String,
    pub client_id: String,
    pub username: String,
    pub user_key: String,
    pub last_activity: LastActivity,
    pub departments: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl StoredUser for UserRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LastActivity {
    pub at: Option<String>,
    pub desktop_at: Option<String>,
    pub web_at: Option<String>,
}

fn load(file: &SourceFile, _options: &LoadOptions) -> Result<Loaded, Vec<FileProblem>> {
    let fixture: ActivityFixture = file.parse().map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    let mut bad = |pointer: String, message: String| problems.push(file.problem(pointer, message));

    let mut clients = HashSet::new();
    for (i, client) in fixture.clients.iter().enumerate() {
        if !is_hyphenated_uuid(&client.id) {
            bad(
                format!("/clients/{i}/id"),
                format!("'{}' is not a UUID", client.id),
            );
        } else if !clients.insert(client.id.to_ascii_lowercase()) {
            bad(
                format!("/clients/{i}/id"),
                format!("duplicate client id '{}'", client.id),
            );
        }
    }

    let mut departments = HashMap::new();
    for (i, dept) in fixture.departments.iter().enumerate() {
        if !is_hyphenated_uuid(&dept.id) {
            bad(
                format!("/departments/{i}/id"),
                format!("'{}' is not a UUID", dept.id),
            );
        } else if departments
            .insert(dept.id.to_ascii_lowercase(), dept.clone())
            .is_some()
        {
            bad(
                format!("/departments/{i}/id"),
                format!("duplicate department id '{}'", dept.id),
            );
        }
        if !clients.contains(&dept.client_id.to_ascii_lowercase()) {
            bad(
                format!("/departments/{i}/client_id"),
                format!("no client has id '{}'", dept.client_id),
            );
        }
    }

    let mut credentials = HashMap::new();
    for (i, cred) in fixture.credentials.iter().enumerate() {
        check_credential(&cred.token, format!("/credentials/{i}/token"), &mut bad);
        for (j, client) in cred.clients.iter().enumerate() {
            if !clients.contains(&client.to_ascii_lowercase()) {
                bad(
                    format!("/credentials/{i}/clients/{j}"),
                    format!("no client has id '{client}'"),
                );
            }
        }
        let access = if cred.all_clients {
            Access::AllClients
        } else {
            Access::Clients(
                cred.clients
                    .iter()
                    .map(|c| c.to_ascii_lowercase())
                    .collect(),
            )
        };
        if credentials.insert(cred.token.clone(), access).is_some() {
            bad(
                format!("/credentials/{i}/token"),
                format!("duplicate token '{}'", cred.token),
            );
        }
    }

    let activity = Activity {
        settings: fixture.settings,
        clients,
        departments,
        credentials,
    };
    let records = fixture_records(&fixture.users, |u| activity.user_problems(u), &mut bad);

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Loaded {
        vendor: Arc::new(activity),
        records,
    })
}

// ----------------------------------------------------------------- vendor --

#[derive(Debug)]
enum Access {
    AllClients,
    Clients(HashSet<String>),
}

impl Access {
    fn allows(&self, client_id: &str) -> bool {
        match self {
            Access::AllClients => true,
            Access::Clients(ids) => ids.contains(client_id),
        }
    }
}

pub(crate) struct Activity {
    settings: Settings,
    /// Lower-cased ids, here and in every map below.
    clients: HashSet<String>,
    departments: HashMap<String, DepartmentFixture>,
    credentials: HashMap<String, Access>,
}

/// What a valid PATCH body asks for.
#[derive(Debug, Default)]
struct UserUpdate {
    /// Canonical department ids, de-duplicated, in request order.
    departments: Option<Vec<String>>,
}

crate::vendors::legacy::adapt!(Activity);

impl LegacyVendor for Activity {
    fn name(&self) -> &'static str {
        NAME
    }

    fn real_host(&self) -> &'static str {
        "api.example.com"
    }

    fn route_patterns(&self) -> &'static [&'static str] {
        &[USER_PATH]
    }

    fn scenario_error(&self, request: &ErrorRequest, call: &Call) -> Option<ApiError> {
        let param = |i: usize| path_param(USER_PATH, &call.path, i);
        Some(match (request.status, request.kind.as_deref()) {
            (400, None | Some("invalid_request")) => ApiError::invalid("Invalid request body"),
            (401, None) => ApiError::Unauthenticated {
                reason: "unknown token",
            },
            (403, None) => ApiError::Forbidden {
                resource: "client",
                id: param(0),
            },
            // Every department id of the request's own body, as if none existed.
            (404, None | Some("departments_not_found")) => ApiError::DepartmentsNotFound {
                ids: serde_json::from_slice::<Value>(&call.body)
                    .ok()
                    .and_then(|body| parse_department_ids(&body["departments"]).ok())
                    .unwrap_or_default(),
            },
            (404, Some("user_not_found")) => ApiError::user_not_found(&param(1)),
            (404, Some("client_not_found")) => ApiError::NotFound {
                resource: "client",
                id: param(0),
            },
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
        let (client_id, user_id) = (params[0], params[1]);
        match call.method {
            Method::GET => self.get_user(call, state, client_id, user_id),
            Method::PATCH => self.update_user(call, state, client_id, user_id),
            _ => Err(ApiError::MethodNotAllowed {
                allow: "GET, PATCH",
            }),
        }
    }

    fn check_record(
        &self,
        id: &str,
        record: &Value,
    ) -> Result<Value, crate::vendors::RecordProblem> {
        let user: UserRecord = seeded_user(id, record, |u| self.user_problems(u))?;
        stored(&user)
    }

    fn render_error(&self, error: &ApiError) -> Reply {
        let (status, code, message, details) = match error {
            ApiError::Unauthenticated { reason } => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required".to_owned(),
                json!({ "reason": reason }),
            ),
            ApiError::Forbidden { resource, id } => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Insufficient permissions for this client".to_owned(),
                json!({ format!("{resource}_id"): id }),
            ),
            ApiError::MissingScope { accepted } => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Insufficient permissions for this client".to_owned(),
                json!({ "accepted_scopes": accepted }),
            ),
            ApiError::RateLimited(quota) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests".to_owned(),
                json!({ "retry_after_seconds": quota.reset_after_secs }),
            ),
            ApiError::UnsupportedMediaType { declared } => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Content-Type must be application/json".to_owned(),
                json!({ "field": "Content-Type", "value": declared }),
            ),
            ApiError::OAuth { error, description } => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                description.clone(),
                json!({ "oauth_error": error }),
            ),
            ApiError::InvalidRequest {
                message,
                field,
                value,
            } => {
                let mut details = Map::new();
                if let Some(field) = field {
                    details.insert("field".into(), json!(field));
                }
                if let Some(value) = value {
                    details.insert("value".into(), value.clone());
                }
                (
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    message.clone(),
                    Value::Object(details),
                )
            }
            ApiError::ValidationFailed { errors } => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
                json!({ "errors": errors.iter().map(|e| json!({ "field": e.field, "message": e.message })).collect::<Vec<_>>() }),
            ),
            ApiError::DateOutOfRange { field, message } => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                message.clone(),
                json!({ "field": field }),
            ),
            ApiError::Archived { resource, id } | ApiError::Deactivated { resource, id } => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!(
                    "{} cannot be changed in its current state",
                    capitalised(resource)
                ),
                json!({ format!("{resource}_id"): id }),
            ),
            ApiError::NotFound { resource, id } => (
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{} not found", capitalised(resource)),
                json!({ format!("{resource}_id"): id }),
            ),
            ApiError::DepartmentsNotFound { ids } => (
                StatusCode::NOT_FOUND,
                "not_found",
                "One or more departments not found".to_owned(),
                json!({ "invalid_department_ids": ids }),
            ),
            ApiError::RouteNotFound { path } => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Resource not found".to_owned(),
                json!({ "path": path }),
            ),
            ApiError::MethodNotAllowed { allow } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed".to_owned(),
                json!({ "allow": allow.split(", ").collect::<Vec<_>>() }),
            ),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Request body too large".to_owned(),
                json!({ "limit_bytes": limit }),
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Server error".to_owned(),
                json!({}),
            ),
        };
        let reply = Reply::json(
            status,
            &json!({ "error": { "code": code, "message": message, "details": details } }),
        );
        if status == StatusCode::UNAUTHORIZED {
            reply.with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
        } else {
            reply
        }
    }
}

impl Activity {
    /// Everything wrong with a stored user against this world, as
    /// (JSON pointer below the user, message) pairs.
    fn user_problems(&self, user: &UserRecord) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if !is_hyphenated_uuid(&user.id) {
            problems.push(("/id".to_owned(), format!("'{}' is not a UUID", user.id)));
        }
        if !self.clients.contains(&user.client_id.to_ascii_lowercase()) {
            problems.push((
                "/client_id".to_owned(),
                format!("no client has id '{}'", user.client_id),
            ));
        }
        for (j, dept_id) in user.departments.iter().enumerate() {
            match self.departments.get(&dept_id.to_ascii_lowercase()) {
                None => problems.push((
                    format!("/departments/{j}"),
                    format!("no department has id '{dept_id}'"),
                )),
                Some(d) if !d.client_id.eq_ignore_ascii_case(&user.client_id) => problems.push((
                    format!("/departments/{j}"),
                    format!(
                        "department '{dept_id}' belongs to client '{}', not the user's client",
                        d.client_id
                    ),
                )),
                Some(_) => {}
            }
        }
        let stamps = [
            ("/created_at", Some(&user.created_at)),
            ("/updated_at", Some(&user.updated_at)),
            ("/last_activity/at", user.last_activity.at.as_ref()),
            (
                "/last_activity/desktop_at",
                user.last_activity.desktop_at.as_ref(),
            ),
            ("/last_activity/web_at", user.last_activity.web_at.as_ref()),
        ];
        for (field, stamp) in stamps {
            if let Some(stamp) = stamp.filter(|s| timestamps::parse(s).is_none()) {
                problems.push((
                    field.to_owned(),
                    format!("'{stamp}' is not an RFC 3339 timestamp"),
                ));
            }
        }
        problems
    }

    fn get_user(
        &self,
        call: &Call,
        state: &State,
        client_id: &str,
        user_id: &str,
    ) -> Result<Reply, ApiError> {
        let access = self.authenticate(call)?;
        let (client_id, user_id) = path_ids(client_id, user_id)?;
        self.authorise(access, &client_id)?;
        let user = self.find_user(state, &client_id, &user_id)?;
        Ok(self.render_user(&user))
    }

    fn update_user(
        &self,
        call: &Call,
        state: &State,
        client_id: &str,
        user_id: &str,
    ) -> Result<Reply, ApiError> {
        let access = self.authenticate(call)?;
        let (client_id, user_id) = path_ids(client_id, user_id)?;
        let update = self.parse_update(call)?;
        self.authorise(access, &client_id)?;
        self.find_user(state, &client_id, &user_id)?;
        let departments = match update.departments {
            Some(ids) => Some(self.resolve_departments(&client_id, ids)?),
            None => None,
        };

        // The user may have been deleted (admin API) since `find_user`; the
        // update itself is the authority and answers 404 in that case.
        let updated = state.update(NAME, &user_id, |current| {
            let mut user: UserRecord =
                serde_json::from_value(current.clone()).map_err(stored_record_broken)?;
            if let Some(departments) = departments {
                user.departments = departments;
            }
            user.updated_at = timestamps::next_write_millis(Some(&user.updated_at), state.now());
            serde_json::to_value(&user).map_err(stored_record_broken)
        })?;
        let updated = updated.ok_or_else(|| ApiError::user_not_found(&user_id))?;
        let user: UserRecord =
            serde_json::from_value((*updated).clone()).map_err(stored_record_broken)?;
        Ok(self.render_user(&user))
    }

    fn authenticate(&self, call: &Call) -> Result<&Access, ApiError> {
        let token = call.bearer_token().ok_or(ApiError::Unauthenticated {
            reason: "missing bearer token",
        })?;
        self.credentials
            .get(token)
            .ok_or(ApiError::Unauthenticated {
                reason: "unknown token",
            })
    }

    fn authorise(&self, access: &Access, client_id: &str) -> Result<(), ApiError> {
        if access.allows(client_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                resource: "client",
                id: client_id.to_owned(),
            })
        }
    }

    fn find_user(
        &self,
        state: &State,
        client_id: &str,
        user_id: &str,
    ) -> Result<UserRecord, ApiError> {
        if !self.clients.contains(client_id) {
            return Err(ApiError::NotFound {
                resource: "client",
                id: client_id.to_owned(),
            });
        }
        let record = state
            .get(NAME, user_id)
            .ok_or_else(|| ApiError::user_not_found(user_id))?;
        let user: UserRecord =
            serde_json::from_value((*record).clone()).map_err(stored_record_broken)?;
        // A user of another client does not exist as far as this client's
        // URL is concerned.
        if user.client_id.eq_ignore_ascii_case(client_id) {
            Ok(user)
        } else {
            Err(ApiError::user_not_found(user_id))
        }
    }

    /// Validates the PATCH body's shape and formats (the 400 class).
    fn parse_update(&self, call: &Call) -> Result<UserUpdate, ApiError> {
        if self.settings.require_json_content_type && !call.declares_json() {
            return Err(ApiError::UnsupportedMediaType {
                declared: call.header("content-type").map(str::to_owned),
            });
        }
        if call.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::invalid("Request body is required"));
        }
        let body: Value = serde_json::from_slice(&call.body)
            .map_err(|err| ApiError::invalid(format!("Request body is not valid JSON: {err}")))?;
        let Value::Object(fields) = body else {
            return Err(ApiError::invalid("Request body must be a JSON object"));
        };

        let mut update = UserUpdate::default();
        for (name, value) in fields {
            if name == "departments" {
                update.departments = Some(parse_department_ids(&value)?);
            } else if READ_ONLY_FIELDS.contains(&name.as_str()) {
                if self.settings.read_only_fields == FieldPolicy::Reject {
                    return Err(ApiError::invalid_field(
                        format!("Field '{name}' cannot be updated via the API"),
                        name,
                        None,
                    ));
                }
            } else if self.settings.unknown_fields == FieldPolicy::Reject {
                return Err(ApiError::invalid_field(
                    format!("Unknown field '{name}'"),
                    name,
                    None,
                ));
            }
        }
        Ok(update)
    }

    /// Maps requested ids to the client's departments; every id that is not
    /// one of them is reported at once.
    fn resolve_departments(
        &self,
        client_id: &str,
        requested: Vec<String>,
    ) -> Result<Vec<String>, ApiError> {
        let mut resolved = Vec::new();
        let mut invalid = Vec::new();
        for id in requested {
            match self.departments.get(&id.to_ascii_lowercase()) {
                Some(d) if d.client_id.eq_ignore_ascii_case(client_id) => {
                    resolved.push(d.id.clone())
                }
                _ => invalid.push(id),
            }
        }
        if invalid.is_empty() {
            Ok(resolved)
        } else {
            Err(ApiError::DepartmentsNotFound { ids: invalid })
        }
    }

    fn render_user(&self, user: &UserRecord) -> Reply {
        let departments: Vec<Value> = user
            .departments
            .iter()
            .filter_map(|id| self.departments.get(&id.to_ascii_lowercase()))
            .map(|d| json!({ "id": d.id, "name": d.name, "description": d.description }))
            .collect();
        Reply::json(
            StatusCode::OK,
            &json!({
                "id": user.id,
                "username": user.username,
                "user_key": user.user_key,
                "last_activity": user.last_activity,
                "departments": departments,
                "created_at": user.created_at,
                "updated_at": user.updated_at,
            }),
        )
    }
}

/// Both path ids must be UUIDs (400 otherwise); returned lower-cased.
fn path_ids(client_id: &str, user_id: &str) -> Result<(String, String), ApiError> {
    for (name, value) in [("client_id", client_id), ("user_id", user_id)] {
        if !is_hyphenated_uuid(value) {
            return Err(ApiError::invalid_field(
                format!("Path parameter '{name}' is not a valid UUID"),
                name,
                Some(json!(value)),
            ));
        }
    }
    Ok((client_id.to_ascii_lowercase(), user_id.to_ascii_lowercase()))
}

/// `departments` must be an array of UUID strings; duplicates collapse to
/// their first occurrence (the list is a set of memberships).
fn parse_department_ids(value: &Value) -> Result<Vec<String>, ApiError> {
    let Value::Array(items) = value else {
        return Err(ApiError::invalid_field(
            "'departments' must be an array of department ids",
            "departments",
            Some(value.clone()),
        ));
    };
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = format!("departments[{i}]");
        let Some(id) = item.as_str() else {
            return Err(ApiError::invalid_field(
                format!("'{field}' must be a string"),
                field,
                Some(item.clone()),
            ));
        };
        if !is_hyphenated_uuid(id) {
            return Err(ApiError::invalid_field(
                format!("'{field}' is not a valid UUID"),
                field,
                Some(item.clone()),
            ));
        }
        if !ids.iter().any(|seen| seen.eq_ignore_ascii_case(id)) {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

/// A stored record that no longer reads as a user can only come from a bug
/// (fixtures and admin writes are validated); it must not crash the server.
fn stored_record_broken(err: serde_json::Error) -> ApiError {
    tracing::error!(%err, "stored activity user does not deserialise");
    ApiError::Internal
}
