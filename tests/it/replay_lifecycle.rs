//! Replay's list (`GET /api/user`) and invitations (`POST /api/user`),
//! rule by rule, from docs.replay.sale (list-users, create-user-invite).

use crate::common;
use crate::replay_support;

use common::TestServer;
use replay_support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// The parent's users in list order (oldest first, then by id), legacy
/// shape: id, firstName, email, role, createdAt, lastName, teamId.
/// id, firstName, email, role, createdAt, lastName, teamId.
type LegacyRow<'a> = (
    &'a str,
    Option<&'a str>,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
);

const PARENT_USERS: &[LegacyRow] = &[
    (
        "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
        Some("Alex"),
        "alex.morgan@northstar.example",
        "Manager",
        "2022-01-03T08:30:00Z",
        Some("Morgan"),
        Some(CLOSERS),
    ),
    (
        "0a000000-0000-4000-8000-000000000001",
        Some("Noah"),
        "noah.becker@northstar.example",
        "Rep",
        "2022-03-01T09:00:00Z",
        Some("Becker"),
        Some(CLOSERS),
    ),
    (
        "0a000000-0000-4000-8000-000000000002",
        Some("Olivia"),
        "olivia.chen@northstar.example",
        "Rep",
        "2022-03-01T09:00:00Z",
        Some("Chen"),
        Some(CLOSERS),
    ),
    (
        "0a000000-0000-4000-8000-000000000003",
        Some("Lucas"),
        "lucas.ferreira@northstar.example",
        "Manager",
        "2022-05-12T10:30:00Z",
        Some("Ferreira"),
        Some(LEAD_GEN),
    ),
    (
        "0a000000-0000-4000-8000-000000000004",
        Some("Zapier"),
        "integration+zapier@northstar.example",
        "Integration",
        "2022-07-20T12:00:00Z",
        None,
        Some(INTEGRATIONS),
    ),
    (
        "0a000000-0000-4000-8000-000000000005",
        Some("Emma"),
        "emma.novak@northstar.example",
        "Manager",
        "2022-09-09T09:09:09Z",
        Some("Novak"),
        Some(CLOSERS),
    ),
    (
        "0a000000-0000-4000-8000-000000000006",
        Some("Hannah"),
        "hannah.schmidt@northstar.example",
        "Rep",
        "2023-01-16T08:00:00Z",
        Some("Schmidt"),
        Some(LEAD_GEN),
    ),
    (
        "0a000000-0000-4000-8000-000000000007",
        Some("Oskar"),
        "oskar.nilsson@northstar.example",
        "Rep",
        "2023-02-02T02:02:02Z",
        Some("Nilsson"),
        None,
    ),
    (
        "0a000000-0000-4000-8000-000000000008",
        Some("Grace"),
        "grace.kim@northstar.example",
        "Manager",
        "2023-08-30T16:45:00Z",
        Some("Kim"),
        None,
    ),
    (
        "0a000000-0000-4000-8000-000000000009",
        Some("Ravi"),
        "ravi.patel@northstar.example",
        "Rep",
        "2024-02-29T12:00:00Z",
        Some("Patel"),
        Some(CLOSERS),
    ),
    (
        "0a000000-0000-4000-8000-000000000010",
        Some("Mia"),
        "mia.rossi@northstar.example",
        "Rep",
        "2024-11-11T11:11:11Z",
        Some("Rossi"),
        Some(LEAD_GEN),
    ),
    (
        "0a000000-0000-4000-8000-000000000011",
        Some("Tom"),
        "tom.weber@northstar.example",
        "Rep",
        "2025-06-01T00:00:00Z",
        Some("Weber"),
        Some(CLOSERS),
    ),
    (
        "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a",
        Some("Priya"),
        "priya.shah@northstar.example",
        "Rep",
        "2026-02-18T13:45:00Z",
        Some("Shah"),
        Some(CLOSERS),
    ),
];

fn parent_users() -> Vec<Value> {
    PARENT_USERS
        .iter()
        .map(|(id, first, email, role, created, last, team)| {
            json!({"id": id, "firstName": first, "email": email, "role": role, "createdAt": created, "lastName": last, "teamId": team})
        })
        .collect()
}

