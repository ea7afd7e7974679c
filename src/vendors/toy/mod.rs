//! A toy vendor, compiled only into the crate's own unit tests. It proves
//! `docs/adding-a-vendor.md`: this folder, its fixture and one registry line
//! in `vendors/mod.rs` are all it takes for a vendor to be routed, served
//! per session, targeted by scenarios and inspected by the admin API.
//!
//! Its "documentation": `GET /users/{id}` and `PATCH /users/{id}` with a
//! JSON object `{"name": string}` (1–20 characters), bearer token auth,
//! errors as `{"problem": code, "detail": text}`.

use std::sync::Arc;

use hyper::{Method, StatusCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::snapshot::{check_fixed_members, write_users_only, USERS_ONLY};
use super::{
    fixture_records, restored_users, seeded_user, stored, Api, BodyKind, ErrorRequest, LoadOptions,
    Loaded, RecordProblem, Request, Restored, Routes, SharedError, StoredUser, VendorSpec,
};
use crate::diagnostics::{FileProblem, Parsed, SourceFile};
use crate::http::{Call, Reply};
use crate::store::{BrokenRecord, State, StoreFull};

pub(crate) const SPEC: VendorSpec = VendorSpec {
    name: Toy::NAME,
    embedded_fixture: include_str!("fixture.json"),
    load,
    fixture_schema: || schemars::schema_for!(ToyFixture),
};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToyFixture {
    tokens: Vec<String>,
    users: Vec<ToyUser>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToyUser {
    id: String,
    name: String,
}

impl StoredUser for ToyUser {
    fn id(&self) -> &str {
        &self.id
    }
}

/// Exactly the toy's documented errors, and the shared layer's.
#[derive(Debug)]
pub(crate) enum ToyError {
    Unauthorized,
    InvalidName,
    NoSuchUser(String),
    Shared(SharedError),
}

impl From<SharedError> for ToyError {
    fn from(error: SharedError) -> ToyError {
        ToyError::Shared(error)
    }
}

impl From<BrokenRecord> for ToyError {
    fn from(broken: BrokenRecord) -> ToyError {
        ToyError::Shared(broken.into())
    }
}

impl From<StoreFull> for ToyError {
    fn from(full: StoreFull) -> ToyError {
        ToyError::Shared(full.into())
    }
}

pub(crate) struct Toy {
    tokens: Vec<String>,
    routes: Routes<Toy>,
}

fn load(file: &SourceFile, _: &LoadOptions) -> Result<Loaded, Vec<FileProblem>> {
    let Parsed {
        value: fixture,
        mut problems,
        places,
    } = file.parse_records::<ToyFixture>()?;
    let records = fixture_records(&fixture.users, user_problems, &mut |pointer, message| {
        problems.push(file.problem(places.original(&pointer), message))
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    let toy = Toy {
        tokens: fixture.tokens,
        routes: Routes::new(&[
            (Method::GET, "/users/{id}", BodyKind::None, Toy::get_user),
            (
                Method::PATCH,
                "/users/{id}",
                BodyKind::JsonObject,
                Toy::rename_user,
            ),
        ]),
    };
    Ok(Loaded {
        vendor: std::sync::Arc::new(toy),
        records,
        other_kinds: Vec::new(),
    })
}

fn user_problems(user: &ToyUser) -> Vec<(String, String)> {
    if (1..=20).contains(&user.name.chars().count()) {
        Vec::new()
    } else {
        vec![("/name".to_owned(), "must be 1 to 20 characters".to_owned())]
    }
}

impl Api for Toy {
    type Error = ToyError;
    const NAME: &'static str = "toy";
    const REAL_HOST: &'static str = "api.toy.test";
    const BASE_PATH: &'static str = "";

    fn routes(&self) -> &Routes<Toy> {
        &self.routes
    }

    fn render(&self, error: &ToyError) -> Reply {
        let (status, code, detail) = match error {
            ToyError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", String::new()),
            ToyError::InvalidName => (StatusCode::BAD_REQUEST, "invalid_name", String::new()),
            ToyError::NoSuchUser(id) => (StatusCode::NOT_FOUND, "no_such_user", id.clone()),
            ToyError::Shared(SharedError::RouteNotFound { path }) => {
                (StatusCode::NOT_FOUND, "no_route", path.clone())
            }
            ToyError::Shared(SharedError::MethodNotAllowed { allow }) => {
                (StatusCode::METHOD_NOT_ALLOWED, "method", allow.clone())
            }
            ToyError::Shared(SharedError::UnsupportedMediaType { .. }) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "media_type",
                String::new(),
            ),
            ToyError::Shared(SharedError::BadBody(problem)) => {
                (StatusCode::BAD_REQUEST, "bad_body", format!("{problem:?}"))
            }
            ToyError::Shared(SharedError::PayloadTooLarge { limit }) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                limit.to_string(),
            ),
            ToyError::Shared(SharedError::BodyTimeout) => {
                (StatusCode::REQUEST_TIMEOUT, "timeout", String::new())
            }
            ToyError::Shared(SharedError::Internal) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", String::new())
            }
            ToyError::Shared(SharedError::StoreFull(full)) => {
                (StatusCode::INSUFFICIENT_STORAGE, "full", full.message())
            }
        };
        Reply::json(status, &json!({ "problem": code, "detail": detail }))
    }

    fn scenario_error(&self, request: &ErrorRequest, _: &Call) -> Option<ToyError> {
        match (request.status, request.kind.as_deref()) {
            (401, None) => Some(ToyError::Unauthorized),
            (404, None) => Some(ToyError::NoSuchUser(String::new())),
            _ => None,
        }
    }

    fn check_record(&self, id: &str, record: &Value) -> Result<Value, RecordProblem> {
        stored(&seeded_user(id, record, user_problems)?)
    }

    fn snapshot(&self, state: &State, startup: &Value, out: &mut Vec<u8>) -> bool {
        write_users_only::<ToyUser>(state, Toy::NAME, startup, out)
    }

    fn restore(&self, file: &SourceFile, startup: &Value) -> Result<Restored, Vec<FileProblem>> {
        let Parsed {
            value: fixture,
            mut problems,
            places,
        } = file.parse_records::<ToyFixture>()?;
        let mut bad = |pointer: String, message: String| {
            problems.push(file.problem(places.original(&pointer), message))
        };
        check_fixed_members(file, startup, USERS_ONLY, &mut bad);
        let users = restored_users(fixture.users, user_problems, usize::MAX, &mut bad);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Restored {
            users: users.len(),
            kinds: vec![(Toy::NAME, users)],
        })
    }
}

