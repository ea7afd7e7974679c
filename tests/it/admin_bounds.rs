//! Bounds on admin work: journal listings in pages, the cost of a find,
//! heavy admin calls off the request workers, scenario uploads in bytes,
//! strict clock bodies, and notes in the journal's filters and the Rust API.

use std::time::{Duration, Instant};

use crate::awork_support::{fixture_user, full_form, ADMIN};
use crate::common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";
const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";

fn user_path() -> String {
    format!("/activity/v2/clients/{CLIENT}/users/{USER}")
}

async fn get_user(server: &TestServer, query: &str) {
    let answer = server
        .send(
            server
                .request(Method::GET, &format!("{}{query}", user_path()))
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

/// An awork PUT whose body has no Content-Type: the answer relies on
/// usermock's lenient reading, so the entry carries a note.
async fn noted_put(server: &TestServer) {
    let answer = server
        .send(
            server
                .request(Method::PUT, &format!("/awork/api/v1/users/{ADMIN}"))
                .bearer_auth("awork-admin")
                .body(full_form(&fixture_user(ADMIN)).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

fn ids(listing: &Value) -> Vec<u64> {
    listing["requests"]
        .as_array()
        .map(|entries| entries.iter().filter_map(|e| e["id"].as_u64()).collect())
        .unwrap_or_default()
}

/// The listing without its entries, which `ids` checks.
fn envelope(listing: &Value) -> Value {
    json!({"count": listing["count"], "total": listing["total"], "next_after": listing["next_after"]})
}

async fn get_json(server: &TestServer, path: &str) -> Value {
    let answer = server.send(server.request(Method::GET, path)).await;
    assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text);
    answer.json()
}

#[tokio::test]
async fn journal_listings_come_in_pages_that_next_after_walks() {
    let server = TestServer::start().await;
    for _ in 0..5 {
        get_user(&server, "").await;
    }
    let first = get_json(&server, "/__admin/requests?limit=2").await;
    assert_eq!(
        envelope(&first),
        json!({"count": 2, "total": 5, "next_after": 2})
    );
    assert_eq!(ids(&first), [1, 2]);
    let second = get_json(&server, "/__admin/requests?limit=2&after=2").await;
    assert_eq!(
        envelope(&second),
        json!({"count": 2, "total": 5, "next_after": 4})
    );
    assert_eq!(ids(&second), [3, 4]);
    let last = get_json(&server, "/__admin/requests?limit=2&after=4").await;
    assert_eq!(
        envelope(&last),
        json!({"count": 1, "total": 5, "next_after": null})
    );
    assert_eq!(ids(&last), [5]);
}

#[tokio::test]
async fn a_listing_holds_100_entries_unless_asked_for_up_to_1000() {
    let server = TestServer::start().await;
    for _ in 0..101 {
        get_user(&server, "").await;
    }
    let page = get_json(&server, "/__admin/requests").await;
    assert_eq!(
        envelope(&page),
        json!({"count": 100, "total": 101, "next_after": 100})
    );
    let page = get_json(&server, "/__admin/requests?limit=1000").await;
    assert_eq!(
        envelope(&page),
        json!({"count": 101, "total": 101, "next_after": null})
    );
    for limit in ["0", "1001", "x", "-1"] {
        let answer = server
            .send(server.request(Method::GET, &format!("/__admin/requests?limit={limit}")))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            answer.json(),
            json!({"error": "invalid_filter", "message": format!("limit '{limit}' is not a whole number from 1 to 1000")})
        );
    }
}

#[tokio::test]
async fn a_listing_page_stops_at_about_four_mib_of_bodies() {
    let server = TestServer::start().await;
    // 100 answers of a 48 KiB body each: 4.8 MiB of bodies in all.
    let body = json!({"departments": [], "pad": "a".repeat(48 * 1024)}).to_string();
    for _ in 0..100 {
        server
            .send(
                server
                    .request(Method::PATCH, &user_path())
                    .bearer_auth("activity-admin")
                    .header("content-type", "application/json")
                    .body(body.clone()),
            )
            .await;
    }
    let page = get_json(&server, "/__admin/requests?limit=1000").await;
    let count = page["count"].as_u64().unwrap_or_default();
    assert!(
        (80..100).contains(&count),
        "one page holds about 4 MiB of bodies: {}",
        envelope(&page)
    );
    assert_eq!(page["next_after"], json!(count));
    let rest = get_json(
        &server,
        &format!("/__admin/requests?limit=1000&after={count}"),
    )
    .await;
    assert_eq!(
        envelope(&rest),
        json!({"count": 100 - count, "total": 100, "next_after": null})
    );
}

#[tokio::test]
async fn noted_filters_the_listing_find_count_and_unmatched() {
    let server = TestServer::start().await;
    get_user(&server, "").await;
    noted_put(&server).await;
    get_user(&server, "").await;
    let noted = get_json(&server, "/__admin/requests?noted=true").await;
    assert_eq!(
        envelope(&noted),
        json!({"count": 1, "total": 1, "next_after": null})
    );
    assert_eq!(ids(&noted), [2]);
    assert_eq!(
        noted["requests"][0]["notes"],
        json!([{
            "rule": "lenient-content-type",
            "message": "the body was read as JSON although the request has no Content-Type",
            "source": "inferred: the vendor's documentation does not say what a body with another content type gets"
        }])
    );
    assert_eq!(
        ids(&get_json(&server, "/__admin/requests?noted=false").await),
        [1, 3]
    );
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/requests/count?noted=true")
                .json(&json!({"vendor": "awork"})),
        )
        .await;
    assert_eq!(answer.json(), json!({"count": 1}));
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/requests/find?noted=true")
                .json(&json!({"method": "PUT"})),
        )
        .await;
    assert_eq!(ids(&answer.json()), [2]);
    assert_eq!(
        envelope(&get_json(&server, "/__admin/requests/unmatched?noted=true").await),
        json!({"count": 0, "total": 0, "next_after": null})
    );
    let answer = server
        .send(server.request(Method::GET, "/__admin/requests?noted=yes"))
        .await;
    assert_eq!(
        answer.json(),
        json!({"error": "invalid_filter", "message": "noted 'yes' is not true or false"})
    );
}

fn huge_query_matcher(keys: usize) -> Value {
    let query: serde_json::Map<String, Value> = (0..keys)
        .map(|i| (format!("k{i}"), json!(format!("v{i}"))))
        .collect();
    json!({ "query": query })
}

#[tokio::test]
async fn a_matcher_with_more_than_256_conditions_is_refused_with_400() {
    let server = TestServer::start().await;
    get_user(&server, "?k0=v0").await;
    for route in ["find", "count"] {
        let answer = server
            .send(
                server
                    .request(Method::POST, &format!("/__admin/requests/{route}"))
                    .json(&huge_query_matcher(4400)),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            answer.json(),
            json!({
                "error": "invalid_matcher",
                "message": "the matcher was not understood",
                "problems": [{
                    "pointer": "/match",
                    "line": null,
                    "column": null,
                    "message": "a match holds at most 256 conditions (methods, path_params, query and headers entries, body pointers, and each value in body.json), so matching stays fast; this one has 4400"
                }]
            })
        );
    }
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/requests/count")
                .json(&huge_query_matcher(1)),
        )
        .await;
    assert_eq!(answer.json(), json!({"count": 1}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_within_a_second_while_two_heavy_finds_run() {
    let server = TestServer::start_with(usermock::Options {
        journal_size: 1000,
        ..usermock::Options::default()
    })
    .await;
    // 500 requests with 500 query pairs each: every find walks them all
    // (a 4,400-key matcher compared each pair with each key: seconds of CPU).
    let query: String = (0..500)
        .map(|i| format!("q{i}=x"))
        .collect::<Vec<_>>()
        .join("&");
    let client = reqwest::Client::new();
    let url = server.url(&format!("/nowhere?{query}"));
    for _ in 0..5 {
        let sends: Vec<_> = (0..100).map(|_| client.get(&url).send()).collect();
        for sent in futures_join(sends).await {
            assert_eq!(sent.map(|r| r.status()).ok(), Some(StatusCode::NOT_FOUND));
        }
    }
    let finds: Vec<_> = [
        huge_query_matcher(4400),
        huge_query_matcher(256),
        huge_query_matcher(4400),
        huge_query_matcher(256),
    ]
    .into_iter()
    .map(|matcher| {
        let request = client
            .post(server.url("/__admin/requests/find"))
            .json(&matcher)
            .send();
        tokio::spawn(request)
    })
    .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    let health = client
        .get(server.url("/__admin/health"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map(|r| r.status());
    let took = started.elapsed();
    assert_eq!(health.ok(), Some(StatusCode::OK));
    assert!(took < Duration::from_secs(1), "health took {took:?}");
    for find in finds {
        let status = find.await.ok().and_then(|r| r.ok()).map(|r| r.status());
        assert!(
            matches!(status, Some(StatusCode::OK | StatusCode::BAD_REQUEST)),
            "{status:?}"
        );
    }
}

/// Awaits every future, in order.
async fn futures_join<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.into_iter().collect();
    let mut out = Vec::with_capacity(handles.len());
    for f in handles {
        out.push(f.await);
    }
    out
}

fn padded_scenario(name: &str, pad: usize) -> String {
    json!({
        "name": name,
        "description": "x".repeat(pad),
        "rules": [{"match": {"path": "/v2/clients/**"}, "answer": {"vendor_error": {"status": 404, "kind": "client_not_found"}}}]
    })
    .to_string()
}

#[tokio::test]
async fn uploaded_scenarios_are_capped_in_bytes_with_507() {
    let server = TestServer::start_with(usermock::Options {
        max_uploaded_scenario_bytes: 1024 * 1024,
        ..usermock::Options::default()
    })
    .await;
    let upload = |name: &str| {
        server
            .request(Method::POST, "/__admin/scenarios")
            .header("content-type", "application/json")
            .body(padded_scenario(name, 300 * 1024))
    };
    for name in ["activity-pad-a", "activity-pad-b", "activity-pad-c"] {
        let answer = server.send(upload(name)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    }
    let full = server.send(upload("activity-pad-d")).await;
    assert_eq!(full.status, StatusCode::INSUFFICIENT_STORAGE);
    assert_eq!(
        full.json(),
        json!({"error": "scenario_storage_full", "message": "uploaded scenarios may hold 1048576 bytes of scenario files in all (--max-scenario-bytes); delete one or reset"})
    );
    // Replacing one counts its new size instead of its old.
    let answer = server.send(upload("activity-pad-c")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let answer = server
        .send(server.request(Method::DELETE, "/__admin/scenarios/activity-pad-a"))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = server.send(upload("activity-pad-d")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
}

#[tokio::test]
async fn a_clock_body_with_an_unknown_member_is_refused_and_the_clock_kept() {
    let server = TestServer::start().await;
    let put = |body: Value| server.request(Method::PUT, "/__admin/clock").json(&body);
    let answer = server
        .send(put(json!({"now": "2030-01-01T00:00:00Z"})))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = server
        .send(put(json!({"now": "2031-01-01T00:00:00Z", "frozen": false})))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"error": "invalid_clock", "message": "unknown member 'frozen': send {\"now\": \"<RFC 3339 timestamp>\"}"})
    );
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/clock/advance")
                .json(&json!({"seconds": 60, "minutes": 1})),
        )
        .await;
    assert_eq!(
        answer.json(),
        json!({"error": "invalid_clock", "message": "unknown member 'minutes': send {\"seconds\": <whole number ≥ 0>}"})
    );
    let answer = server.send(put(json!(["2031-01-01T00:00:00Z"]))).await;
    assert_eq!(
        answer.json(),
        json!({"error": "invalid_clock", "message": "the body is not a JSON object: send {\"now\": \"<RFC 3339 timestamp>\"}"})
    );
    assert_eq!(
        get_json(&server, "/__admin/clock").await,
        json!({"now": "2030-01-01T00:00:00.000Z", "frozen": true, "session": null})
    );
}

#[tokio::test]
async fn mock_server_asserts_that_no_request_relied_on_a_guess() {
    let server = usermock::MockServer::start().await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/users/{ADMIN}", server.base_url("awork"));
    let body = full_form(&fixture_user(ADMIN)).to_string();
    let sent = client
        .put(&url)
        .bearer_auth("awork-admin")
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .map(|r| r.status());
    assert_eq!(sent.ok(), Some(StatusCode::OK));
    server.assert_no_notes().await;
    assert!(server.noted().await.is_empty());

    let sent = client
        .put(&url)
        .bearer_auth("awork-admin")
        .body(body)
        .send()
        .await
        .map(|r| r.status());
    assert_eq!(sent.ok(), Some(StatusCode::OK));
    let noted = server.noted().await;
    assert_eq!(noted.len(), 1);
    assert_eq!(noted[0].notes[0].rule, "lenient-content-type");
    let failure = tokio::spawn(async move {
        server.assert_no_notes().await;
    })
    .await
    .expect_err("assert_no_notes panics");
    let message = failure
        .into_panic()
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(
        message.starts_with("usermock: 1 request(s) relied on a rule usermock inferred or had part of them ignored:\n  #2 PUT /awork/api/v1/users/"),
        "{message}"
    );
    assert!(
        message.ends_with("    - lenient-content-type: the body was read as JSON although the request has no Content-Type (inferred: the vendor's documentation does not say what a body with another content type gets)\n"),
        "{message}"
    );
}