/// The child's records in list order, unified shape.
fn child_users() -> Vec<Value> {
    let invite = |id: &str| format!("https://app.replay.sale/onboard/link?invitationId={id}");
    vec![
        json!({"id": "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e", "email": "erik.lund@northstar.example", "firstName": "Erik", "lastName": "Lund", "role": "Disabled", "status": "disabled", "externalId": null, "createdAt": "2022-10-10T10:10:10Z", "invitationUrl": null}),
        json!({"id": "0b000000-0000-4000-8000-000000000001", "email": "sofie.berg@northstar.example", "firstName": "Sofie", "lastName": "Berg", "role": "Manager", "status": "active", "externalId": "crm-0011", "createdAt": "2023-03-03T03:03:03Z", "invitationUrl": null}),
        json!({"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "email": "ingrid.olsen@northstar.example", "firstName": "Ingrid", "lastName": "Olsen", "role": "User", "status": "active", "externalId": "crm-0007", "createdAt": "2023-06-01T09:00:00Z", "invitationUrl": null}),
        json!({"id": "3c90c3cc-0d44-4b50-8888-8dd25736052a", "email": "jsmith@example.com", "firstName": "John", "lastName": "Smith", "role": "Manager", "status": "invited", "externalId": "crm-1042", "createdAt": "2023-11-07T05:31:56Z", "invitationUrl": invite("3c90c3cc-0d44-4b50-8888-8dd25736052a")}),
        json!({"id": "0b000000-0000-4000-8000-000000000002", "email": "jonas.lie@northstar.example", "firstName": "Jonas", "lastName": "Lie", "role": "User", "status": "invited", "externalId": "crm-2001", "createdAt": "2024-07-07T07:07:07Z", "invitationUrl": invite("0b000000-0000-4000-8000-000000000002")}),
    ]
}

// ------------------------------------------------------------------ list --

#[tokio::test]
async fn the_list_answers_the_callers_company_in_the_legacy_paginated_shape() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent").get("/api/user").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.json(),
        json!({"data": parent_users(), "pagination": {"total": 13, "offset": 0, "limit": 100, "hasMore": false}})
    );
}

#[tokio::test]
async fn paging_walks_return_every_user_once_in_order() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    for limit in 1..=14 {
        assert_eq!(
            caller.walk_legacy(limit).await,
            parent_users(),
            "limit {limit}"
        );
    }
    let answer = caller.get("/api/user?offset=12&limit=5").await;
    assert_eq!(
        answer.json(),
        json!({"data": [parent_users()[12]], "pagination": {"total": 13, "offset": 12, "limit": 5, "hasMore": false}})
    );
    let answer = caller.get("/api/user?offset=40").await;
    assert_eq!(
        answer.json(),
        json!({"data": [], "pagination": {"total": 13, "offset": 40, "limit": 100, "hasMore": false}})
    );
}

#[tokio::test]
async fn a_direct_child_s_list_is_users_in_the_unified_shape_and_pages_too() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let answer = caller
        .get(&format!("/api/user?child_company_id={CHILD}"))
        .await;
    assert_eq!(answer.json(), json!({ "users": child_users() }));
    let mut walked = Vec::new();
    for offset in [0, 2, 4, 6] {
        let page = caller
            .get(&format!(
                "/api/user?child_company_id={CHILD}&offset={offset}&limit=2"
            ))
            .await
            .json();
        walked.extend(page["users"].as_array().expect("users").clone());
    }
    assert_eq!(walked, child_users());
}

#[tokio::test]
async fn the_list_of_anything_but_a_direct_child_is_a_403() {
    let server = TestServer::start().await;
    for (key, company) in [
        ("replay-parent", GRANDCHILD),
        ("replay-parent", UNRELATED),
        ("replay-parent", PARENT),
        ("replay-parent", "66666666-6666-4666-8666-666666666666"),
        ("replay-child", SIBLING),
        ("replay-child", PARENT),
        ("replay-other", CHILD),
    ] {
        let answer = Caller::new(&server, key)
            .get(&format!("/api/user?child_company_id={company}"))
            .await;
        assert_eq!(
            (answer.status, answer.json()),
            (StatusCode::FORBIDDEN, not_a_direct_child(company)),
            "{key} → {company}"
        );
    }
}

