//! The test-facing surface (admin API): reset that resets, the journal with
//! responses, find and count, the clock, snapshots and sessions. Every
//! admin answer here is also checked against the OpenAPI document by the
//! harness.

use crate::common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";
const DEPT: &str = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";

fn user_path() -> String {
    format!("/activity/v2/clients/{CLIENT}/users/{USER}")
}

async fn patch(server: &TestServer, session: Option<&str>, departments: Value) -> common::Reply {
    let mut request = server
        .request(Method::PATCH, &user_path())
        .bearer_auth("activity-admin")
        .json(&json!({ "departments": departments }));
    if let Some(session) = session {
        request = request.header("x-usermock-session", session);
    }
    server.send(request).await
}

async fn admin(server: &TestServer, method: Method, path: &str, body: Option<Value>) -> Value {
    let mut request = server.request(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = server.send(request).await;
    answer.json()
}

#[tokio::test]
async fn a_full_reset_undoes_every_runtime_change() {
    let server = TestServer::start().await;
    let before = admin(&server, Method::GET, "/__admin/scenarios", None).await;
    // Activate a shipped scenario, upload one, write, freeze the clock.
    admin(
        &server,
        Method::POST,
        "/__admin/scenarios/activity-user-not-found/activate",
        None,
    )
    .await;
    let uploaded =
        json!({"name": "any-extra", "rules": [{"answer": {"respond": {"status": 503}}}]});
    admin(&server, Method::POST, "/__admin/scenarios", Some(uploaded)).await;
    admin(
        &server,
        Method::POST,
        "/__admin/scenarios/activity-user-not-found/deactivate",
        None,
    )
    .await;
    assert_eq!(patch(&server, None, json!([])).await.status, 200);
    admin(
        &server,
        Method::PUT,
        "/__admin/clock",
        Some(json!({"now": "2030-01-01T00:00:00Z"})),
    )
    .await;
    admin(
        &server,
        Method::POST,
        "/__admin/scenarios/activity-forbidden/activate",
        None,
    )
    .await;

    let reset = admin(&server, Method::POST, "/__admin/reset", None).await;
    assert_eq!(reset, json!({"status": "reset", "session": null}));

    assert_eq!(
        admin(&server, Method::GET, "/__admin/scenarios", None).await,
        before
    );
    let clock = admin(&server, Method::GET, "/__admin/clock", None).await;
    assert_eq!(clock["frozen"], false);
    let requests = admin(&server, Method::GET, "/__admin/requests", None).await;
    assert_eq!(requests["count"], 0);
    let user = server
        .send(
            server
                .request(Method::GET, &user_path())
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(
        user.status, 200,
        "the scenario activation is gone: {}",
        user.text
    );
    assert_eq!(user.json()["departments"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_session_reset_leaves_other_sessions_and_the_shared_state_alone() {
    let server = TestServer::start().await;
    patch(&server, Some("a"), json!([])).await;
    patch(&server, Some("b"), json!([])).await;
    let activate = server
        .request(
            Method::POST,
            "/__admin/scenarios/activity-user-not-found/activate",
        )
        .header("x-usermock-session", "a");
    server.send(activate).await;
    let reset = server
        .send(
            server
                .request(Method::POST, "/__admin/reset")
                .header("x-usermock-session", "a"),
        )
        .await;
    assert_eq!(reset.json(), json!({"status": "reset", "session": "a"}));
    let get = |session: &'static str| {
        server
            .request(Method::GET, &user_path())
            .bearer_auth("activity-admin")
            .header("x-usermock-session", session)
    };
    let a = server.send(get("a")).await;
    assert_eq!(a.status, 200, "a's activation went with its reset");
    assert_eq!(a.json()["departments"].as_array().map(Vec::len), Some(1));
    let b = server.send(get("b")).await;
    assert_eq!(b.json()["departments"], json!([]), "b keeps its write");
}

#[tokio::test]
async fn the_journal_keeps_each_response_and_find_and_count_use_the_rule_vocabulary() {
    let server = TestServer::start().await;
    patch(&server, None, json!([DEPT])).await;
    patch(
        &server,
        None,
        json!(["ffffffff-ffff-4fff-8fff-ffffffffffff"]),
    )
    .await;
    server
        .send(server.request(Method::GET, "/nowhere/at/all"))
        .await;

    let requests = admin(&server, Method::GET, "/__admin/requests", None).await;
    let first = &requests["requests"][0];
    assert_eq!(first["response"]["status"], 200);
    assert_eq!(first["response"]["json"]["id"], USER);
    assert_eq!(first["matched"], true);

    let matcher = json!({"vendor": "activity", "method": "PATCH",
                         "body": {"json": {"departments": ["ffffffff-ffff-4fff-8fff-ffffffffffff"]}}});
    let found = admin(
        &server,
        Method::POST,
        "/__admin/requests/find",
        Some(matcher.clone()),
    )
    .await;
    assert_eq!(found["count"], 1);
    assert_eq!(found["requests"][0]["response"]["status"], 404);
    let count = admin(
        &server,
        Method::POST,
        "/__admin/requests/count",
        Some(matcher),
    )
    .await;
    assert_eq!(count, json!({"count": 1}));
    let all = admin(
        &server,
        Method::POST,
        "/__admin/requests/count",
        Some(json!({})),
    )
    .await;
    assert_eq!(all, json!({"count": 3}));

    let unmatched = admin(&server, Method::GET, "/__admin/requests/unmatched", None).await;
    assert_eq!(unmatched["count"], 1);
    assert_eq!(unmatched["requests"][0]["path"], "/nowhere/at/all");

    let bad = server
        .send(
            server
                .request(Method::POST, "/__admin/requests/find")
                .json(&json!({"method": 7})),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"], "invalid_matcher");
}

#[tokio::test]
async fn a_frozen_clock_sets_every_written_timestamp_and_advances_on_demand() {
    let server = TestServer::start().await;
    let frozen = admin(
        &server,
        Method::PUT,
        "/__admin/clock",
        Some(json!({"now": "2031-05-06T07:08:09Z"})),
    )
    .await;
    assert_eq!(
        frozen,
        json!({"now": "2031-05-06T07:08:09.000Z", "frozen": true, "session": null})
    );
    let written = patch(&server, None, json!([])).await;
    assert_eq!(written.json()["updated_at"], "2031-05-06T07:08:09.000Z");
    let advanced = admin(
        &server,
        Method::POST,
        "/__admin/clock/advance",
        Some(json!({"seconds": 90})),
    )
    .await;
    assert_eq!(advanced["now"], "2031-05-06T07:09:39.000Z");
    assert_eq!(
        patch(&server, None, json!([])).await.json()["updated_at"],
        "2031-05-06T07:09:39.000Z"
    );

    // A session's clock is its own.
    let own = server
        .request(Method::PUT, "/__admin/clock")
        .header("x-usermock-session", "s")
        .json(&json!({"now": "2040-01-01T00:00:00Z"}));
    server.send(own).await;
    assert_eq!(
        patch(&server, Some("s"), json!([])).await.json()["updated_at"],
        "2040-01-01T00:00:00.000Z"
    );
    assert_eq!(
        admin(&server, Method::GET, "/__admin/clock", None).await["now"],
        "2031-05-06T07:09:39.000Z"
    );

    let bad = server
        .send(
            server
                .request(Method::PUT, "/__admin/clock")
                .json(&json!({"now": "tomorrow"})),
        )
        .await;
    assert_eq!(bad.status, 400);
    admin(&server, Method::DELETE, "/__admin/clock", None).await;
    assert_eq!(
        admin(&server, Method::GET, "/__admin/clock", None).await["frozen"],
        false
    );
}

#[tokio::test]
async fn a_snapshot_is_a_fixture_folder_and_restores_all_or_nothing() {
    let server = TestServer::start().await;
    patch(&server, None, json!([])).await;
    let snapshot = admin(&server, Method::GET, "/__admin/snapshot", None).await;
    let users = snapshot["activity"]["users"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let seed = users
        .iter()
        .find(|u| u["id"] == USER)
        .cloned()
        .unwrap_or_default();
    assert_eq!(seed["departments"], json!([]));

    admin(&server, Method::POST, "/__admin/reset", None).await;
    let restored = admin(
        &server,
        Method::PUT,
        "/__admin/snapshot",
        Some(json!({"activity": snapshot["activity"]})),
    )
    .await;
    assert_eq!(restored["status"], "replaced");
    let user = server
        .send(
            server
                .request(Method::GET, &user_path())
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(user.json()["departments"], json!([]));

    // One broken vendor document: nothing is restored.
    let mut broken = snapshot.clone();
    broken["activity"]["users"][0]["id"] = json!("not-a-uuid");
    admin(&server, Method::POST, "/__admin/reset", None).await;
    let refused = server
        .send(
            server
                .request(Method::PUT, "/__admin/snapshot")
                .json(&broken),
        )
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"], "invalid_snapshot");
    let user = server
        .send(
            server
                .request(Method::GET, &user_path())
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(user.json()["departments"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn sessions_exist_from_their_first_write_and_bad_ids_are_refused() {
    let server = TestServer::start().await;
    let read = server
        .request(Method::GET, &user_path())
        .bearer_auth("activity-admin")
        .header("x-usermock-session", "reader");
    assert_eq!(server.send(read).await.status, 200);
    let none = admin(&server, Method::GET, "/__admin/sessions", None).await;
    assert_eq!(none["count"], 0, "a read creates no session");
    patch(&server, Some("writer"), json!([])).await;
    let one = admin(&server, Method::GET, "/__admin/sessions", None).await;
    assert_eq!(one["count"], 1);
    assert_eq!(one["sessions"][0]["id"], "writer");

    let bad = server
        .request(Method::PATCH, &user_path())
        .bearer_auth("activity-admin")
        .header("x-usermock-session", "a b")
        .json(&json!({"departments": []}));
    let answer = server.send(bad).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"], "invalid_session");
    let shared = server
        .send(
            server
                .request(Method::GET, &user_path())
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(
        shared.json()["departments"].as_array().map(Vec::len),
        Some(1),
        "nothing leaked"
    );
}

#[tokio::test]
async fn sessions_beyond_the_cap_drop_the_least_recently_used() {
    let server = TestServer::start_with(usermock::Options {
        max_sessions: 3,
        ..usermock::Options::default()
    })
    .await;
    for id in ["s1", "s2", "s3", "s4", "s5"] {
        patch(&server, Some(id), json!([])).await;
    }
    let listed = admin(&server, Method::GET, "/__admin/sessions", None).await;
    let ids: Vec<&str> = listed["sessions"]
        .as_array()
        .map(|s| s.iter().filter_map(|e| e["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["s3", "s4", "s5"]);
}

#[tokio::test]
async fn a_session_that_only_switches_scenarios_exists_and_the_session_cap_covers_it() {
    let server = TestServer::start_with(usermock::Options {
        max_sessions: 2,
        ..usermock::Options::default()
    })
    .await;
    // An activation through the admin API, in its own session.
    let activated = server
        .send(
            server
                .request(
                    Method::POST,
                    "/__admin/scenarios/activity-forbidden/activate",
                )
                .header("x-usermock-session", "switched"),
        )
        .await;
    assert_eq!(activated.status, 200);
    // A vendor request answered by a scenario it names, in another.
    let named = server
        .send(
            server
                .request(Method::GET, &user_path())
                .bearer_auth("activity-admin")
                .header("x-usermock-session", "named")
                .header("x-usermock-scenario", "activity-forbidden"),
        )
        .await;
    assert_eq!(named.status, 403);
    let listed = admin(&server, Method::GET, "/__admin/sessions", None).await;
    let ids: Vec<&str> = listed["sessions"]
        .as_array()
        .map(|s| s.iter().filter_map(|e| e["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["switched", "named"]);

    // A third session passes the cap of two: the least recently used one
    // goes, and its activation with it.
    patch(&server, Some("third"), json!([])).await;
    let scenarios = server
        .send(
            server
                .request(Method::GET, "/__admin/scenarios/activity-forbidden")
                .header("x-usermock-session", "switched"),
        )
        .await;
    assert_eq!(scenarios.status, 200);
    let user = server
        .send(
            server
                .request(Method::GET, &user_path())
                .bearer_auth("activity-admin")
                .header("x-usermock-session", "switched"),
        )
        .await;
    assert_eq!(
        user.status, 200,
        "the dropped session's activation went with it: {}",
        user.text
    );
}

#[tokio::test]
async fn the_served_openapi_document_lists_exactly_the_registered_vendors() {
    let server = TestServer::start().await;
    let served = admin(&server, Method::GET, "/__admin/openapi.json", None).await;
    let names: Vec<Value> = usermock::vendor_names()
        .into_iter()
        .map(Value::from)
        .collect();
    let schemas = &served["components"]["schemas"];
    assert_eq!(
        schemas["Health"]["properties"]["vendors"]["items"],
        json!({"type": "string", "enum": names})
    );
    let mut nullable = names.clone();
    nullable.push(Value::Null);
    assert_eq!(
        schemas["JournalEntry"]["properties"]["vendor"]["enum"],
        Value::Array(nullable)
    );
    let per_vendor: serde_json::Map<String, Value> = usermock::vendor_names()
        .into_iter()
        .map(|n| (n.to_owned(), json!({"type": "integer", "minimum": 0})))
        .collect();
    assert_eq!(
        schemas["SnapshotReplaced"]["properties"]["users"]["properties"],
        Value::Object(per_vendor)
    );
}

#[tokio::test]
async fn the_openapi_document_is_served_and_names_every_documented_route() {
    let server = TestServer::start().await;
    let served = admin(&server, Method::GET, "/__admin/openapi.json", None).await;
    assert_eq!(&served, common::admin_openapi());
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/admin-api.md"),
    )
    .expect("docs/admin-api.md");
    for (path, item) in served["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            if ["parameters", "summary", "description"].contains(&method.as_str()) {
                continue;
            }
            let method = method.to_ascii_uppercase();
            let last = path.rsplit('/').next().unwrap_or_default();
            let documented = docs.lines().any(|line| {
                line.starts_with('#')
                    && line.contains(&method)
                    && (line.contains(path.as_str()) || line.contains(&format!("…/{last}")))
            });
            assert!(
                documented,
                "docs/admin-api.md has no heading for `{method} {path}`"
            );
        }
    }
    // And back: every route the docs give a heading is in the document
    // (`…/x` continues the previous route's path, with its method).
    for line in docs.lines().filter(|l| l.starts_with("### `")) {
        let mut previous: Option<(String, String)> = None;
        let routes = line
            .split('`')
            .filter(|part| part.contains("/__admin") || part.starts_with('…'));
        for route in routes {
            let (method, path) = match (route.strip_prefix('…'), &previous) {
                (Some(tail), Some((method, last))) => {
                    let head = last.rsplit_once('/').map_or("", |(head, _)| head);
                    (method.clone(), format!("{head}{tail}"))
                }
                _ => {
                    let (method, path) = route.split_once(' ').unwrap_or(("", route));
                    (method.to_ascii_lowercase(), path.to_owned())
                }
            };
            assert!(
                served["paths"][&path][&method].is_object(),
                "docs/admin-api.md documents `{} {path}`, which the OpenAPI document lacks",
                method.to_ascii_uppercase()
            );
            previous = Some((method, path));
        }
    }
}
