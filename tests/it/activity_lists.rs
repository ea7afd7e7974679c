//! ScalePad's user collection, rule by rule, as its docs state them
//! (https://api-docs.amm-scalepad.com/users/list, /users/summary,
//! /clients/details): search, filters, sorting, cursor pages, the
//! active/stale summary and the client object; plus the choices usermock
//! made where the docs are silent (docs/vendors/activity.md, "inferred").

use crate::activity_support::error_body;
use crate::common;

use std::collections::HashSet;

use common::{Reply, TestServer};
use proptest::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const OTHER_CLIENT: &str = "b5e0c3d2-6f4a-4c1b-9e8d-7a6b5c4d3e2f";
const UNKNOWN_CLIENT: &str = "11111111-1111-4111-8111-111111111111";
const ENGINEERING: &str = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";
const WAREHOUSE: &str = "7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f";
const ADMIN: &str = "activity-admin";
const LIMITED: &str = "activity-limited";
const ALEX_UPPER: &str = "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f604";
const ALEX_LOWER: &str = "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f605";

fn users_path(client: &str, query: &str) -> String {
    format!("/activity/v2/clients/{client}/users{query}")
}

async fn get(server: &TestServer, token: &str, path: &str) -> Reply {
    server
        .send(server.request(Method::GET, path).bearer_auth(token))
        .await
}

fn invalid(message: &str, details: Value) -> Value {
    error_body("invalid_request", message, details)
}

/// Each user as `GET /users/{id}` shows it: a list item must be exactly that.
async fn users_by_id(server: &TestServer, ids: &[&str]) -> Vec<Value> {
    let mut users = Vec::new();
    for id in ids {
        let answer = get(server, ADMIN, &users_path(CLIENT, &format!("/{id}"))).await;
        assert_eq!(answer.status, StatusCode::OK, "{id}: {}", answer.text);
        users.push(answer.json());
    }
    users
}

/// The seed client's users by username (case-insensitive), ties by id.
const BY_USERNAME: [&str; 13] = [
    ALEX_UPPER,
    ALEX_LOWER,
    "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f603", // amelia.brooks
    "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f608", // ben.oconnor
    "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f602", // jonas.weber
    "c7d4e2a9-8b1f-4e6c-9a3d-5f2b7e1c8d40", // lucia.fernandez
    "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f609", // mei.tanaka
    "a1d97031-04e2-4907-a249-093f7436207b", // mikechang
    "1e9f4b3a-2d8c-4f7e-a6b5-c0d9e8f7a6b5", // newhire
    "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f606", // omar.haddad
    "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f601", // priya.raman
    "5b2e8f61-3c7d-4a9e-b1f0-6d4c2a8e9b37", // sarahokafor
    "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f607", // zoe.martin
];