#[tokio::test]
async fn every_company_lists_only_its_own_users() {
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-other").get("/api/user").await;
    assert_eq!(
        answer.json(),
        json!({"data": [{"id": "a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d", "firstName": "Sam", "email": "sam.rivera@unrelated.example", "role": "Manager", "createdAt": "2025-01-15T15:00:00Z", "lastName": "Rivera", "teamId": "7e000004-0000-4000-8000-000000000001"}],
               "pagination": {"total": 1, "offset": 0, "limit": 100, "hasMore": false}})
    );
    let answer = Caller::new(&server, "replay-child")
        .get("/api/user")
        .await
        .json();
    let ids: Vec<&str> = answer["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|u| u["id"].as_str())
        .collect();
    let expected: Vec<Value> = child_users();
    let expected: Vec<&str> = expected.iter().filter_map(|u| u["id"].as_str()).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn list_parameters_are_checked_and_every_problem_listed() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let answer = caller
        .get("/api/user?offset=-1&limit=1001&child_company_id=child-1")
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::BAD_REQUEST,
            invalid(json!([
                {"field": "child_company_id", "message": "Invalid uuid \"child-1\""},
                {"field": "offset", "message": "Must be a whole number of at least 0"},
                {"field": "limit", "message": "Must be a whole number from 1 to 1000"}
            ]))
        )
    );
    for query in [
        "limit=0",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "limit=1&limit=2",
    ] {
        let answer = caller.get(&format!("/api/user?{query}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
    }
    let answer = caller.get("/api/user?limit=1000&offset=0&unknown=1").await;
    assert_eq!(answer.json()["pagination"]["limit"], 1000);
    // 401 comes first, 400 before 403.
    let answer = Caller::new(&server, "nope").get("/api/user?limit=0").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = caller
        .get(&format!("/api/user?limit=0&child_company_id={UNRELATED}"))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

// --------------------------------------------------------------- invites --

fn invitation(id: &str, created_at: &str, body: Value) -> Value {
    json!({
        "id": id, "email": body["email"], "firstName": body["firstName"],
        "lastName": body.get("lastName").cloned().unwrap_or(Value::Null),
        "role": body["role"], "status": "invited",
        "externalId": body.get("externalId").cloned().unwrap_or(Value::Null),
        "createdAt": created_at,
        "invitationUrl": format!("https://app.replay.sale/onboard/link?invitationId={id}")
    })
}

#[tokio::test]
async fn an_invitation_is_created_and_visible_to_get_list_and_patch() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let body = json!({"email": "nina.berg@northstar.example", "firstName": "Nina", "lastName": "Berg", "role": "Manager", "externalId": "hr-900"});
    let before = OffsetDateTime::now_utc();
    let answer = caller.post("/api/user", &body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let (id, created_at) = new_record_id_and_time(&answer.json(), before);
    assert_eq!(answer.json(), invitation(&id, &created_at, body));

    let legacy = json!({"id": id, "firstName": "Nina", "email": "nina.berg@northstar.example", "role": "Manager", "createdAt": created_at, "lastName": "Berg", "teamId": null});
    assert_eq!(caller.get(&format!("/api/user/{id}")).await.json(), legacy);
    let mut listed = parent_users();
    listed.push(legacy);
    assert_eq!(caller.walk_legacy(5).await, listed);
    let answer = caller
        .patch(&format!("/api/user/{id}"), &json!({"role": "User"}))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["role"], "User");
    assert_eq!(
        caller.get(&format!("/api/user/{id}")).await.json()["role"],
        "Rep"
    );
}

#[tokio::test]
async fn an_invitation_into_a_direct_child_is_seen_in_the_child_s_scope_only() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let body = json!({"email": "li.wei@northstar.example", "firstName": "Li", "role": "User", "childCompanyId": CHILD});
    let before = OffsetDateTime::now_utc();
    let answer = caller.post("/api/user", &body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let (id, created_at) = new_record_id_and_time(&answer.json(), before);
    let expected = invitation(&id, &created_at, body);
    assert_eq!(answer.json(), expected);
    let got = caller
        .get(&format!("/api/user/{id}?childCompanyId={CHILD}"))
        .await;
    assert_eq!(got.json(), expected);
    let mut users = child_users();
    users.push(expected);
    let listed = caller
        .get(&format!("/api/user?child_company_id={CHILD}"))
        .await;
    assert_eq!(listed.json(), json!({ "users": users }));
    // Not the parent's own.
    assert_eq!(
        caller.get(&format!("/api/user/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    // The child itself sees it in its legacy shape.
    let own = Caller::new(&server, "replay-child")
        .get(&format!("/api/user/{id}"))
        .await;
    assert_eq!(own.status, StatusCode::OK);
}

#[tokio::test]
async fn a_retry_with_the_same_external_id_returns_the_existing_invitation() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let body = json!({"email": "kai.moreno@northstar.example", "firstName": "Kai", "role": "User", "externalId": "hr-901"});
    let first = caller.post("/api/user", &body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = caller.post("/api/user", &body).await;
    assert_eq!(
        (second.status, second.json()),
        (StatusCode::OK, first.json())
    );
    // Even when the retry's names differ: the existing invitation, as is.
    let renamed = json!({"email": "KAI.MORENO@northstar.example", "firstName": "Kai-Uwe", "role": "Manager", "externalId": "hr-901"});
    let third = caller.post("/api/user", &renamed).await;
    assert_eq!((third.status, third.json()), (StatusCode::OK, first.json()));
    assert_eq!(
        caller.walk_legacy(100).await.len(),
        14,
        "one invitation, not three"
    );
    // An existing fixture record answers a retry too.
    let grace = caller
        .post("/api/user", &json!({"email": "grace.kim@northstar.example", "firstName": "Grace", "role": "Manager", "externalId": "hr-77"}))
        .await;
    assert_eq!(grace.status, StatusCode::OK);
    assert_eq!(grace.json()["id"], "0a000000-0000-4000-8000-000000000008");
}

/// Grace Kim, the parent's invitation with externalId `hr-77`.
fn grace() -> Value {
    json!({"id": "0a000000-0000-4000-8000-000000000008", "email": "grace.kim@northstar.example", "firstName": "Grace", "lastName": "Kim", "role": "Manager", "status": "invited", "externalId": "hr-77", "createdAt": "2023-08-30T16:45:00Z", "invitationUrl": "https://app.replay.sale/onboard/link?invitationId=0a000000-0000-4000-8000-000000000008"})
}

// This was a 409 before: create-user-invite says "a retry with the same
// externalId for the same company returns the existing invitation rather
// than creating a duplicate", whatever else the retry sends.
#[tokio::test]
async fn a_retry_with_the_same_external_id_and_another_email_returns_the_existing_invitation_noted()
{
    let server = TestServer::start().await;
    let answer = Caller::new(&server, "replay-parent")
        .post("/api/user", &json!({"email": "new.person@northstar.example", "firstName": "New", "role": "User", "externalId": "hr-77"}))
        .await;
    assert_eq!((answer.status, answer.json()), (StatusCode::OK, grace()));
    assert_eq!(
        last_notes(&server).await,
        json!([
            {"rule": "retry-with-other-members", "message": "a retry with the same externalId but another email, firstName, role: the existing record, unchanged (settings.retry_with_other_members)", "source": "inferred: https://docs.replay.sale/api-reference/user/create-user-invite (\"a retry with the same externalId for the same company returns the existing invitation\") and company/create-child-company do not say what a retry with other members gets"},
            {"rule": "create-status", "message": "200 for the existing record returned to a retry", "source": "inferred: https://docs.replay.sale/api-reference/user/create-user-invite and company/create-child-company label the retry answer but give no status codes"}
        ])
    );
}

#[tokio::test]
async fn the_fixture_can_make_a_retry_with_other_members_a_409() {
    let (_dir, server) = server_with_edited_fixture(
        "replay-retry-conflict",
        &[(
            "\"retry_with_other_members\": \"existing\"",
            "\"retry_with_other_members\": \"conflict\"",
        )],
    )
    .await;
    let caller = Caller::new(&server, "replay-parent");
    let answer = caller
        .post("/api/user", &json!({"email": "new.person@northstar.example", "firstName": "New", "role": "User", "externalId": "hr-77"}))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::CONFLICT,
            error("externalId is already used by another user of this company")
        )
    );
    // The same members are still a retry.
    let answer = caller
        .post("/api/user", &json!({"email": "grace.kim@northstar.example", "firstName": "Grace", "role": "Manager", "externalId": "hr-77"}))
        .await;
    assert_eq!((answer.status, answer.json()), (StatusCode::OK, grace()));
    let answer = caller
        .post(
            "/api/company/child",
            &json!({"name": "Northstar Norway", "externalId": "acct-nordics"}),
        )
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::CONFLICT,
            error("externalId is already used by another child company")
        )
    );
}

