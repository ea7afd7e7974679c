//! Roster, the example fifth vendor (docs/vendors/roster.md), end to end
//! over HTTP: its routes, its errors in its own format, sessions, its
//! shipped scenario, the Host route and the admin API.

use crate::common::{Reply, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

const PERSON: &str = "/roster/v1/people/p1";

/// The shipped scenarios this module tests with whole answers.
pub(crate) fn tested_scenarios() -> Vec<&'static str> {
    vec!["roster-person-not-found"]
}

async fn call(server: &TestServer, method: Method, path: &str, body: Option<Value>) -> Reply {
    let mut request = server.request(method, path).bearer_auth("roster-token");
    if let Some(body) = body {
        request = request.json(&body);
    }
    server.send(request).await
}

fn error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

#[tokio::test]
async fn a_person_is_read_and_renamed_and_a_session_keeps_its_own_copy() {
    let server = TestServer::start().await;
    let got = call(&server, Method::GET, PERSON, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.json(),
        json!({"id": "p1", "name": "Ada Lovelace", "team": "Engines"})
    );
    let renamed = server
        .send(
            server
                .request(Method::PATCH, PERSON)
                .bearer_auth("roster-token")
                .header("x-usermock-session", "roster-a")
                .json(&json!({"name": "Ada King"})),
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(
        renamed.json(),
        json!({"id": "p1", "name": "Ada King", "team": "Engines"})
    );
    let shared = call(&server, Method::GET, PERSON, None).await;
    assert_eq!(
        shared.json(),
        json!({"id": "p1", "name": "Ada Lovelace", "team": "Engines"})
    );
}

#[tokio::test]
async fn roster_s_errors_come_in_its_own_format() {
    let server = TestServer::start().await;
    let anonymous = server.send(server.request(Method::GET, PERSON)).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        anonymous.json(),
        error("unauthorized", "a valid bearer token is required")
    );
    let missing = call(&server, Method::GET, "/roster/v1/people/p9", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json(), error("not_found", "no person 'p9'"));
    let empty = call(&server, Method::PATCH, PERSON, Some(json!({"name": ""}))).await;
    assert_eq!(empty.status, 422);
    assert_eq!(
        empty.json(),
        error(
            "invalid_name",
            "name must be a string of 1 to 60 characters"
        )
    );
    let wrong = call(&server, Method::DELETE, PERSON, None).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("GET, PATCH"));
    assert_eq!(
        wrong.json(),
        error("method_not_allowed", "allowed: GET, PATCH")
    );
    let text = server
        .send(
            server
                .request(Method::PATCH, PERSON)
                .bearer_auth("roster-token")
                .header("content-type", "text/plain")
                .body(r#"{"name": "X"}"#),
        )
        .await;
    assert_eq!(text.status, 415);
    assert_eq!(
        text.json(),
        error("unsupported_media_type", "send application/json")
    );
    let nowhere = call(&server, Method::GET, "/roster/v2/teams", None).await;
    assert_eq!(nowhere.status, 404);
    assert_eq!(nowhere.json(), error("not_found", "no route /v2/teams"));
}

#[tokio::test]
async fn the_shipped_scenario_answers_roster_s_404() {
    let server = TestServer::start().await;
    let got = server
        .send(
            server
                .request(Method::GET, PERSON)
                .bearer_auth("roster-token")
                .header("x-usermock-scenario", "roster-person-not-found"),
        )
        .await;
    assert_eq!(got.status, 404);
    assert_eq!(got.json(), error("not_found", "no person 'p1'"));
}

#[tokio::test]
async fn the_real_host_routes_without_the_prefix_and_the_admin_api_lists_people() {
    let server = TestServer::start().await;
    let by_host = server
        .send(
            server
                .request(Method::GET, "/v1/people/p2")
                .header("host", "api.roster.example")
                .bearer_auth("roster-token"),
        )
        .await;
    assert_eq!(by_host.status, 200);
    assert_eq!(
        by_host.json(),
        json!({"id": "p2", "name": "Grace Hopper", "team": "Compilers"})
    );
    let too_long = server
        .send(
            server
                .request(Method::PUT, "/__admin/roster/users/p3")
                .json(&json!({"id": "p3", "name": "x".repeat(61), "team": "T"})),
        )
        .await;
    assert_eq!(too_long.status, 400);
    assert_eq!(
        too_long.json(),
        json!({"error": "invalid_record", "message": "/name: must be 1 to 60 characters"})
    );
    let unreachable = server
        .send(server.request(Method::POST, "/__admin/scenarios").json(&json!({
            "name": "roster-never",
            "rules": [{"match": {"path": "/v1/teams/{id}"}, "answer": {"respond": {"status": 500}}}]
        })))
        .await;
    assert_eq!(unreachable.status, 400, "{}", unreachable.text);
    let listed = server
        .send(server.request(Method::GET, "/__admin/roster/users"))
        .await;
    assert_eq!(
        listed.json(),
        json!({"count": 2, "users": [
            {"id": "p1", "name": "Ada Lovelace", "team": "Engines"},
            {"id": "p2", "name": "Grace Hopper", "team": "Compilers"}
        ]})
    );
}
