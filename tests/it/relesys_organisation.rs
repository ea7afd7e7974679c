//! Relesys departments and user groups by id, a user's status and
//! deletion, the token endpoint's advice, and the request notes of these
//! routes: `PATCH /departments/{id}` and `PATCH /userGroups/{id}` are on
//! Relesys' own pages; the other routes only in the public client
//! getsno/relesys-users (`[D-3p]`, noted on every answer).

use crate::common::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const HQ: &str = "5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5";
const CPH: &str = "27744bfa-d16b-4a6a-8f9a-8a79351f9c5f";
const AARHUS: &str = "b3f1c2d4-8e7a-4c5b-9d6e-1f2a3b4c5d6e";
const ALL_EMPLOYEES: &str = "22360293-0789-4346-ba9a-5609fa65703c";
const ONBOARDING: &str = "e4d3c2b1-a098-4f7e-8d6c-5b4a39281706";
/// The docs' user; it manages the head office in the default fixture.
const USER: &str = "6cd99267-5adf-462d-88a2-6f86b7b2a164";
const DISABLED_USER: &str = "3d7b9f21-6c4e-4a8b-9e0d-5f1a2c3b4d6e";
const PENDING_USER: &str = "f0e1d2c3-b4a5-4697-8877-665544332211";
const BLOCKED_USER: &str = "a9b8c7d6-e5f4-4321-8fed-cba987654321";
const UNKNOWN: &str = "00000000-0000-4000-8000-000000000000";

const THIRD_PARTY_SOURCE: &str = "documented by a third-party client only: https://github.com/getsno/relesys-users (src/Api/UserManagement); its answer's status and body are inferred";

/// The head office as the default fixture holds it, every member of the
/// docs' update-department example in its order.
fn head_office() -> Value {
    json!({
        "id": HQ,
        "url": null,
        "creationDateTime": "2018-01-02T08:00:00Z",
        "lastModifiedDateTime": "2025-06-01T10:00:00Z",
        "name": "Head Office",
        "parentId": null,
        "externalId": "HQ",
        "addressLine": "Relesys Road 10",
        "addressLine2": "2nd floor",
        "zipCode": "2920",
        "city": "Charlottenlund",
        "defaultPhoneCountryCode": 45,
        "phoneNumber": {"countryCode": 45, "number": "12345678"},
        "managerUserId": USER,
        "showInContacts": true,
        "showInHighscores": true,
        "showInActivityStatistics": true,
        "contentCulture": "da-dk",
        "uiCulture": "da-dk",
        "type": "Company",
        "timeZone": "Romance Standard Time",
        "email": "hq@example.com",
        "userLanguageEnabled": true,
        "selectedCultures": ["da-DK", "en-GB"],
        "showDepartmentManagerPublic": false,
        "showEmployeeList": true,
        "showDepartmentUsersInPublicContacts": true,
        "showDepartmentInTaggingOverview": true,
        "showUsersInTaggingOverview": true,
        "locales": [{"culture": "en-GB", "description": "The head office"}]
    })
}

fn all_employees() -> Value {
    json!({
        "id": ALL_EMPLOYEES,
        "url": null,
        "creationDateTime": "2018-01-02T08:05:00Z",
        "lastModifiedDateTime": "2018-01-02T08:05:00Z",
        "name": "All Employees",
        "externalId": "ALL",
        "description": "Everyone in the company"
    })
}

fn error(code: u16, message: &str) -> Value {
    json!({"errorCode": code.to_string(), "message": message})
}

async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<(&str, Value)>,
) -> Reply {
    let mut request = server
        .request(method, &format!("/relesys/api/v1.3{path}"))
        .bearer_auth(token);
    if let Some((content_type, body)) = body {
        request = request
            .header("content-type", content_type)
            .body(body.to_string());
    }
    server.send(request).await
}

async fn patch(server: &TestServer, path: &str, ops: Value) -> Reply {
    call(
        server,
        Method::PATCH,
        path,
        "relesys-admin",
        Some(("application/json-patch+json", ops)),
    )
    .await
}

async fn get(server: &TestServer, path: &str) -> Reply {
    call(server, Method::GET, path, "relesys-admin", None).await
}