#[tokio::test]
async fn emails_are_unique_across_all_companies() {
    let server = TestServer::start().await;
    for (key, email) in [
        ("replay-parent", "alex.morgan@northstar.example"),
        ("replay-parent", "Sam.Rivera@Unrelated.example"),
        ("replay-other", "jsmith@example.com"),
    ] {
        let answer = Caller::new(&server, key)
            .post(
                "/api/user",
                &json!({"email": email, "firstName": "X", "role": "User"}),
            )
            .await;
        assert_eq!(
            (answer.status, answer.json()),
            (
                StatusCode::CONFLICT,
                error("A user or invitation with this email already exists")
            ),
            "{email}"
        );
    }
}

#[tokio::test]
async fn another_company_retrying_an_external_id_never_gets_the_other_s_invitation() {
    let server = TestServer::start().await;
    let other = Caller::new(&server, "replay-other");
    // The parent's Grace (externalId hr-77), "retried" by another tenant.
    let answer = other
        .post("/api/user", &json!({"email": "grace.kim@northstar.example", "firstName": "Grace", "role": "Manager", "externalId": "hr-77"}))
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    let body = json!({"email": "grace@unrelated.example", "firstName": "Grace", "role": "Manager", "externalId": "hr-77"});
    let before = OffsetDateTime::now_utc();
    let answer = other.post("/api/user", &body).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let (id, created_at) = new_record_id_and_time(&answer.json(), before);
    assert_eq!(answer.json(), invitation(&id, &created_at, body));
    assert_ne!(id, "0a000000-0000-4000-8000-000000000008");
}

