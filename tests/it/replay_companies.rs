//! Replay's child companies (`POST /api/company/child`, from
//! docs.replay.sale create-child-company), and how runtime records live
//! per session.

use crate::common;
use crate::replay_support;

use common::TestServer;
use replay_support::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::OffsetDateTime;

fn child(id: &str, name: &str, parent: &str, external_id: Value, created_at: &str) -> Value {
    json!({"id": id, "name": name, "parentCompanyId": parent, "externalId": external_id, "createdAt": created_at})
}

/// Creates a child of the caller and returns its whole answer's id.
async fn create(caller: &Caller<'_>, body: Value) -> String {
    let before = OffsetDateTime::now_utc();
    let answer = caller.post("/api/company/child", &body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let (id, _) = new_record_id_and_time(&answer.json(), before);
    id
}

#[tokio::test]
async fn a_child_company_is_created_and_at_once_usable_as_child_company_id() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let body = json!({"name": "Northstar Benelux", "externalId": "acct-benelux", "url": "https://benelux.northstar.example", "summary": "Sales in BE, NL, LU"});
    let before = OffsetDateTime::now_utc();
    let answer = caller.post("/api/company/child", &body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let (id, created_at) = new_record_id_and_time(&answer.json(), before);
    assert_eq!(
        answer.json(),
        child(
            &id,
            "Northstar Benelux",
            PARENT,
            json!("acct-benelux"),
            &created_at
        )
    );

    let listed = caller
        .get(&format!("/api/user?child_company_id={id}"))
        .await;
    assert_eq!(
        (listed.status, listed.json()),
        (StatusCode::OK, json!({"users": []}))
    );
    let invited = caller
        .post("/api/user", &json!({"email": "eva.dijk@northstar.example", "firstName": "Eva", "role": "Manager", "childCompanyId": id}))
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
    let user = invited.json();
    let user_id = user["id"].as_str().expect("id");
    let listed = caller
        .get(&format!("/api/user?child_company_id={id}"))
        .await;
    assert_eq!(listed.json(), json!({ "users": [user.clone()] }));
    let got = caller
        .get(&format!("/api/user/{user_id}?childCompanyId={id}"))
        .await;
    assert_eq!(got.json(), user);
    let patched = caller
        .patch(
            &format!("/api/user/{user_id}"),
            &json!({"lastName": "van Dijk", "childCompanyId": id}),
        )
        .await;
    assert_eq!(patched.json()["lastName"], "van Dijk");
    // A grandchild for the parent's own child, not for the parent.
    assert_eq!(
        Caller::new(&server, "replay-child")
            .get(&format!("/api/user?child_company_id={id}"))
            .await
            .json(),
        not_a_direct_child(&id)
    );
}

#[tokio::test]
async fn a_retry_with_the_same_external_id_returns_the_existing_child() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let body = json!({"name": "Northstar Iberia", "externalId": "acct-iberia"});
    let first = caller.post("/api/company/child", &body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = caller.post("/api/company/child", &body).await;
    assert_eq!(
        (second.status, second.json()),
        (StatusCode::OK, first.json())
    );
    // The fixture's children answer a retry too.
    let nordics = caller
        .post(
            "/api/company/child",
            &json!({"name": "Northstar Nordics", "externalId": "acct-nordics"}),
        )
        .await;
    assert_eq!(
        (nordics.status, nordics.json()),
        (
            StatusCode::OK,
            child(
                CHILD,
                "Northstar Nordics",
                PARENT,
                json!("acct-nordics"),
                "2021-06-01T09:00:00.000Z"
            )
        )
    );
    // The same externalId with another name is a retry too ("When
    // externalId is supplied, the call is idempotent"): the existing child,
    // unchanged. (This was a 409 before; create-child-company says a retry
    // with the same identifier returns the existing child.)
    let answer = caller
        .post(
            "/api/company/child",
            &json!({"name": "Northstar Portugal", "externalId": "acct-iberia"}),
        )
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::OK, first.json())
    );
}