async fn post(server: &TestServer, path: &str, body: Value) -> Reply {
    call(
        server,
        Method::POST,
        path,
        "relesys-admin",
        Some(("application/json", body)),
    )
    .await
}

async fn delete(server: &TestServer, path: &str) -> Reply {
    call(server, Method::DELETE, path, "relesys-admin", None).await
}

async fn put_status(server: &TestServer, id: &str, body: Value) -> Reply {
    call(
        server,
        Method::PUT,
        &format!("/users/{id}/status"),
        "relesys-admin",
        Some(("application/json", body)),
    )
    .await
}

/// The notes of the journal's newest Relesys entry.
async fn last_notes(server: &TestServer) -> Value {
    let list = server
        .send(server.request(Method::GET, "/__admin/requests?vendor=relesys"))
        .await
        .json();
    list["requests"]
        .as_array()
        .and_then(|entries| entries.last())
        .map(|entry| entry["notes"].clone())
        .expect("a journal entry")
}

fn third_party_note(route: &str) -> Value {
    json!({"rule": "relesys-third-party-route", "message": route, "source": THIRD_PARTY_SOURCE})
}

/// Asserts a 200 `{"data": expected}` but for a fresh
/// `lastModifiedDateTime` (.NET's 7 fractional digits).
fn assert_written(answer: &Reply, mut expected: Value) {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    let stamp = body["data"]["lastModifiedDateTime"]
        .as_str()
        .expect("stamp")
        .to_owned();
    assert_eq!(stamp.len(), 28, "7 fractional digits: {stamp}");
    assert!(stamp.as_str() > "2026-01-01", "{stamp}");
    expected["lastModifiedDateTime"] = json!(stamp);
    assert_eq!(body, json!({ "data": expected }));
}

// ------------------------------------------------------------ departments --

#[tokio::test]
async fn a_department_patch_answers_the_whole_department_and_relies_on_no_inferred_rule() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        &format!("/departments/{HQ}"),
        json!([
            {"op": "replace", "path": "/name", "value": "Relesys Main HQ"},
            {"op": "replace", "path": "/city", "value": "Relecity"},
            {"op": "replace", "path": "/showEmployeeList", "value": false}
        ]),
    )
    .await;
    let mut expected = head_office();
    expected["name"] = json!("Relesys Main HQ");
    expected["city"] = json!("Relecity");
    expected["showEmployeeList"] = json!(false);
    assert_written(&answer, expected.clone());
    assert_eq!(last_notes(&server).await, json!([]));

    // The write is kept (and the list shows it too).
    let stamp = answer.json()["data"]["lastModifiedDateTime"].clone();
    expected["lastModifiedDateTime"] = stamp;
    let again = get(&server, &format!("/departments/{HQ}")).await;
    assert_eq!(again.json(), json!({ "data": expected.clone() }));
    let list = get(&server, "/departments?externalId=HQ").await;
    assert_eq!(list.json(), json!({"count": 1, "data": [expected]}));
}

