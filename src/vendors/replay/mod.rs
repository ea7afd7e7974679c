//! Replay (`app.replay.sale`): the user resource (`GET|POST /api/user`,
//! `GET|PATCH /api/user/{userId}`, `POST /api/user/invite`), teams
//! (`GET /api/team`, `PATCH /api/team/{teamId}`) and child companies
//! (`POST /api/company/child`).
//!
//! Sources: Replay's public API reference at docs.replay.sale (its
//! update-user page is "the seed"), cited rule by rule in
//! `docs/vendors/replay.md`, which also lists every inferred choice (the
//! error body among them: Replay documents none).

mod body;
mod companies;
mod error;
mod fixture;
mod invite;
mod notes;
mod query;
mod shapes;
mod teams;
mod users;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use hyper::Method;
use serde_json::Value;

use self::fixture::Company;
use self::error::{FieldProblem, ReplayError};
use self::fixture::{with_legacy_role, ReplayFixture, Settings, UserRecord};
use super::{
    seed_in, seeded_user, stored, Api, BodyKind, Document, ErrorRequest, Request, Restored, Routes,
    SeedRefused, UnseedRefused, unseed_in, SharedError, VendorSpec,
};
use crate::diagnostics::{FileProblem, SourceFile};
use crate::http::{Call, Reply};
use crate::store::State;

pub(crate) const SPEC: VendorSpec = VendorSpec {
    name: NAME,
    embedded_fixture: include_str!("../../../fixtures/replay.json"),
    load: fixture::load,
    fixture_schema: || schemars::schema_for!(ReplayFixture),
    #[cfg(test)]
    sample_writes,
};

/// The vendor key; also the store key of user and invitation records.
const NAME: &str = "replay";
/// The store key of companies created at runtime.
const COMPANIES: &str = "replay.companies";
/// The store key of teams (loaded from the fixture, changed by PATCH).
const TEAMS: &str = "replay.teams";

const USERS_PATH: &str = "/api/user";
const USER_PATH: &str = "/api/user/{userId}";
const INVITE_PATH: &str = "/api/user/invite";
const TEAMS_PATH: &str = "/api/team";
const TEAM_PATH: &str = "/api/team/{teamId}";
const CHILD_COMPANY_PATH: &str = "/api/company/child";

pub(crate) struct Replay {
    settings: Settings,
    /// The fixture's companies by lower-cased id.
    companies: HashMap<String, Company>,
    /// `x-api-key` → lower-cased company id.
    api_keys: HashMap<String, String>,
    /// Lower-cased team id → its company's lower-cased id (teams never
    /// move; the teams themselves are records of [`TEAMS`]).
    teams: HashMap<String, String>,
    /// `--max-record-bytes`: a restored record may be no larger.
    max_record_bytes: usize,
    /// Held while a create checks uniqueness and inserts, so two retries
    /// racing each other never make two records. Holds no data.
    creation: Mutex<()>,
    routes: Routes<Replay>,
}

impl Replay {
    fn new(
        settings: Settings,
        companies: HashMap<String, Company>,
        api_keys: HashMap<String, String>,
        teams: HashMap<String, String>,
        max_record_bytes: usize,
    ) -> Replay {
        Replay {
            settings,
            companies,
            api_keys,
            teams,
            max_record_bytes,
            creation: Mutex::new(()),
            routes: Routes::new(&[
                (Method::GET, USERS_PATH, BodyKind::None, Replay::list_users),
                (
                    Method::POST,
                    USERS_PATH,
                    BodyKind::JsonObject,
                    Replay::create_user,
                ),
                (
                    Method::POST,
                    INVITE_PATH,
                    BodyKind::JsonObject,
                    Replay::invite_user,
                ),
                (Method::GET, TEAMS_PATH, BodyKind::None, Replay::list_teams),
                (
                    Method::PATCH,
                    TEAM_PATH,
                    BodyKind::JsonObject,
                    Replay::update_team,
                ),
                (Method::GET, USER_PATH, BodyKind::None, Replay::get_user),
                (
                    Method::PATCH,
                    USER_PATH,
                    BodyKind::JsonObject,
                    Replay::update_user,
                ),
                (
                    Method::POST,
                    CHILD_COMPANY_PATH,
                    BodyKind::JsonObject,
                    Replay::create_child_company,
                ),
            ]),
        }
    }

    fn is_fixture_company(&self, id: &str) -> bool {
        self.companies.contains_key(&id.to_ascii_lowercase())
    }

    fn team_is_in(&self, team: &str, company: &str) -> bool {
        self.teams
            .get(&team.to_ascii_lowercase())
            .is_some_and(|owner| owner.eq_ignore_ascii_case(company))
    }

    fn creating(&self) -> MutexGuard<'_, ()> {
        // The guarded data is `()`: a panic elsewhere cannot corrupt it.
        self.creation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The caller's company (lower-cased id): 401 unless `x-api-key` names one.
    fn authenticate<'r>(&'r self, request: &Request<'_>) -> Result<&'r str, ReplayError> {
        let key = request
            .call
            .header("x-api-key")
            .ok_or(ReplayError::MissingApiKey)?;
        self.api_keys
            .get(key)
            .map(String::as_str)
            .ok_or(ReplayError::InvalidApiKey)
    }
}