fn ids_of(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .map(|users| {
            users
                .iter()
                .map(|u| u["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

// ------------------------------------------------------------- list users --

#[tokio::test]
async fn the_list_holds_every_user_of_the_client_sorted_by_username_by_default() {
    let server = TestServer::start().await;
    let answer = get(&server, ADMIN, &users_path(CLIENT, "")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let expected = json!({
        "data": users_by_id(&server, &BY_USERNAME).await,
        "total_count": 13,
        "next_cursor": null,
    });
    assert_eq!(answer.json(), expected);
}

#[tokio::test]
async fn q_matches_username_or_user_key_partially_and_case_insensitively() {
    let server = TestServer::start().await;
    for (q, ids) in [
        ("ALEX", vec![ALEX_UPPER, ALEX_LOWER]),
        ("kim2", vec![ALEX_LOWER]),
        ("MikeCh", vec!["a1d97031-04e2-4907-a249-093f7436207b"]),
        ("lfern", vec!["c7d4e2a9-8b1f-4e6c-9a3d-5f2b7e1c8d40"]),
        ("nobody-has-this", vec![]),
    ] {
        let answer = get(&server, ADMIN, &users_path(CLIENT, &format!("?q={q}"))).await;
        let expected = json!({
            "data": users_by_id(&server, &ids).await,
            "total_count": ids.len(),
            "next_cursor": null,
        });
        assert_eq!(answer.json(), expected, "q={q}");
    }
}

#[tokio::test]
async fn department_id_lists_only_that_departments_members() {
    let server = TestServer::start().await;
    let answer = get(
        &server,
        ADMIN,
        &users_path(CLIENT, &format!("?department_id={ENGINEERING}")),
    )
    .await;
    let members = [
        ALEX_UPPER,
        "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f602",
        "c7d4e2a9-8b1f-4e6c-9a3d-5f2b7e1c8d40",
        "a1d97031-04e2-4907-a249-093f7436207b",
        "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f601",
        "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f607",
    ];
    let expected = json!({
        "data": users_by_id(&server, &members).await,
        "total_count": 6,
        "next_cursor": null,
    });
    assert_eq!(answer.json(), expected);
}

#[tokio::test]
async fn a_department_filter_that_is_not_the_clients_live_department_is_a_404() {
    let server = TestServer::start().await;
    for id in [WAREHOUSE, "ffffffff-ffff-4fff-8fff-ffffffffffff"] {
        let answer = get(
            &server,
            ADMIN,
            &users_path(CLIENT, &format!("?department_id={id}")),
        )
        .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(
            answer.json(),
            error_body(
                "not_found",
                "Department not found",
                json!({"department_id": id})
            )
        );
    }
    let answer = get(&server, ADMIN, &users_path(CLIENT, "?department_id=eng")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        invalid(
            "Query parameter 'department_id' is not a valid UUID",
            json!({"field": "department_id", "value": "eng"})
        )
    );
}

/// The order the docs' sort implies, computed here from the users
/// themselves: username case-insensitively, timestamps as instants with
/// "never" first, ties by id; `desc` reverses the whole order.
fn expected_order(users: &[Value], sort_by: &str, desc: bool) -> Vec<String> {
    let instant = |v: &Value| {
        v.as_str().map(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map(|t| t.unix_timestamp_nanos())
                .unwrap_or_default()
        })
    };
    let mut keyed: Vec<((String, Option<i128>), String)> = users
        .iter()
        .map(|u| {
            let key = match sort_by {
                "username" => (
                    u["username"].as_str().unwrap_or_default().to_lowercase(),
                    None,
                ),
                "last_activity" => (String::new(), instant(&u["last_activity"]["at"])),
                _ => (String::new(), instant(&u["created_at"])),
            };
            (key, u["id"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    keyed.sort();
    if desc {
        keyed.reverse();
    }
    keyed.into_iter().map(|(_, id)| id).collect()
}

/// Follows `next_cursor` from the first page to the last.
async fn walk(server: &TestServer, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let path = match &cursor {
            None => users_path(CLIENT, &format!("?{query}")),
            Some(c) => users_path(CLIENT, &format!("?{query}&cursor={c}")),
        };
        let answer = get(server, ADMIN, &path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text);
        let page = answer.json();
        assert_eq!(page["total_count"], 13, "{path}");
        ids.extend(ids_of(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
    panic!("the walk of {query} never ended");
}

#[tokio::test]
async fn paging_walks_serve_every_user_once_in_order_for_every_sort() {
    let server = TestServer::start().await;
    let everyone = users_by_id(&server, &BY_USERNAME).await;
    for sort_by in ["username", "last_activity", "created_at"] {
        for (order, desc) in [("asc", false), ("desc", true)] {
            let expected = expected_order(&everyone, sort_by, desc);
            for page_size in [1, 2, 5, 12, 13, 500] {
                let query = format!("sort_by={sort_by}&sort_order={order}&page_size={page_size}");
                assert_eq!(walk(&server, &query).await, expected, "{query}");
            }
        }
    }
}

#[tokio::test]
async fn a_page_holds_page_size_users_and_a_cursor_until_the_last() {
    let server = TestServer::start().await;
    let first = get(&server, ADMIN, &users_path(CLIENT, "?page_size=5"))
        .await
        .json();
    assert_eq!(ids_of(&first), BY_USERNAME[..5].to_vec());
    assert_eq!(first["total_count"], 13);
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_owned();
    // The page size may change between pages; the cursor stays valid.
    let second = get(
        &server,
        ADMIN,
        &users_path(CLIENT, &format!("?page_size=8&cursor={cursor}")),
    )
    .await
    .json();
    assert_eq!(
        second,
        json!({
            "data": users_by_id(&server, &BY_USERNAME[5..]).await,
            "total_count": 13,
            "next_cursor": null,
        })
    );
}

#[tokio::test]
async fn a_walk_serves_every_user_once_while_users_are_written_between_pages() {
    let server = TestServer::start().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut round = 0usize;
    loop {
        let query = match &cursor {
            None => "?page_size=3".to_owned(),
            Some(c) => format!("?page_size=3&cursor={c}"),
        };
        let page = get(&server, ADMIN, &users_path(CLIENT, &query))
            .await
            .json();
        seen.extend(ids_of(&page));
        // Write a user already served and one still to come.
        for id in [BY_USERNAME[round % 13], BY_USERNAME[(round + 7) % 13]] {
            let write = server
                .request(Method::PATCH, &users_path(CLIENT, &format!("/{id}")))
                .bearer_auth(ADMIN)
                .header("content-type", "application/json")
                .body(json!({"departments": [ENGINEERING]}).to_string());
            assert_eq!(server.send(write).await.status, StatusCode::OK);
        }
        round += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, BY_USERNAME.to_vec());
}

#[tokio::test]
async fn a_forged_cursor_is_a_400() {
    let server = TestServer::start().await;
    let first = get(&server, ADMIN, &users_path(CLIENT, "?page_size=2"))
        .await
        .json();
    let cursor = first["next_cursor"].as_str().expect("cursor").to_owned();
    let mut edited = cursor.clone().into_bytes();
    edited[3] = if edited[3] == b'A' { b'B' } else { b'A' };
    let edited = String::from_utf8(edited).expect("ascii");
    for forged in [
        "not-a-cursor",
        "eyJrIjoxfQ",
        "%00%FF",
        edited.as_str(),
        &"A".repeat(5000),
    ] {
        let answer = get(
            &server,
            ADMIN,
            &users_path(CLIENT, &format!("?page_size=2&cursor={forged}")),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{forged}");
        assert_eq!(
            answer.json(),
            invalid("Invalid cursor", json!({"field": "cursor"})),
            "{forged}"
        );
    }
}

#[tokio::test]
async fn a_cursor_from_another_query_or_client_is_a_400() {
    let server = TestServer::start().await;
    let first = get(&server, ADMIN, &users_path(CLIENT, "?page_size=2"))
        .await
        .json();
    let cursor = first["next_cursor"].as_str().expect("cursor").to_owned();
    for (client, query) in [
        (CLIENT, "sort_by=created_at"),
        (CLIENT, "sort_order=desc"),
        (CLIENT, "q=a"),
        (CLIENT, &format!("department_id={ENGINEERING}") as &str),
        (OTHER_CLIENT, ""),
    ] {
        let answer = get(
            &server,
            ADMIN,
            &users_path(client, &format!("?{query}&cursor={cursor}")),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            answer.json(),
            invalid(
                "The cursor was issued for a different query",
                json!({"field": "cursor"})
            ),
            "{query}"
        );
    }
    // An empty cursor is the first page.
    let answer = get(&server, ADMIN, &users_path(CLIENT, "?page_size=2&cursor=")).await;
    assert_eq!(answer.json(), first);
}

#[tokio::test]
async fn page_size_out_of_range_or_not_an_integer_is_a_400() {
    let server = TestServer::start().await;
    for raw in [
        "0",
        "501",
        "-1",
        "+5",
        "2.5",
        "abc",
        "",
        "99999999999999999999999",
    ] {
        let encoded = raw.replace('+', "%2B");
        let answer = get(
            &server,
            ADMIN,
            &users_path(CLIENT, &format!("?page_size={encoded}")),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{raw}");
        assert_eq!(
            answer.json(),
            invalid(
                "page_size must be an integer between 1 and 500",
                json!({"field": "page_size", "value": raw})
            )
        );
    }
    for ok in ["1", "500"] {
        let answer = get(
            &server,
            ADMIN,
            &users_path(CLIENT, &format!("?page_size={ok}")),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{ok}");
    }
}

#[tokio::test]
async fn sort_by_and_sort_order_accept_only_the_documented_values() {
    let server = TestServer::start().await;
    for (query, message, field, value) in [
        (
            "sort_by=email",
            "sort_by must be one of: username, last_activity, created_at",
            "sort_by",
            "email",
        ),
        (
            "sort_by=Username",
            "sort_by must be one of: username, last_activity, created_at",
            "sort_by",
            "Username",
        ),
        (
            "sort_order=up",
            "sort_order must be one of: asc, desc",
            "sort_order",
            "up",
        ),
    ] {
        let answer = get(&server, ADMIN, &users_path(CLIENT, &format!("?{query}"))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            answer.json(),
            invalid(message, json!({"field": field, "value": value}))
        );
    }
}

#[tokio::test]
async fn unknown_or_repeated_query_parameters_are_a_400() {
    let server = TestServer::start().await;
    let answer = get(&server, ADMIN, &users_path(CLIENT, "?sortby=username")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        invalid(
            "Unknown query parameter 'sortby'",
            json!({"field": "sortby"})
        )
    );
    let answer = get(&server, ADMIN, &users_path(CLIENT, "?q=a&q=b")).await;
    assert_eq!(
        answer.json(),
        invalid(
            "Query parameter 'q' is given more than once",
            json!({"field": "q"})
        )
    );
}

#[tokio::test]
async fn settings_can_make_unknown_query_parameters_ignored() {
    let dir = common::TempDir::new("activity-query-ignore");
    let mut fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_fixtures().join("activity.json")).expect("fixture"),
    )
    .expect("json");
    fixture["settings"]["unknown_query_parameters"] = json!("ignore");
    dir.write("activity.json", &fixture.to_string());
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    let answer = get(&server, ADMIN, &users_path(CLIENT, "?_=123&page_size=1")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(ids_of(&answer.json()), vec![ALEX_UPPER]);
}

#[tokio::test]
async fn another_client_lists_only_its_own_users() {
    let server = TestServer::start().await;
    let answer = get(&server, LIMITED, &users_path(OTHER_CLIENT, "")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let tomasz = get(
        &server,
        LIMITED,
        &users_path(OTHER_CLIENT, "/9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f"),
    )
    .await
    .json();
    assert_eq!(
        answer.json(),
        json!({"data": [tomasz], "total_count": 1, "next_cursor": null})
    );
}

#[tokio::test]
async fn list_and_summary_refuse_other_tenants_and_unknown_clients() {
    let server = TestServer::start().await;
    for path in [users_path(CLIENT, ""), users_path(CLIENT, "/summary")] {
        let answer = get(&server, LIMITED, &path).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            answer.json(),
            error_body(
                "forbidden",
                "Insufficient permissions for this client",
                json!({"client_id": CLIENT})
            )
        );
    }
    for path in [
        users_path(UNKNOWN_CLIENT, ""),
        users_path(UNKNOWN_CLIENT, "/summary"),
    ] {
        let answer = get(&server, ADMIN, &path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            answer.json(),
            error_body(
                "not_found",
                "Client not found",
                json!({"client_id": UNKNOWN_CLIENT})
            )
        );
    }
}

#[tokio::test]
async fn list_checks_run_in_order_auth_then_shape_then_permission_then_existence() {
    let server = TestServer::start().await;
    let bad_query = "?page_size=0";
    assert_eq!(
        get(&server, "bogus", &users_path(CLIENT, bad_query))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&server, LIMITED, &users_path(CLIENT, bad_query))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&server, LIMITED, &users_path(UNKNOWN_CLIENT, ""))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let answer = get(
        &server,
        ADMIN,
        &users_path(UNKNOWN_CLIENT, &format!("?department_id={WAREHOUSE}")),
    )
    .await;
    assert_eq!(answer.json()["error"]["message"], "Client not found");
    let answer = get(&server, ADMIN, &users_path("not-a-uuid", "")).await;
    assert_eq!(
        answer.json(),
        invalid(
            "Path parameter 'client_id' is not a valid UUID",
            json!({"field": "client_id", "value": "not-a-uuid"})
        )
    );
}

// ---------------------------------------------------------------- summary --

/// Active and stale counts of the seed client's fixture users for a
/// threshold, by the test's clock.
fn expected_summary(threshold: i64) -> Value {
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_fixtures().join("activity.json")).expect("fixture"),
    )
    .expect("json");
    let cutoff = time::OffsetDateTime::now_utc() - time::Duration::seconds(threshold);
    let users: Vec<&Value> = fixture["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| u["client_id"] == CLIENT)
        .collect();
    let active = users
        .iter()
        .filter(|u| {
            u["last_activity"]["at"].as_str().is_some_and(|at| {
                time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                    .is_ok_and(|at| at >= cutoff)
            })
        })
        .count();
    json!({"active_users": active, "stale_users": users.len() - active, "stale_threshold": threshold})
}

#[tokio::test]
async fn the_summary_counts_active_and_stale_users_with_the_48_hour_default() {
    let server = TestServer::start().await;
    let answer = get(&server, ADMIN, &users_path(CLIENT, "/summary")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json(), expected_summary(172_800));
}

#[tokio::test]
async fn the_summary_follows_stale_threshold_and_never_active_users_are_stale() {
    let server = TestServer::start().await;
    // A cutoff at 2024-01-01: no fixture activity lies near it, so the
    // split is stable while the test runs.
    let since_2024 = (time::OffsetDateTime::now_utc()
        - time::macros::datetime!(2024-01-01 00:00 UTC))
    .whole_seconds();
    let answer = get(
        &server,
        ADMIN,
        &users_path(CLIENT, &format!("/summary?stale_threshold={since_2024}")),
    )
    .await;
    let expected = expected_summary(since_2024);
    assert_eq!(answer.json(), expected);
    // The fixture: 8 users active since 2024, 2 before it, 3 never.
    assert_eq!(expected["active_users"], 8);
    assert_eq!(expected["stale_users"], 5);
    // The largest threshold makes everyone with any activity active.
    let answer = get(
        &server,
        ADMIN,
        &users_path(CLIENT, "/summary?stale_threshold=18446744073709551615"),
    )
    .await;
    assert_eq!(
        answer.json(),
        json!({"active_users": 10, "stale_users": 3, "stale_threshold": 18446744073709551615u64})
    );
}

#[tokio::test]
async fn a_stale_threshold_that_is_not_a_positive_integer_is_a_400() {
    let server = TestServer::start().await;
    for raw in [
        "0",
        "-5",
        "1.5",
        "abc",
        "",
        "+60",
        "99999999999999999999999",
    ] {
        let answer = get(
            &server,
            ADMIN,
            &users_path(
                CLIENT,
                &format!("/summary?stale_threshold={}", raw.replace('+', "%2B")),
            ),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{raw}");
        assert_eq!(
            answer.json(),
            invalid(
                "stale_threshold must be a positive integer",
                json!({"field": "stale_threshold", "value": raw})
            )
        );
    }
}

#[tokio::test]
async fn summary_is_never_taken_for_a_user_id() {
    let server = TestServer::start().await;
    let answer = get(&server, ADMIN, &users_path(CLIENT, "/summary")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert!(body.get("active_users").is_some(), "{body}");
    // Other methods on it are a user route's, whose id is then malformed.
    let answer = server
        .send(
            server
                .request(Method::PATCH, &users_path(CLIENT, "/summary"))
                .bearer_auth(ADMIN)
                .header("content-type", "application/json")
                .body("{}"),
        )
        .await;
    assert_eq!(
        answer.json(),
        invalid(
            "Path parameter 'user_id' is not a valid UUID",
            json!({"field": "user_id", "value": "summary"})
        )
    );
}

// ----------------------------------------------------------------- client --

#[tokio::test]
async fn get_client_returns_the_documented_client_object() {
    let server = TestServer::start().await;
    let answer = get(&server, ADMIN, &format!("/activity/v2/clients/{CLIENT}")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.text,
        json!({
            "id": CLIENT,
            "name": "Northwind Traders",
            "status": "active",
            "partner": {"id": "b2c3d4e5-f6a7-8901-bcde-f12345678901", "name": "TechPartner Inc."},
            "enrollment_token": {
                "id": "e1f2a3b4-c5d6-7890-abcd-ef1234567890",
                "value": "enroll_a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6",
                "description": "Default enrollment token",
                "site_id": null,
                "status": "active",
                "max_uses": null,
                "remaining_uses": null,
                "expires_at": null,
                "created_at": "2026-01-15T10:00:00.000Z"
            },
            "created_at": "2025-06-01T00:00:00.000Z",
            "updated_at": "2026-02-20T12:00:00.000Z"
        })
        .to_string(),
        "the documented fields, in the documented order"
    );
    let answer = get(
        &server,
        LIMITED,
        &format!("/activity/v2/clients/{OTHER_CLIENT}"),
    )
    .await;
    assert_eq!(answer.json()["enrollment_token"], Value::Null);
    assert_eq!(answer.json()["name"], "Globex Logistics");
}

#[tokio::test]
async fn get_client_refuses_other_tenants_unknown_clients_and_malformed_ids() {
    let server = TestServer::start().await;
    let answer = get(&server, LIMITED, &format!("/activity/v2/clients/{CLIENT}")).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.json(),
        error_body(
            "forbidden",
            "Insufficient permissions for this client",
            json!({"client_id": CLIENT})
        )
    );
    let answer = get(
        &server,
        ADMIN,
        &format!("/activity/v2/clients/{UNKNOWN_CLIENT}"),
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
    let answer = get(&server, ADMIN, "/activity/v2/clients/42").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let answer = server
        .send(server.request(Method::GET, &format!("/activity/v2/clients/{CLIENT}")))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
}

// ------------------------------------------------------ property: no 5xx --

fn query_text() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("q".to_owned()),
        Just("department_id".to_owned()),
        Just("sort_by".to_owned()),
        Just("sort_order".to_owned()),
        Just("page_size".to_owned()),
        Just("cursor".to_owned()),
        Just("stale_threshold".to_owned()),
        "[a-z_%]{1,6}",
    ];
    let value = prop_oneof![
        "[ -~]{0,12}",
        "-?[0-9]{1,25}",
        Just(ENGINEERING.to_owned()),
        Just("username".to_owned()),
        Just("desc".to_owned()),
        "[A-Za-z0-9_-]{0,80}",
    ];
    prop::collection::vec((name, value), 0..5).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(n, v)| format!("{n}={}", v.replace(['#', ' '], "%20")))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,20}".prop_map(Value::from),
        Just(json!(ENGINEERING)),
        Just(json!(ALEX_UPPER)),
        Just(json!("Engineering")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("name".to_owned()),
                    Just("description".to_owned()),
                    Just("user_ids".to_owned()),
                    Just("departments".to_owned()),
                    "[a-z_]{1,8}"
                ],
                inner,
                0..3
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn random_queries_and_bodies_on_the_new_routes_never_give_a_5xx(
        query in query_text(),
        body in any_json(),
    ) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let server = TestServer::start().await;
            let base = format!("/activity/v2/clients/{CLIENT}");
            let department = format!("{base}/departments/{ENGINEERING}");
            let reads = [
                format!("{base}/users?{query}"),
                format!("{base}/users/summary?{query}"),
                format!("{base}/departments?{query}"),
                format!("{base}?{query}"),
            ];
            for path in &reads {
                let answer = get(&server, ADMIN, path).await;
                prop_assert!(answer.status.as_u16() < 500, "{path}: {} {}", answer.status, answer.text);
                prop_assert!(answer.json().is_object());
            }
            let writes = [
                (Method::POST, format!("{base}/departments")),
                (Method::PATCH, department.clone()),
                (Method::POST, format!("{department}/members")),
                (Method::POST, format!("{department}/members/remove")),
                (Method::PATCH, format!("{base}/users/{ALEX_UPPER}")),
            ];
            for (method, path) in &writes {
                let answer = server
                    .send(
                        server
                            .request(method.clone(), path)
                            .bearer_auth(ADMIN)
                            .header("content-type", "application/json")
                            .body(body.to_string()),
                    )
                    .await;
                prop_assert!(answer.status.as_u16() < 500, "{method} {path} {body}: {} {}", answer.status, answer.text);
            }
            // Every user still reads, and every listed department is whole.
            let list = get(&server, ADMIN, &format!("{base}/users?page_size=500")).await.json();
            prop_assert_eq!(list["total_count"].as_u64(), Some(13));
            let ids: HashSet<String> = ids_of(&list).into_iter().collect();
            prop_assert_eq!(ids.len(), 13);
            Ok(())
        })?;
    }
}
