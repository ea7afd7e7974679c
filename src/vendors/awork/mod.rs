//! awork API v1: the documented user resource. `GET|PUT|DELETE
//! /users/{userId}`, `GET /users` (paging, `filterby`, `orderby`),
//! `GET /users/me` and `/me`, `POST /users/{userId}/deactivate|activate|
//! setarchived` and `POST /invitations`.
//!
//! Sources (with URLs in `docs/vendors/awork.md`): awork's update-user
//! reference, awork's OpenAPI document in `awork-io/developer-docs` (schemas,
//! permissions, statuses; extract in `tests/it/data/awork-openapi-subset.json`)
//! and awork's guide pages (errors, paging, filtering, ordering, rate
//! limits). Choices where all are silent are marked inferred there.

mod accept;
mod error;
mod filter;
mod fixture;
mod form;
mod invite;
mod languages;
mod lifecycle;
mod list;
mod rate;
mod roles;
mod update;
mod user;

use std::borrow::Cow;
use std::sync::Arc;

use std::collections::{HashMap, HashSet};

use hyper::{Method, StatusCode};
use serde_json::Value;

use self::error::{AworkError, PropertyError, TokenProblem};
use self::fixture::{
    AworkFixture, InvitationRole, OmittedFields, OtherFields, RoleFixture, TeamFixture,
    WorkspaceFixture,
};
use self::rate::with_rate_limit_headers;
use self::form::{user_problems, ValueRule};
use self::user::User;
use super::{
    is_hyphenated_uuid, seed_in, seeded_user, stored, Api, BodyKind, Document, ErrorRequest,
    Request, Restored, Routes, SeedRefused, UnseedRefused, VendorSpec, unseed_in,
};
use crate::diagnostics::{FileProblem, SourceFile};
use crate::http::{headers, match_path, pattern_matches, Call, Reply};
use crate::rate_limit::Quota;
use crate::rate_limit::RateLimiter as Limiter;
use crate::store::{Shown, State};

pub(crate) const SPEC: VendorSpec = VendorSpec {
    name: Awork::NAME,
    embedded_fixture: include_str!("../../../fixtures/awork.json"),
    load: fixture::load,
    fixture_schema: || schemars::schema_for!(AworkFixture),
    #[cfg(test)]
    sample_writes,
};

const USERS_PATH: &str = "/api/v1/users";
const USER_PATH: &str = "/api/v1/users/{userId}";
const DEACTIVATE_PATH: &str = "/api/v1/users/{userId}/deactivate";
const ACTIVATE_PATH: &str = "/api/v1/users/{userId}/activate";
const SET_ARCHIVED_PATH: &str = "/api/v1/users/{userId}/setarchived";
const ME_PATHS: [&str; 2] = ["/api/v1/users/me", "/api/v1/me"];
const INVITATIONS_PATH: &str = "/api/v1/invitations";
const ACCEPT_PATH: &str = "/api/v1/invitations/accept";
const ROLE_DEACTIVATE_PATH: &str = "/api/v1/roles/{roleId}/users/{userId}/deactivate";
const ROLE_ACTIVATE_PATH: &str = "/api/v1/roles/{roleId}/users/{userId}/activate";

/// The feature permissions the spec's "Required Permissions" name.
mod permission {
    pub const MASTER_DATA_READ: &str = "user-master-data:read";
    pub const MASTER_DATA_WRITE: &str = "user-master-data:write";
    pub const MANAGE_USERS: &str = "user-manage-config:write";
    pub const DELETE_USERS: &str = "user-manage-config:delete";
    pub const MANAGE_PROJECTS: &str = "project-manage-config:write";
    pub const MANAGE_WORKSPACE: &str = "workspace-manage-config:write";
}

/// The workspace user behind a token.
#[derive(Debug)]
struct Caller {
    /// Lower-cased.
    user_id: String,
    is_admin: bool,
    permissions: HashSet<String>,
}

impl Caller {
    /// Admins may do everything; others need the feature permission.
    fn may(&self, permission: &str) -> bool {
        self.is_admin || self.permissions.contains(permission)
    }

    /// "Returns all users if the user has read permissions on the feature
    /// user-master-data": write permission includes read (inferred).
    fn may_read_master_data(&self) -> bool {
        self.may(permission::MASTER_DATA_READ) || self.may(permission::MASTER_DATA_WRITE)
    }
}

