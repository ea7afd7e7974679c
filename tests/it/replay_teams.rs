//! Replay's teams: `PATCH /api/team/{teamId}`
//! (https://docs.replay.sale/api-reference/team/update-team) and
//! `GET /api/team` (named by Invite User; its shape is usermock's, noted).

use crate::common;
use crate::replay_support;

use common::TestServer;
use replay_support::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Invite User's documented example `teamId`, a team of the parent.
const FIELD_SALES: &str = "550e8400-e29b-41d4-a716-446655440000";

fn closers() -> Value {
    json!({"id": CLOSERS, "name": "Closers", "companyId": PARENT, "createdAt": "2021-01-11T09:00:00.000Z", "description": "Field sales closers, Northstar HQ.", "type": "Default", "useTurnConnection": false})
}

fn parent_teams() -> Vec<Value> {
    vec![
        closers(),
        json!({"id": INTEGRATIONS, "name": "Integrations", "companyId": PARENT, "createdAt": "2021-03-02T09:00:00.000Z", "description": "Service accounts for CRM sync.", "type": "Integration", "useTurnConnection": false}),
        json!({"id": LEAD_GEN, "name": "Lead Gen", "companyId": PARENT, "createdAt": "2022-05-02T09:00:00.000Z", "description": null, "type": "LeadGen", "useTurnConnection": true}),
        json!({"id": FIELD_SALES, "name": "Field Sales", "companyId": PARENT, "createdAt": "2023-04-03T09:00:00.000Z", "description": "The team of Invite User's documented example (teamId 550e8400-…).", "type": "Default", "useTurnConnection": false}),
    ]
}

const TEAM_LIST_NOTE: &str = "inferred: https://docs.replay.sale/api-reference/user/invite-user names GET /api/team; its page was not found, so each team is shown as https://docs.replay.sale/api-reference/team/update-team answers one";

#[tokio::test]
async fn the_team_list_holds_the_caller_s_teams_as_update_team_answers_them_and_is_noted() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent").get("/api/team").await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::OK, json!({ "teams": parent_teams() }))
    );
    assert_eq!(
        last_notes(&server).await,
        json!([{"rule": "team-list-shape", "message": "the list's envelope ({\"teams\": [...]}), its order (oldest createdAt first) and its items' members are usermock's", "source": TEAM_LIST_NOTE}])
    );
    let answer = Caller::new(&server, "replay-child").get("/api/team").await;
    assert_eq!(
        answer.json(),
        json!({"teams": [{"id": NORDICS_SALES, "name": "Nordics Sales", "companyId": CHILD, "createdAt": "2021-06-07T09:00:00.000Z", "description": "Sales team for Norway, Sweden and Denmark.", "type": "Default", "useTurnConnection": false}]})
    );
    let answer = Caller::new(&server, "replay-sibling")
        .get("/api/team")
        .await;
    assert_eq!(answer.json(), json!({"teams": []}));
}

#[tokio::test]
async fn the_fixture_can_make_the_team_list_a_bare_array() {
    let (_dir, server) = server_with_edited_fixture(
        "replay-team-array",
        &[("\"team_list\": \"teams\"", "\"team_list\": \"array\"")],
    )
    .await;
    let answer = Caller::new(&server, "replay-parent").get("/api/team").await;
    assert_eq!(answer.json(), json!(parent_teams()));
    assert_eq!(rules(&last_notes(&server).await), ["team-list-shape"]);
}

#[tokio::test]
async fn update_team_changes_only_the_fields_given_and_the_list_shows_it() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let path = format!("/api/team/{CLOSERS}");
    let answer = caller.patch(&path, &json!({"name": "Closers EMEA"})).await;
    let mut expected = closers();
    expected["name"] = json!("Closers EMEA");
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::OK, expected.clone())
    );
    assert_eq!(last_notes(&server).await, json!([]), "a documented request");

    let answer = caller
        .patch(
            &path,
            &json!({"description": null, "type": "LeadGen", "useTurnConnection": true}),
        )
        .await;
    expected["description"] = Value::Null;
    expected["type"] = json!("LeadGen");
    expected["useTurnConnection"] = json!(true);
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::OK, expected.clone())
    );
    let listed = caller.get("/api/team").await.json();
    assert_eq!(listed["teams"][0], expected);
}

#[tokio::test]
async fn update_team_needs_at_least_one_field() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent")
        .patch(&format!("/api/team/{CLOSERS}"), &json!({}))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::BAD_REQUEST,
            invalid(json!([{"field": "body", "message": "At least one field must be provided"}]))
        )
    );
    assert_eq!(rules(&last_notes(&server).await), ["error-body"]);
}

