//! Relesys API v1.3: the user resource (`GET /users`, `POST /users`,
//! `GET`/`PATCH`/`DELETE /users/{userId}` with RFC 6902 JSON Patch,
//! `PUT /users/{userId}/status`), the organisation a user refers to
//! (departments and user groups: list, create, get, patch, delete; custom
//! fields: list) and the OAuth token endpoint.
//!
//! Facts and their public sources, and every choice where the docs are
//! silent (marked inferred), are in `docs/vendors/relesys.md`.
//!
//! - `fixture.rs`: the fixture format and loading;
//! - `auth.rs`: tokens, scopes, the token endpoint;
//! - `user.rs`: the typed user and its validation;
//! - `dates.rs`: the date forms read and written;
//! - `patch.rs`: JSON Patch on a user, a department or a user group;
//! - `create.rs`: a new user from `POST /users`;
//! - `organisation.rs`: departments, user groups, custom fields, and the
//!   session's revisions of the first two;
//! - `organisation_routes.rs`: departments and user groups by id;
//! - `lifecycle.rs`: a user's status route and deletion;
//! - `query.rs`, `lists.rs`: filters, sort and paging of the list routes;
//! - `error.rs`: the errors and their one rendering.

mod auth;
mod contact;
mod create;
mod dates;
mod error;
mod fixture;
mod lifecycle;
mod lists;
mod organisation;
mod organisation_routes;
mod patch;
mod query;
mod user;

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hyper::{Method, StatusCode};
use json_patch::PatchOperation;
use serde_json::Value;

use self::auth::{Grant, Tokens, READ_SCOPES, WRITE_SCOPES};
use self::error::{Expected, RelesysError, Throttled, TokenProblem};
use self::lists::Cursors;
use self::organisation::{Department, Entries, UserGroup};
use self::query::Resource;
use self::user::{References, User};
use crate::diagnostics::{FileProblem, SourceFile};
use crate::http::{Call, PathPattern, Reply};
use crate::rate_limit::RateLimiter as Limiter;
use crate::store::State;
use crate::timestamps;
use crate::vendors::{
    is_hyphenated_uuid, seed_in, seeded_user, stored, Api, BodyKind, Document, ErrorRequest,
    Request, Restored, Routes, SeedRefused, UnseedRefused, VendorSpec,
};

pub(crate) const SPEC: VendorSpec = VendorSpec {
    name: Relesys::NAME,
    embedded_fixture: include_str!("../../../fixtures/relesys.json"),
    load: fixture::load,
    fixture_schema: || schemars::schema_for!(fixture::RelesysFixture),
    #[cfg(test)]
    sample_writes,
};

const USER_PATH: &str = "/api/v1.3/users/{userId}";
const USER_STATUS_PATH: &str = "/api/v1.3/users/{userId}/status";
const DEPARTMENT_PATH: &str = "/api/v1.3/departments/{departmentId}";
const USER_GROUP_PATH: &str = "/api/v1.3/userGroups/{userGroupId}";
const TOKEN_PATH: &str = "/login/oauth/authorize";
/// What the token endpoint reads, for the messages that say so.
const TOKEN_FORM: &str =
    "grant_type=client_credentials&client_id=<client id>&client_secret=<client secret>&scope=<scopes>";

/// The note on every answer of a route that only the public client
/// `getsno/relesys-users` shows (docs/vendors/relesys.md, `[D-3p]`).
const THIRD_PARTY_ROUTE: &str = "relesys-third-party-route";
const THIRD_PARTY_SOURCE: &str = "documented by a third-party client only: https://github.com/getsno/relesys-users (src/Api/UserManagement); its answer's status and body are inferred";

/// The tenant's departments, user groups and custom fields.
pub(crate) struct Organisation {
    departments: Entries<Department>,
    user_groups: Entries<UserGroup>,
    /// As `GET /customfields/users` shows them.
    custom_fields: Vec<Value>,
    /// Their `externalId`s: the keys a user's `customFields` may use.
    custom_field_keys: HashSet<String>,
}

/// The tenant a fixture describes: its credentials, organisation and
/// settings.
pub(crate) struct Tenant {
    tokens: Tokens,
    organisation: Organisation,
    /// Drop (opt-in) or reject (default) custom-field keys that are not defined.
    drop_unknown_custom_fields: bool,
    /// Whether a user PATCH may write `/status` (`settings.patch_status`).
    status_by_patch: bool,
    /// Whether a list always carries `nextUrl`/`previousUrl`, `null` when
    /// there is no such page (`settings.list_links: always`).
    always_list_links: bool,
    limiter: Option<Limiter>,
    /// The documented limit, also shown by a scenario's 429.
    requests_per_minute: u32,
    /// The status of a `POST /users` answer.
    created_status: StatusCode,
    /// The largest a user may grow to by one write, in bytes of JSON
    /// (`--max-record-bytes`).
    max_record_bytes: usize,
}

