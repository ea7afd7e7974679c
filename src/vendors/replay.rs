//! Replay: `PATCH /api/user/{userId}` and `GET` of the same user.
//!
//! Source: `shared/seeds/replay-update-user.txt`, the only one: Replay's
//! docs are not public beyond it (shared/vendor-notes.md §4), so the error
//! body and everything else the seed leaves open is inferred and written
//! down in `docs/vendors/replay.md`.

use std::collections::HashMap;
use std::sync::Arc;

use hyper::{Method, StatusCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    check_credential, fixture_records, is_hyphenated_uuid, seeded_user, stored, LoadOptions,
    Loaded, StoredUser, VendorSpec,
};
use crate::diagnostics::{FileProblem, SourceFile};
use crate::http::{match_path, path_param, Call, Reply};
use crate::store::State;
use crate::timestamps;
use crate::vendors::legacy::{ApiError, FieldProblem, LegacyVendor};
use crate::vendors::ErrorRequest;

pub(crate) const SPEC: VendorSpec = VendorSpec {
    name: NAME,
    embedded_fixture: include_str!("../../fixtures/replay.json"),
    load,
    fixture_schema: || schemars::schema_for!(ReplayFixture),
};

const NAME: &str = "replay";
const USER_PATH: &str = "/api/user/{userId}";
const BODY_MEMBERS: &[&str] = &["firstName", "lastName", "role", "childCompanyId"];

// ---------------------------------------------------------------- fixture --

/// `fixtures/replay.json`: companies (a tree) and their users.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayFixture {
    pub companies: Vec<CompanyFixture>,
    /// Users and pending invitations, as the API shows them, plus the
    /// `companyId` they belong to.
    pub users: Vec<UserRecord>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyFixture {
    pub id: String,
    #[allow(dead_code)]
    pub name: String,
    /// The parent company, for child companies.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The `x-api-key` values that act as this company.
    #[serde(default)]
    pub api_keys: Vec<String>,
}

/// A stored record: the API's fields in the seed's order, plus `companyId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserRecord {
    /// `user.id` for users, `invitation.id` for pending invitations.
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `User`, `Manager` or `Disabled`.
    pub role: String,
    /// `invited`, `active` or `disabled`.
    pub status: String,
    pub external_id: Option<String>,
    pub created_at: String,
    /// Set for `invited` records only.
    pub invitation_url: Option<String>,
    pub company_id: String,
}

impl StoredUser for UserRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

fn load(file: &SourceFile, _options: &LoadOptions) -> Result<Loaded, Vec<FileProblem>> {
    let fixture: ReplayFixture = file.parse().map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    let mut bad = |pointer: String, message: String| problems.push(file.problem(pointer, message));

    let mut parents = HashMap::new();
    for (i, company) in fixture.companies.iter().enumerate() {
        if !is_hyphenated_uuid(&company.id) {
            bad(
                format!("/companies/{i}/id"),
                format!("'{}' is not a UUID", company.id),
            );
        } else if parents
            .insert(
                company.id.to_ascii_lowercase(),
                company.parent_id.as_ref().map(|p| p.to_ascii_lowercase()),
            )
            .is_some()
        {
            bad(
                format!("/companies/{i}/id"),
                format!("duplicate company id '{}'", company.id),
            );
        }
    }
    let mut api_keys = HashMap::new();
    for (i, company) in fixture.companies.iter().enumerate() {
        if let Some(parent) = &company.parent_id {
            if !parents.contains_key(&parent.to_ascii_lowercase())
                || parent.eq_ignore_ascii_case(&company.id)
            {
                bad(
                    format!("/companies/{i}/parent_id"),
                    format!("no other company has id '{parent}'"),
                );
            }
        }
        for (j, key) in company.api_keys.iter().enumerate() {
            check_credential(key, format!("/companies/{i}/api_keys/{j}"), &mut bad);
            if api_keys
                .insert(key.clone(), company.id.to_ascii_lowercase())
                .is_some()
            {
                bad(
                    format!("/companies/{i}/api_keys/{j}"),
                    format!("duplicate API key '{key}'"),
                );
            }
        }
    }

    let replay = Replay { parents, api_keys };
    let records = fixture_records(&fixture.users, |u| replay.record_problems(u), &mut bad);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Loaded {
        vendor: Arc::new(replay),
        records,
    })
}