#[tokio::test]
async fn update_team_checks_every_field_and_lists_every_problem() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent")
        .patch(
            &format!("/api/team/{CLOSERS}"),
            &json!({"name": "", "description": 5, "type": "Sales", "useTurnConnection": "yes", "companyId": PARENT}),
        )
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::BAD_REQUEST,
            invalid(json!([
                {"field": "companyId", "message": "Unrecognized field 'companyId'"},
                {"field": "description", "message": "Expected a string or null"},
                {"field": "type", "message": "Invalid type \"Sales\"; expected 'Default', 'Integration' or 'LeadGen'"},
                {"field": "name", "message": "Must be at least 1 character"},
                {"field": "useTurnConnection", "message": "Expected a boolean"}
            ]))
        )
    );
    assert_eq!(
        rules(&last_notes(&server).await),
        ["error-body", "unknown-member"]
    );
    // A member the schema lacks alone is no field of the route.
    let answer = Caller::new(&server, "replay-parent")
        .patch(&format!("/api/team/{CLOSERS}"), &json!({"members": []}))
        .await;
    assert_eq!(
        answer.json(),
        invalid(json!([
            {"field": "members", "message": "Unrecognized field 'members'"},
            {"field": "body", "message": "At least one field must be provided"}
        ]))
    );
    let answer = Caller::new(&server, "replay-parent")
        .patch("/api/team/closers", &json!({"name": "X"}))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::BAD_REQUEST,
            invalid(json!([{"field": "teamId", "message": "Invalid uuid \"closers\""}]))
        )
    );
    assert_eq!(
        Caller::new(&server, "replay-parent")
            .get("/api/team")
            .await
            .json(),
        json!({"teams": parent_teams()}),
        "nothing changed"
    );
}

#[tokio::test]
async fn another_company_s_team_or_an_unknown_one_is_not_found() {
    let server = TestServer::start().await;
    for (key, team) in [
        ("replay-child", CLOSERS),
        ("replay-parent", NORDICS_SALES),
        ("replay-parent", "7e000009-0000-4000-8000-000000000009"),
    ] {
        let answer = Caller::new(&server, key)
            .patch(&format!("/api/team/{team}"), &json!({"name": "Taken over"}))
            .await;
        assert_eq!(
            (answer.status, answer.json()),
            (StatusCode::NOT_FOUND, error("Team not found")),
            "{key} → {team}"
        );
    }
    let answer = Caller::new(&server, "replay-child").get("/api/team").await;
    assert_eq!(answer.json()["teams"][0]["name"], "Nordics Sales");
}

#[tokio::test]
async fn team_routes_need_a_key_and_a_json_body() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "nope").get("/api/team").await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::UNAUTHORIZED, error("Invalid API key"))
    );
    let answer = server
        .send(
            server
                .request(Method::PATCH, &format!("/replay/api/team/{CLOSERS}"))
                .header("x-api-key", "replay-parent")
                .body("{\"name\":\"X\"}"),
        )
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::BAD_REQUEST,
            error("Content-Type must be application/json")
        )
    );
    let answer = server
        .send(
            server
                .request(Method::DELETE, &format!("/replay/api/team/{CLOSERS}"))
                .header("x-api-key", "replay-parent"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.header("allow"), Some("PATCH"));
}

#[tokio::test]
async fn a_team_change_stays_in_its_session_and_a_reset_undoes_it() {
    let server = TestServer::start().await;
    let in_session = Caller::in_session(&server, "replay-parent", "teams-a");
    let answer = in_session
        .patch(
            &format!("/api/team/{CLOSERS}"),
            &json!({"name": "Session Closers"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        in_session.get("/api/team").await.json()["teams"][0]["name"],
        "Session Closers"
    );
    let shared = Caller::new(&server, "replay-parent");
    assert_eq!(
        shared.get("/api/team").await.json(),
        json!({"teams": parent_teams()})
    );
    let answer = shared
        .patch(
            &format!("/api/team/{CLOSERS}"),
            &json!({"name": "Shared Closers"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let reset = server
        .send(
            server
                .request(Method::POST, "/__admin/reset")
                .header("content-type", "application/json"),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_eq!(
        shared.get("/api/team").await.json(),
        json!({"teams": parent_teams()})
    );
}

#[tokio::test]
async fn a_team_change_survives_snapshot_reset_and_restore() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let answer = caller
        .patch(
            &format!("/api/team/{CLOSERS}"),
            &json!({"name": "Snapshot Closers"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let before = caller.get("/api/team").await.json();
    let snapshot = server
        .send(server.request(Method::GET, "/__admin/snapshot"))
        .await;
    assert_eq!(snapshot.status, StatusCode::OK, "{}", snapshot.text);
    let admin = |method: Method, path: &str| {
        server
            .request(method, path)
            .header("content-type", "application/json")
    };
    assert_eq!(
        server
            .send(admin(Method::POST, "/__admin/reset"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        caller.get("/api/team").await.json(),
        json!({"teams": parent_teams()})
    );
    let restored = server
        .send(admin(Method::PUT, "/__admin/snapshot").body(snapshot.text.clone()))
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    assert_eq!(caller.get("/api/team").await.json(), before);
}
