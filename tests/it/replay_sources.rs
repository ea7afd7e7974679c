//! Replay against its sources: every documented request example succeeds
//! as documented, a documented request carries no note, and an answer that
//! relied on usermock's own reading carries the note named in
//! docs/vendors/replay.md.

use crate::common;
use crate::replay_support;

use common::TestServer;
use replay_support::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::OffsetDateTime;

const SEED_RECORD: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
const ALEX: &str = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f";
const FIELD_SALES: &str = "550e8400-e29b-41d4-a716-446655440000";

fn seed_record() -> Value {
    json!({"id": SEED_RECORD, "email": "jsmith@example.com", "firstName": "John", "lastName": "Smith", "role": "Manager", "status": "invited", "externalId": "crm-1042", "createdAt": "2023-11-07T05:31:56Z", "invitationUrl": format!("https://app.replay.sale/onboard/link?invitationId={SEED_RECORD}")})
}

// ------------------------------------------------- the documented examples --

#[tokio::test]
async fn the_list_users_example_answers_the_legacy_paginated_shape() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent").get("/api/user").await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(
        body["pagination"],
        json!({"total": 13, "offset": 0, "limit": 100, "hasMore": false})
    );
    for user in body["data"].as_array().expect("data") {
        let members: Vec<&str> = user
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            members,
            [
                "id",
                "firstName",
                "email",
                "role",
                "createdAt",
                "lastName",
                "teamId"
            ]
        );
    }
}

#[tokio::test]
async fn the_get_user_by_id_example_answers_the_legacy_shape_without_notes() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent")
        .get(&format!("/api/user/{ALEX}"))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::OK,
            json!({"id": ALEX, "firstName": "Alex", "email": "alex.morgan@northstar.example", "role": "Manager", "createdAt": "2022-01-03T08:30:00Z", "lastName": "Morgan", "teamId": CLOSERS})
        )
    );
    assert_eq!(last_notes(&server).await, json!([]));
    let answer = Caller::new(&server, "replay-parent")
        .get(&format!("/api/user/{SEED_RECORD}?childCompanyId={CHILD}"))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::OK, seed_record())
    );
    assert_eq!(last_notes(&server).await, json!([]));
}

#[tokio::test]
async fn the_update_user_example_without_a_role_is_answered_without_notes() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent")
        .patch(
            &format!("/api/user/{SEED_RECORD}"),
            &json!({"firstName": "Jane", "lastName": "Doe", "childCompanyId": CHILD}),
        )
        .await;
    let mut expected = seed_record();
    expected["firstName"] = json!("Jane");
    expected["lastName"] = json!("Doe");
    assert_eq!((answer.status, answer.json()), (StatusCode::OK, expected));
    assert_eq!(last_notes(&server).await, json!([]));
}

#[tokio::test]
async fn the_create_user_example_creates_an_invitation_in_the_child() {
    let server = TestServer::start().await;
    let body = json!({"email": "learner@acme.example", "firstName": "Jamie", "role": "User", "lastName": "Lee", "externalId": "clp-user-12345", "childCompanyId": CHILD});
    let before = OffsetDateTime::now_utc();
    let caller = Caller::new(&server, "replay-parent");
    let answer = caller.post("/api/user", &body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let (id, created_at) = new_record_id_and_time(&answer.json(), before);
    let expected = json!({"id": id, "email": "learner@acme.example", "firstName": "Jamie", "lastName": "Lee", "role": "User", "status": "invited", "externalId": "clp-user-12345", "createdAt": created_at, "invitationUrl": format!("https://app.replay.sale/onboard/link?invitationId={id}")});
    assert_eq!(answer.json(), expected);
    assert_eq!(
        rules(&last_notes(&server).await),
        [
            "invitation-url-form",
            "legacy-role-mapping",
            "create-status"
        ]
    );
    // "Existing invitation returned (idempotent retry)."
    let retried = caller.post("/api/user", &body).await;
    assert_eq!((retried.status, retried.json()), (StatusCode::OK, expected));
    assert_eq!(rules(&last_notes(&server).await), ["create-status"]);
}

#[tokio::test]
async fn the_create_child_company_example_creates_a_child_of_the_caller() {
    let server = TestServer::start().await;
    let body = json!({"name": "Acme Corp - North Division", "externalId": "clp-customer-12345", "url": "https://acme.example.com", "summary": "North America sales division."});
    let before = OffsetDateTime::now_utc();
    let caller = Caller::new(&server, "replay-parent");
    let answer = caller.post("/api/company/child", &body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let (id, created_at) = new_record_id_and_time(&answer.json(), before);
    let expected = json!({"id": id, "name": "Acme Corp - North Division", "parentCompanyId": PARENT, "externalId": "clp-customer-12345", "createdAt": created_at});
    assert_eq!(answer.json(), expected);
    // "existing child returned on idempotent retry", even with another
    // summary (noted).
    let mut other = body.clone();
    other["summary"] = json!("EMEA sales division.");
    let retried = caller.post("/api/company/child", &other).await;
    assert_eq!((retried.status, retried.json()), (StatusCode::OK, expected));
    assert_eq!(
        rules(&last_notes(&server).await),
        ["retry-with-other-members", "create-status"]
    );
}

#[tokio::test]
async fn the_update_team_example_updates_a_team_without_notes() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent")
        .patch(
            &format!("/api/team/{FIELD_SALES}"),
            &json!({"name": "<string>", "description": "<string>", "type": "Default", "useTurnConnection": true}),
        )
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::OK,
            json!({"id": FIELD_SALES, "name": "<string>", "companyId": PARENT, "createdAt": "2023-04-03T09:00:00.000Z", "description": "<string>", "type": "Default", "useTurnConnection": true})
        )
    );
    assert_eq!(last_notes(&server).await, json!([]));
}