// ----------------------------------------------------------------- vendor --

pub(crate) struct Replay {
    /// Lower-cased company id → its parent's, lower-cased.
    parents: HashMap<String, Option<String>>,
    /// `x-api-key` → lower-cased company id.
    api_keys: HashMap<String, String>,
}

/// What a valid PATCH body asks for.
#[derive(Debug, Default)]
struct Update {
    first_name: Option<String>,
    last_name: Option<String>,
    role: Option<String>,
    child_company_id: Option<String>,
}

crate::vendors::legacy::adapt!(Replay);

impl LegacyVendor for Replay {
    fn name(&self) -> &'static str {
        NAME
    }

    fn real_host(&self) -> &'static str {
        "app.replay.sale"
    }

    fn route_patterns(&self) -> &'static [&'static str] {
        &[USER_PATH]
    }

    fn scenario_error(&self, request: &ErrorRequest, call: &Call) -> Option<ApiError> {
        let user_id = path_param(USER_PATH, &call.path, 0);
        Some(match (request.status, request.kind.as_deref()) {
            (400, None) => ApiError::ValidationFailed {
                errors: vec![FieldProblem {
                    field: "firstName".to_owned(),
                    message: "Must be at least 1 character".to_owned(),
                }],
            },
            (401, None) => ApiError::Unauthenticated {
                reason: "Invalid API key",
            },
            (403, None) => ApiError::Forbidden {
                resource: "company",
                id: serde_json::from_slice::<Value>(&call.body)
                    .ok()
                    .and_then(|b| b["childCompanyId"].as_str().map(str::to_ascii_lowercase))
                    .unwrap_or_default(),
            },
            (404, None) => ApiError::user_not_found(&user_id),
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
        record: &Value,
    ) -> Result<Value, crate::vendors::RecordProblem> {
        let user: UserRecord = seeded_user(id, record, |u| self.record_problems(u))?;
        stored(&user)
    }

    fn render_error(&self, error: &ApiError) -> Reply {
        let (status, message, details) = match error {
            ApiError::Unauthenticated { reason } => {
                (StatusCode::UNAUTHORIZED, (*reason).to_owned(), None)
            }
            ApiError::Forbidden { id, .. } => (
                StatusCode::FORBIDDEN,
                format!("Company '{id}' is not a direct child of your company"),
                None,
            ),
            ApiError::MissingScope { .. } => (StatusCode::FORBIDDEN, "Forbidden".to_owned(), None),
            ApiError::InvalidRequest { message, .. }
            | ApiError::DateOutOfRange { message, .. }
            | ApiError::OAuth {
                description: message,
                ..
            } => (StatusCode::BAD_REQUEST, message.clone(), None),
            ApiError::ValidationFailed { errors } => (
                StatusCode::BAD_REQUEST,
                "Invalid request body".to_owned(),
                Some(
                    errors
                        .iter()
                        .map(|e| json!({ "field": e.field, "message": e.message }))
                        .collect::<Vec<_>>(),
                ),
            ),
            ApiError::UnsupportedMediaType { .. } => (
                StatusCode::BAD_REQUEST,
                "Content-Type must be application/json".to_owned(),
                None,
            ),
            ApiError::Archived { .. } | ApiError::Deactivated { .. } => (
                StatusCode::BAD_REQUEST,
                "The user is disabled; its role cannot be changed".to_owned(),
                None,
            ),
            ApiError::NotFound { .. } | ApiError::DepartmentsNotFound { .. } => {
                (StatusCode::NOT_FOUND, "User not found".to_owned(), None)
            }
            ApiError::RouteNotFound { .. } => (StatusCode::NOT_FOUND, "Not found".to_owned(), None),
            ApiError::MethodNotAllowed { .. } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed".to_owned(),
                None,
            ),
            ApiError::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large".to_owned(),
                None,
            ),
            ApiError::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests".to_owned(),
                None,
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error".to_owned(),
                None,
            ),
        };
        match details {
            Some(details) => Reply::json(status, &json!({ "error": message, "details": details })),
            None => Reply::json(status, &json!({ "error": message })),
        }
    }
}

