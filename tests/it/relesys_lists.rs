//! Relesys' list, create and organisation routes, rule by rule: `GET /users`
//! (filters, sort, offset/limit, cursors), `POST /users`, `GET
//! /departments`, `GET /userGroups`, `GET /customfields/users`, and the
//! shipped scenarios on every route (docs/vendors/relesys.md).

use crate::common;

use std::collections::BTreeSet;

use common::{Reply, TestServer};
use proptest::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const HEAD_OFFICE: &str = "5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5";
const COPENHAGEN: &str = "27744bfa-d16b-4a6a-8f9a-8a79351f9c5f";
const ALL_EMPLOYEES: &str = "22360293-0789-4346-ba9a-5609fa65703c";
const SEED_USER: &str = "6cd99267-5adf-462d-88a2-6f86b7b2a164";
const BASE: &str = "/relesys/api/v1.3";

const READ: [&str; 4] = [
    "relesys.api",
    "relesys.api:read",
    "relesys.api.users",
    "relesys.api.users:read",
];
const WRITE: [&str; 4] = [
    "relesys.api",
    "relesys.api:write",
    "relesys.api.users",
    "relesys.api.users:write",
];

fn fixture() -> Value {
    let text =
        std::fs::read_to_string(common::repo_fixtures().join("relesys.json")).expect("fixture");
    serde_json::from_str(&text).expect("json")
}