#[tokio::test]
async fn an_invitation_into_anything_but_a_direct_child_is_a_403_and_creates_nothing() {
    let server = TestServer::start().await;
    for (key, company) in [
        ("replay-parent", GRANDCHILD),
        ("replay-parent", UNRELATED),
        ("replay-parent", PARENT),
        ("replay-child", SIBLING),
        ("replay-other", CHILD),
    ] {
        let answer = Caller::new(&server, key)
            .post("/api/user", &json!({"email": format!("x.{key}@example.com"), "firstName": "X", "role": "User", "childCompanyId": company}))
            .await;
        assert_eq!(
            (answer.status, answer.json()),
            (StatusCode::FORBIDDEN, not_a_direct_child(company)),
            "{key} → {company}"
        );
    }
    assert_eq!(
        Caller::new(&server, "replay-parent").walk_legacy(100).await,
        parent_users()
    );
}

#[tokio::test]
async fn invitation_fields_are_checked_and_every_problem_listed() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let answer = caller.post("/api/user", &json!({"lastName": ""})).await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::BAD_REQUEST,
            invalid(json!([
                {"field": "email", "message": "Required"},
                {"field": "firstName", "message": "Required"},
                {"field": "lastName", "message": "Must be at least 1 character"},
                {"field": "role", "message": "Required"}
            ]))
        )
    );
    let long_email = format!("{}@example.com", "a".repeat(244));
    let answer = caller
        .post("/api/user", &json!({"email": long_email, "firstName": "x".repeat(256), "role": "Admin", "externalId": "", "childCompanyId": "c-1", "teamId": CLOSERS}))
        .await;
    assert_eq!(
        answer.json(),
        invalid(json!([
            {"field": "teamId", "message": "Unrecognized field 'teamId'"},
            {"field": "email", "message": "Must be at most 255 characters (got 256)"},
            {"field": "firstName", "message": "Must be at most 255 characters (got 256)"},
            {"field": "role", "message": "Invalid role \"Admin\"; expected 'User' or 'Manager'"},
            {"field": "externalId", "message": "Must be at least 1 character"},
            {"field": "childCompanyId", "message": "Invalid uuid \"c-1\""}
        ]))
    );
    for email in [
        "no-at-sign",
        "a@b",
        "@example.com",
        "a b@example.com",
        "a@@example.com",
    ] {
        let answer = caller
            .post(
                "/api/user",
                &json!({"email": email, "firstName": "X", "role": "User"}),
            )
            .await;
        assert_eq!(
            answer.json(),
            invalid(json!([{"field": "email", "message": "Invalid email"}])),
            "{email}"
        );
    }
    assert_eq!(
        caller.walk_legacy(100).await,
        parent_users(),
        "nothing was created"
    );
}

#[tokio::test]
async fn invitation_checks_run_in_order() {
    let server = TestServer::start().await;
    let taken_and_foreign = json!({"email": "alex.morgan@northstar.example", "firstName": "A", "role": "User", "childCompanyId": UNRELATED});
    let status = |a: common::Reply| a.status;
    // 401 before 400.
    assert_eq!(
        status(
            Caller::new(&server, "nope")
                .post("/api/user", &json!({}))
                .await
        ),
        StatusCode::UNAUTHORIZED
    );
    // 400 before 403.
    let mut bad = taken_and_foreign.clone();
    bad["role"] = json!("Admin");
    assert_eq!(
        status(
            Caller::new(&server, "replay-parent")
                .post("/api/user", &bad)
                .await
        ),
        StatusCode::BAD_REQUEST
    );
    // 403 before the uniqueness rule.
    assert_eq!(
        status(
            Caller::new(&server, "replay-parent")
                .post("/api/user", &taken_and_foreign)
                .await
        ),
        StatusCode::FORBIDDEN
    );
}
