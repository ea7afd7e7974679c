//! ScalePad's departments, rule by rule, as its docs state them
//! (https://api-docs.amm-scalepad.com/departments and its pages): list,
//! get, create, update, soft delete, bulk membership, and how department
//! changes show through users; plus the shipped scenarios of these routes.

use crate::activity_support::{error_body, now_millis};
use crate::common;

use common::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const OTHER_CLIENT: &str = "b5e0c3d2-6f4a-4c1b-9e8d-7a6b5c4d3e2f";
const UNKNOWN_CLIENT: &str = "11111111-1111-4111-8111-111111111111";
const ENGINEERING: &str = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";
const PLATFORM: &str = "e2b3c4d5-f6a7-8901-bcde-f12345678901";
const SALES: &str = "f3c4d5e6-a7b8-4012-8def-123456789012";
const CUSTOMER_SUCCESS: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const FINANCE: &str = "4b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d";
const WAREHOUSE: &str = "7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f";
const MIKE: &str = "a1d97031-04e2-4907-a249-093f7436207b";
const NEWHIRE: &str = "1e9f4b3a-2d8c-4f7e-a6b5-c0d9e8f7a6b5";
const TOMASZ: &str = "9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f";
const UNKNOWN_USER: &str = "ffffffff-ffff-4fff-8fff-ffffffffffff";
const ADMIN: &str = "activity-admin";
const LIMITED: &str = "activity-limited";

fn departments_path(client: &str) -> String {
    format!("/activity/v2/clients/{client}/departments")
}

fn department_path(client: &str, id: &str) -> String {
    format!("/activity/v2/clients/{client}/departments/{id}")
}

fn user_path(id: &str) -> String {
    format!("/activity/v2/clients/{CLIENT}/users/{id}")
}

async fn call(server: &TestServer, method: Method, path: &str, body: Option<Value>) -> Reply {
    call_as(server, ADMIN, method, path, body, None).await
}

async fn call_as(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    session: Option<&str>,
) -> Reply {
    let mut request = server.request(method, path).bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    if let Some(session) = session {
        request = request.header("x-usermock-session", session);
    }
    server.send(request).await
}

fn department_not_found(id: &str) -> Value {
    error_body(
        "not_found",
        "Department not found",
        json!({"department_id": id}),
    )
}

fn department(
    id: &str,
    name: &str,
    description: Value,
    members: u64,
    created: &str,
    updated: &str,
) -> Value {
    json!({"id": id, "name": name, "description": description, "member_count": members,
           "created_at": created, "updated_at": updated})
}

fn engineering(members: u64) -> Value {
    department(
        ENGINEERING,
        "Engineering",
        json!("Software development and infrastructure teams"),
        members,
        "2026-01-10T09:00:00.000Z",
        "2026-02-05T21:29:34.214Z",
    )
}