/// The fixture's users (stored exactly as written), in creation order.
fn fixture_users() -> Vec<Value> {
    let mut users = fixture()["users"].as_array().cloned().unwrap_or_default();
    users.sort_by_key(|u| {
        u["creationDateTime"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    });
    users
}

fn ids(users: &[Value]) -> Vec<String> {
    users
        .iter()
        .map(|u| u["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn error(code: u16, message: &str) -> Value {
    json!({"errorCode": code.to_string(), "message": message})
}

fn scopes_403(accepted: [&str; 4]) -> Value {
    json!({
        "errorCode": "403",
        "message": format!("Insufficient scope for this endpoint. Accepted scopes: {}", accepted.join(", ")),
        "acceptedScopes": accepted,
    })
}

async fn get_as(server: &TestServer, token: &str, path: &str) -> Reply {
    server
        .send(server.request(Method::GET, path).bearer_auth(token))
        .await
}

async fn get(server: &TestServer, path: &str) -> Reply {
    get_as(server, "relesys-admin", path).await
}

async fn post_as(server: &TestServer, token: &str, body: &Value) -> Reply {
    let request = server
        .request(Method::POST, &format!("{BASE}/users"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string());
    server.send(request).await
}

/// Follows `nextUrl` from `first`, returning each page's body.
async fn walk(server: &TestServer, first: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(path) = next.take() {
        let answer = get(server, &path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text);
        let body = answer.json();
        next = body["nextUrl"].as_str().map(|url| {
            url.strip_prefix(&server.base)
                .unwrap_or_else(|| panic!("nextUrl {url} leaves {}", server.base))
                .to_owned()
        });
        pages.push(body);
        assert!(pages.len() <= 20, "paging does not end");
    }
    pages
}

fn page_ids(pages: &[Value]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| ids(p["data"].as_array().map(Vec::as_slice).unwrap_or_default()))
        .collect()
}

// ------------------------------------------------------------- GET /users --

#[tokio::test]
async fn list_users_answers_every_user_in_creation_order_in_the_documented_envelope() {
    let server = TestServer::start().await;
    let users = fixture_users();
    assert!(users.len() >= 12, "enough users to make paging real");
    let answer = get(&server, &format!("{BASE}/users")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"count": users.len(), "data": users}));
}

#[tokio::test]
async fn offset_and_limit_cut_the_list_and_limit_brings_a_next_url() {
    let server = TestServer::start().await;
    let users = fixture_users();
    let answer = get(&server, &format!("{BASE}/users?offset=2&limit=3")).await;
    let body = answer.json();
    let next = body["nextUrl"].as_str().unwrap_or_default().to_owned();
    let prefix = format!("{}{BASE}/users?limit=3&cursor=", server.base);
    assert!(next.starts_with(&prefix), "{next}");
    assert_eq!(next.len(), prefix.len() + 32, "a 32-hex cursor: {next}");
    assert_eq!(
        body,
        json!({"count": 3, "data": users[2..5], "nextUrl": next})
    );
    let next_page = get(&server, next.trim_start_matches(&server.base))
        .await
        .json();
    assert_eq!(next_page["data"], json!(users[5..8]));
    // Past the end: nothing, and no link.
    let answer = get(&server, &format!("{BASE}/users?offset=100")).await;
    assert_eq!(answer.json(), json!({"count": 0, "data": []}));
}

#[tokio::test]
async fn paging_walks_return_every_user_exactly_once_in_order_for_every_sort() {
    let server = TestServer::start().await;
    for sort in [
        "",
        "name",
        "-name",
        "creationDateTime",
        "-creationDateTime",
        "-birthDate",
        "status,-name",
        "title,email",
        "-employmentEndDate,userName",
        "lastModifiedDateTime",
        "externalId",
        "-dataSource,secondaryEmail",
    ] {
        let query = if sort.is_empty() {
            String::new()
        } else {
            format!("&sort={sort}")
        };
        let whole = get(&server, &format!("{BASE}/users?limit=1000{query}"))
            .await
            .json();
        let expected = ids(whole["data"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default());
        assert_eq!(expected.len(), fixture_users().len(), "{sort}");
        for limit in [1, 2, 5, 12, 13] {
            let pages = walk(&server, &format!("{BASE}/users?limit={limit}{query}")).await;
            let seen = page_ids(&pages);
            assert_eq!(seen, expected, "sort '{sort}', limit {limit}");
            for (i, page) in pages.iter().enumerate() {
                assert_eq!(
                    page["count"],
                    json!(page["data"].as_array().map_or(0, Vec::len))
                );
                assert_eq!(
                    page["previousUrl"].is_null(),
                    i == 0,
                    "sort '{sort}' page {i}"
                );
            }
        }
    }
}

#[tokio::test]
async fn previous_url_leads_back_to_the_previous_page_and_cursors_keep_filters_and_sort() {
    let server = TestServer::start().await;
    let query = format!("{BASE}/users?status=Activated&sort=-name&limit=2");
    let pages = walk(&server, &query).await;
    let all = get(
        &server,
        &format!("{BASE}/users?status=Activated&sort=-name"),
    )
    .await
    .json();
    assert_eq!(
        page_ids(&pages),
        ids(all["data"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default())
    );
    let previous = pages[2]["previousUrl"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let back = get(&server, previous.trim_start_matches(&server.base))
        .await
        .json();
    assert_eq!(back["data"], pages[1]["data"]);
    // A cursor carries the query: adding filters to it is refused.
    let next = pages[0]["nextUrl"].as_str().unwrap_or_default().to_owned();
    let answer = get(
        &server,
        &format!("{}&name=x", next.trim_start_matches(&server.base)),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        error(
            400,
            "A cursor carries its own filters, sort and position: send only 'cursor' and 'limit'"
        )
    );
    let answer = get(
        &server,
        &format!("{BASE}/users?cursor=0123456789abcdef0123456789abcdef"),
    )
    .await;
    assert_eq!(
        answer.json(),
        error(400, "The cursor '0123456789abcdef0123456789abcdef' is unknown or has expired; start again without a cursor")
    );
    // A cursor of one list is not one of another.
    let cursor = next
        .rsplit_once("cursor=")
        .map(|(_, c)| c.to_owned())
        .unwrap_or_default();
    let answer = get(&server, &format!("{BASE}/userGroups?cursor={cursor}")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

/// The ids of the fixture users (creation order) that `keep` accepts.
fn expected_ids(keep: impl Fn(&Value) -> bool) -> Vec<String> {
    ids(&fixture_users()
        .into_iter()
        .filter(|u| keep(u))
        .collect::<Vec<_>>())
}

async fn listed_ids(server: &TestServer, query: &str) -> Vec<String> {
    let answer = get(server, &format!("{BASE}/users?{query}")).await;
    assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.text);
    ids(answer.json()["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default())
}

#[tokio::test]
async fn filters_select_by_equality_and_the_bracket_operators() {
    let server = TestServer::start().await;
    let text = |u: &Value, m: &str| u[m].as_str().unwrap_or_default().to_owned();
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "name=freja%20LINDQVIST",
            expected_ids(|u| text(u, "name") == "Freja Lindqvist"),
        ),
        (
            "status=Disabled",
            expected_ids(|u| u["status"] == "Disabled"),
        ),
        (
            "status[ne]=activated",
            expected_ids(|u| u["status"] != "Activated"),
        ),
        (
            "creationDateTime[gte]=2024-01-01",
            expected_ids(|u| text(u, "creationDateTime").as_str() >= "2024-01-01"),
        ),
        (
            "creationDateTime[lt]=2020-01-20T13:45:10.25Z",
            expected_ids(|u| text(u, "creationDateTime").as_str() < "2020-01-20T13:45:10.25"),
        ),
        (
            "birthDate[lte]=1990-01-01&birthDate[gt]=1980-01-01",
            expected_ids(|u| {
                let b = text(u, "birthDate");
                !b.is_empty() && b.as_str() <= "1990-01-01" && b.as_str() > "1980-01-01"
            }),
        ),
        ("title=null", expected_ids(|u| u["title"].is_null())),
        (
            "externalId[ne]=null",
            expected_ids(|u| !u["externalId"].is_null()),
        ),
        (
            "primaryDepartmentId=27744BFA-D16B-4A6A-8F9A-8A79351F9C5F",
            expected_ids(|u| u["primaryDepartmentId"] == COPENHAGEN),
        ),
        (
            "id=6cd99267-5adf-462d-88a2-6f86b7b2a164",
            vec![SEED_USER.to_owned()],
        ),
        ("email[gte]=m&sort=email", {
            let mut users: Vec<Value> = fixture_users()
                .into_iter()
                .filter(|u| text(u, "email").as_str() >= "m")
                .collect();
            users.sort_by_key(|u| text(u, "email"));
            ids(&users)
        }),
        (
            "title=Sales%20Associate&status=Activated",
            expected_ids(|u| u["title"] == "Sales Associate" && u["status"] == "Activated"),
        ),
    ];
    for (query, expected) in cases {
        assert!(
            !expected.is_empty(),
            "{query}: a filter that selects nothing tests little"
        );
        assert_eq!(listed_ids(&server, query).await, expected, "{query}");
    }
    // Sorted by status, descending names within it.
    let mut users = fixture_users();
    users.sort_by(|a, b| {
        text(a, "status")
            .to_lowercase()
            .cmp(&text(b, "status").to_lowercase())
            .then(
                text(b, "name")
                    .to_lowercase()
                    .cmp(&text(a, "name").to_lowercase()),
            )
    });
    assert_eq!(listed_ids(&server, "sort=status,-name").await, ids(&users));
}

#[tokio::test]
async fn an_unknown_property_operator_or_value_is_a_400_never_an_unfiltered_list() {
    let server = TestServer::start().await;
    for (query, message) in [
        ("nickname=Al", "'nickname' is not a filterable property of users"),
        ("name[like]=A", "'name[like]': the filter operator must be one of [ne], [lt], [lte], [gt], [gte]"),
        ("name[gt=A", "'name[gt': the filter operator must be one of [ne], [lt], [lte], [gt], [gte]"),
        ("id[gt]=6cd99267-5adf-462d-88a2-6f86b7b2a164", "'id[gt]': 'id' can only be compared with equals or [ne]"),
        ("status[lt]=Activated", "'status[lt]': 'status' can only be compared with equals or [ne]"),
        ("status=Deleted", "'status': 'Deleted' is not one of Activated, Disabled, Pending, LoginBlocked"),
        ("birthDate=30/12/2002", "'birthDate': '30/12/2002' is not a date"),
        ("primaryDepartmentId=head-office", "'primaryDepartmentId': 'head-office' is not a GUID"),
        ("title[lt]=null", "'title[lt]': null cannot be ordered"),
        ("sort=nickname", "'nickname' is not a sortable property of users"),
        ("sort=id", "'id' is not a sortable property of users"),
        ("sort=name,", "'' is not a sortable property of users"),
        ("limit=0", "The query parameter 'limit' must be a whole number from 1 to 1000, not '0'"),
        ("limit=1001", "The query parameter 'limit' must be a whole number from 1 to 1000, not '1001'"),
        ("offset=-1", "The query parameter 'offset' must be a whole number from 0 to 18446744073709551615, not '-1'"),
        ("limit=5&limit=6", "The query parameter 'limit' is given twice"),
    ] {
        let answer = get(&server, &format!("{BASE}/users?{query}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}: {}", answer.text);
        assert_eq!(answer.json(), error(400, message), "{query}");
    }
}

// ---------------------------------------------------------- organisation --

#[tokio::test]
async fn the_organisation_lists_show_the_fixtures_departments_groups_and_custom_fields() {
    let server = TestServer::start().await;
    let fixture = fixture();
    for (path, member, sort_by) in [
        ("departments", "departments", "creationDateTime"),
        ("userGroups", "user_groups", "creationDateTime"),
        ("customfields/users", "custom_fields", "name"),
    ] {
        let mut expected = fixture[member].as_array().cloned().unwrap_or_default();
        expected.sort_by_key(|e| e[sort_by].as_str().unwrap_or_default().to_lowercase());
        let answer = get(&server, &format!("{BASE}/{path}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(
            answer.json(),
            json!({"count": expected.len(), "data": expected}),
            "{path}"
        );
    }
    let answer = get(
        &server,
        &format!("{BASE}/customfields/users?externalId=customfieldtwo"),
    )
    .await;
    assert_eq!(
        answer.json()["data"],
        json!([{"id": "1d2b8f63-4a5c-4e9f-8b72-3c8d6e0f1a24", "externalId": "customfieldtwo", "name": "Custom field 2", "type": "Text"}])
    );
    let answer = get(
        &server,
        &format!("{BASE}/departments?type=Store&sort=-name"),
    )
    .await;
    let names: Vec<String> = answer.json()["data"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        names,
        ["Odense Store (closed)", "Copenhagen Store", "Aarhus Store"]
    );
    let answer = get(&server, &format!("{BASE}/userGroups?description=null")).await;
    assert_eq!(answer.json()["count"], 1);
    let answer = get(&server, &format!("{BASE}/departments?parentId[lt]=x")).await;
    assert_eq!(
        answer.json(),
        error(
            400,
            "'parentId[lt]': 'parentId' can only be compared with equals or [ne]"
        )
    );
    let walked = walk(&server, &format!("{BASE}/departments?limit=1&sort=-name")).await;
    assert_eq!(walked.len(), 4);
}

// ------------------------------------------------------------ POST /users --

fn new_user(id: &str, stamp: &str) -> Value {
    json!({
        "id": id, "url": null, "departmentUrl": null, "status": "Activated",
        "creationDateTime": stamp, "lastModifiedDateTime": stamp,
        "externalId": null, "name": "Nora Lund", "userName": null, "title": null,
        "dataSource": "RelesysAPI", "email": null, "secondaryEmail": null,
        "phoneNumber": null, "secondaryPhoneNumber": null, "birthDate": null,
        "primaryDepartmentId": HEAD_OFFICE, "additionalDepartments": [],
        "userGroups": [{"id": ALL_EMPLOYEES, "dataSource": "RelesysAPI"}],
        "employmentDate": null, "employmentEndDate": null, "customFields": {},
        "employmentType": null
    })
}

fn minimal() -> Value {
    json!({"name": "Nora Lund", "primaryDepartmentId": HEAD_OFFICE, "userGroups": [{"id": ALL_EMPLOYEES}]})
}

#[tokio::test]
async fn create_user_answers_201_with_the_new_user_which_reads_back_and_is_listed() {
    let server = TestServer::start().await;
    let answer = post_as(&server, "relesys-admin", &minimal()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let body = answer.json();
    let id = body["data"]["id"].as_str().unwrap_or_default().to_owned();
    let stamp = body["data"]["creationDateTime"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(id.len(), 36, "a GUID: {id}");
    assert_eq!(stamp.len(), 28, "7 fractional digits: {stamp}");
    assert_eq!(body, json!({"data": new_user(&id, &stamp)}));
    assert_eq!(
        get(&server, &format!("{BASE}/users/{id}")).await.json(),
        body
    );
    assert_eq!(listed_ids(&server, &format!("id={id}")).await, vec![id]);
    assert_eq!(
        listed_ids(&server, "").await.len(),
        fixture_users().len() + 1
    );
}

#[tokio::test]
async fn create_user_takes_every_documented_member_validated_as_patch_validates_them() {
    let server = TestServer::start().await;
    let body = json!({
        "Name": "Nora Lund", "primaryDepartmentId": HEAD_OFFICE.to_uppercase(),
        "userGroups": [{"id": ALL_EMPLOYEES, "dataSource": "HR"}],
        "additionalDepartments": [{"id": COPENHAGEN}],
        "birthDate": "02-05-1991", "customFields": {"customfieldtwo": "x"},
        "dataSource": "HRIS", "email": "nora@example.dk", "employmentDate": "2026-04-01",
        "employmentEndDate": "2027-03-31T17:00:00+02:00", "externalId": "EMP-2001",
        "password": "s3cret!", "phoneNumber": {"countryCode": 45, "number": "22334455"},
        "secondaryEmail": "nora@privat.dk", "secondaryPhoneNumber": null, "title": "Buyer",
        "userName": "nora.lund", "employmentType": "Full-time"
    });
    let answer = post_as(&server, "relesys-admin", &body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let data = answer.json()["data"].clone();
    let id = data["id"].as_str().unwrap_or_default();
    let stamp = data["creationDateTime"].as_str().unwrap_or_default();
    let mut expected = new_user(id, stamp);
    for (member, value) in [
        (
            "additionalDepartments",
            json!([{"id": COPENHAGEN, "dataSource": "RelesysAPI"}]),
        ),
        (
            "userGroups",
            json!([{"id": ALL_EMPLOYEES, "dataSource": "HR"}]),
        ),
        ("birthDate", json!("1991-02-05T00:00:00Z")),
        ("customFields", json!({"customfieldtwo": "x"})),
        ("dataSource", json!("HRIS")),
        ("email", json!("nora@example.dk")),
        ("employmentDate", json!("2026-04-01T00:00:00Z")),
        ("employmentEndDate", json!("2027-03-31T15:00:00Z")),
        ("externalId", json!("EMP-2001")),
        (
            "phoneNumber",
            json!({"countryCode": 45, "number": "22334455"}),
        ),
        ("secondaryEmail", json!("nora@privat.dk")),
        ("title", json!("Buyer")),
        ("userName", json!("nora.lund")),
        ("employmentType", json!("Full-time")),
    ] {
        expected[member] = value;
    }
    assert_eq!(data, expected, "the password is never shown");
}

#[tokio::test]
async fn create_user_refuses_missing_unknown_and_mistyped_members_with_a_400() {
    let server = TestServer::start().await;
    let with = |member: &str, value: Value| {
        let mut body = minimal();
        body[member] = value;
        body
    };
    let without = |member: &str| {
        let mut body = minimal();
        body.as_object_mut().map(|m| m.remove(member));
        body
    };
    let unknown = "00000000-0000-4000-8000-000000000000";
    for (body, message) in [
        (without("name"), "/name: the member is required".to_owned()),
        (
            without("primaryDepartmentId"),
            "/primaryDepartmentId: the member is required".to_owned(),
        ),
        (
            without("userGroups"),
            "/userGroups: the member is required".to_owned(),
        ),
        (
            with("name", Value::Null),
            "/name: the member is required".to_owned(),
        ),
        (
            with("status", json!("Activated")),
            "'/status' is not a member of a new user".to_owned(),
        ),
        (
            with("nickname", json!("N")),
            "'/nickname' is not a member of a new user".to_owned(),
        ),
        (
            with("name", json!(7)),
            "/name: invalid type: integer `7`, expected a string".to_owned(),
        ),
        (
            with("userGroups", json!({})),
            "/userGroups: invalid type: map, expected a sequence".to_owned(),
        ),
        (
            with("password", json!("")),
            "/password: must be a non-empty string".to_owned(),
        ),
        (
            with("birthDate", json!("30/12/2002")),
            "/birthDate: '30/12/2002' is not a datetime".to_owned(),
        ),
        (
            with("primaryDepartmentId", json!(unknown)),
            format!("/primaryDepartmentId: no department has id '{unknown}'"),
        ),
        (
            with("customFields", json!({"favouritecolour": "green"})),
            "/customFields/favouritecolour: no custom field has key 'favouritecolour'".to_owned(),
        ),
        (
            with("email", json!("nope")),
            "/email: 'nope' is not an e-mail address".to_owned(),
        ),
        (
            json!([]),
            "The request body must be a JSON object (a user)".to_owned(),
        ),
    ] {
        let answer = post_as(&server, "relesys-admin", &body).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text
        );
        assert_eq!(answer.json(), error(400, &message), "{body}");
    }
    assert_eq!(
        listed_ids(&server, "").await.len(),
        fixture_users().len(),
        "nothing was created"
    );
    let request = server
        .request(Method::POST, &format!("{BASE}/users"))
        .bearer_auth("relesys-admin")
        .header("content-type", "text/plain")
        .body(minimal().to_string());
    let answer = server.send(request).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        answer.json(),
        error(
            415,
            "Unsupported content type 'text/plain'; send application/json"
        )
    );
}

#[tokio::test]
async fn create_user_checks_shape_then_scope_then_the_ids_it_refers_to() {
    let server = TestServer::start().await;
    let mut bad_department = minimal();
    bad_department["primaryDepartmentId"] = json!("00000000-0000-4000-8000-000000000000");
    let answer = post_as(&server, "relesys-readonly", &json!({"name": 1})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "400 before 403");
    let answer = post_as(&server, "relesys-readonly", &bad_department).await;
    assert_eq!(
        answer.json(),
        scopes_403(WRITE),
        "403 before the reference check"
    );
    let answer = post_as(&server, "nobody", &json!({"name": 1})).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "401 first");
}

#[tokio::test]
async fn created_status_200_is_an_opt_in_fixture_setting() {
    let text =
        std::fs::read_to_string(common::repo_fixtures().join("relesys.json")).expect("fixture");
    assert!(text.contains("\"created_status\": 201"));
    let dir = common::TempDir::new("relesys-created-200");
    dir.write(
        "relesys.json",
        &text.replace("\"created_status\": 201", "\"created_status\": 200"),
    );
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    assert_eq!(
        post_as(&server, "relesys-admin", &minimal()).await.status,
        StatusCode::OK
    );
}

// ---------------------------------------------- access on every new route --

const LIST_ROUTES: [&str; 4] = ["users", "departments", "userGroups", "customfields/users"];

#[tokio::test]
async fn every_route_needs_a_token_and_the_read_routes_need_a_read_scope() {
    let dir = common::TempDir::new("relesys-write-only");
    let mut fixture = fixture();
    fixture["tokens"]
        .as_array_mut()
        .expect("tokens")
        .push(json!({
            "token": "write-only", "client_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "scopes": ["relesys.api.users:write"]
        }));
    dir.write("relesys.json", &fixture.to_string());
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    for route in LIST_ROUTES {
        let path = format!("{BASE}/{route}");
        let answer = server.send(server.request(Method::GET, &path)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{route}");
        assert_eq!(
            answer.json(),
            error(
                401,
                "Authorization has been denied for this request: missing bearer token"
            )
        );
        let answer = get_as(&server, "write-only", &path).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{route}");
        assert_eq!(answer.json(), scopes_403(READ), "{route}");
        assert_eq!(
            get_as(&server, "relesys-readonly", &path).await.status,
            StatusCode::OK,
            "{route}"
        );
    }
    let answer = post_as(&server, "relesys-readonly", &minimal()).await;
    assert_eq!(answer.json(), scopes_403(WRITE));
    assert_eq!(
        post_as(&server, "write-only", &minimal()).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_user_created_in_one_session_is_seen_by_no_other_session() {
    let server = TestServer::start().await;
    let request = server
        .request(Method::POST, &format!("{BASE}/users"))
        .bearer_auth("relesys-admin")
        .header("x-usermock-session", "tenant-a")
        .json(&minimal());
    let created = server.send(request).await.json();
    let id = created["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for session in [None, Some("tenant-b")] {
        for path in [
            format!("{BASE}/users?id={id}"),
            format!("{BASE}/users?name=Nora%20Lund"),
        ] {
            let mut request = server
                .request(Method::GET, &path)
                .bearer_auth("relesys-admin");
            if let Some(session) = session {
                request = request.header("x-usermock-session", session);
            }
            let answer = server.send(request).await;
            assert_eq!(
                answer.json(),
                json!({"count": 0, "data": []}),
                "{session:?} {path}"
            );
        }
        let mut request = server
            .request(Method::GET, &format!("{BASE}/users/{id}"))
            .bearer_auth("relesys-admin");
        if let Some(session) = session {
            request = request.header("x-usermock-session", session);
        }
        assert_eq!(server.send(request).await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn by_the_real_host_the_list_links_stay_on_that_host_without_the_prefix() {
    let server = TestServer::start().await;
    let request = server
        .request(Method::GET, "/api/v1.3/users?limit=4")
        .header("host", "api.relesysapp.net")
        .bearer_auth("relesys-admin");
    let body = server.send(request).await.json();
    let next = body["nextUrl"].as_str().unwrap_or_default();
    assert!(
        next.starts_with("http://api.relesysapp.net/api/v1.3/users?limit=4&cursor="),
        "{next}"
    );
    assert_eq!(body["data"], json!(fixture_users()[..4]));
}

// ------------------------------------------------------------- scenarios --

#[tokio::test]
async fn every_shipped_relesys_scenario_renders_its_error_on_every_route() {
    let server = TestServer::start().await;
    let mut routes: Vec<(Method, String)> = LIST_ROUTES
        .iter()
        .map(|r| (Method::GET, format!("{BASE}/{r}")))
        .collect();
    routes.push((Method::POST, format!("{BASE}/users")));
    routes.push((Method::GET, format!("{BASE}/users/{SEED_USER}")));
    routes.push((Method::PATCH, format!("{BASE}/users/{SEED_USER}")));
    let mut tested = BTreeSet::new();
    for (scenario, status, user_routes_only) in [
        ("relesys-invalid-request", 400, false),
        ("relesys-unauthorized", 401, false),
        ("relesys-forbidden", 403, false),
        ("relesys-user-not-found", 404, true),
        ("relesys-rate-limited", 429, false),
        ("relesys-server-error", 500, false),
    ] {
        tested.insert(scenario);
        for (method, path) in &routes {
            if user_routes_only && !path.contains(SEED_USER) {
                continue;
            }
            let request = server
                .request(method.clone(), path)
                .bearer_auth("relesys-admin")
                .header("x-usermock-scenario", scenario);
            let answer = server.send(request).await;
            let expected = match status {
                400 => error(400, "The request is invalid"),
                401 => error(
                    401,
                    "Authorization has been denied for this request: unknown token",
                ),
                403 if *method == Method::GET => scopes_403(READ),
                403 => scopes_403(WRITE),
                404 => error(404, &format!("The user '{SEED_USER}' was not found")),
                429 => error(
                    429,
                    "Request quota exceeded. A maximum of 100 requests are allowed per minute",
                ),
                _ => error(500, "An error has occurred."),
            };
            assert_eq!(answer.status.as_u16(), status, "{scenario} {method} {path}");
            assert_eq!(answer.json(), expected, "{scenario} {method} {path}");
        }
    }
    // Every shipped relesys scenario is covered here.
    let listed = server
        .send(server.request(Method::GET, "/__admin/scenarios"))
        .await
        .json();
    let shipped: BTreeSet<String> = listed["scenarios"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|s| s["name"].as_str())
                .filter(|n| n.starts_with("relesys-"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let tested: BTreeSet<String> = tested.into_iter().map(str::to_owned).collect();
    assert_eq!(shipped, tested);
}

// ------------------------------------------------------------ robustness --

fn query_part() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("name".to_owned()),
        Just("status".to_owned()),
        Just("birthDate".to_owned()),
        Just("id".to_owned()),
        Just("sort".to_owned()),
        Just("limit".to_owned()),
        Just("offset".to_owned()),
        Just("cursor".to_owned()),
        "[a-zA-Z]{1,12}",
        "[a-zA-Z]{1,8}\\[[a-z]{0,4}\\]?",
    ];
    let value = prop_oneof![
        Just("null".to_owned()),
        Just("-name,status".to_owned()),
        Just("1991-02-05".to_owned()),
        Just("18446744073709551616".to_owned()),
        "[0-9]{1,20}",
        "\\PC{0,20}",
    ];
    (key, value).prop_map(|(k, v)| {
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!("{}={}", enc(&k), enc(&v))
    })
}

fn body_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
        Just(json!(HEAD_OFFICE)),
        Just(json!([{"id": ALL_EMPLOYEES}])),
        Just(json!("02-05-1991")),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn create_body() -> impl Strategy<Value = Value> {
    let member = prop_oneof![
        Just("name".to_owned()),
        Just("primaryDepartmentId".to_owned()),
        Just("userGroups".to_owned()),
        Just("customFields".to_owned()),
        Just("birthDate".to_owned()),
        Just("phoneNumber".to_owned()),
        Just("password".to_owned()),
        "[a-zA-Z]{1,10}",
    ];
    prop::collection::btree_map(member, body_value(), 0..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn random_queries_and_bodies_on_the_new_routes_never_give_a_5xx(
        queries in prop::collection::vec(prop::collection::vec(query_part(), 0..5), 1..4),
        bodies in prop::collection::vec(create_body(), 1..4),
    ) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let server = TestServer::start().await;
            for (i, parts) in queries.iter().enumerate() {
                let route = LIST_ROUTES[i % LIST_ROUTES.len()];
                let path = format!("{BASE}/{route}?{}", parts.join("&"));
                let answer = get(&server, &path).await;
                prop_assert!([200, 400].contains(&answer.status.as_u16()), "{} {}: {}", path, answer.status, answer.text);
            }
            for body in &bodies {
                let answer = post_as(&server, "relesys-admin", body).await;
                prop_assert!([201, 400].contains(&answer.status.as_u16()), "{} {}: {}", body, answer.status, answer.text);
            }
            let answer = get(&server, &format!("{BASE}/users?limit=1000")).await;
            prop_assert_eq!(answer.status.as_u16(), 200);
            Ok(())
        })?;
    }
}