impl Api for Replay {
    type Error = ReplayError;
    const NAME: &'static str = NAME;
    const REAL_HOST: &'static str = "app.replay.sale";
    const BASE_PATH: &'static str = "";

    fn routes(&self) -> &Routes<Replay> {
        &self.routes
    }

    fn render(&self, error: &ReplayError) -> Reply {
        error::render(error)
    }

    fn scenario_error(&self, request: &ErrorRequest, call: &Call) -> Option<ReplayError> {
        let on = |pattern: &str| crate::http::pattern_matches(pattern, &call.path);
        Some(match (request.status, request.kind.as_deref()) {
            (400, None | Some("invalid_request")) => {
                let (field, message) = if on(CHILD_COMPANY_PATH) {
                    ("name", "Required")
                } else if on(TEAM_PATH) {
                    ("body", "At least one field must be provided")
                } else if on(INVITE_PATH) {
                    ("teamId", "Required")
                } else if on(USERS_PATH) && call.method == Method::GET {
                    ("limit", "Must be a whole number from 1 to 1000")
                } else {
                    ("firstName", "Must be at least 1 character")
                };
                ReplayError::InvalidFields(vec![FieldProblem::new(field, message)])
            }
            (status @ (400 | 409), Some("user_disabled")) => ReplayError::UserDisabled { status },
            (401, None) => ReplayError::InvalidApiKey,
            (403, None) => ReplayError::NotDirectChild {
                company: named_child_company(call),
            },
            (404, None) if on(TEAM_PATH) || on(INVITE_PATH) => ReplayError::TeamNotFound,
            (404, None | Some("user_not_found")) => ReplayError::UserNotFound,
            (404, Some("team_not_found")) => ReplayError::TeamNotFound,
            (409, None | Some("email_taken")) => ReplayError::EmailTaken,
            (409, Some("external_id_taken")) => ReplayError::InvitationExternalIdTaken,
            (409, Some("company_name_taken")) => ReplayError::CompanyNameTaken,
            (409, Some("company_external_id_taken")) => ReplayError::ChildExternalIdTaken,
            (500, None) => ReplayError::Shared(SharedError::Internal),
            _ => return None,
        })
    }

    fn seed(&self, state: &State, id: &str, record: &Value) -> Result<Value, SeedRefused> {
        // A child company created through the API counts; a reset, which
        // drops it, takes the same lock.
        seed_in(state, NAME, id, || {
            let exists =
                |company: &str| matches!(self.company_is(state, company, |_| true), Ok(true));
            let user: UserRecord =
                seeded_user(id, record, |u| self.record_problems_in(u, &exists))?;
            stored(&with_legacy_role(user))
        })
    }

    fn unseed(&self, state: &State, id: &str) -> Result<(), UnseedRefused> {
        // Replay documents no user delete. Nothing refers to a user: a
        // team's members are the users whose `teamId` names it, so the
        // membership goes with the user (inferred).
        unseed_in(state, NAME, id, |_| Ok(()))
    }

    fn snapshot(&self, state: &State, startup: &Value) -> Document {
        self.snapshot_document(state, startup)
    }

    fn restore(&self, file: &SourceFile, startup: &Value) -> Result<Restored, Vec<FileProblem>> {
        self.read_snapshot(file, startup)
    }
}

/// The child company a request names, lower-cased, wherever its route
/// takes it: the body's `childCompanyId`, or the query's
/// `child_company_id` / `childCompanyId`; empty when it names none.
fn named_child_company(call: &Call) -> String {
    let from_body = serde_json::from_slice::<Value>(&call.body)
        .ok()
        .and_then(|b| b["childCompanyId"].as_str().map(str::to_owned));
    let from_query = || {
        let query = call.query.as_deref().unwrap_or_default();
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "child_company_id" || k == "childCompanyId")
            .map(|(_, v)| v.into_owned())
    };
    from_body
        .or_else(from_query)
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// One valid write through each write route, in an order in which each
/// succeeds: the snapshot test replays them and checks that every kind of
/// record they touch is in this vendor's snapshot.
#[cfg(test)]
#[rustfmt::skip]
fn sample_writes() -> Vec<crate::vendors::SampleWrite> {
    use serde_json::json;
    let replay = ("x-api-key", "replay-parent");
    vec![
        (Method::POST, "/api/company/child".into(), replay, json!({"name": "Kinds Child"})),
        (Method::POST, "/api/user".into(), replay, json!({"email": "kinds@example.com", "firstName": "Kinds", "role": "User"})),
        (Method::PATCH, "/api/user/c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f".into(), replay, json!({"firstName": "Kinds"})),
        (Method::POST, "/api/user/invite".into(), replay, json!({"email": "kinds.invite@example.com", "teamId": "7e000001-0000-4000-8000-000000000001", "role": "User"})),
        (Method::PATCH, "/api/team/7e000001-0000-4000-8000-000000000001".into(), replay, json!({"name": "Kinds", "description": null})),
    ]
}