/// Everything the fixture says about the workspace.
struct World {
    omitted_fields: OmittedFields,
    other_fields: OtherFields,
    invitation_role: InvitationRole,
    gender_values: ValueRule,
    language_values: ValueRule,
    /// Keys the invitation codes (`accept::invitation_code`).
    invitation_secret: (u64, u64),
    default_page_size: u32,
    credentials: HashMap<String, Caller>,
    rate_limits: Option<RateLimits>,
    requests_per_minute: u32,
    workspace: WorkspaceFixture,
    roles: Vec<RoleFixture>,
    teams: Vec<TeamFixture>,
    /// Lower-cased ids of the members of admin roles.
    admins: HashSet<String>,
    /// `--max-record-bytes`: a restored record may be no larger.
    max_record_bytes: usize,
}

struct RateLimits {
    per_second: Limiter,
    per_minute: Limiter,
}

pub(crate) struct Awork {
    world: World,
    routes: Routes<Awork>,
}

impl Awork {
    fn new(world: World) -> Awork {
        use BodyKind::{JsonObject, None as NoBody};
        use Method as M;
        Awork {
            world,
            routes: Routes::new(&[
                (M::GET, USERS_PATH, NoBody, Awork::list_users),
                (M::GET, ME_PATHS[0], NoBody, Awork::me),
                (M::GET, ME_PATHS[1], NoBody, Awork::me),
                (M::GET, USER_PATH, NoBody, Awork::get_user),
                (M::PUT, USER_PATH, JsonObject, Awork::put_user),
                (M::DELETE, USER_PATH, NoBody, Awork::delete_user),
                (M::POST, DEACTIVATE_PATH, NoBody, Awork::deactivate),
                (M::POST, ACTIVATE_PATH, NoBody, Awork::activate),
                (M::POST, SET_ARCHIVED_PATH, JsonObject, Awork::set_archived),
                (M::GET, INVITATIONS_PATH, NoBody, Awork::list_invitations),
                (M::POST, INVITATIONS_PATH, JsonObject, Awork::invite),
                (M::POST, ACCEPT_PATH, JsonObject, Awork::accept),
                (
                    M::POST,
                    ROLE_DEACTIVATE_PATH,
                    NoBody,
                    Awork::role_deactivate,
                ),
                (M::POST, ROLE_ACTIVATE_PATH, NoBody, Awork::role_activate),
            ]),
        }
    }
}

impl Api for Awork {
    type Error = AworkError;
    const NAME: &'static str = "awork";
    const REAL_HOST: &'static str = "api.awork.com";
    const BASE_PATH: &'static str = "/api/v1";

    fn routes(&self) -> &Routes<Awork> {
        &self.routes
    }

    fn render(&self, error: &AworkError) -> Reply {
        error.render()
    }

    fn scenario_error(&self, request: &ErrorRequest, call: &Call) -> Option<AworkError> {
        let id = self.scenario_user_id(call);
        Some(match (request.status, request.kind.as_deref()) {
            (400, None | Some("validation_failed")) => {
                AworkError::ValidationFailed(vec![PropertyError::new(
                    "FirstName",
                    "'FirstName' must be a string, not a number.",
                )])
            }
            (400, Some("invalid_model")) => AworkError::InvalidModel {
                detail: "The request body is not valid JSON.".to_owned(),
            },
            (400, Some("date_out_of_range")) => update::birth_date_in_future(),
            (400, Some("entity_archived")) => AworkError::EntityArchived { id },
            (400, Some("deactivated_user")) => AworkError::DeactivatedUser { id },
            (400, Some("invalid_filter_or_order")) => AworkError::InvalidFilterOrOrder {
                detail: "The filter expression could not be read.".to_owned(),
            },
            (400, Some("invalid_operation")) => lifecycle::last_admin(&id),
            (400, Some("workspaceid_missing")) => AworkError::WorkspaceIdMissing,
            (400, Some("already_exist_error")) => {
                let body: Option<Value> = serde_json::from_slice(&call.body).ok();
                invite::email_taken(
                    body.as_ref()
                        .and_then(|b| b["email"].as_str())
                        .unwrap_or_default(),
                )
            }
            (401, None | Some("unauthorized")) => AworkError::Unauthorized(action_of(call)),
            (401, Some("unauthenticated")) => AworkError::Unauthenticated(TokenProblem::Unknown),
            (404, None) => AworkError::UserNotFound { id },
            (429, None) => AworkError::RateLimited(Quota::exhausted(
                self.world.requests_per_minute,
                request.retry_after.unwrap_or(60),
            )),
            (500, None) => AworkError::ServerError,
            _ => return None,
        })
    }