// ------------------------------------------------------------------ notes --

#[tokio::test]
async fn an_unknown_query_parameter_is_ignored_and_noted() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent")
        .get(&format!("/api/user/{ALEX}?expand=team&expand=company"))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        last_notes(&server).await,
        json!([{"rule": "unknown-query-parameter", "message": "the query parameter 'expand' is not documented for this route: ignored", "source": "inferred: Replay's API reference does not say what an undocumented query parameter gets"}])
    );
}

#[tokio::test]
async fn get_by_id_reads_the_list_s_spelling_of_the_child_company_too_and_notes_it() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let answer = caller
        .get(&format!("/api/user/{SEED_RECORD}?child_company_id={CHILD}"))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::OK, seed_record())
    );
    assert_eq!(
        last_notes(&server).await,
        json!([{"rule": "child-company-query-spelling", "message": "the child company was read from child_company_id (the list route's spelling); this page writes ?childCompanyId=", "source": "inferred: https://docs.replay.sale/api-reference/user/get-user-by-id writes ?childCompanyId= in its description; list-users names the parameter child_company_id"}])
    );
    let answer = caller
        .get(&format!(
            "/api/user/{SEED_RECORD}?child_company_id={CHILD}&childCompanyId={CHILD}"
        ))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::BAD_REQUEST,
            invalid(json!([{"field": "childCompanyId", "message": "Must be given once"}]))
        )
    );
    // Still the direct-child rule under either spelling.
    let answer = caller
        .get(&format!(
            "/api/user/{SEED_RECORD}?child_company_id={UNRELATED}"
        ))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::FORBIDDEN, not_a_direct_child(UNRELATED))
    );
}

#[tokio::test]
async fn lists_note_their_order_invitations_and_child_paging() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    caller.get("/api/user?limit=2").await;
    assert_eq!(
        last_notes(&server).await,
        json!([
            {"rule": "legacy-shape-invitations", "message": "the legacy shape counts 3 pending invitation(s) (settings.legacy_shape_includes_invitations)", "source": "inferred: https://docs.replay.sale/api-reference/user/list-users and get-user-by-id do not say whether the legacy shape holds pending invitations; their schema types firstName as a required string"},
            {"rule": "list-order", "message": "the records are in usermock's order: oldest createdAt first, then by id", "source": "inferred: https://docs.replay.sale/api-reference/user/list-users documents no order"}
        ])
    );
    caller
        .get(&format!("/api/user?child_company_id={CHILD}&offset=4"))
        .await;
    assert_eq!(rules(&last_notes(&server).await), ["child-list-paging"]);
}

#[tokio::test]
async fn every_error_answer_notes_that_its_body_is_usermock_s() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent")
        .get(&format!("/api/user/{SEED_RECORD}"))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        last_notes(&server).await,
        json!([{"rule": "error-body", "message": "the 404 answer's body is usermock's {\"error\"} format", "source": "inferred: Replay's API reference (https://docs.replay.sale/api-reference/user/update-user and the other user pages) documents no error body, and no status but the 403 for a company that is not a direct child"}])
    );
}

// ---------------------------------------------------------------- fixture --

#[tokio::test]
async fn every_legacy_record_of_the_default_fixture_has_a_string_first_name() {
    let server = TestServer::start().await;
    for key in [
        "replay-parent",
        "replay-child",
        "replay-grandchild",
        "replay-sibling",
        "replay-other",
    ] {
        let users = Caller::new(&server, key).walk_legacy(1000).await;
        assert!(!users.is_empty(), "{key}");
        for user in users {
            assert!(user["firstName"].is_string(), "{key}: {user}");
        }
    }
}