impl Tenant {
    /// What a user may refer to, as `state` sees it (`None`: the fixture).
    fn references<'a>(&'a self, state: Option<&'a State>) -> References<'a> {
        References {
            departments: &self.organisation.departments,
            user_groups: &self.organisation.user_groups,
            state,
            custom_fields: &self.organisation.custom_field_keys,
            drop_unknown_custom_fields: self.drop_unknown_custom_fields,
        }
    }
}

pub(crate) struct Relesys {
    tenant: Tenant,
    cursors: Cursors,
    routes: Routes<Relesys>,
    /// Rules that span records (a user's departments and groups exist; a
    /// department or group in use is not deleted) hold because writes that
    /// add references (user create and patch) share this lock, while
    /// writes that remove what may be referred to (organisation writes,
    /// user deletes) take it alone.
    references_lock: RwLock<()>,
}

impl Relesys {
    fn new(tenant: Tenant) -> Relesys {
        use BodyKind::{Form, JsonArray, JsonObject, None as Empty};
        Relesys {
            tenant,
            cursors: Cursors::default(),
            references_lock: RwLock::new(()),
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
                (Method::DELETE, USER_PATH, Empty, Relesys::delete_user),
                (
                    Method::PUT,
                    USER_STATUS_PATH,
                    JsonObject,
                    Relesys::change_status,
                ),
                (
                    Method::GET,
                    query::DEPARTMENTS.path,
                    Empty,
                    Relesys::list_departments,
                ),
                (
                    Method::POST,
                    query::DEPARTMENTS.path,
                    JsonObject,
                    Relesys::create_entry::<Department>,
                ),
                (
                    Method::GET,
                    DEPARTMENT_PATH,
                    Empty,
                    Relesys::get_entry::<Department>,
                ),
                (
                    Method::PATCH,
                    DEPARTMENT_PATH,
                    JsonArray,
                    Relesys::update_entry::<Department>,
                ),
                (
                    Method::DELETE,
                    DEPARTMENT_PATH,
                    Empty,
                    Relesys::delete_entry::<Department>,
                ),
                (
                    Method::GET,
                    query::USER_GROUPS.path,
                    Empty,
                    Relesys::list_user_groups,
                ),
                (
                    Method::POST,
                    query::USER_GROUPS.path,
                    JsonObject,
                    Relesys::create_entry::<UserGroup>,
                ),
                (
                    Method::GET,
                    USER_GROUP_PATH,
                    Empty,
                    Relesys::get_entry::<UserGroup>,
                ),
                (
                    Method::PATCH,
                    USER_GROUP_PATH,
                    JsonArray,
                    Relesys::update_entry::<UserGroup>,
                ),
                (
                    Method::DELETE,
                    USER_GROUP_PATH,
                    Empty,
                    Relesys::delete_entry::<UserGroup>,
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

    fn seed(&self, state: &State, id: &str, record: &Value) -> Result<Value, SeedRefused> {
        // Against the organisation as `state` holds it, the references
        // lock first and then the state's, as the user routes take them: a
        // department or group deleted at the same time is gone either
        // before the check or after the user is stored.
        let _adding = self.adding_references();
        let references = self.tenant.references(Some(state));
        seed_in(state, Relesys::NAME, id, || {
            let mut user: User = seeded_user(id, record, |u| references.problems(u))?;
            references.normalise(&mut user);
            stored(&user)
        })
    }

    fn unseed(&self, state: &State, id: &str) -> Result<(), UnseedRefused> {
        // As `DELETE /users/{userId}` does: the departments it managed lose
        // their manager (inferred, `relesys-manager-cleared`).
        match self.remove_user(state, id, state.now(), |_| {}) {
            Ok(true) => Ok(()),
            Ok(false) => Err(UnseedRefused::NoSuchUser),
            Err(full) => Err(UnseedRefused::Full(full)),
        }
    }

    fn reset_counters(&self) {
        if let Some(limiter) = &self.tenant.limiter {
            limiter.reset();
        }
        self.tenant.tokens.reset();
        self.cursors.reset();
    }

    fn snapshot(&self, state: &State, startup: &Value) -> Document {
        self.snapshot_document(state, startup)
    }

    fn restore(&self, file: &SourceFile, startup: &Value) -> Result<Restored, Vec<FileProblem>> {
        self.read_snapshot(file, startup)
    }
}

/// The `{userId}` of a user path (or its `/status`), lower-cased; empty for
/// other paths.
fn user_id_of(path: &str) -> String {
    [USER_PATH, USER_STATUS_PATH]
        .iter()
        .filter_map(|pattern| PathPattern::parse(pattern).ok())
        .find_map(|pattern| {
            pattern
                .captures(path)
                .and_then(|c| c.get("userId").map(str::to_ascii_lowercase))
        })
        .unwrap_or_default()
}

impl Relesys {
    /// Shared by writes that add references to the organisation.
    fn adding_references(&self) -> RwLockReadGuard<'_, ()> {
        self.references_lock
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Taken alone by writes that may remove what is referred to.
    fn removing_references(&self) -> RwLockWriteGuard<'_, ()> {
        self.references_lock
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// 401, then the per-client quota (429), in that order: throttling
    /// counts per client id, which only a valid token reveals.
    fn admit(&self, request: &Request<'_>) -> Result<Arc<Grant>, RelesysError> {
        let now = request.now();
        let grant = self.tenant.tokens.authenticate(request.call, now)?;
        if let Some(limiter) = &self.tenant.limiter {
            let quota = limiter.check(&crate::vendors::lowercase_id(&grant.client_id), now);
            if !quota.allowed {
                return Err(RelesysError::RateLimited(Throttled {
                    limit: quota.limit,
                    retry_after_secs: quota.reset_after_secs,
                }));
            }
        }
        Ok(grant)
    }

    /// `POST /login/oauth/authorize`. A client that sends JSON, or its
    /// credentials as HTTP Basic, is told what this endpoint reads instead
    /// (RFC 6749 §5.2 error bodies; the access page documents only the
    /// form body).
    fn issue_token(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let call = request.call;
        let first = call.body.iter().find(|b| !b.is_ascii_whitespace());
        if call.declares_json() || matches!(first, Some(b'{' | b'[')) {
            return Err(RelesysError::OAuth {
                error: "invalid_request",
                description: format!(
                    "The token endpoint reads a form body (Content-Type: application/x-www-form-urlencoded): {TOKEN_FORM}; it does not read JSON"
                ),
            });
        }
        let form: HashSet<String> = form_urlencoded::parse(&call.body)
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, _)| name.into_owned())
            .collect();
        let basic = call
            .header("authorization")
            .and_then(|value| value.get(..6))
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("basic "));
        if basic {
            if !(form.contains("client_id") && form.contains("client_secret")) {
                return Err(RelesysError::BasicClientAuth {
                    description: format!(
                        "The token endpoint reads client_id and client_secret from the form body, not from HTTP Basic credentials: send {TOKEN_FORM}"
                    ),
                });
            }
            request.note(
                "relesys-token-basic-ignored",
                "the HTTP Basic credentials were ignored; the form body's client_id and client_secret were used",
                "inferred: https://api.relesysapp.net/docs/latest/intro/access documents only the form body's client_id and client_secret",
            );
        }
        if call.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
            request.note(
                "lenient-content-type",
                format!(
                    "the body was read as a form although {}",
                    match call.header("content-type") {
                        Some(declared) => format!("its Content-Type is {declared}"),
                        None => "the request has no Content-Type".to_owned(),
                    }
                ),
                "inferred: https://api.relesysapp.net/docs/latest/intro/access sends Content-Type: application/x-www-form-urlencoded and says nothing of other types",
            );
        }
        let body = self
            .tenant
            .tokens
            .issue(&request.call.body, request.now())?;
        Ok(Reply::json(StatusCode::OK, &body))
    }

    fn get_user(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let grant = self.admit(request)?;
        let user_id = path_guid(request, "userId")?;
        grant.require_any(READ_SCOPES)?;
        let user = request
            .state
            .read_shown::<User>(Relesys::NAME, &user_id)?
            .ok_or_else(|| RelesysError::UserNotFound(user_id.to_string()))?;
        Ok(Reply::json_text(StatusCode::OK, DATA.around(&user.text()?)))
    }

    fn update_user(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let grant = self.admit(request)?;
        let user_id = path_guid(request, "userId")?;
        let ops = read_patch(request, &patch::USER)?;
        patch::reject_read_only(&ops, &patch::USER)?;
        self.status_by_patch(request, &ops)?;
        grant.require_any(WRITE_SCOPES)?;

        let now = request.now();
        let references = self.tenant.references(Some(request.state));
        let _adding = self.adding_references();
        let mut dropped = Vec::new();
        // The patch reads departments and user groups while the user's
        // entry is locked: they are other kinds of record (other maps of
        // the store), so this never waits on the locked entry.
        let (_, updated) = request
            .state
            .replace_typed_json(Relesys::NAME, &user_id, DATA, |user: &User, size| {
                let mut patched = patch::apply(
                    user,
                    size,
                    &ops,
                    &references,
                    self.tenant.max_record_bytes,
                    &mut dropped,
                )?;
                patched.last_modified_date_time =
                    timestamps::next_write_ticks(Some(&user.last_modified_date_time), now);
                Ok::<_, RelesysError>(patched)
            })?
            .ok_or_else(|| RelesysError::UserNotFound(user_id.to_string()))?;
        note_dropped(request, &dropped);
        Ok(Reply::json_text(StatusCode::OK, updated))
    }
}