    fn seed(&self, state: &State, id: &str, record: &Value) -> Result<Value, SeedRefused> {
        // An awork user refers to no other record: the fixture's checks.
        // But it may replace an admin: like every route that archives,
        // deactivates or deletes one, it may not take the last active admin
        // away (the admin's token would answer 401 from then on). The check
        // and the write are one step, so two admins replaced at once cannot
        // both go.
        let (gender, language) = (self.world.gender_values, self.world.language_values);
        state.transaction(|| {
            let user: User = seeded_user(id, record, |user| user_problems(user, gender, language))?;
            let id = user.id.to_ascii_lowercase();
            let current: Option<Arc<User>> = state.read(Awork::NAME, &id)?;
            let leaves = current.is_some_and(|c| lifecycle::is_active(&c))
                && !lifecycle::is_active(&user);
            if leaves
                && self.world.admins.contains(&id)
                && !self.another_active_admin(state, &id)?
            {
                return Err(SeedRefused::LastAdmin { id: user.id });
            }
            seed_in(state, Awork::NAME, &id, || stored(&user))
        })
    }

    fn unseed(&self, state: &State, id: &str) -> Result<(), UnseedRefused> {
        // awork's own delete only marks a user deleted (`deletedOn`), so
        // the roles and credentials naming it, which no API call changes,
        // stay valid. Removing the record would leave them naming no user
        // (a snapshot of that would not restore): refused while any does.
        unseed_in(state, Awork::NAME, id, |id| {
            let mut by: Vec<String> = Vec::new();
            for (i, role) in self.world.roles.iter().enumerate() {
                for (j, member) in role.user_ids.iter().enumerate() {
                    if member.eq_ignore_ascii_case(id) {
                        by.push(format!("role '{}' (roles[{i}].user_ids[{j}])", role.name));
                    }
                }
            }
            let mut tokens: Vec<&String> = (self.world.credentials.iter())
                .filter(|(_, caller)| caller.user_id == id)
                .map(|(token, _)| token)
                .collect();
            tokens.sort();
            by.extend(tokens.into_iter().map(|t| format!("credential '{t}'")));
            if by.is_empty() {
                Ok(())
            } else {
                Err(UnseedRefused::Referenced(by))
            }
        })
    }

    fn reset_counters(&self) {
        if let Some(limits) = &self.world.rate_limits {
            limits.per_second.reset();
            limits.per_minute.reset();
        }
    }

    fn snapshot(&self, state: &State, startup: &Value) -> Document {
        self.snapshot_document(state, startup)
    }

    fn restore(&self, file: &SourceFile, startup: &Value) -> Result<Restored, Vec<FileProblem>> {
        self.read_snapshot(file, startup)
    }
}