#[tokio::test]
async fn a_user_without_a_first_name_is_refused_as_a_fixture_record() {
    let server = TestServer::start().await;
    let path = format!("/__admin/replay/users/{ALEX}");
    let mut record = server.send(server.request(Method::GET, &path)).await.json();
    record["firstName"] = Value::Null;
    let answer = server
        .send(server.request(Method::PUT, &path).json(&record))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_record", "message": "/firstName: users (active or disabled) need a first name"})
        )
    );
}

// --------------------------------------------------------------- settings --

#[tokio::test]
async fn the_fixture_can_make_a_disabled_user_s_patch_a_409_and_a_creation_a_200() {
    let (_dir, server) = server_with_edited_fixture(
        "replay-statuses",
        &[(
            "\"team_list\": \"teams\"",
            "\"team_list\": \"teams\", \"disabled_update_status\": 409, \"created_status\": 200",
        )],
    )
    .await;
    let caller = Caller::new(&server, "replay-parent");
    // Emma Novak, a disabled manager of the parent.
    let answer = caller
        .patch(
            "/api/user/0a000000-0000-4000-8000-000000000005",
            &json!({"firstName": "Emma"}),
        )
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::CONFLICT,
            error("Disabled users cannot be updated")
        )
    );
    let answer = caller
        .post(
            "/api/company/child",
            &json!({"name": "Northstar Iberia", "externalId": "acct-iberia"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        last_notes(&server).await,
        json!([{"rule": "create-status", "message": "200 for a created record (settings.created_status; a retry gets 200)", "source": "inferred: https://docs.replay.sale/api-reference/user/create-user-invite and company/create-child-company label the retry answer but give no status codes"}])
    );
    let answer = caller
        .post(
            "/api/user",
            &json!({"email": "li.na@northstar.example", "firstName": "Li", "role": "User"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[test]
fn a_status_setting_outside_its_choices_is_a_fixture_error() {
    let dir = common::TempDir::new("replay-bad-statuses");
    for vendor in usermock::vendor_names() {
        let mut text =
            std::fs::read_to_string(common::repo_fixtures().join(format!("{vendor}.json")))
                .expect("fixture");
        if vendor == "replay" {
            text = text.replace(
                "\"team_list\": \"teams\"",
                "\"team_list\": \"teams\", \"disabled_update_status\": 422, \"created_status\": 204",
            );
        }
        dir.write(&format!("{vendor}.json"), &text);
    }
    let report = usermock::Usermock::check(&usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    });
    let text = report.error.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.contains("/settings/disabled_update_status: 422 is not one of 400, 409"),
        "{text}"
    );
    assert!(
        text.contains("/settings/created_status: 204 is not one of 200, 201"),
        "{text}"
    );
}

#[test]
fn every_note_rule_id_is_named_in_the_vendor_doc() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let code = std::fs::read_to_string(root.join("src/vendors/replay/notes.rs")).expect("notes.rs");
    let doc = std::fs::read_to_string(root.join("docs/vendors/replay.md")).expect("replay.md");
    let ids: Vec<&str> = code
        .split("// ----------------------------------------------------------------- sources --")
        .next()
        .expect("the rule ids")
        .lines()
        .filter_map(|line| line.strip_prefix("pub(super) const "))
        .filter_map(|rest| rest.split('"').nth(1))
        .collect();
    assert_eq!(ids.len(), 18, "{ids:?}");
    for id in ids {
        assert!(
            doc.contains(&format!("| `{id}` |")),
            "docs/vendors/replay.md has no row for the note `{id}`"
        );
    }
}

#[tokio::test]
async fn a_user_patch_without_a_field_to_change_is_answered_unchanged_and_noted() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent")
        .patch(
            &format!("/api/user/{SEED_RECORD}"),
            &json!({"childCompanyId": CHILD}),
        )
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::OK, seed_record())
    );
    assert_eq!(
        last_notes(&server).await,
        json!([{"rule": "empty-user-update", "message": "no firstName, lastName or role to change: 200 with the record unchanged", "source": "inferred: https://docs.replay.sale/api-reference/user/update-user marks every body member optional and does not say what a body without one gets (update-team refuses one: \"At least one field must be provided\")"}])
    );
}

#[tokio::test]
async fn the_team_list_notes_a_query_parameter_it_ignores() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent")
        .get(&format!("/api/team?child_company_id={CHILD}"))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["teams"][0]["companyId"], PARENT);
    assert_eq!(
        rules(&last_notes(&server).await),
        ["unknown-query-parameter", "team-list-shape"]
    );
}