fn fixture_departments() -> Vec<Value> {
    vec![
        department(
            CUSTOMER_SUCCESS,
            "Customer Success",
            Value::Null,
            1,
            "2025-09-03T09:15:00.000Z",
            "2025-09-03T09:15:00.000Z",
        ),
        engineering(6),
        department(
            FINANCE,
            "Finance",
            json!("Accounting and payroll"),
            0,
            "2026-02-01T08:00:00.000Z",
            "2026-02-01T08:00:00.000Z",
        ),
        department(
            PLATFORM,
            "Platform",
            json!("Internal developer platform and tooling"),
            2,
            "2026-01-10T09:00:00.000Z",
            "2026-01-10T09:00:00.000Z",
        ),
        department(
            SALES,
            "Sales",
            json!("Account executives and sales development"),
            3,
            "2025-07-01T12:00:00.000Z",
            "2026-01-22T16:40:00.000Z",
        ),
    ]
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .map(|d| d["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn create(server: &TestServer, body: Value) -> Reply {
    call(server, Method::POST, &departments_path(CLIENT), Some(body)).await
}

// ------------------------------------------------------------------- list --

#[tokio::test]
async fn departments_list_by_name_with_member_counts_by_default() {
    let server = TestServer::start().await;
    let answer = call(&server, Method::GET, &departments_path(CLIENT), None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({"data": fixture_departments(), "total_count": 5, "next_cursor": null})
    );
}

#[tokio::test]
async fn departments_q_matches_the_name_partially_and_case_insensitively() {
    let server = TestServer::start().await;
    let answer = call(
        &server,
        Method::GET,
        &format!("{}?q=ENG", departments_path(CLIENT)),
        None,
    )
    .await;
    assert_eq!(
        answer.json(),
        json!({"data": [engineering(6)], "total_count": 1, "next_cursor": null})
    );
}

#[tokio::test]
async fn departments_sort_by_member_count_and_created_at_in_both_orders() {
    let server = TestServer::start().await;
    for (query, expected) in [
        (
            "sort_by=member_count&sort_order=desc",
            [ENGINEERING, SALES, PLATFORM, CUSTOMER_SUCCESS, FINANCE],
        ),
        (
            "sort_by=member_count",
            [FINANCE, CUSTOMER_SUCCESS, PLATFORM, SALES, ENGINEERING],
        ),
        // Engineering and Platform were created at the same instant: by id.
        (
            "sort_by=created_at",
            [SALES, CUSTOMER_SUCCESS, ENGINEERING, PLATFORM, FINANCE],
        ),
        (
            "sort_by=created_at&sort_order=desc",
            [FINANCE, PLATFORM, ENGINEERING, CUSTOMER_SUCCESS, SALES],
        ),
        (
            "sort_order=desc",
            [SALES, PLATFORM, FINANCE, ENGINEERING, CUSTOMER_SUCCESS],
        ),
    ] {
        let page = call(
            &server,
            Method::GET,
            &format!("{}?{query}", departments_path(CLIENT)),
            None,
        )
        .await
        .json();
        assert_eq!(ids(&page), expected.to_vec(), "{query}");
    }
}

#[tokio::test]
async fn department_paging_walks_serve_every_department_once_in_order() {
    let server = TestServer::start().await;
    for sort in ["name", "member_count", "created_at"] {
        for order in ["asc", "desc"] {
            let base = format!(
                "{}?sort_by={sort}&sort_order={order}",
                departments_path(CLIENT)
            );
            let whole = ids(&call(&server, Method::GET, &base, None).await.json());
            for size in [1, 2, 4] {
                let mut seen = Vec::new();
                let mut path = format!("{base}&page_size={size}");
                loop {
                    let page = call(&server, Method::GET, &path, None).await.json();
                    assert_eq!(page["total_count"], 5);
                    seen.extend(ids(&page));
                    match page["next_cursor"].as_str() {
                        Some(c) => path = format!("{base}&page_size={size}&cursor={c}"),
                        None => break,
                    }
                }
                assert_eq!(seen, whole, "{sort} {order} {size}");
            }
        }
    }
}

#[tokio::test]
async fn departments_list_refuses_bad_queries_and_other_tenants() {
    let server = TestServer::start().await;
    let answer = call(
        &server,
        Method::GET,
        &format!("{}?sort_by=size", departments_path(CLIENT)),
        None,
    )
    .await;
    assert_eq!(
        answer.json(),
        error_body(
            "invalid_request",
            "sort_by must be one of: name, member_count, created_at",
            json!({"field": "sort_by", "value": "size"})
        )
    );
    let answer = call(
        &server,
        Method::GET,
        &format!("{}?page_size=501", departments_path(CLIENT)),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let answer = call_as(
        &server,
        LIMITED,
        Method::GET,
        &departments_path(CLIENT),
        None,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = call(
        &server,
        Method::GET,
        &departments_path(UNKNOWN_CLIENT),
        None,
    )
    .await;
    assert_eq!(
        answer.json(),
        error_body(
            "not_found",
            "Client not found",
            json!({"client_id": UNKNOWN_CLIENT})
        )
    );
    let answer = call_as(
        &server,
        LIMITED,
        Method::GET,
        &departments_path(OTHER_CLIENT),
        None,
        None,
    )
    .await;
    assert_eq!(ids(&answer.json()), vec![WAREHOUSE]);
}

// -------------------------------------------------------------------- get --

#[tokio::test]
async fn get_department_returns_the_department_with_its_member_count() {
    let server = TestServer::start().await;
    let answer = call(
        &server,
        Method::GET,
        &department_path(CLIENT, ENGINEERING),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), engineering(6));
}

#[tokio::test]
async fn an_unknown_or_another_clients_department_is_the_documented_404() {
    let server = TestServer::start().await;
    for id in [UNKNOWN_USER, WAREHOUSE] {
        let path = department_path(CLIENT, id);
        for (method, body) in [
            (Method::GET, None),
            (Method::PATCH, Some(json!({"name": "X"}))),
            (Method::DELETE, None),
        ] {
            let answer = call(&server, method.clone(), &path, body).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {id}");
            assert_eq!(answer.json(), department_not_found(id));
        }
        for suffix in ["members", "members/remove"] {
            let answer = call(
                &server,
                Method::POST,
                &format!("{path}/{suffix}"),
                Some(json!({"user_ids": [MIKE]})),
            )
            .await;
            assert_eq!(answer.json(), department_not_found(id), "{suffix}");
        }
    }
    // Nothing of the other tenant's department changed.
    let answer = call_as(
        &server,
        LIMITED,
        Method::GET,
        &department_path(OTHER_CLIENT, WAREHOUSE),
        None,
        None,
    )
    .await;
    assert_eq!(answer.json()["member_count"], 1);
    assert_eq!(answer.json()["name"], "Warehouse Operations");
}

#[tokio::test]
async fn a_limited_token_is_refused_on_every_department_route_of_a_client_it_lacks() {
    let server = TestServer::start().await;
    let dept = department_path(CLIENT, ENGINEERING);
    for (method, path, body) in [
        (Method::GET, departments_path(CLIENT), None),
        (
            Method::POST,
            departments_path(CLIENT),
            Some(json!({"name": "Ops"})),
        ),
        (Method::GET, dept.clone(), None),
        (Method::PATCH, dept.clone(), Some(json!({"name": "Ops"}))),
        (Method::DELETE, dept.clone(), None),
        (
            Method::POST,
            format!("{dept}/members"),
            Some(json!({"user_ids": [MIKE]})),
        ),
        (
            Method::POST,
            format!("{dept}/members/remove"),
            Some(json!({"user_ids": [MIKE]})),
        ),
    ] {
        let answer = call_as(&server, LIMITED, method.clone(), &path, body, None).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(
            answer.json(),
            error_body(
                "forbidden",
                "Insufficient permissions for this client",
                json!({"client_id": CLIENT})
            )
        );
    }
    assert_eq!(
        call(&server, Method::GET, &dept, None).await.json(),
        engineering(6)
    );
}

#[tokio::test]
async fn a_wrong_method_on_a_department_is_a_405_with_allow() {
    let server = TestServer::start().await;
    let answer = call(
        &server,
        Method::PUT,
        &department_path(CLIENT, ENGINEERING),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.header("allow"), Some("GET, PATCH, DELETE"));
    let answer = call(
        &server,
        Method::GET,
        &format!("{}/members", department_path(CLIENT, ENGINEERING)),
        None,
    )
    .await;
    assert_eq!(answer.header("allow"), Some("POST"));
}

// ----------------------------------------------------------------- create --

#[tokio::test]
async fn create_returns_201_with_the_new_department_and_zero_members() {
    let server = TestServer::start().await;
    let answer = create(
        &server,
        json!({"name": "Security", "description": "Blue team"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let body = answer.json();
    let id = body["id"].as_str().expect("id").to_owned();
    assert!(uuid_like(&id), "{id}");
    let stamp = body["created_at"].as_str().expect("created_at").to_owned();
    assert!(stamp <= now_millis());
    assert_eq!(
        body,
        department(&id, "Security", json!("Blue team"), 0, &stamp, &stamp)
    );
    assert_eq!(
        call(&server, Method::GET, &department_path(CLIENT, &id), None)
            .await
            .json(),
        body
    );
    let list = call(
        &server,
        Method::GET,
        &format!("{}?q=secu", departments_path(CLIENT)),
        None,
    )
    .await
    .json();
    assert_eq!(
        list,
        json!({"data": [body], "total_count": 1, "next_cursor": null})
    );
    // Name only: no description.
    let answer = create(&server, json!({"name": "Legal"})).await;
    assert_eq!(answer.json()["description"], Value::Null);
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[tokio::test]
async fn a_missing_or_empty_name_is_the_documented_400() {
    let server = TestServer::start().await;
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": null}),
        json!({"description": "x"}),
    ] {
        let answer = create(&server, body.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            answer.json(),
            error_body(
                "invalid_request",
                "Department name is required",
                json!({"field": "name"})
            ),
            "{body}"
        );
    }
}

#[tokio::test]
async fn department_bodies_of_the_wrong_shape_are_a_400() {
    let server = TestServer::start().await;
    for (body, message, details) in [
        (
            json!({"name": 42}),
            "'name' must be a string",
            json!({"field": "name", "value": 42}),
        ),
        (
            json!({"name": "X", "description": 5}),
            "'description' must be a string or null",
            json!({"field": "description", "value": 5}),
        ),
        (
            json!({"name": "X", "member_count": 3}),
            "Field 'member_count' cannot be updated via the API",
            json!({"field": "member_count"}),
        ),
        (
            json!({"name": "X", "colour": "red"}),
            "Unknown field 'colour'",
            json!({"field": "colour"}),
        ),
        (
            json!(["X"]),
            "Request body must be a JSON object",
            json!({}),
        ),
    ] {
        let answer = create(&server, body.clone()).await;
        assert_eq!(
            answer.json(),
            error_body("invalid_request", message, details),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_duplicate_name_is_the_documented_409_conflict() {
    let server = TestServer::start().await;
    for name in ["Engineering", "engineering", "SALES"] {
        let answer = create(&server, json!({"name": name})).await;
        assert_eq!(answer.status, StatusCode::CONFLICT, "{name}");
        assert_eq!(
            answer.json(),
            error_body(
                "conflict",
                "A department with this name already exists",
                json!({"name": name})
            )
        );
    }
    // Another client's department name is free here.
    assert_eq!(
        create(&server, json!({"name": "Warehouse Operations"}))
            .await
            .status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn settings_can_compare_department_names_exactly() {
    let dir = common::TempDir::new("activity-exact-names");
    let mut fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_fixtures().join("activity.json")).expect("fixture"),
    )
    .expect("json");
    fixture["settings"]["department_names"] = json!("exact");
    dir.write("activity.json", &fixture.to_string());
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    assert_eq!(
        create(&server, json!({"name": "engineering"})).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        create(&server, json!({"name": "Engineering"})).await.status,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn create_checks_run_in_order_auth_shape_permission_existence_conflict() {
    let server = TestServer::start().await;
    let dup = Some(json!({"name": "Engineering"}));
    let bad = Some(json!({}));
    let status = |a: Reply| a.status;
    assert_eq!(
        status(
            call_as(
                &server,
                "bogus",
                Method::POST,
                &departments_path(CLIENT),
                bad.clone(),
                None
            )
            .await
        ),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(
            call_as(
                &server,
                LIMITED,
                Method::POST,
                &departments_path(CLIENT),
                bad,
                None
            )
            .await
        ),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(
            call_as(
                &server,
                LIMITED,
                Method::POST,
                &departments_path(UNKNOWN_CLIENT),
                dup.clone(),
                None
            )
            .await
        ),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(
            call(
                &server,
                Method::POST,
                &departments_path(UNKNOWN_CLIENT),
                dup.clone()
            )
            .await
        ),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(call(&server, Method::POST, &departments_path(CLIENT), dup).await),
        StatusCode::CONFLICT
    );
}

// ----------------------------------------------------------------- update --

#[tokio::test]
async fn update_changes_name_and_description_and_null_clears_it() {
    let server = TestServer::start().await;
    let path = department_path(CLIENT, ENGINEERING);
    // Shown before the change (a shown user keeps its text), and after it
    // showing the department as it is then.
    let engineering_of = |user: &Value| {
        user["departments"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["id"] == ENGINEERING)
            .cloned()
    };
    let users = format!("/activity/v2/clients/{CLIENT}/users");
    let mike = call(&server, Method::GET, &user_path(MIKE), None)
        .await
        .json();
    assert_eq!(
        engineering_of(&mike).map(|d| d["name"].clone()),
        Some(json!("Engineering"))
    );
    let listed = call(&server, Method::GET, &users, None).await.json();
    let members_listed = |page: &Value| {
        page["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(engineering_of)
            .collect::<Vec<Value>>()
    };
    assert_eq!(members_listed(&listed).len(), 6);
    let answer = call(
        &server,
        Method::PATCH,
        &path,
        Some(json!({"name": "Engineering & DevOps"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let stamp = answer.json()["updated_at"]
        .as_str()
        .expect("updated_at")
        .to_owned();
    assert!(
        stamp.as_str() > "2026-02-05T21:29:34.214Z" && stamp <= now_millis(),
        "{stamp}"
    );
    assert_eq!(
        answer.json(),
        department(
            ENGINEERING,
            "Engineering & DevOps",
            json!("Software development and infrastructure teams"),
            6,
            "2026-01-10T09:00:00.000Z",
            &stamp
        )
    );
    let answer = call(
        &server,
        Method::PATCH,
        &path,
        Some(json!({"description": null})),
    )
    .await;
    assert_eq!(answer.json()["description"], Value::Null);
    assert_eq!(answer.json()["name"], "Engineering & DevOps");
    // Users show the department as it is now.
    let mike = call(&server, Method::GET, &user_path(MIKE), None)
        .await
        .json();
    assert_eq!(
        mike["departments"],
        json!([{"id": ENGINEERING, "name": "Engineering & DevOps", "description": null}])
    );
    let listed = call(&server, Method::GET, &users, None).await.json();
    assert_eq!(
        members_listed(&listed),
        vec![json!({"id": ENGINEERING, "name": "Engineering & DevOps", "description": null}); 6]
    );
}

#[tokio::test]
async fn update_refuses_a_name_another_department_has_but_not_its_own() {
    let server = TestServer::start().await;
    let path = department_path(CLIENT, ENGINEERING);
    let answer = call(
        &server,
        Method::PATCH,
        &path,
        Some(json!({"name": "platform"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(
        answer.json(),
        error_body(
            "conflict",
            "A department with this name already exists",
            json!({"name": "platform"})
        )
    );
    let answer = call(
        &server,
        Method::PATCH,
        &path,
        Some(json!({"name": "ENGINEERING"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["name"], "ENGINEERING");
    for (body, message, details) in [
        (
            json!({"name": ""}),
            "Department name is required",
            json!({"field": "name"}),
        ),
        (
            json!({"created_at": "2020-01-01T00:00:00.000Z"}),
            "Field 'created_at' cannot be updated via the API",
            json!({"field": "created_at"}),
        ),
        (
            json!({"id": ENGINEERING}),
            "Field 'id' cannot be updated via the API",
            json!({"field": "id"}),
        ),
    ] {
        let answer = call(&server, Method::PATCH, &path, Some(body.clone())).await;
        assert_eq!(
            answer.json(),
            error_body("invalid_request", message, details),
            "{body}"
        );
    }
}

// ----------------------------------------------------------------- delete --

#[tokio::test]
async fn delete_is_a_204_and_hides_the_department_everywhere() {
    let server = TestServer::start().await;
    let path = department_path(CLIENT, ENGINEERING);
    // Shown before the delete (a shown user keeps its text).
    let users = format!("/activity/v2/clients/{CLIENT}/users");
    let before = call(&server, Method::GET, &users, None).await.json();
    let mike = call(&server, Method::GET, &user_path(MIKE), None)
        .await
        .json();
    assert_eq!(mike["departments"].as_array().map(Vec::len), Some(1));
    let answer = call(&server, Method::DELETE, &path, None).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert_eq!(answer.text, "");
    assert_eq!(
        call(&server, Method::GET, &path, None).await.json(),
        department_not_found(ENGINEERING)
    );
    assert_eq!(
        call(&server, Method::DELETE, &path, None).await.json(),
        department_not_found(ENGINEERING)
    );
    let list = call(&server, Method::GET, &departments_path(CLIENT), None)
        .await
        .json();
    assert_eq!(list["total_count"], 4);
    assert!(!ids(&list).contains(&ENGINEERING.to_owned()));
    // Former members no longer list it.
    let mike = call(&server, Method::GET, &user_path(MIKE), None)
        .await
        .json();
    assert_eq!(mike["departments"], json!([]));
    let lucia = call(
        &server,
        Method::GET,
        &user_path("c7d4e2a9-8b1f-4e6c-9a3d-5f2b7e1c8d40"),
        None,
    )
    .await
    .json();
    assert_eq!(lucia["departments"].as_array().map(Vec::len), Some(1));
    // The list shows every user as before, less the department (its
    // former members with the delete's write stamp).
    let after = call(&server, Method::GET, &users, None).await.json();
    let mut expected = before.clone();
    let data = expected["data"].as_array_mut().into_iter().flatten();
    for (i, user) in data.enumerate() {
        if let Some(departments) = user["departments"].as_array_mut() {
            let count = departments.len();
            departments.retain(|d| d["id"] != ENGINEERING);
            if departments.len() < count {
                user["updated_at"] = after["data"][i]["updated_at"].clone();
            }
        }
    }
    assert_ne!(before, expected, "the department was listed before");
    assert_eq!(after, expected);
    // Its id is now unknown to a user PATCH and to the users filter.
    let answer = call(
        &server,
        Method::PATCH,
        &user_path(MIKE),
        Some(json!({"departments": [ENGINEERING]})),
    )
    .await;
    assert_eq!(
        answer.json(),
        error_body(
            "not_found",
            "One or more departments not found",
            json!({"invalid_department_ids": [ENGINEERING]})
        )
    );
    let answer = call(
        &server,
        Method::GET,
        &format!("/activity/v2/clients/{CLIENT}/users?department_id={ENGINEERING}"),
        None,
    )
    .await;
    assert_eq!(answer.json(), department_not_found(ENGINEERING));
    // The name is free again.
    assert_eq!(
        create(&server, json!({"name": "Engineering"})).await.status,
        StatusCode::CREATED
    );
}

// ---------------------------------------------------------------- members --

#[tokio::test]
async fn add_members_reports_each_id_and_is_idempotent() {
    let server = TestServer::start().await;
    let path = format!("{}/members", department_path(CLIENT, FINANCE));
    let body = json!({"user_ids": [MIKE, UNKNOWN_USER, TOMASZ, MIKE.to_uppercase(), NEWHIRE]});
    let expected = json!({
        "succeeded": [MIKE, NEWHIRE],
        "failed": [{"id": UNKNOWN_USER, "error": "User not found"}, {"id": TOMASZ, "error": "User not found"}],
    });
    for _ in 0..2 {
        let answer = call(&server, Method::POST, &path, Some(body.clone())).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.json(), expected);
    }
    let finance = call(
        &server,
        Method::GET,
        &department_path(CLIENT, FINANCE),
        None,
    )
    .await
    .json();
    assert_eq!(finance["member_count"], 2);
    let mike = call(&server, Method::GET, &user_path(MIKE), None)
        .await
        .json();
    assert_eq!(
        mike["departments"],
        json!([
            {"id": ENGINEERING, "name": "Engineering", "description": "Software development and infrastructure teams"},
            {"id": FINANCE, "name": "Finance", "description": "Accounting and payroll"}
        ])
    );
    // The other tenant's user was not touched.
    let tomasz = call_as(
        &server,
        LIMITED,
        Method::GET,
        &format!("/activity/v2/clients/{OTHER_CLIENT}/users/{TOMASZ}"),
        None,
        None,
    )
    .await
    .json();
    assert_eq!(tomasz["departments"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn remove_members_counts_non_members_as_succeeded() {
    let server = TestServer::start().await;
    let path = format!("{}/members/remove", department_path(CLIENT, ENGINEERING));
    let answer = call(
        &server,
        Method::POST,
        &path,
        Some(json!({"user_ids": [MIKE, NEWHIRE, UNKNOWN_USER]})),
    )
    .await;
    assert_eq!(
        answer.json(),
        json!({"succeeded": [MIKE, NEWHIRE], "failed": [{"id": UNKNOWN_USER, "error": "User not found"}]})
    );
    let mike = call(&server, Method::GET, &user_path(MIKE), None)
        .await
        .json();
    assert_eq!(mike["departments"], json!([]));
    assert!(mike["updated_at"].as_str() > Some("2026-02-24T22:00:00.000Z"));
    let newhire = call(&server, Method::GET, &user_path(NEWHIRE), None)
        .await
        .json();
    assert_eq!(
        newhire["updated_at"], "2026-02-23T15:30:00.000Z",
        "nothing to change, nothing written"
    );
    assert_eq!(
        call(
            &server,
            Method::GET,
            &department_path(CLIENT, ENGINEERING),
            None
        )
        .await
        .json()["member_count"],
        5
    );
}

#[tokio::test]
async fn member_bodies_of_the_wrong_shape_are_a_400() {
    let server = TestServer::start().await;
    let path = format!("{}/members", department_path(CLIENT, FINANCE));
    for (body, message, details) in [
        (
            json!({}),
            "'user_ids' is required",
            json!({"field": "user_ids"}),
        ),
        (
            json!({"user_ids": MIKE}),
            "'user_ids' must be an array of user ids",
            json!({"field": "user_ids", "value": MIKE}),
        ),
        (
            json!({"user_ids": [7]}),
            "'user_ids[0]' must be a string",
            json!({"field": "user_ids[0]", "value": 7}),
        ),
        (
            json!({"user_ids": [], "ids": []}),
            "Unknown field 'ids'",
            json!({"field": "ids"}),
        ),
    ] {
        let answer = call(&server, Method::POST, &path, Some(body.clone())).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            answer.json(),
            error_body("invalid_request", message, details),
            "{body}"
        );
    }
    assert_eq!(
        call(
            &server,
            Method::GET,
            &department_path(CLIENT, FINANCE),
            None
        )
        .await
        .json()["member_count"],
        0
    );
}

#[tokio::test]
async fn a_user_patch_is_seen_in_member_counts_and_the_users_filter() {
    let server = TestServer::start().await;
    let answer = call(
        &server,
        Method::PATCH,
        &user_path(NEWHIRE),
        Some(json!({"departments": [FINANCE, ENGINEERING]})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        call(
            &server,
            Method::GET,
            &department_path(CLIENT, FINANCE),
            None
        )
        .await
        .json()["member_count"],
        1
    );
    assert_eq!(
        call(
            &server,
            Method::GET,
            &department_path(CLIENT, ENGINEERING),
            None
        )
        .await
        .json()["member_count"],
        7
    );
    let listed = call(
        &server,
        Method::GET,
        &format!("/activity/v2/clients/{CLIENT}/users?department_id={FINANCE}"),
        None,
    )
    .await
    .json();
    assert_eq!(listed["data"], json!([answer.json()]));
}

// --------------------------------------------------------------- sessions --

#[tokio::test]
async fn departments_created_or_changed_in_a_session_are_seen_only_there() {
    let server = TestServer::start().await;
    let created = call_as(
        &server,
        ADMIN,
        Method::POST,
        &departments_path(CLIENT),
        Some(json!({"name": "Research"})),
        Some("a"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let deleted = call_as(
        &server,
        ADMIN,
        Method::DELETE,
        &department_path(CLIENT, SALES),
        None,
        Some("a"),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let in_a = call_as(
        &server,
        ADMIN,
        Method::GET,
        &departments_path(CLIENT),
        None,
        Some("a"),
    )
    .await
    .json();
    assert!(ids(&in_a).contains(&id) && !ids(&in_a).contains(&SALES.to_owned()));
    for session in [None, Some("b")] {
        let seen = call_as(
            &server,
            ADMIN,
            Method::GET,
            &departments_path(CLIENT),
            None,
            session,
        )
        .await
        .json();
        assert_eq!(
            seen,
            json!({"data": fixture_departments(), "total_count": 5, "next_cursor": null}),
            "{session:?}"
        );
        let answer = call_as(
            &server,
            ADMIN,
            Method::GET,
            &department_path(CLIENT, &id),
            None,
            session,
        )
        .await;
        assert_eq!(answer.json(), department_not_found(&id));
    }
    let reset = server
        .request(Method::POST, "/__admin/reset")
        .header("x-usermock-session", "a");
    assert_eq!(server.send(reset).await.status, StatusCode::OK);
    let in_a = call_as(
        &server,
        ADMIN,
        Method::GET,
        &departments_path(CLIENT),
        None,
        Some("a"),
    )
    .await
    .json();
    assert_eq!(in_a["total_count"], 5);
    // Departments are not users: the admin API's user list does not show them.
    let admin = server
        .send(server.request(Method::GET, "/__admin/activity/users"))
        .await
        .json();
    assert_eq!(admin["count"], 14);
}

// -------------------------------------------------------------- scenarios --

async fn with_scenario(
    server: &TestServer,
    scenario: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let mut request = server
        .request(method, path)
        .bearer_auth(ADMIN)
        .header("x-usermock-scenario", scenario);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    server.send(request).await
}

/// A scenario, the request it answers and the answer it gives.
type ScenarioCase = (&'static str, Method, String, Option<Value>, u16, Value);

/// Every shipped scenario of these routes answers the documented error for
/// a request that succeeds without it.
#[tokio::test]
async fn every_shipped_scenario_of_the_new_routes_renders_its_documented_error() {
    let server = TestServer::start().await;
    let base = format!("/activity/v2/clients/{CLIENT}");
    let dept = department_path(CLIENT, ENGINEERING);
    let cases: Vec<ScenarioCase> = vec![
        (
            "activity-department-name-conflict",
            Method::POST,
            departments_path(CLIENT),
            Some(json!({"name": "Research"})),
            409,
            error_body(
                "conflict",
                "A department with this name already exists",
                json!({"name": "Research"}),
            ),
        ),
        (
            "activity-department-name-conflict",
            Method::PATCH,
            dept.clone(),
            Some(json!({"name": "R&D"})),
            409,
            error_body(
                "conflict",
                "A department with this name already exists",
                json!({"name": "R&D"}),
            ),
        ),
        (
            "activity-department-name-required",
            Method::POST,
            departments_path(CLIENT),
            Some(json!({"name": "Lab"})),
            400,
            error_body(
                "invalid_request",
                "Department name is required",
                json!({"field": "name"}),
            ),
        ),
        (
            "activity-unknown-department",
            Method::GET,
            dept.clone(),
            None,
            404,
            department_not_found(ENGINEERING),
        ),
        (
            "activity-unknown-department",
            Method::POST,
            format!("{dept}/members"),
            Some(json!({"user_ids": [MIKE]})),
            404,
            department_not_found(ENGINEERING),
        ),
        (
            "activity-invalid-stale-threshold",
            Method::GET,
            format!("{base}/users/summary?stale_threshold=60"),
            None,
            400,
            error_body(
                "invalid_request",
                "stale_threshold must be a positive integer",
                json!({"field": "stale_threshold", "value": "60"}),
            ),
        ),
        (
            "activity-invalid-cursor",
            Method::GET,
            format!("{base}/users"),
            None,
            400,
            error_body(
                "invalid_request",
                "Invalid cursor",
                json!({"field": "cursor"}),
            ),
        ),
        (
            "activity-invalid-cursor",
            Method::GET,
            departments_path(CLIENT),
            None,
            400,
            error_body(
                "invalid_request",
                "Invalid cursor",
                json!({"field": "cursor"}),
            ),
        ),
        // The vendor-wide ones reach the new routes too.
        (
            "activity-unauthorized",
            Method::GET,
            format!("{base}/users"),
            None,
            401,
            error_body(
                "unauthorized",
                "Authentication required",
                json!({"reason": "unknown token"}),
            ),
        ),
        (
            "activity-forbidden",
            Method::GET,
            departments_path(CLIENT),
            None,
            403,
            error_body(
                "forbidden",
                "Insufficient permissions for this client",
                json!({"client_id": CLIENT}),
            ),
        ),
        (
            "activity-client-not-found",
            Method::GET,
            base.clone(),
            None,
            404,
            error_body(
                "not_found",
                "Client not found",
                json!({"client_id": CLIENT}),
            ),
        ),
        (
            "activity-server-error",
            Method::GET,
            format!("{base}/users/summary"),
            None,
            500,
            error_body("internal_error", "Server error", json!({})),
        ),
        (
            "activity-invalid-request",
            Method::POST,
            format!("{dept}/members"),
            Some(json!({"user_ids": [MIKE]})),
            400,
            error_body("invalid_request", "Invalid request body", json!({})),
        ),
    ];
    for (scenario, method, path, body, status, expected) in cases {
        let plain = call(&server, method.clone(), &path, body.clone()).await;
        assert!(
            plain.status.is_success(),
            "{scenario}: {path} fails alone: {}",
            plain.text
        );
        let answer = with_scenario(&server, scenario, method.clone(), &path, body).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{scenario} {method} {path}: {}",
            answer.text
        );
        assert_eq!(answer.json(), expected, "{scenario} {method} {path}");
    }
}