/// The handler behind the rate limit.
type Inner = fn(&Awork, &Request<'_>) -> Result<Reply, AworkError>;

impl Awork {
    fn get_user(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::get_user_now)
    }

    fn put_user(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::update_user)
    }

    fn list_users(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::list_users_now)
    }

    fn me(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::me_now)
    }

    fn delete_user(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::delete_user_now)
    }

    fn deactivate(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::deactivate_now)
    }

    fn activate(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::activate_now)
    }

    fn set_archived(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::set_archived_now)
    }

    fn invite(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::invite_now)
    }

    fn list_invitations(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::list_invitations_now)
    }

    fn accept(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::accept_now)
    }

    fn role_deactivate(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::role_deactivate_now)
    }

    fn role_activate(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.limited(request, Awork::role_activate_now)
    }

    /// awork's limits are per workspace (here: per usermock session, each
    /// being a workspace of its own): every request counts, and while the
    /// limit is on every answer, errors included, carries the headers.
    fn limited(&self, request: &Request<'_>, inner: Inner) -> Result<Reply, AworkError> {
        let inner = |awork: &Awork, request: &Request<'_>| {
            list::note_unknown_parameters(request, known_parameters(&request.call.path));
            inner(awork, request).inspect_err(|error| note_refusal(request, error))
        };
        let Some(limits) = &self.world.rate_limits else {
            return inner(self, request);
        };
        let now = request.now();
        let key = request.call.header(headers::SESSION).unwrap_or_default();
        let second = limits.per_second.check(key, now);
        let minute = limits.per_minute.check(key, now);
        let result = if !second.allowed {
            Err(AworkError::RateLimited(second))
        } else if !minute.allowed {
            Err(AworkError::RateLimited(minute))
        } else {
            inner(self, request)
        };
        let reply = result.unwrap_or_else(|error| error.render());
        Ok(with_rate_limit_headers(reply, Some(second), minute))
    }

    /// The caller behind the bearer token; a deactivated user's token no
    /// longer works, a deleted user's is unknown, and so would be that of a
    /// user removed altogether (the admin delete and a restore refuse to
    /// leave a credential naming no user): a token names a user.
    fn authenticate(&self, request: &Request<'_>) -> Result<&Caller, AworkError> {
        let token = request
            .call
            .bearer_token()
            .ok_or(AworkError::Unauthenticated(TokenProblem::Missing))?;
        let caller = self
            .world
            .credentials
            .get(token)
            .ok_or(AworkError::Unauthenticated(TokenProblem::Unknown))?;
        let acting: Option<Arc<User>> = request.state.read(Awork::NAME, &caller.user_id)?;
        match acting {
            Some(user) if user.is_deleted() => {
                Err(AworkError::Unauthenticated(TokenProblem::Unknown))
            }
            Some(user) if user.is_deactivated => Err(AworkError::CallerDeactivated {
                id: caller.user_id.clone(),
            }),
            Some(_) => Ok(caller),
            None => Err(AworkError::Unauthenticated(TokenProblem::Unknown)),
        }
    }

    /// A user that exists for the API (not soft-deleted), or awork's 404.
    fn visible_user(&self, request: &Request<'_>, id: &str) -> Result<Arc<User>, AworkError> {
        Ok(self.visible_shown(request, id)?.record)
    }

    /// [`Awork::visible_user`] with its stored record, to answer with.
    fn visible_shown(&self, request: &Request<'_>, id: &str) -> Result<Shown<User>, AworkError> {
        let user: Option<Shown<User>> = request.state.read_shown(Awork::NAME, id)?;
        user.filter(|u| !u.record.is_deleted())
            .ok_or_else(|| AworkError::UserNotFound { id: id.to_owned() })
    }

    fn get_user_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        self.authenticate(request)?;
        let id = path_guid(request.param("userId"))?;
        // Answered with the user's JSON as stored: no serialisation.
        let user = self.visible_shown(request, &id)?;
        Ok(Reply::json_text(StatusCode::OK, user.text()?))
    }
}

impl Awork {
    /// The user a scenario's request is about: the path's, or for
    /// `/users/me` the caller's.
    fn scenario_user_id(&self, call: &Call) -> String {
        let id = path_user_id(call);
        if !id.is_empty() {
            return id;
        }
        call.bearer_token()
            .and_then(|token| self.world.credentials.get(token))
            .map(|caller| caller.user_id.clone())
            .unwrap_or_default()
    }
}

/// The query parameters the spec gives the route of `path`.
fn known_parameters(path: &str) -> &'static [&'static str] {
    if path == USERS_PATH {
        list::LIST_PARAMETERS
    } else if pattern_matches(DEACTIVATE_PATH, path) {
        &["includeSummary"]
    } else {
        &[]
    }
}

/// Notes a refusal that rests on a rule usermock inferred (the rule ids
/// are in `docs/vendors/awork.md`).
fn note_refusal(request: &Request<'_>, error: &AworkError) {
    let path = request.call.path.as_str();
    let on = |pattern: &str| pattern_matches(pattern, path);
    let (rule, source) = match error {
        AworkError::DeactivatedUser { .. } | AworkError::EntityArchived { .. } => (
            "awork-inactive-target",
            "inferred: the spec's error codes name archived and deactivated entities; which routes refuse them, and with 400, is not documented",
        ),
        AworkError::InvalidOperation { detail } if detail.ends_with("is not deactivated.") => (
            "awork-inactive-target",
            "inferred: the spec does not say what activating an active user answers",
        ),
        AworkError::InvalidOperation { detail }
            if detail.ends_with("last admin of the workspace.") && !on(DEACTIVATE_PATH) =>
        (
            "awork-last-admin-beyond-deactivation",
            "inferred: the spec states the last-admin rule for deactivation only",
        ),
        AworkError::Unauthorized(error::Action::Invite) => (
            "awork-invitation-permission",
            "inferred: the Invitation operation names no permission",
        ),
        AworkError::ForeignWorkspace { .. } => (
            "awork-invitation-workspace",
            "inferred: the docs do not say what an invitation to another workspace answers",
        ),
        AworkError::AlreadyExists { .. } => (
            "awork-invitation-email-taken",
            "inferred: already-exist-error is a documented code; that it guards invitation e-mails is not documented",
        ),
        AworkError::UnsupportedMediaType { .. } => (
            "awork-content-type",
            "inferred: the spec lists application/json bodies; what another Content-Type gets is not documented",
        ),
        AworkError::DateOutOfRange { .. } => (
            "awork-birthdate-future",
            "inferred: date-out-of-range is a documented code; that a future birth date raises it is not documented",
        ),
        AworkError::CallerDeactivated { .. } => (
            "awork-deactivated-caller",
            "inferred: deactivated-user is a documented code; its use for the caller's token is not documented",
        ),
        _ => return,
    };
    request.note(rule, format!("answered {}", error_code(error)), source);
}