#[tokio::test]
async fn company_names_are_unique_across_all_companies() {
    let server = TestServer::start().await;
    for (key, name) in [
        ("replay-parent", "Northstar Denmark"),
        ("replay-parent", "unrelated ventures"),
        ("replay-other", "Northstar Nordics"),
    ] {
        let answer = Caller::new(&server, key)
            .post("/api/company/child", &json!({ "name": name }))
            .await;
        assert_eq!(
            (answer.status, answer.json()),
            (
                StatusCode::CONFLICT,
                error("A company with this name already exists")
            ),
            "{key}: {name}"
        );
    }
    create(
        &Caller::new(&server, "replay-parent"),
        json!({"name": "Northstar Baltics"}),
    )
    .await;
    let answer = Caller::new(&server, "replay-other")
        .post("/api/company/child", &json!({"name": "NORTHSTAR BALTICS"}))
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn another_company_s_external_id_is_never_its_child() {
    let server = TestServer::start().await;
    let other = Caller::new(&server, "replay-other");
    // The parent's child's externalId, "retried" by another tenant.
    let before = OffsetDateTime::now_utc();
    let answer = other
        .post(
            "/api/company/child",
            &json!({"name": "Unrelated Nordics", "externalId": "acct-nordics"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let (id, created_at) = new_record_id_and_time(&answer.json(), before);
    assert_eq!(
        answer.json(),
        child(
            &id,
            "Unrelated Nordics",
            UNRELATED,
            json!("acct-nordics"),
            &created_at
        )
    );
    // And the new child belongs to its creator only.
    let answer = Caller::new(&server, "replay-parent")
        .post("/api/user", &json!({"email": "z@northstar.example", "firstName": "Z", "role": "User", "childCompanyId": id}))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::FORBIDDEN, not_a_direct_child(&id))
    );
}

#[tokio::test]
async fn child_company_fields_are_checked_and_every_problem_listed() {
    let server = TestServer::start().await;
    let caller = Caller::new(&server, "replay-parent");
    let answer = caller
        .post("/api/company/child", &json!({"externalId": "", "url": "not a url", "summary": "s".repeat(2001), "parentCompanyId": CHILD}))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::BAD_REQUEST,
            invalid(json!([
                {"field": "parentCompanyId", "message": "Unrecognized field 'parentCompanyId'"},
                {"field": "name", "message": "Required"},
                {"field": "externalId", "message": "Must be at least 1 character"},
                {"field": "url", "message": "Invalid url"},
                {"field": "summary", "message": "Must be at most 2000 characters (got 2001)"}
            ]))
        )
    );
    let answer = caller
        .post(
            "/api/company/child",
            &json!({"name": "x".repeat(256), "url": 7, "summary": null}),
        )
        .await;
    assert_eq!(
        answer.json(),
        invalid(json!([
            {"field": "name", "message": "Must be at most 255 characters (got 256)"},
            {"field": "url", "message": "Expected a string"},
            {"field": "summary", "message": "Expected a string"}
        ]))
    );
    let longest = create(&caller, json!({"name": "é".repeat(255), "summary": "s".repeat(2000), "url": "mailto:sales@northstar.example"})).await;
    assert!(!longest.is_empty());
    // 401 before 400.
    let answer = Caller::new(&server, "nope")
        .post("/api/company/child", &json!({}))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::UNAUTHORIZED, error("Invalid API key"))
    );
}

#[tokio::test]
async fn runtime_companies_and_invitations_live_in_their_session_only() {
    let server = TestServer::start().await;
    let in_a = Caller::in_session(&server, "replay-parent", "replay-a");
    let in_b = Caller::in_session(&server, "replay-parent", "replay-b");
    let shared = Caller::new(&server, "replay-parent");
    let id = create(
        &in_a,
        json!({"name": "Session Co", "externalId": "acct-session"}),
    )
    .await;
    let list = format!("/api/user?child_company_id={id}");
    assert_eq!(in_a.get(&list).await.status, StatusCode::OK);
    for caller in [&in_b, &shared] {
        let answer = caller.get(&list).await;
        assert_eq!(
            (answer.status, answer.json()),
            (StatusCode::FORBIDDEN, not_a_direct_child(&id))
        );
    }
    // The same name and externalId are free elsewhere: another company there.
    let elsewhere = create(
        &in_b,
        json!({"name": "Session Co", "externalId": "acct-session"}),
    )
    .await;
    assert_ne!(elsewhere, id);
    let invited = in_a
        .post(
            "/api/user",
            &json!({"email": "only.in.a@northstar.example", "firstName": "A", "role": "User"}),
        )
        .await;
    let user_id = invited.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(
        in_b.get(&format!("/api/user/{user_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(shared.walk_legacy(100).await.len(), 13);

    // Resetting session a drops both; b keeps its own.
    let reset = server
        .send(
            server
                .request(Method::POST, "/__admin/reset")
                .header("x-usermock-session", "replay-a"),
        )
        .await;
    assert!(reset.status.is_success(), "{}", reset.text);
    assert_eq!(in_a.get(&list).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        in_a.get(&format!("/api/user/{user_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        in_b.get(&format!("/api/user?child_company_id={elsewhere}"))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_real_host_serves_the_new_routes_without_the_prefix() {
    let server = TestServer::start().await;
    let request = server
        .request(Method::POST, "/api/company/child")
        .header("host", "app.replay.sale")
        .header("x-api-key", "replay-parent")
        .header("content-type", "application/json")
        .body(json!({"name": "Host Co"}).to_string());
    assert_eq!(server.send(request).await.status, StatusCode::CREATED);
    let request = server
        .request(Method::GET, "/api/user?limit=1")
        .header("host", "app.replay.sale")
        .header("x-api-key", "replay-parent");
    let answer = server.send(request).await;
    assert_eq!(
        answer.json()["pagination"],
        json!({"total": 13, "offset": 0, "limit": 1, "hasMore": true})
    );
    // Methods the table does not list.
    let request = server
        .request(Method::DELETE, "/replay/api/user")
        .header("x-api-key", "replay-parent");
    let answer = server.send(request).await;
    assert_eq!(
        (answer.status, answer.header("allow"), answer.json()),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            Some("GET, POST"),
            error("Method not allowed")
        )
    );
}
