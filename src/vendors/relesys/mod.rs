//! Relesys API v1.3: the user resource (`GET /users`, `POST /users`,
//! `GET`/`PATCH /users/{userId}` with RFC 6902 JSON Patch), the organisation
//! a user refers to (`GET /departments`, `/userGroups`,
//! `/customfields/users`) and the OAuth token endpoint.
//!
//! Facts and their public sources, and every choice where the docs are
//! silent (marked inferred), are in `docs/vendors/relesys.md`.
//!
//! - `fixture.rs`: the fixture format and loading;
//! - `auth.rs`: tokens, scopes, the token endpoint;
//! - `user.rs`: the typed user and its validation;
//! - `dates.rs`: the date forms read and written;
//! - `patch.rs`: JSON Patch on a user;
//! - `create.rs`: a new user from `POST /users`;
//! - `organisation.rs`: departments, user groups, custom fields;
//! - `query.rs`, `lists.rs`: filters, sort and paging of the list routes;
//! - `error.rs`: the errors and their one rendering.

mod auth;
mod create;
mod dates;
mod error;
mod fixture;
mod lists;
mod organisation;
mod patch;
mod query;
mod user;

use std::sync::Arc;

use hyper::{Method, StatusCode};
use serde_json::Value;

use self::auth::{Grant, Tokens, READ_SCOPES, WRITE_SCOPES};
use self::error::{Expected, RelesysError, Throttled, TokenProblem};
use self::lists::Cursors;
use self::query::Resource;
use self::user::{References, User};
use crate::diagnostics::{FileProblem, SourceFile};
use crate::http::{Call, PathPattern, Reply};
use crate::rate_limit::RateLimiter as Limiter;
use crate::store::State;
use crate::timestamps;
use crate::vendors::{
    is_hyphenated_uuid, seeded_user, stored, Api, BodyKind, ErrorRequest, RecordProblem, Request,
    Restored, Routes, VendorSpec,
};

pub(crate) const SPEC: VendorSpec = VendorSpec {
    name: Relesys::NAME,
    embedded_fixture: include_str!("../../../fixtures/relesys.json"),
    load: fixture::load,
    fixture_schema: || schemars::schema_for!(fixture::RelesysFixture),
};

const USER_PATH: &str = "/api/v1.3/users/{userId}";
const TOKEN_PATH: &str = "/login/oauth/authorize";

/// The tenant's departments, user groups and custom fields, as the list
/// routes show them.
pub(crate) struct Organisation {
    departments: Vec<Value>,
    user_groups: Vec<Value>,
    custom_fields: Vec<Value>,
}

/// The tenant a fixture describes: its credentials, organisation and
/// settings.
pub(crate) struct Tenant {
    tokens: Tokens,
    references: References,
    organisation: Organisation,
    limiter: Option<Limiter>,
    /// The documented limit, also shown by a scenario's 429.
    requests_per_minute: u32,
    /// The status of a `POST /users` answer.
    created_status: StatusCode,
    /// The largest a user may grow to by one write, in bytes of JSON
    /// (`--max-record-bytes`).
    max_record_bytes: usize,
}

pub(crate) struct Relesys {
    tenant: Tenant,
    cursors: Cursors,
    routes: Routes<Relesys>,
}

impl Relesys {
    fn new(tenant: Tenant) -> Relesys {
        use BodyKind::{Form, JsonArray, JsonObject, None as Empty};
        Relesys {
            tenant,
            cursors: Cursors::default(),
            routes: Routes::new(&[
                (Method::GET, query::USERS.path, Empty, Relesys::list_users),
                (
                    Method::POST,
                    query::USERS.path,
                    JsonObject,
                    Relesys::create_user,
                ),
                (Method::GET, USER_PATH, Empty, Relesys::get_user),
                (Method::PATCH, USER_PATH, JsonArray, Relesys::update_user),
                (
                    Method::GET,
                    query::DEPARTMENTS.path,
                    Empty,
                    Relesys::list_departments,
                ),
                (
                    Method::GET,
                    query::USER_GROUPS.path,
                    Empty,
                    Relesys::list_user_groups,
                ),
                (
                    Method::GET,
                    query::CUSTOM_FIELDS.path,
                    Empty,
                    Relesys::list_custom_fields,
                ),
                (Method::POST, TOKEN_PATH, Form, Relesys::issue_token),
            ]),
        }
    }
}