/// A PATCH route's JSON Patch document, its operations' pointers spelled
/// as `model`'s members. A valid patch is read straight into its
/// operations; any other body as JSON, for the 400 that names the
/// operation at fault.
fn read_patch(
    request: &Request<'_>,
    model: &patch::Model,
) -> Result<Vec<PatchOperation>, RelesysError> {
    const SHAPE: &str = "a JSON Patch document (a JSON array)";
    match request
        .json_as(true, patch::usual_ops)
        .map_err(|e| RelesysError::from_body(e, Expected::JsonPatch, SHAPE))?
    {
        Ok(ops) => Ok(patch::canonical_ops(ops, model)),
        Err(Value::Array(items)) => patch::parse_ops(items, model),
        Err(_) => Err(RelesysError::invalid(format!(
            "The request body must be {SHAPE}"
        ))),
    }
}

/// The single-object envelope `{"data": …}`, serialised straight from the
/// record (no intermediate JSON tree).
#[derive(serde::Serialize)]
struct Data<'a, T> {
    data: &'a T,
}

/// [`Data`] around a record's JSON as the store writes it out.
const DATA: crate::store::Frame = crate::store::Frame(br#"{"data":"#, b"}");

/// The path parameter `name` (`userId`, `departmentId`, …), documented as
/// `string / guid`; returned lower-cased.
fn path_guid<'r>(request: &Request<'r>, name: &str) -> Result<Cow<'r, str>, RelesysError> {
    let value = request.param(name);
    if is_hyphenated_uuid(value) {
        Ok(crate::vendors::lowercase_id(value))
    } else {
        Err(RelesysError::invalid(format!(
            "The value '{value}' is not a valid GUID for {name}"
        )))
    }
}