/// `status code` of an error, for notes.
fn error_code(error: &AworkError) -> String {
    let reply = error.render();
    let code = serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|body| body["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("{} {code}", reply.status.as_u16())
}

/// The permission error a scenario's 401 shows: the rule of the route the
/// request is for.
fn action_of(call: &Call) -> error::Action {
    use error::Action;
    let on = |pattern: &str| pattern_matches(pattern, &call.path);
    if on(ROLE_DEACTIVATE_PATH) || on(ROLE_ACTIVATE_PATH) {
        Action::RoleActivation
    } else if on(DEACTIVATE_PATH) || on(ACTIVATE_PATH) {
        Action::Activate
    } else if on(SET_ARCHIVED_PATH) {
        Action::Archive
    } else if on(INVITATIONS_PATH) {
        Action::Invite
    } else if on(USER_PATH) && call.method == Method::DELETE {
        Action::Delete
    } else {
        Action::Update
    }
}

/// The `{userId}` of a path, lower-cased, a GUID, or awork's 400.
fn path_guid(user_id: &str) -> Result<Cow<'_, str>, AworkError> {
    if is_hyphenated_uuid(user_id) {
        Ok(crate::vendors::lowercase_id(user_id))
    } else {
        Err(AworkError::ValidationFailed(vec![PropertyError::new(
            "UserId",
            format!("'{user_id}' is not a valid GUID."),
        )]))
    }
}

/// The `{userId}` a scenario's request names, lower-cased (empty if none).
fn path_user_id(call: &Call) -> String {
    if ME_PATHS.contains(&call.path.as_str()) {
        return String::new();
    }
    [USER_PATH, DEACTIVATE_PATH, ACTIVATE_PATH, SET_ARCHIVED_PATH]
        .iter()
        .find_map(|pattern| match_path(pattern, &call.path))
        .and_then(|params| params.first().map(|p| p.to_ascii_lowercase()))
        .or_else(|| {
            [ROLE_DEACTIVATE_PATH, ROLE_ACTIVATE_PATH]
                .iter()
                .find_map(|pattern| match_path(pattern, &call.path))
                .and_then(|params| params.get(1).map(|p| p.to_ascii_lowercase()))
        })
        .unwrap_or_default()
}

/// One valid write through each write route, in an order in which each
/// succeeds: the snapshot test replays them and checks that every kind of
/// record they touch is in this vendor's snapshot.
#[cfg(test)]
#[rustfmt::skip]
fn sample_writes() -> Vec<crate::vendors::SampleWrite> {
    use serde_json::{json, Value};
    let awork = ("authorization", "Bearer awork-admin");
    let [member, archived, deleted] = [
        "4e8d2a1b-7c6f-4d3e-9a8b-2c1d0e9f8a7b",
        "7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d",
        "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
    ];
    vec![
        (Method::PUT, format!("/api/v1/users/{member}"), awork, json!({"firstName": "Kinds"})),
        (Method::POST, format!("/api/v1/users/{member}/deactivate"), awork, Value::Null),
        (Method::POST, format!("/api/v1/users/{member}/activate"), awork, Value::Null),
        (Method::POST, format!("/api/v1/users/{archived}/setarchived"), awork, json!({"isArchived": true})),
        (Method::DELETE, format!("/api/v1/users/{deleted}"), awork, Value::Null),
        (Method::POST, "/api/v1/invitations".into(), awork, json!({
                "workspaceId": "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "invitationFlow": "invite",
                "email": "kinds@example.com", "roleId": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f",
                "firstName": "Kinds", "skipSendingEmail": true,
            })),
        // `$invitationCode`: the code the invitation above answered.
        (Method::POST, "/api/v1/invitations/accept".into(), awork, json!({"invitationCode": "$invitationCode"})),
        (Method::POST, format!("/api/v1/roles/2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f/users/{member}/deactivate"), awork, Value::Null),
        (Method::POST, format!("/api/v1/roles/2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f/users/{member}/activate"), awork, Value::Null),
    ]
}