impl Toy {
    fn authenticate(&self, request: &Request<'_>) -> Result<(), ToyError> {
        match request.call.bearer_token() {
            Some(token) if self.tokens.iter().any(|t| t == token) => Ok(()),
            _ => Err(ToyError::Unauthorized),
        }
    }

    fn get_user(&self, request: &Request<'_>) -> Result<Reply, ToyError> {
        self.authenticate(request)?;
        let id = request.param("id");
        let user: Arc<ToyUser> = request
            .state
            .read(Toy::NAME, id)?
            .ok_or_else(|| ToyError::NoSuchUser(id.to_owned()))?;
        Ok(Reply::json(StatusCode::OK, &user))
    }

    fn rename_user(&self, request: &Request<'_>) -> Result<Reply, ToyError> {
        self.authenticate(request)?;
        let body = request.json(true)?;
        let name = body["name"].as_str().ok_or(ToyError::InvalidName)?;
        if !(1..=20).contains(&name.chars().count()) {
            return Err(ToyError::InvalidName);
        }
        let id = request.param("id");
        let user = request
            .state
            .update_typed(Toy::NAME, id, |user: &mut ToyUser| {
                user.name = name.to_owned();
                Ok::<_, ToyError>(())
            })?
            .ok_or_else(|| ToyError::NoSuchUser(id.to_owned()))?;
        Ok(Reply::json(StatusCode::OK, &user))
    }
}

#[cfg(test)]
mod tests {
    //! The toy vendor through the whole server, as a client sees it: the
    //! only registration it has is its line in `vendors::ALL`.

    use serde_json::{json, Value};