impl Api for Relesys {
    type Error = RelesysError;
    const NAME: &'static str = "relesys";
    const REAL_HOST: &'static str = "api.relesysapp.net";
    const BASE_PATH: &'static str = "/api/v1.3";

    fn routes(&self) -> &Routes<Relesys> {
        &self.routes
    }

    fn render(&self, error: &RelesysError) -> Reply {
        error::render(error)
    }

    fn scenario_error(&self, request: &ErrorRequest, call: &Call) -> Option<RelesysError> {
        Some(match (request.status, request.kind.as_deref()) {
            (400, None) => RelesysError::invalid("The request is invalid"),
            (401, None) => RelesysError::Unauthenticated(TokenProblem::Unknown),
            (403, None) => RelesysError::InsufficientScope {
                accepted: if call.method == Method::GET {
                    READ_SCOPES
                } else {
                    WRITE_SCOPES
                },
            },
            (404, None) => RelesysError::UserNotFound(user_id_of(&call.path)),
            (429, None) => RelesysError::RateLimited(Throttled {
                limit: self.tenant.requests_per_minute,
                retry_after_secs: request.retry_after.unwrap_or(60),
            }),
            (500, None) => RelesysError::Shared(crate::vendors::SharedError::Internal),
            _ => return None,
        })
    }

    fn check_record(&self, id: &str, record: &Value) -> Result<Value, RecordProblem> {
        let mut user: User = seeded_user(id, record, |u| self.tenant.references.problems(u))?;
        self.tenant.references.normalise(&mut user);
        stored(&user)
    }

    fn reset_counters(&self) {
        if let Some(limiter) = &self.tenant.limiter {
            limiter.reset();
        }
        self.tenant.tokens.reset();
        self.cursors.reset();
    }

    fn snapshot(&self, state: &State, startup: &Value, out: &mut Vec<u8>) -> bool {
        self.write_snapshot(state, startup, out)
    }

    fn restore(&self, file: &SourceFile, startup: &Value) -> Result<Restored, Vec<FileProblem>> {
        self.read_snapshot(file, startup)
    }
}

/// The `{userId}` of a user path, lower-cased; empty for other paths.
fn user_id_of(path: &str) -> String {
    PathPattern::parse(USER_PATH)
        .ok()
        .and_then(|pattern| {
            pattern
                .captures(path)
                .and_then(|c| c.get("userId").map(str::to_ascii_lowercase))
        })
        .unwrap_or_default()
}

impl Relesys {
    /// 401, then the per-client quota (429), in that order: throttling
    /// counts per client id, which only a valid token reveals.
    fn admit(&self, request: &Request<'_>) -> Result<Grant, RelesysError> {
        let now = request.now();
        let grant = self.tenant.tokens.authenticate(request.call, now)?;
        if let Some(limiter) = &self.tenant.limiter {
            let quota = limiter.check(&grant.client_id.to_ascii_lowercase(), now);
            if !quota.allowed {
                return Err(RelesysError::RateLimited(Throttled {
                    limit: quota.limit,
                    retry_after_secs: quota.reset_after_secs,
                }));
            }
        }
        Ok(grant)
    }

    fn issue_token(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let body = self
            .tenant
            .tokens
            .issue(&request.call.body, request.now())?;
        Ok(Reply::json(StatusCode::OK, &body))
    }

    fn get_user(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let grant = self.admit(request)?;
        let user_id = path_guid(request.param("userId"))?;
        grant.require_any(READ_SCOPES)?;
        let user: Arc<User> = request
            .state
            .read(Relesys::NAME, &user_id)?
            .ok_or(RelesysError::UserNotFound(user_id))?;
        Ok(Reply::json(StatusCode::OK, &Data { data: &user }))
    }