impl Relesys {
    fn list_users(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        // Filtered and sorted as the typed users; the page's users are
        // written as their JSON as stored (serialised once, then kept).
        let records = request.state.all_shown::<User>(Relesys::NAME);
        self.list(request, &query::USERS, records)
    }

    fn list_departments(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let records = as_values(self.tenant.organisation.departments.all(request.state));
        self.list(request, &query::DEPARTMENTS, records)
    }

    fn list_user_groups(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let records = as_values(self.tenant.organisation.user_groups.all(request.state));
        self.list(request, &query::USER_GROUPS, records)
    }

    fn list_custom_fields(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let records = self.tenant.organisation.custom_fields.clone();
        self.list(request, &query::CUSTOM_FIELDS, records)
    }

    /// 401/429, then the query (400), then the read scopes (403).
    fn list<T: query::Listed + lists::Item>(
        &self,
        request: &Request<'_>,
        resource: &'static Resource,
        records: Vec<T>,
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
            self.tenant.always_list_links,
        )?;
        let text = page.text().map_err(|err| {
            tracing::error!(%err, "could not write a list page");
            RelesysError::Shared(crate::vendors::SharedError::Internal)
        })?;
        Ok(Reply::json_text(StatusCode::OK, bytes::Bytes::from(text)))
    }

    /// 401/429, the body's shape and types (415/400), the write scopes
    /// (403), then the ids and keys it refers to (400).
    fn create_user(&self, request: &Request<'_>) -> Result<Reply, RelesysError> {
        let grant = self.admit(request)?;
        const SHAPE: &str = "a JSON object (a user)";
        request.note(
            CREATED_STATUS,
            format!(
                "answered {} to a create: the docs give no status",
                self.tenant.created_status.as_u16()
            ),
            CREATED_STATUS_SOURCE,
        );
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
        let references = self.tenant.references(Some(request.state));
        let _adding = self.adding_references();
        if let Some((pointer, message)) = references.problems(&user).into_iter().next() {
            return Err(RelesysError::invalid(format!("{pointer}: {message}")));
        }
        note_dropped(request, &references.dropped_keys(&user));
        references.normalise(&mut user);
        request.state.put_typed(Relesys::NAME, id, &user)?;
        Ok(Reply::json(
            self.tenant.created_status,
            &Data { data: &user },
        ))
    }
}

