//! Roster, the example fifth vendor: kept under `examples/fifth-vendor/`
//! and built only by `.ci/fifth-vendor`, which proves that a vendor is this
//! folder, its fixture, scenario, test module and doc page, and one line in
//! the registry (`docs/adding-a-vendor.md`).
//!
//! Its "documentation" (`docs/vendors/roster.md`): `GET /v1/people/{personId}`
//! and `PATCH /v1/people/{personId}` with `{"name": string}` (1–60
//! characters), bearer token authentication, errors as
//! `{"error": {"code", "message"}}`.

mod error;

use std::sync::Arc;

use hyper::{Method, StatusCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnostics::{FileProblem, Parsed, SourceFile};
use crate::http::{Call, Reply};
use crate::store::State;
use crate::vendors::snapshot::{check_fixed_members, users_only, USERS_ONLY};
use crate::vendors::{
    fixture_records, restored_users, seed_in, seeded_user, stored, Api, BodyKind, Document,
    ErrorRequest, LoadOptions, Loaded, Request, Restored, Routes, SeedRefused, StoredUser,
    UnseedRefused, VendorSpec, unseed_in,
};
use error::RosterError;

pub(crate) const SPEC: VendorSpec = VendorSpec {
    name: Roster::NAME,
    embedded_fixture: include_str!("../../../fixtures/roster.json"),
    load,
    fixture_schema: || schemars::schema_for!(RosterFixture),
    #[cfg(test)]
    sample_writes,
};

/// `fixtures/roster.json`: the tokens that may call, and the people.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterFixture {
    /// Bearer tokens accepted on every route.
    pub tokens: Vec<String>,
    /// The people, as the API shows them (every fixture lists its users
    /// under `users`: snapshots and the admin API find them there).
    pub users: Vec<Person>,
}

/// A person as Roster shows and stores one.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: String,
    /// 1–60 characters.
    pub name: String,
    pub team: String,
}

impl StoredUser for Person {
    fn id(&self) -> &str {
        &self.id
    }
}

pub(crate) struct Roster {
    tokens: Vec<String>,
    routes: Routes<Roster>,
}

fn load(file: &SourceFile, _: &LoadOptions) -> Result<Loaded, Vec<FileProblem>> {
    let Parsed {
        value: fixture,
        mut problems,
        places,
    } = file.parse_fixture::<RosterFixture>()?;
    let records = fixture_records(fixture.users, person_problems, &mut |pointer, message| {
        problems.push(file.problem(places.original(&pointer), message))
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    let roster = Roster {
        tokens: fixture.tokens,
        routes: Routes::new(&[
            (
                Method::GET,
                "/v1/people/{personId}",
                BodyKind::None,
                Roster::get_person,
            ),
            (
                Method::PATCH,
                "/v1/people/{personId}",
                BodyKind::JsonObject,
                Roster::rename_person,
            ),
        ]),
    };
    Ok(Loaded {
        vendor: Arc::new(roster),
        records,
        other_kinds: Vec::new(),
    })
}

fn valid_name(name: &str) -> bool {
    (1..=60).contains(&name.chars().count())
}

fn person_problems(person: &Person) -> Vec<(String, String)> {
    if valid_name(&person.name) {
        Vec::new()
    } else {
        vec![("/name".to_owned(), "must be 1 to 60 characters".to_owned())]
    }
}

impl Api for Roster {
    type Error = RosterError;
    const NAME: &'static str = "roster";
    const REAL_HOST: &'static str = "api.roster.example";
    const BASE_PATH: &'static str = "/v1";

    fn routes(&self) -> &Routes<Roster> {
        &self.routes
    }

    fn render(&self, error: &RosterError) -> Reply {
        error::render(error)
    }

    fn scenario_error(&self, request: &ErrorRequest, call: &Call) -> Option<RosterError> {
        let id = call.path.rsplit('/').next().unwrap_or_default().to_owned();
        match (request.status, request.kind.as_deref()) {
            (401, None) => Some(RosterError::Unauthorized),
            (404, None) => Some(RosterError::NotFound(id)),
            (422, None) => Some(RosterError::InvalidName),
            _ => None,
        }
    }

    // A person refers to no other record: the fixture's checks, and the
    // write, in one step of the state.
    fn seed(&self, state: &State, id: &str, record: &Value) -> Result<Value, SeedRefused> {
        seed_in(state, Roster::NAME, id, || {
            stored(&seeded_user(id, record, person_problems)?)
        })
    }

    // Nothing refers to a person: the admin API's delete removes it alone.
    fn unseed(&self, state: &State, id: &str) -> Result<(), UnseedRefused> {
        unseed_in(state, Roster::NAME, id, |_| Ok(()))
    }

    // Its only state is its people: the snapshot is the startup fixture
    // with `users` as stored now, and a restore reads them back.
    fn snapshot(&self, state: &State, startup: &Value) -> Document {
        users_only::<Person>(state, Roster::NAME, startup)
    }

    fn restore(&self, file: &SourceFile, startup: &Value) -> Result<Restored, Vec<FileProblem>> {
        let Parsed {
            value: fixture,
            mut problems,
            places,
        } = file.parse_fixture::<RosterFixture>()?;
        let mut bad = |pointer: String, message: String| {
            problems.push(file.problem(places.original(&pointer), message))
        };
        check_fixed_members(file, startup, USERS_ONLY, &mut bad);
        let users = restored_users(fixture.users, person_problems, usize::MAX, &mut bad);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Restored {
            users: users.len(),
            kinds: vec![(Roster::NAME, users)],
        })
    }
}

impl Roster {
    fn authenticate(&self, request: &Request<'_>) -> Result<(), RosterError> {
        match request.call.bearer_token() {
            Some(token) if self.tokens.iter().any(|t| t == token) => Ok(()),
            _ => Err(RosterError::Unauthorized),
        }
    }

    fn get_person(&self, request: &Request<'_>) -> Result<Reply, RosterError> {
        self.authenticate(request)?;
        let id = request.param("personId");
        let person: Arc<Person> = request
            .state
            .read(Roster::NAME, &id.to_ascii_lowercase())?
            .ok_or_else(|| RosterError::NotFound(id.to_owned()))?;
        Ok(Reply::json(StatusCode::OK, &person))
    }

    fn rename_person(&self, request: &Request<'_>) -> Result<Reply, RosterError> {
        self.authenticate(request)?;
        let body = request.json(true)?;
        let name = body["name"]
            .as_str()
            .filter(|name| valid_name(name))
            .ok_or(RosterError::InvalidName)?;
        let id = request.param("personId");
        let person = request
            .state
            .update_typed(
                Roster::NAME,
                &id.to_ascii_lowercase(),
                |person: &mut Person| {
                    person.name = name.to_owned();
                    Ok::<_, RosterError>(())
                },
            )?
            .ok_or_else(|| RosterError::NotFound(id.to_owned()))?;
        Ok(Reply::json(StatusCode::OK, &person))
    }
}

/// One valid write through each write route (the snapshot test).
#[cfg(test)]
fn sample_writes() -> Vec<crate::vendors::SampleWrite> {
    let token = ("authorization", "Bearer roster-token");
    vec![(
        Method::PATCH,
        "/v1/people/p1".to_owned(),
        token,
        serde_json::json!({"name": "Ada King"}),
    )]
}