impl Replay {
    fn record_problems(&self, user: &UserRecord) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut bad = |pointer: &str, message: String| problems.push((pointer.to_owned(), message));
        if !is_hyphenated_uuid(&user.id) {
            bad("/id", format!("'{}' is not a UUID", user.id));
        }
        if !self
            .parents
            .contains_key(&user.company_id.to_ascii_lowercase())
        {
            bad(
                "/companyId",
                format!("no company has id '{}'", user.company_id),
            );
        }
        if !user.email.contains('@') {
            bad(
                "/email",
                format!("'{}' is not an e-mail address", user.email),
            );
        }
        for (pointer, name) in [
            ("/firstName", &user.first_name),
            ("/lastName", &user.last_name),
        ] {
            if let Some(problem) = name.as_deref().and_then(name_problem) {
                bad(pointer, problem);
            }
        }
        if timestamps::parse(&user.created_at).is_none() {
            bad(
                "/createdAt",
                format!("'{}' is not a date-time", user.created_at),
            );
        }
        let consistent = match user.status.as_str() {
            "invited" => {
                matches!(user.role.as_str(), "User" | "Manager") && user.invitation_url.is_some()
            }
            "active" => {
                matches!(user.role.as_str(), "User" | "Manager") && user.invitation_url.is_none()
            }
            "disabled" => user.role == "Disabled" && user.invitation_url.is_none(),
            other => {
                bad(
                    "/status",
                    format!("'{other}' is not one of invited, active, disabled"),
                );
                true
            }
        };
        if !consistent {
            bad(
                "/status",
                format!(
                    "status '{}' does not fit role '{}' and invitationUrl (Disabled ⇔ disabled; invitationUrl exactly for invited)",
                    user.status, user.role
                ),
            );
        }
        problems
    }

    /// 401 unless `x-api-key` names a company.
    fn authenticate(&self, call: &Call) -> Result<&str, ApiError> {
        let key = call.header("x-api-key").ok_or(ApiError::Unauthenticated {
            reason: "Missing x-api-key header",
        })?;
        self.api_keys
            .get(key)
            .map(String::as_str)
            .ok_or(ApiError::Unauthenticated {
                reason: "Invalid API key",
            })
    }

    fn get_user(&self, call: &Call, state: &State, user_id: &str) -> Result<Reply, ApiError> {
        let company = self.authenticate(call)?;
        let user_id = path_uuid(user_id)?;
        let user = find_in_company(state, &user_id, company)?;
        Ok(render_user(&user))
    }

    fn update_user(&self, call: &Call, state: &State, user_id: &str) -> Result<Reply, ApiError> {
        let company = self.authenticate(call)?;
        let user_id = path_uuid(user_id)?;
        let update = parse_update(call)?;
        let scope = match &update.child_company_id {
            Some(child) => {
                let child = child.to_ascii_lowercase();
                // Only a direct child: not the caller itself, not a
                // grandchild, a sibling or an unknown company.
                let parent = self.parents.get(&child).cloned().flatten();
                if parent.as_deref() != Some(company) {
                    return Err(ApiError::Forbidden {
                        resource: "company",
                        id: child,
                    });
                }
                child
            }
            None => company.to_owned(),
        };
        find_in_company(state, &user_id, &scope)?;

        let updated = state.update(NAME, &user_id, |current| {
            let mut user: UserRecord =
                serde_json::from_value(current.clone()).map_err(|_| ApiError::Internal)?;
            if let Some(role) = &update.role {
                if user.status == "disabled" {
                    return Err(ApiError::Deactivated {
                        resource: "user",
                        id: user.id.clone(),
                    });
                }
                user.role.clone_from(role);
            }
            if let Some(name) = &update.first_name {
                user.first_name = Some(name.clone());
            }
            if let Some(name) = &update.last_name {
                user.last_name = Some(name.clone());
            }
            serde_json::to_value(&user).map_err(|_| ApiError::Internal)
        })?;
        let updated = updated.ok_or_else(|| ApiError::user_not_found(&user_id))?;
        let user: UserRecord =
            serde_json::from_value((*updated).clone()).map_err(|_| ApiError::Internal)?;
        Ok(render_user(&user))
    }
}