    fn update_user(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let grant = self.admit(request)?;
        let user_id = path_guid(request.param("userId"))?;
        const SHAPE: &str = "a JSON Patch document (a JSON array)";
        let body = request
            .json(true)
            .map_err(|e| RelesysError::from_body(e, Expected::JsonPatch, SHAPE))?;
        let Value::Array(items) = body else {
            return Err(RelesysError::invalid(format!(
                "The request body must be {SHAPE}"
            )));
        };
        let ops = patch::parse_ops(items)?;
        patch::reject_read_only(&ops)?;
        grant.require_any(WRITE_SCOPES)?;

        let now = request.now();
        let updated = request
            .state
            .update_typed(Relesys::NAME, &user_id, |user: &mut User| {
                let mut patched = patch::apply(
                    user,
                    &ops,
                    &self.tenant.references,
                    self.tenant.max_record_bytes,
                )?;
                patched.last_modified_date_time =
                    timestamps::next_write_ticks(Some(&user.last_modified_date_time), now);
                *user = patched;
                Ok::<_, RelesysError>(())
            })?
            .ok_or(RelesysError::UserNotFound(user_id))?;
        Ok(Reply::json(StatusCode::OK, &Data { data: &updated }))
    }
}

/// The single-object envelope `{"data": …}`, serialised straight from the
/// record (no intermediate JSON tree).
#[derive(serde::Serialize)]
struct Data<'a, T> {
    data: &'a T,
}

/// `userId` is documented as `string / guid`; returned lower-cased.
fn path_guid(user_id: &str) -> Result<String, RelesysError> {
    if is_hyphenated_uuid(user_id) {
        Ok(user_id.to_ascii_lowercase())
    } else {
        Err(RelesysError::invalid(format!(
            "The value '{user_id}' is not a valid GUID for userId"
        )))
    }
}

impl Relesys {
    fn list_users(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let records = request
            .state
            .all_typed::<User>(Relesys::NAME)
            .iter()
            .filter_map(|user| serde_json::to_value(user).ok())
            .collect();
        self.list(request, &query::USERS, records)
    }

    fn list_departments(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let records = self.tenant.organisation.departments.clone();
        self.list(request, &query::DEPARTMENTS, records)
    }

    fn list_user_groups(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let records = self.tenant.organisation.user_groups.clone();
        self.list(request, &query::USER_GROUPS, records)
    }

    fn list_custom_fields(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let records = self.tenant.organisation.custom_fields.clone();
        self.list(request, &query::CUSTOM_FIELDS, records)
    }

    /// 401/429, then the query (400), then the read scopes (403).
    fn list(
        &self,
        request: &Request<'_>,
        resource: &'static Resource,
        records: Vec<Value>,
    ) -> Result<Reply, RelesysError> {
        let grant = self.admit(request)?;
        let query = query::parse(resource, request.call.query.as_deref())?;
        grant.require_any(READ_SCOPES)?;
        let page = lists::page(
            &self.cursors,
            query,
            resource,
            records,
            request.call,
            request.now(),
        )?;
        Ok(Reply::json(StatusCode::OK, &page))
    }

    /// 401/429, the body's shape and types (415/400), the write scopes
    /// (403), then the ids and keys it refers to (400).
    fn create_user(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let grant = self.admit(request)?;
        const SHAPE: &str = "a JSON object (a user)";
        let body = request
            .json(true)
            .map_err(|e| RelesysError::from_body(e, Expected::Json, SHAPE))?;
        let Value::Object(members) = body else {
            return Err(RelesysError::invalid(format!(
                "The request body must be {SHAPE}"
            )));
        };
        let id = uuid::Uuid::new_v4().to_string();
        let mut user = create::new_user(
            members,
            id.clone(),
            request.now(),
            self.tenant.max_record_bytes,
        )?;
        grant.require_any(WRITE_SCOPES)?;
        if let Some((pointer, message)) = self.tenant.references.problems(&user).into_iter().next()
        {
            return Err(RelesysError::invalid(format!("{pointer}: {message}")));
        }
        self.tenant.references.normalise(&mut user);
        request.state.put_typed(Relesys::NAME, id, &user)?;
        Ok(Reply::json(
            self.tenant.created_status,
            &Data { data: &user },
        ))
    }
}