#[tokio::test]
async fn a_department_patch_follows_the_user_patch_rules() {
    let server = TestServer::start().await;
    let path = format!("/departments/{HQ}");
    for (ops, message) in [
        (
            json!([{"op": "replace", "path": "/nickname", "value": "x"}]),
            "Operation 0 (replace /nickname): path is invalid",
        ),
        (
            json!([{"op": "add", "path": "/nickname", "value": "x"}]),
            "Operation 0 (add /nickname): '/nickname' is not a member of a department",
        ),
        (
            json!([{"op": "replace", "path": "/id", "value": UNKNOWN}]),
            "Operation 0 (replace /id): '/id' is read-only",
        ),
        (
            json!([{"op": "remove", "path": "/showInContacts"}]),
            "Operation 0 (remove /showInContacts): '/showInContacts' cannot be removed from a department",
        ),
        (
            json!([{"op": "replace", "path": "/showInContacts", "value": "yes"}]),
            "Operation 0 (replace /showInContacts): /showInContacts: invalid type: string \"yes\", expected a boolean",
        ),
        (
            json!([{"op": "replace", "path": "/type", "value": "Castle"}]),
            "Operation 0 (replace /type): /type: 'Castle' is not a department type (one of Company, Country, Department, District, Division, Other, Partner, Region, Store, Subdepartment)",
        ),
        (
            json!([{"op": "replace", "path": "/parentId", "value": UNKNOWN}]),
            "Operation 0 (replace /parentId): /parentId: no department has id '00000000-0000-4000-8000-000000000000'",
        ),
        (
            json!([{"op": "replace", "path": "/parentId", "value": CPH}]),
            "Operation 0 (replace /parentId): /parentId: a department cannot be below itself",
        ),
        (
            json!([{"op": "replace", "path": "/managerUserId", "value": UNKNOWN}]),
            "Operation 0 (replace /managerUserId): /managerUserId: no user has id '00000000-0000-4000-8000-000000000000'",
        ),
        (
            json!([{"op": "replace", "path": "/email", "value": "nowhere"}]),
            "Operation 0 (replace /email): /email: 'nowhere' is not an e-mail address",
        ),
        (
            json!([{"op": "replace", "path": "/phoneNumber/number", "value": "12-34"}]),
            "Operation 0 (replace /phoneNumber/number): /phoneNumber/number: '12-34' is not a phone number (digits only)",
        ),
    ] {
        let answer = patch(&server, &path, ops.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{ops}: {}", answer.text);
        assert_eq!(answer.json(), error(400, message), "{ops}");
    }
    assert_eq!(
        get(&server, &path).await.json(),
        json!({ "data": head_office() }),
        "no refused patch changed the department"
    );

    // Names match case-insensitively; removing a nullable member sets null.
    let answer = patch(
        &server,
        &path,
        json!([{"op": "remove", "path": "/AddressLine2"}, {"op": "replace", "path": "/PhoneNumber/Number", "value": "87654321"}]),
    )
    .await;
    let mut expected = head_office();
    expected["addressLine2"] = Value::Null;
    expected["phoneNumber"]["number"] = json!("87654321");
    assert_written(&answer, expected);

    // Scope, existence, the id's form and the content type.
    let readonly = call(
        &server,
        Method::PATCH,
        &path,
        "relesys-readonly",
        Some(("application/json-patch+json", json!([]))),
    )
    .await;
    assert_eq!(readonly.status, StatusCode::FORBIDDEN);
    assert_eq!(
        readonly.json()["acceptedScopes"],
        json!([
            "relesys.api",
            "relesys.api:write",
            "relesys.api.users",
            "relesys.api.users:write"
        ])
    );
    let missing = patch(&server, &format!("/departments/{UNKNOWN}"), json!([])).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json(),
        error(
            404,
            "The department '00000000-0000-4000-8000-000000000000' was not found"
        )
    );
    let malformed = patch(&server, "/departments/hq", json!([])).await;
    assert_eq!(
        malformed.json(),
        error(400, "The value 'hq' is not a valid GUID for departmentId")
    );
    let text = call(
        &server,
        Method::PATCH,
        &path,
        "relesys-admin",
        Some(("text/plain", json!([]))),
    )
    .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn a_department_is_read_by_id_with_a_third_party_note() {
    let server = TestServer::start().await;
    let answer = get(&server, &format!("/departments/{HQ}")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({ "data": head_office() }));
    assert_eq!(
        last_notes(&server).await,
        json!([third_party_note("GET /departments/{departmentId}")])
    );
    let missing = get(&server, &format!("/departments/{UNKNOWN}")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_created_department_is_the_sessions_own_and_users_may_refer_to_it() {
    let server = TestServer::start().await;
    let session = |request: reqwest::RequestBuilder| request.header("x-usermock-session", "org-a");
    let created = server
        .send(session(
            server
                .request(Method::POST, "/relesys/api/v1.3/departments")
                .bearer_auth("relesys-admin")
                .header("content-type", "application/json")
                .body(json!({"name": "Odense Store", "parentId": HQ, "type": "Store", "City": "Odense"}).to_string()),
        ))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let data = created.json()["data"].clone();
    let id = data["id"].as_str().expect("id").to_owned();
    let stamp = data["creationDateTime"].clone();
    assert_eq!(data["lastModifiedDateTime"], stamp);
    assert_eq!(
        data,
        json!({
            "id": id, "url": null, "creationDateTime": stamp, "lastModifiedDateTime": stamp,
            "name": "Odense Store", "parentId": HQ, "externalId": null, "addressLine": null,
            "addressLine2": null, "zipCode": null, "city": "Odense",
            "defaultPhoneCountryCode": null, "phoneNumber": null, "managerUserId": null,
            "showInContacts": false, "showInHighscores": false, "showInActivityStatistics": false,
            "contentCulture": null, "uiCulture": null, "type": "Store", "timeZone": null,
            "email": null, "userLanguageEnabled": false, "selectedCultures": [],
            "showDepartmentManagerPublic": false, "showEmployeeList": false,
            "showDepartmentUsersInPublicContacts": false, "showDepartmentInTaggingOverview": false,
            "showUsersInTaggingOverview": false, "locales": []
        })
    );
    let journal = server
        .send(server.request(Method::GET, "/__admin/requests?vendor=relesys"))
        .await
        .json();
    assert_eq!(
        journal["requests"][0]["notes"],
        json!([
            third_party_note("POST /departments"),
            {"rule": "relesys-created-status", "message": "answered 201 to a create: no source gives the status",
             "source": "inferred: https://api.relesysapp.net/docs/latest/endpoint/users-post-createuser lists only \"Responses application/json\"; settings.created_status chooses 201 or 200"}
        ])
    );

    // A user of the session may move there; another session sees neither.
    let moved = server
        .send(session(
            server
                .request(Method::PATCH, &format!("/relesys/api/v1.3/users/{USER}"))
                .bearer_auth("relesys-admin")
                .header("content-type", "application/json-patch+json")
                .body(json!([{"op": "replace", "path": "/primaryDepartmentId", "value": id.to_uppercase()}]).to_string()),
        ))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.json()["data"]["primaryDepartmentId"], json!(id));
    let elsewhere = get(&server, &format!("/departments/{id}")).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let refused = patch(
        &server,
        &format!("/users/{USER}"),
        json!([{"op": "replace", "path": "/primaryDepartmentId", "value": id}]),
    )
    .await;
    assert_eq!(
        refused.json(),
        error(400, &format!("Operation 0 (replace /primaryDepartmentId): /primaryDepartmentId: no department has id '{id}'"))
    );
}

#[tokio::test]
async fn creating_a_department_checks_its_members_like_a_patch() {
    let server = TestServer::start().await;
    for (body, message) in [
        (json!({"type": "Store"}), "/name: the member is required"),
        (
            json!({"name": "X", "id": UNKNOWN}),
            "'/id' is not a member of a new department",
        ),
        (
            json!({"name": "X", "nickname": "y"}),
            "'/nickname' is not a member of a new department",
        ),
        (
            json!({"name": "X", "parentId": UNKNOWN}),
            "/parentId: no department has id '00000000-0000-4000-8000-000000000000'",
        ),
        (
            json!({"name": "X", "showInContacts": 1}),
            "/showInContacts: invalid type: integer `1`, expected a boolean",
        ),
    ] {
        let answer = post(&server, "/departments", body.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.json(), error(400, message), "{body}");
    }
    let list = get(&server, "/departments").await;
    assert_eq!(list.json()["count"], 4, "nothing was created");
}

#[tokio::test]
async fn a_department_in_use_is_not_deleted_and_an_unused_one_is() {
    let server = TestServer::start().await;
    let refused = delete(&server, &format!("/departments/{AARHUS}")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let reason = "the department 'b3f1c2d4-8e7a-4c5b-9d6e-1f2a3b4c5d6e' is still a department of 5 user(s); move them first";
    assert_eq!(
        refused.json(),
        error(400, &format!("The department cannot be deleted: {reason}"))
    );
    assert_eq!(
        last_notes(&server).await,
        json!([
            {"rule": "relesys-error-body", "message": "the 400 body reuses the shape of the documented 429 body",
             "source": "inferred: only the 429 body is documented (https://api.relesysapp.net/docs/latest/concepts/throttling)"},
            third_party_note("DELETE /departments/{departmentId}"),
            {"rule": "relesys-entry-in-use", "message": reason,
             "source": "inferred: no source says what deleting a department or user group that is still referred to does"}
        ])
    );
    let parent = delete(&server, &format!("/departments/{HQ}")).await;
    assert_eq!(parent.status, StatusCode::BAD_REQUEST);

    let created = post(&server, "/departments", json!({"name": "Pop-up"})).await;
    let id = created.json()["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let deleted = delete(&server, &format!("/departments/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.text, "");
    assert_eq!(
        get(&server, &format!("/departments/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(&server, &format!("/departments/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&server, "/departments").await.json()["count"], 4);
}

// ------------------------------------------------------------ user groups --

#[tokio::test]
async fn a_user_group_patch_answers_the_whole_group_and_relies_on_no_inferred_rule() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        &format!("/userGroups/{ALL_EMPLOYEES}"),
        json!([{"op": "replace", "path": "/description", "value": "Description for User Group A"}, {"op": "remove", "path": "/externalId"}]),
    )
    .await;
    let mut expected = all_employees();
    expected["description"] = json!("Description for User Group A");
    expected["externalId"] = Value::Null;
    assert_written(&answer, expected);
    assert_eq!(last_notes(&server).await, json!([]));

    let removed = patch(
        &server,
        &format!("/userGroups/{ALL_EMPLOYEES}"),
        json!([{"op": "remove", "path": "/name"}]),
    )
    .await;
    assert_eq!(
        removed.json(),
        error(
            400,
            "Operation 0 (remove /name): '/name' cannot be removed from a user group"
        )
    );
    let empty = patch(
        &server,
        &format!("/userGroups/{ALL_EMPLOYEES}"),
        json!([{"op": "replace", "path": "/name", "value": " "}]),
    )
    .await;
    assert_eq!(
        empty.json(),
        error(
            400,
            "Operation 0 (replace /name): /name: name must not be empty"
        )
    );
}

#[tokio::test]
async fn user_groups_are_created_read_and_deleted_unless_in_use() {
    let server = TestServer::start().await;
    let read = get(&server, &format!("/userGroups/{ALL_EMPLOYEES}")).await;
    assert_eq!(read.json(), json!({ "data": all_employees() }));
    assert_eq!(
        last_notes(&server).await,
        json!([third_party_note("GET /userGroups/{userGroupId}")])
    );

    let refused = delete(&server, &format!("/userGroups/{ALL_EMPLOYEES}")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        refused.json(),
        error(400, "The user group cannot be deleted: the user group '22360293-0789-4346-ba9a-5609fa65703c' still has 11 member(s); remove them first")
    );
    let onboarding = delete(&server, &format!("/userGroups/{ONBOARDING}")).await;
    assert_eq!(
        onboarding.status,
        StatusCode::BAD_REQUEST,
        "{}",
        onboarding.text
    );

    let created = post(
        &server,
        "/userGroups",
        json!({"name": "Night shift", "externalId": "NIGHT"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let data = created.json()["data"].clone();
    let stamp = data["creationDateTime"].clone();
    assert_eq!(
        data,
        json!({"id": data["id"], "url": null, "creationDateTime": stamp, "lastModifiedDateTime": stamp,
               "name": "Night shift", "externalId": "NIGHT", "description": null})
    );
    let id = data["id"].as_str().expect("id");
    assert_eq!(get(&server, "/userGroups").await.json()["count"], 5);
    let deleted = delete(&server, &format!("/userGroups/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert_eq!(get(&server, "/userGroups").await.json()["count"], 4);
    assert_eq!(
        get(&server, &format!("/userGroups/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

// ------------------------------------------------------- status, deletion --

#[tokio::test]
async fn a_status_patch_is_refused_and_points_at_the_status_route() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        &format!("/users/{DISABLED_USER}"),
        json!([{"op": "replace", "path": "/Status", "value": "Activated"}]),
    )
    .await;
    assert_eq!(
        answer.json(),
        error(400, "Operation 0 (replace /status): '/status' is changed with PUT /users/{userId}/status, not by PATCH")
    );
    // A test only reads it.
    let test = patch(
        &server,
        &format!("/users/{DISABLED_USER}"),
        json!([{"op": "test", "path": "/status", "value": "Disabled"}]),
    )
    .await;
    assert_eq!(test.status, StatusCode::OK, "{}", test.text);
}

#[tokio::test]
async fn the_status_route_changes_a_status_by_the_inferred_rules() {
    let server = TestServer::start().await;
    for (id, status) in [
        (DISABLED_USER, "Activated"),
        (BLOCKED_USER, "Activated"),
        (PENDING_USER, "Disabled"),
        (USER, "Disabled"),
    ] {
        let answer = put_status(&server, id, json!({"status": status})).await;
        assert_eq!(
            answer.status,
            StatusCode::NO_CONTENT,
            "{id}: {}",
            answer.text
        );
        assert_eq!(answer.text, "");
        assert_eq!(
            get(&server, &format!("/users/{id}")).await.json()["data"]["status"],
            status
        );
    }
    assert_eq!(
        last_notes(&server).await,
        json!([]),
        "the GET is documented"
    );
    let answer = put_status(&server, DISABLED_USER, json!({"status": "Activated"})).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let journal = server
        .send(server.request(Method::GET, "/__admin/requests?vendor=relesys&method=PUT"))
        .await
        .json();
    assert_eq!(
        journal["requests"][0]["notes"],
        json!([third_party_note("PUT /users/{userId}/status")])
    );

    let server = TestServer::start().await;
    for (id, body, message) in [
        (PENDING_USER, json!({"status": "Activated"}), "/status: a Pending user becomes Activated by accepting the invitation"),
        (USER, json!({"status": "LoginBlocked"}), "/status: the status 'LoginBlocked' is set by Relesys, not through the API"),
        (USER, json!({"status": "Deleted"}), "/status: unknown variant `Deleted`, expected one of `Activated`, `Disabled`, `Pending`, `LoginBlocked`"),
        (USER, json!({}), "/status: the member is required"),
        (USER, json!({"status": "Disabled", "reason": "left"}), "'/reason' is not a member of a status change; send {\"status\": …}"),
    ] {
        let answer = put_status(&server, id, body.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.json(), error(400, message), "{body}");
    }
    let missing = put_status(&server, UNKNOWN, json!({"status": "Disabled"})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let readonly = call(
        &server,
        Method::PUT,
        &format!("/users/{USER}/status"),
        "relesys-readonly",
        Some(("application/json", json!({"status": "Disabled"}))),
    )
    .await;
    assert_eq!(readonly.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&server, &format!("/users/{USER}")).await.json()["data"]["status"],
        "Activated"
    );
}

#[tokio::test]
async fn deleting_a_user_removes_it_and_its_departments_lose_their_manager() {
    let server = TestServer::start().await;
    let answer = delete(&server, &format!("/users/{USER}")).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text);
    assert_eq!(
        last_notes(&server).await,
        json!([
            third_party_note("DELETE /users/{userId}"),
            {"rule": "relesys-manager-cleared",
             "message": "the department '5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5' lost its manager with the deleted user",
             "source": "inferred: no source says what becomes of a deleted user's departments"}
        ])
    );
    assert_eq!(
        get(&server, &format!("/users/{USER}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(&server, &format!("/users/{USER}")).await.status,
        StatusCode::NOT_FOUND
    );
    let department = get(&server, &format!("/departments/{HQ}")).await.json();
    assert_eq!(department["data"]["managerUserId"], Value::Null);
    assert_ne!(
        department["data"]["lastModifiedDateTime"],
        head_office()["lastModifiedDateTime"]
    );
    let users = get(&server, "/users?limit=1000").await.json();
    assert_eq!(users["count"], 12);
}

// ---------------------------------------------------------- token endpoint --

async fn token(server: &TestServer, request: reqwest::RequestBuilder) -> Reply {
    server.send(request).await
}

#[tokio::test]
async fn the_token_endpoint_tells_a_json_client_to_send_a_form() {
    let server = TestServer::start().await;
    let answer = token(
        &server,
        server
            .request(Method::POST, "/relesys/login/oauth/authorize")
            .header("content-type", "application/json")
            .body(json!({"grant_type": "client_credentials", "client_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "client_secret": "relesys-admin-secret", "scope": "relesys.api"}).to_string()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"error": "invalid_request", "error_description": "The token endpoint reads a form body (Content-Type: application/x-www-form-urlencoded): grant_type=client_credentials&client_id=<client id>&client_secret=<client secret>&scope=<scopes>; it does not read JSON"})
    );
    assert_eq!(
        last_notes(&server).await,
        json!([{"rule": "relesys-token-error-body", "message": "the 400 body is an RFC 6749 error response",
                "source": "inferred: https://api.relesysapp.net/docs/latest/intro/access shows no error; the public client getsno/relesys-users reads its `error` member"}])
    );
}

#[tokio::test]
async fn the_token_endpoint_tells_a_basic_auth_client_to_send_its_credentials_in_the_form() {
    let server = TestServer::start().await;
    let answer = token(
        &server,
        server
            .request(Method::POST, "/relesys/login/oauth/authorize")
            .basic_auth(
                "0f8fad5b-d9cb-469f-a165-70867728950e",
                Some("relesys-admin-secret"),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&scope=relesys.api"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Basic realm=\"relesys\"")
    );
    assert_eq!(
        answer.json(),
        json!({"error": "invalid_client", "error_description": "The token endpoint reads client_id and client_secret from the form body, not from HTTP Basic credentials: send grant_type=client_credentials&client_id=<client id>&client_secret=<client secret>&scope=<scopes>"})
    );

    // With the form's credentials too, the form's are used, and noted.
    let answer = token(
        &server,
        server
            .request(Method::POST, "/relesys/login/oauth/authorize")
            .basic_auth("someone", Some("else"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&client_id=0f8fad5b-d9cb-469f-a165-70867728950e&client_secret=relesys-admin-secret&scope=relesys.api"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        last_notes(&server).await,
        json!([{"rule": "relesys-token-basic-ignored",
                "message": "the HTTP Basic credentials were ignored; the form body's client_id and client_secret were used",
                "source": "inferred: https://api.relesysapp.net/docs/latest/intro/access documents only the form body's client_id and client_secret"}])
    );
}

#[tokio::test]
async fn the_documented_token_request_and_user_patch_rely_on_no_inferred_rule() {
    let server = TestServer::start().await;
    let answer = token(
        &server,
        server
            .request(Method::POST, "/relesys/login/oauth/authorize")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&client_id=0f8fad5b-d9cb-469f-a165-70867728950e&client_secret=relesys-admin-secret&scope=relesys.api"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(last_notes(&server).await, json!([]));

    let seed = r#"[{"value":"My patched name","path":"/name","op":"add"},{"value":{"countryCode":45,"number":"11223344"},"path":"/phoneNumber","op":"replace"},{"path":"/title","op":"remove"},{"value":{"customfieldone":"Custom field 1","customfieldtwo":"Custom field 2"},"path":"/customFields","op":"add"}]"#;
    let answer = server
        .send(
            server
                .request(Method::PATCH, &format!("/relesys/api/v1.3/users/{USER}"))
                .bearer_auth("relesys-admin")
                .header("content-type", "application/json-patch+json")
                .body(seed),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(last_notes(&server).await, json!([]));

    // Without a Content-Type the form is still read, and that is noted.
    let answer = token(
        &server,
        server
            .request(Method::POST, "/relesys/login/oauth/authorize")
            .body("grant_type=client_credentials&client_id=0f8fad5b-d9cb-469f-a165-70867728950e&client_secret=relesys-admin-secret&scope=relesys.api"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(last_notes(&server).await[0]["rule"], "lenient-content-type");
}

// ------------------------------------------------------------ list links --

#[tokio::test]
async fn a_list_carries_its_links_only_when_there_is_a_page_unless_list_links_is_always() {
    let server = TestServer::start().await;
    let groups = get(&server, "/userGroups?externalId=ALL").await;
    assert_eq!(
        groups.json(),
        json!({"count": 1, "data": [all_employees()]})
    );

    let fixture = std::fs::read_to_string(crate::common::repo_fixtures().join("relesys.json"))
        .expect("fixture")
        .replacen(
            "\"list_links\": \"when_present\"",
            "\"list_links\": \"always\"",
            1,
        );
    assert!(fixture.contains("\"list_links\": \"always\""));
    let dir = crate::common::TempDir::new("relesys-list-links");
    dir.write("relesys.json", &fixture);
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    let groups = get(&server, "/userGroups?externalId=ALL").await;
    assert_eq!(
        groups.json(),
        json!({"count": 1, "data": [all_employees()], "nextUrl": null, "previousUrl": null})
    );
}
