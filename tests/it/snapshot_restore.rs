//! A restore is all or nothing across vendors, a snapshot is streamed, and
//! admin seeding checks references against the state as it is now (issue
//! 21: "state you can trust").

use crate::common::TestServer;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const ACTIVITY_USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";
const OTHER_DEPARTMENT: &str = "e2b3c4d5-f6a7-8901-bcde-f12345678901";
const AWORK_USER: &str = "4e8d2a1b-7c6f-4d3e-9a8b-2c1d0e9f8a7b";

async fn admin(server: &TestServer, method: Method, path: &str, body: Option<&Value>) -> Value {
    let (status, body) = admin_status(server, method, path, body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn admin_status(
    server: &TestServer,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = server.request(method, path);
    if let Some(body) = body {
        request = request.json(body);
    }
    let answer = server.send(request).await;
    (answer.status, answer.json())
}

/// Every read the test compares: the whole snapshot (every record of every
/// kind of every vendor) and each vendor's users as the admin API lists
/// them.
async fn everything(server: &TestServer) -> Vec<Value> {
    let mut reads = vec![admin(server, Method::GET, "/__admin/snapshot", None).await];
    for vendor in ["activity", "awork", "relesys", "replay"] {
        let path = format!("/__admin/{vendor}/users");
        reads.push(admin(server, Method::GET, &path, None).await);
    }
    reads
}

/// The `member` of user `id` in `document`
/// renamed, so a restore of it would show.
fn renamed(document: &Value, member: &str, id: &str, name: &str) -> Value {
    let mut document = document.clone();
    let users = document["users"].as_array_mut().expect("users");
    let user = users
        .iter_mut()
        .find(|u| u["id"] == id)
        .expect("the user is in the snapshot");
    user[member] = json!(name);
    document
}

#[tokio::test]
async fn a_restore_whose_second_vendor_passes_the_cap_restores_no_vendor_at_all() {
    // Restoring activity alone holds its 14 users and 6 departments (20
    // records); awork's 15 users on top make 35, past 30.
    let server = TestServer::start_with(usermock::Options {
        max_session_records: 30,
        ..usermock::Options::default()
    })
    .await;
    let snapshot = admin(&server, Method::GET, "/__admin/snapshot", None).await;
    // A write through the API, which a restore of activity would undo.
    let patched = server
        .send(
            server
                .request(
                    Method::PATCH,
                    &format!("/activity/v2/clients/{CLIENT}/users/{ACTIVITY_USER}"),
                )
                .header("authorization", "Bearer activity-admin")
                .json(&json!({"departments": [OTHER_DEPARTMENT]})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let before = everything(&server).await;

    let activity = renamed(&snapshot["activity"], "username", ACTIVITY_USER, "restored");
    let awork = renamed(&snapshot["awork"], "firstName", AWORK_USER, "Restored");
    let refused = admin_status(
        &server,
        Method::PUT,
        "/__admin/snapshot",
        Some(&json!({"activity": activity, "awork": awork})),
    )
    .await;
    assert_eq!(
        refused,
        (
            StatusCode::INSUFFICIENT_STORAGE,
            json!({"error": "store_full", "message": "Insufficient storage: this session may hold at most 30 records of changes; delete records or reset. (--max-session-records)"})
        )
    );
    assert_eq!(
        everything(&server).await,
        before,
        "no vendor was restored, the first included"
    );

    // The cap, not the documents, refused it: activity alone fits.
    let alone = admin(
        &server,
        Method::PUT,
        "/__admin/snapshot",
        Some(&json!({"activity": activity})),
    )
    .await;
    assert_eq!(
        alone,
        json!({"status": "replaced", "session": null, "users": {"activity": 14}})
    );
    let user = admin(
        &server,
        Method::GET,
        &format!("/__admin/activity/users/{ACTIVITY_USER}"),
        None,
    )
    .await;
    assert_eq!(user["username"], "restored");
}