/// The note on an answer to a create, whose status the docs do not give.
const CREATED_STATUS: &str = "relesys-created-status";
const CREATED_STATUS_SOURCE: &str = "inferred: https://api.relesysapp.net/docs/latest/endpoint/users-post-createuser lists only \"Responses application/json\"; settings.created_status chooses 201 or 200";

/// Notes the custom-field keys dropped under `unknown_custom_fields: drop`.
fn note_dropped(request: &Request<'_>, dropped: &[String]) {
    for key in dropped {
        request.note(
            "relesys-custom-field-dropped",
            format!("the custom field '{key}' is not defined by the tenant and was dropped"),
            "inferred: https://api.relesysapp.net/docs/latest/endpoint/users-post-createuser keys customFields by the fields' externalId and says nothing of others; dropped under settings.unknown_custom_fields: drop",
        );
    }
}

/// 204 without a body.
fn no_content() -> Reply {
    Reply {
        status: StatusCode::NO_CONTENT,
        headers: crate::http::Headers::new(),
        body: bytes::Bytes::new(),
        notes: Vec::new(),
    }
}

/// Entries as the list routes filter and sort them.
fn as_values<T: serde::Serialize>(entries: Vec<Arc<T>>) -> Vec<Value> {
    entries
        .iter()
        .filter_map(|entry| serde_json::to_value(entry.as_ref()).ok())
        .collect()
}

/// One valid write through each write route, in an order in which each
/// succeeds: the snapshot test replays them and checks that every kind of
/// record they touch is in this vendor's snapshot.
#[cfg(test)]
#[rustfmt::skip]
fn sample_writes() -> Vec<crate::vendors::SampleWrite> {
    use serde_json::{json, Value};
    let relesys = ("authorization", "Bearer relesys-admin");
    vec![
        (Method::POST, "/api/v1.3/users".into(), relesys, json!({"name": "Kinds", "primaryDepartmentId": "5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5", "userGroups": [{"id": "22360293-0789-4346-ba9a-5609fa65703c"}]})),
        (Method::PATCH, "/api/v1.3/users/6cd99267-5adf-462d-88a2-6f86b7b2a164".into(), relesys, json!([{"op": "replace", "path": "/title", "value": "Kinds"}])),
        (Method::PUT, "/api/v1.3/users/6cd99267-5adf-462d-88a2-6f86b7b2a164/status".into(), relesys, json!({"status": "Disabled"})),
        (Method::DELETE, "/api/v1.3/users/5a000008-1008-4008-8008-c0ffee000008".into(), relesys, Value::Null),
        (Method::POST, "/api/v1.3/departments".into(), relesys, json!({"name": "Kinds"})),
        (Method::PATCH, "/api/v1.3/departments/5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5".into(), relesys, json!([{"op": "replace", "path": "/city", "value": "Kinds"}])),
        (Method::DELETE, "/api/v1.3/departments/c0ffee00-0d5e-4a1b-9c2d-0de05e000001".into(), relesys, Value::Null),
        (Method::POST, "/api/v1.3/userGroups".into(), relesys, json!({"name": "Kinds"})),
        (Method::PATCH, "/api/v1.3/userGroups/22360293-0789-4346-ba9a-5609fa65703c".into(), relesys, json!([{"op": "replace", "path": "/description", "value": "Kinds"}])),
        (Method::DELETE, "/api/v1.3/userGroups/a1b2c3d4-0a1b-4c2d-8e3f-a1d1e2a3b4c5".into(), relesys, Value::Null),
        (Method::POST, "/login/oauth/authorize".into(), ("content-type", "application/x-www-form-urlencoded"), Value::String("grant_type=client_credentials&client_id=0f8fad5b-d9cb-469f-a165-70867728950e&client_secret=relesys-admin-secret&scope=relesys.api".into())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_frame_is_what_data_writes_around_a_record() {
        let record = serde_json::json!({"id": "a\"b", "n": [1, {"é": null}]});
        let text = serde_json::to_vec(&record).unwrap_or_else(|e| panic!("{e}"));
        let written = serde_json::to_vec(&Data { data: &record }).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&DATA.around(&text)[..], &written[..]);
    }
}