/// The body's shape and formats; every problem is reported at once.
fn parse_update(call: &Call) -> Result<Update, ApiError> {
    if !call.declares_json() {
        return Err(ApiError::UnsupportedMediaType {
            declared: call.header("content-type").map(str::to_owned),
        });
    }
    if call.body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("Request body is required"));
    }
    let body: Value = serde_json::from_slice(&call.body)
        .map_err(|_| ApiError::invalid("Request body is not valid JSON"))?;
    let Value::Object(members) = body else {
        return Err(ApiError::invalid("Request body must be a JSON object"));
    };
    let mut errors = Vec::new();
    let mut problem = |field: &str, message: String| {
        errors.push(FieldProblem {
            field: field.to_owned(),
            message,
        })
    };
    for name in members
        .keys()
        .filter(|k| !BODY_MEMBERS.contains(&k.as_str()))
    {
        problem(name, format!("Unrecognized field '{name}'"));
    }
    let mut update = Update::default();
    for (field, slot) in [
        ("firstName", &mut update.first_name),
        ("lastName", &mut update.last_name),
    ] {
        match members.get(field) {
            None => {}
            Some(Value::String(name)) => match name_problem(name) {
                Some(message) => problem(field, message),
                None => *slot = Some(name.clone()),
            },
            Some(_) => problem(field, "Expected a string".to_owned()),
        }
    }
    match members.get("role") {
        None => {}
        Some(Value::String(role)) if role == "User" || role == "Manager" => {
            update.role = Some(role.clone())
        }
        Some(other) => problem(
            "role",
            format!("Invalid role {other}; expected 'User' or 'Manager'"),
        ),
    }
    match members.get("childCompanyId") {
        None => {}
        Some(Value::String(id)) if is_hyphenated_uuid(id) => {
            update.child_company_id = Some(id.clone())
        }
        Some(other) => problem("childCompanyId", format!("Invalid uuid {other}")),
    }
    if errors.is_empty() {
        Ok(update)
    } else {
        Err(ApiError::ValidationFailed { errors })
    }
}

/// Names are 1–255 characters (Unicode scalar values, not bytes).
fn name_problem(name: &str) -> Option<String> {
    let length = name.chars().count();
    if length == 0 {
        Some("Must be at least 1 character".to_owned())
    } else if length > 255 {
        Some(format!("Must be at most 255 characters (got {length})"))
    } else {
        None
    }
}

/// The record if it belongs to `company`; otherwise it does not exist for
/// this caller (never leak another company's users).
fn find_in_company(state: &State, user_id: &str, company: &str) -> Result<UserRecord, ApiError> {
    let record = state
        .get(NAME, user_id)
        .ok_or_else(|| ApiError::user_not_found(user_id))?;
    let user: UserRecord =
        serde_json::from_value((*record).clone()).map_err(|_| ApiError::Internal)?;
    if user.company_id.eq_ignore_ascii_case(company) {
        Ok(user)
    } else {
        Err(ApiError::user_not_found(user_id))
    }
}

fn render_user(user: &UserRecord) -> Reply {
    Reply::json(
        StatusCode::OK,
        &json!({
            "id": user.id,
            "email": user.email,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "role": user.role,
            "status": user.status,
            "externalId": user.external_id,
            "createdAt": user.created_at,
            "invitationUrl": user.invitation_url,
        }),
    )
}

fn path_uuid(user_id: &str) -> Result<String, ApiError> {
    if is_hyphenated_uuid(user_id) {
        Ok(user_id.to_ascii_lowercase())
    } else {
        Err(ApiError::ValidationFailed {
            errors: vec![FieldProblem {
                field: "userId".to_owned(),
                message: format!("Invalid uuid \"{user_id}\""),
            }],
        })
    }
}