    async fn start() -> String {
        let server = crate::Usermock::new(&crate::Options::default()).expect("loads");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(server.run(listener, std::future::pending()));
        base
    }

    async fn send(request: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
        let response = request.send().await.expect("answer");
        let status = response.status().as_u16();
        let allow = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.json().await.unwrap_or(Value::Null);
        (status, allow, body)
    }

    #[tokio::test]
    async fn a_vendor_registered_by_one_line_is_served_end_to_end() {
        let base = start().await;
        let http = reqwest::Client::new();
        let user = format!("{base}/toy/users/u1");

        let got = send(http.get(&user).bearer_auth("toy-token")).await;
        assert_eq!(got, (200, None, json!({"id": "u1", "name": "Ada"})));

        let got = send(http.get(&user)).await;
        assert_eq!(
            got,
            (401, None, json!({"problem": "unauthorized", "detail": ""}))
        );

        let got = send(http.delete(&user).bearer_auth("toy-token")).await;
        let allow = Some("GET, PATCH".to_owned());
        assert_eq!(
            got,
            (
                405,
                allow,
                json!({"problem": "method", "detail": "GET, PATCH"})
            )
        );

        let got = send(http.get(format!("{base}/toy/nowhere"))).await;
        assert_eq!(
            got,
            (
                404,
                None,
                json!({"problem": "no_route", "detail": "/nowhere"})
            )
        );

        let got = send(
            http.patch(&user)
                .bearer_auth("toy-token")
                .header("content-type", "text/plain")
                .body(r#"{"name":"X"}"#),
        )
        .await;
        assert_eq!(
            got,
            (415, None, json!({"problem": "media_type", "detail": ""}))
        );

        let got = send(
            http.patch(&user)
                .bearer_auth("toy-token")
                .header("x-usermock-session", "toy-a")
                .json(&json!({"name": "Lovelace"})),
        )
        .await;
        assert_eq!(got, (200, None, json!({"id": "u1", "name": "Lovelace"})));
        let shared = send(http.get(&user).bearer_auth("toy-token")).await;
        assert_eq!(shared.2, json!({"id": "u1", "name": "Ada"}));

        // By real host, without the prefix.
        let got = send(
            http.get(format!("{base}/users/u2"))
                .header("host", "api.toy.test")
                .bearer_auth("toy-token"),
        )
        .await;
        assert_eq!(got, (200, None, json!({"id": "u2", "name": "Grace"})));
    }

    #[tokio::test]
    async fn scenarios_and_the_admin_api_know_a_registered_vendor() {
        let base = start().await;
        let http = reqwest::Client::new();
        let scenario = json!({
            "name": "toy-missing",
            "rules": [{"match": {"method": "GET", "path": "/users/{id}"},
                       "answer": {"vendor_error": {"status": 404}}}]
        });
        let got = send(
            http.post(format!("{base}/__admin/scenarios"))
                .json(&scenario),
        )
        .await;
        assert_eq!(got.0, 201, "{}", got.2);
        let got = send(
            http.get(format!("{base}/toy/users/u1"))
                .bearer_auth("toy-token")
                .header("x-usermock-scenario", "toy-missing"),
        )
        .await;
        assert_eq!(
            got,
            (404, None, json!({"problem": "no_such_user", "detail": ""}))
        );

        let unreachable = json!({
            "name": "toy-never",
            "rules": [{"match": {"path": "/groups/{id}"}, "answer": {"respond": {"status": 500}}}]
        });
        let got = send(
            http.post(format!("{base}/__admin/scenarios"))
                .json(&unreachable),
        )
        .await;
        assert_eq!(
            got.0, 400,
            "a rule no toy route can reach is refused: {}",
            got.2
        );

        let got = send(http.get(format!("{base}/__admin/toy/users/u2"))).await;
        assert_eq!(got, (200, None, json!({"id": "u2", "name": "Grace"})));
        let got = send(
            http.put(format!("{base}/__admin/toy/users/u3"))
                .json(&json!({"id": "u3", "name": "a name far too long to be valid"})),
        )
        .await;
        assert_eq!(got.0, 400, "{}", got.2);
    }
}
