//! Snapshots are complete (`GET|PUT /__admin/snapshot`): everything an API
//! call creates or changes is in a snapshot, a restore gives back the same
//! answers on every read route, a vendor a restore leaves out goes back to
//! its startup fixture, a restore applies the API's record-size limit, and a
//! snapshot saved as files is a fixture folder that `usermock check` passes
//! and that serves the same answers.

use crate::common::{self, binary, BinaryServer, Reply, TempDir, TestServer};

use proptest::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const OTHER_CLIENT: &str = "b5e0c3d2-6f4a-4c1b-9e8d-7a6b5c4d3e2f";
const ACTIVITY_USERS: [&str; 6] = [
    "a1d97031-04e2-4907-a249-093f7436207b",
    "5b2e8f61-3c7d-4a9e-b1f0-6d4c2a8e9b37",
    "c7d4e2a9-8b1f-4e6c-9a3d-5f2b7e1c8d40",
    "1e9f4b3a-2d8c-4f7e-a6b5-c0d9e8f7a6b5",
    "9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f",
    "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f601",
];
const ACTIVITY_DEPARTMENTS: [&str; 6] = [
    "d1a2b3c4-e5f6-7890-abcd-ef1234567890",
    "e2b3c4d5-f6a7-8901-bcde-f12345678901",
    "f3c4d5e6-a7b8-4012-8def-123456789012",
    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "4b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d",
    "7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f",
];
const AWORK_USERS: [&str; 4] = [
    "9b2f6c1e-3d4a-4e5b-8c7d-1a2b3c4d5e6f",
    "4e8d2a1b-7c6f-4d3e-9a8b-2c1d0e9f8a7b",
    "7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d",
    "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
];
const AWORK_WORKSPACE: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
const AWORK_ROLE: &str = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f";
const RELESYS_USERS: [&str; 3] = [
    "6cd99267-5adf-462d-88a2-6f86b7b2a164",
    "8a1e5c3f-2b7d-4e9a-b6c4-0d2f8e1a7b35",
    "3d7b9f21-6c4e-4a8b-9e0d-5f1a2c3b4d6e",
];
const RELESYS_DEPARTMENT: &str = "5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5";
/// Two users of the parent company the key acts as, one of a child.
const REPLAY_USERS: [&str; 3] = [
    "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
    "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a",
    "3c90c3cc-0d44-4b50-8888-8dd25736052a",
];
const REPLAY_CHILDREN: [&str; 2] = [
    "22222222-2222-4222-8222-222222222222",
    "55555555-5555-4555-8555-555555555555",
];

// ------------------------------------------------------------ the calls --

/// One vendor call: method, path under the vendor's prefix, credential
/// header, JSON body and its content type.
struct Call {
    method: Method,
    path: String,
    credential: (&'static str, &'static str),
    body: Option<(Value, &'static str)>,
}

fn activity(method: Method, path: String, body: Option<Value>) -> Call {
    Call {
        method,
        path: format!("/activity{path}"),
        credential: ("authorization", "Bearer activity-admin"),
        body: body.map(|b| (b, "application/json")),
    }
}

fn awork(method: Method, path: String, body: Option<Value>) -> Call {
    Call {
        method,
        path: format!("/awork{path}"),
        credential: ("authorization", "Bearer awork-admin"),
        body: body.map(|b| (b, "application/json")),
    }
}

fn relesys(method: Method, path: String, body: Option<(Value, &'static str)>) -> Call {
    Call {
        method,
        path: format!("/relesys{path}"),
        credential: ("authorization", "Bearer relesys-admin"),
        body,
    }
}

fn replay(method: Method, path: String, body: Option<Value>) -> Call {
    Call {
        method,
        path: format!("/replay{path}"),
        credential: ("x-api-key", "replay-parent"),
        body: body.map(|b| (b, "application/json")),
    }
}

async fn send(server: &TestServer, session: Option<&str>, call: &Call) -> Reply {
    let mut request = server
        .request(call.method.clone(), &call.path)
        .header(call.credential.0, call.credential.1);
    if let Some(session) = session {
        request = request.header("x-usermock-session", session);
    }
    if let Some((body, content_type)) = &call.body {
        request = request
            .header("content-type", *content_type)
            .body(body.to_string());
    }
    server.send(request).await
}

async fn admin(
    server: &TestServer,
    session: Option<&str>,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    let mut request = server.request(method, path);
    if let Some(session) = session {
        request = request.header("x-usermock-session", session);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    server.send(request).await
}

// ------------------------------------------------------- every read route --

/// The ids runtime writes created, so the reads include them.
#[derive(Debug, Default, Clone)]
struct Created {
    departments: Vec<String>,
    companies: Vec<String>,
}

/// Every read route of every vendor, with the ids the fixtures and the
/// writes made: the lists (all pages), summaries, each record, the
/// departments, companies' users, catalogues and the callers' own records.
fn read_routes(created: &Created) -> Vec<Call> {
    let mut reads = Vec::new();
    for client in [CLIENT, OTHER_CLIENT] {
        let base = format!("/v2/clients/{client}");
        reads.push(activity(Method::GET, base.clone(), None));
        reads.push(activity(
            Method::GET,
            format!("{base}/users?page_size=500"),
            None,
        ));
        reads.push(activity(Method::GET, format!("{base}/users/summary"), None));
        reads.push(activity(
            Method::GET,
            format!("{base}/departments?page_size=500"),
            None,
        ));
        for user in ACTIVITY_USERS {
            reads.push(activity(Method::GET, format!("{base}/users/{user}"), None));
        }
        let departments = ACTIVITY_DEPARTMENTS
            .iter()
            .map(|d| d.to_string())
            .chain(created.departments.iter().cloned());
        for department in departments {
            reads.push(activity(
                Method::GET,
                format!("{base}/departments/{department}"),
                None,
            ));
            reads.push(activity(
                Method::GET,
                format!("{base}/users?page_size=500&department_id={department}"),
                None,
            ));
        }
    }
    reads.push(awork(
        Method::GET,
        "/api/v1/users?pageSize=1000&showArchived=true".into(),
        None,
    ));
    reads.push(awork(
        Method::GET,
        "/api/v1/users?pageSize=1000".into(),
        None,
    ));
    reads.push(awork(Method::GET, "/api/v1/users/me".into(), None));
    for user in AWORK_USERS {
        reads.push(awork(Method::GET, format!("/api/v1/users/{user}"), None));
    }
    reads.push(relesys(
        Method::GET,
        "/api/v1.3/users?limit=1000".into(),
        None,
    ));
    for user in RELESYS_USERS {
        reads.push(relesys(
            Method::GET,
            format!("/api/v1.3/users/{user}"),
            None,
        ));
    }
    for catalogue in ["departments", "userGroups", "customfields/users"] {
        reads.push(relesys(Method::GET, format!("/api/v1.3/{catalogue}"), None));
    }
    reads.push(replay(Method::GET, "/api/user".into(), None));
    let children = REPLAY_CHILDREN
        .iter()
        .map(|c| c.to_string())
        .chain(created.companies.iter().cloned());
    for child in children {
        reads.push(replay(
            Method::GET,
            format!("/api/user?child_company_id={child}"),
            None,
        ));
        reads.push(replay(
            Method::GET,
            format!("/api/user/{}?childCompanyId={child}", REPLAY_USERS[2]),
            None,
        ));
    }
    for user in REPLAY_USERS {
        reads.push(replay(Method::GET, format!("/api/user/{user}"), None));
    }
    reads
}

/// Every read route's answer (status and whole body) in `session`.
async fn read_everything(
    server: &TestServer,
    session: Option<&str>,
    created: &Created,
) -> Vec<(String, u16, String)> {
    let mut answers = Vec::new();
    for call in read_routes(created) {
        let answer = send(server, session, &call).await;
        answers.push((
            call.path.clone(),
            answer.status.as_u16(),
            comparable(&answer),
        ));
    }
    answers
}

/// An answer's body as compared: awork's `traceId` is new on every answer
/// (as awork's is), everything else must be equal.
fn comparable(answer: &Reply) -> String {
    match serde_json::from_str::<Value>(&answer.text) {
        Ok(mut body) => {
            if let Some(members) = body.as_object_mut() {
                members.remove("traceId");
            }
            body.to_string()
        }
        Err(_) => answer.text.clone(),
    }
}

// ------------------------------------------------------ the write routes --

/// One write through a vendor's write route, with ids picked from small
/// pools (fixture ids, and those earlier writes of the sequence created)
/// so that most succeed and the rest are refused as the vendor would.
#[derive(Debug, Clone)]
enum Write {
    ActivityUserDepartments {
        user: usize,
        departments: Vec<usize>,
    },
    ActivityCreateDepartment {
        n: u16,
    },
    ActivityRenameDepartment {
        department: usize,
        n: u16,
    },
    ActivityDeleteDepartment {
        department: usize,
    },
    ActivityMembers {
        department: usize,
        users: Vec<usize>,
        add: bool,
    },
    AworkPut {
        user: usize,
        n: u16,
    },
    AworkLifecycle {
        user: usize,
        action: usize,
    },
    AworkInvite {
        n: u16,
    },
    RelesysPatch {
        user: usize,
        n: u16,
    },
    RelesysCreate {
        n: u16,
    },
    ReplayInvite {
        n: u16,
        company: Option<usize>,
    },
    ReplayPatch {
        user: usize,
        n: u16,
    },
    ReplayChild {
        n: u16,
    },
}

fn a_write() -> impl Strategy<Value = Write> {
    let user = 0..6usize;
    prop_oneof![
        (user.clone(), prop::collection::vec(0..9usize, 0..3))
            .prop_map(|(user, departments)| Write::ActivityUserDepartments { user, departments }),
        (0..50u16).prop_map(|n| Write::ActivityCreateDepartment { n }),
        (0..9usize, 0..50u16)
            .prop_map(|(department, n)| Write::ActivityRenameDepartment { department, n }),
        (0..9usize).prop_map(|department| Write::ActivityDeleteDepartment { department }),
        (
            0..9usize,
            prop::collection::vec(user.clone(), 1..3),
            any::<bool>()
        )
            .prop_map(|(department, users, add)| Write::ActivityMembers {
                department,
                users,
                add
            }),
        (0..4usize, 0..50u16).prop_map(|(user, n)| Write::AworkPut { user, n }),
        (0..4usize, 0..5usize).prop_map(|(user, action)| Write::AworkLifecycle { user, action }),
        (0..50u16).prop_map(|n| Write::AworkInvite { n }),
        (0..3usize, 0..50u16).prop_map(|(user, n)| Write::RelesysPatch { user, n }),
        (0..50u16).prop_map(|n| Write::RelesysCreate { n }),
        (0..50u16, prop::option::of(0..4usize))
            .prop_map(|(n, company)| Write::ReplayInvite { n, company }),
        (0..3usize, 0..50u16).prop_map(|(user, n)| Write::ReplayPatch { user, n }),
        (0..50u16).prop_map(|n| Write::ReplayChild { n }),
    ]
}

fn department(created: &Created, i: usize) -> String {
    let pool: Vec<String> = ACTIVITY_DEPARTMENTS
        .iter()
        .map(|d| d.to_string())
        .chain(created.departments.iter().cloned())
        .collect();
    pool[i % pool.len()].clone()
}

fn child_company(created: &Created, i: usize) -> String {
    let pool: Vec<String> = REPLAY_CHILDREN
        .iter()
        .map(|c| c.to_string())
        .chain(created.companies.iter().cloned())
        .collect();
    pool[i % pool.len()].clone()
}

fn write_call(write: &Write, created: &Created) -> Call {
    let base = format!("/v2/clients/{CLIENT}");
    match write {
        Write::ActivityUserDepartments { user, departments } => activity(
            Method::PATCH,
            format!("{base}/users/{}", ACTIVITY_USERS[*user]),
            Some(json!({
                "departments": departments.iter().map(|d| department(created, *d)).collect::<Vec<_>>()
            })),
        ),
        Write::ActivityCreateDepartment { n } => activity(
            Method::POST,
            format!("{base}/departments"),
            Some(json!({"name": format!("Dept {n}"), "description": format!("made {n}")})),
        ),
        Write::ActivityRenameDepartment { department: d, n } => activity(
            Method::PATCH,
            format!("{base}/departments/{}", department(created, *d)),
            Some(json!({"name": format!("Renamed {n}"), "description": null})),
        ),
        Write::ActivityDeleteDepartment { department: d } => activity(
            Method::DELETE,
            format!("{base}/departments/{}", department(created, *d)),
            None,
        ),
        Write::ActivityMembers {
            department: d,
            users,
            add,
        } => activity(
            Method::POST,
            format!(
                "{base}/departments/{}/members{}",
                department(created, *d),
                if *add { "" } else { "/remove" }
            ),
            Some(json!({"user_ids": users.iter().map(|u| ACTIVITY_USERS[*u]).collect::<Vec<_>>()})),
        ),
        Write::AworkPut { user, n } => awork(
            Method::PUT,
            format!("/api/v1/users/{}", AWORK_USERS[*user]),
            Some(
                json!({"firstName": format!("First {n}"), "lastName": "Snap", "title": "Dr.", "position": "Tester"}),
            ),
        ),
        Write::AworkLifecycle { user, action } => {
            let user = AWORK_USERS[*user];
            match action {
                0 => awork(
                    Method::POST,
                    format!("/api/v1/users/{user}/deactivate"),
                    None,
                ),
                1 => awork(Method::POST, format!("/api/v1/users/{user}/activate"), None),
                2 => awork(
                    Method::POST,
                    format!("/api/v1/users/{user}/setarchived"),
                    Some(json!({"isArchived": true})),
                ),
                3 => awork(
                    Method::POST,
                    format!("/api/v1/users/{user}/setarchived"),
                    Some(json!({"isArchived": false})),
                ),
                _ => awork(Method::DELETE, format!("/api/v1/users/{user}"), None),
            }
        }
        Write::AworkInvite { n } => awork(
            Method::POST,
            "/api/v1/invitations".into(),
            Some(json!({
                "workspaceId": AWORK_WORKSPACE, "invitationFlow": "invite",
                "email": format!("snap{n}@example.com"), "roleId": AWORK_ROLE,
                "firstName": "Snap", "lastName": format!("{n}"), "skipSendingEmail": true,
            })),
        ),
        Write::RelesysPatch { user, n } => relesys(
            Method::PATCH,
            format!("/api/v1.3/users/{}", RELESYS_USERS[*user]),
            Some((
                json!([{"op": "replace", "path": "/title", "value": format!("Title {n}")}]),
                "application/json-patch+json",
            )),
        ),
        Write::RelesysCreate { n } => relesys(
            Method::POST,
            "/api/v1.3/users".into(),
            Some((
                json!({"name": format!("Snap {n}"), "primaryDepartmentId": RELESYS_DEPARTMENT, "userGroups": [{"id": "22360293-0789-4346-ba9a-5609fa65703c"}]}),
                "application/json",
            )),
        ),
        Write::ReplayInvite { n, company } => {
            let mut body = json!({
                "email": format!("snap{n}@example.com"), "firstName": "Snap",
                "lastName": format!("N{n}"), "role": "User",
            });
            if let Some(company) = company {
                body["childCompanyId"] = json!(child_company(created, *company));
            }
            replay(Method::POST, "/api/user".into(), Some(body))
        }
        Write::ReplayPatch { user, n } => replay(
            Method::PATCH,
            format!("/api/user/{}", REPLAY_USERS[*user]),
            Some(json!({"firstName": format!("Patched {n}")})),
        ),
        Write::ReplayChild { n } => replay(
            Method::POST,
            "/api/company/child".into(),
            Some(
                json!({"name": format!("Snapshot Child {n}"), "externalId": format!("snap-{n}"), "url": "https://child.example", "summary": format!("child {n}")}),
            ),
        ),
    }
}

/// Applies `writes` in `session`; returns the ids they created and each
/// write's status.
async fn apply(
    server: &TestServer,
    session: Option<&str>,
    writes: &[Write],
) -> (Created, Vec<u16>) {
    let mut created = Created::default();
    let mut statuses = Vec::new();
    for write in writes {
        let answer = send(server, session, &write_call(write, &created)).await;
        assert!(
            answer.status.as_u16() < 500,
            "{write:?} → {}",
            answer.text.clone()
        );
        statuses.push(answer.status.as_u16());
        let body: Value = serde_json::from_str(&answer.text).unwrap_or(Value::Null);
        let id = body["id"].as_str().map(str::to_owned);
        match (write, answer.status.as_u16(), id) {
            (Write::ActivityCreateDepartment { .. }, 201, Some(id)) => created.departments.push(id),
            (Write::ReplayChild { .. }, 201, Some(id)) => created.companies.push(id),
            _ => {}
        }
    }
    (created, statuses)
}

/// Snapshot, reset, restore in `session`, then every read route answers as
/// before, and a second snapshot equals the first.
async fn round_trip(server: &TestServer, session: Option<&str>, created: &Created) {
    let before = read_everything(server, session, created).await;
    let snapshot = admin(server, session, Method::GET, "/__admin/snapshot", None).await;
    assert_eq!(snapshot.status, 200, "{}", snapshot.text.clone());
    let snapshot = snapshot.json();
    let reset = admin(server, session, Method::POST, "/__admin/reset", None).await;
    assert_eq!(reset.status, 200, "{}", reset.text.clone());
    let restored = admin(
        server,
        session,
        Method::PUT,
        "/__admin/snapshot",
        Some(&snapshot),
    )
    .await;
    assert_eq!(restored.status, 200, "{}", restored.text.clone());
    let after = read_everything(server, session, created).await;
    for (was, is) in before.iter().zip(&after) {
        assert_eq!(was, is, "a read answers differently after the restore");
    }
    assert_eq!(before.len(), after.len());
    let again = admin(server, session, Method::GET, "/__admin/snapshot", None).await;
    assert_eq!(
        again.json(),
        snapshot,
        "the restored state snapshots the same"
    );
}

#[test]
fn any_sequence_of_writes_survives_snapshot_reset_and_restore_on_every_read_route() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(TestServer::start());
    let sessions = std::sync::atomic::AtomicUsize::new(0);
    let config = ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(writes in prop::collection::vec(a_write(), 1..16))| {
        let n = sessions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session = format!("snapshot-{n}");
        runtime.block_on(async {
            let (created, _) = apply(&server, Some(&session), &writes).await;
            round_trip(&server, Some(&session), &created).await;
        });
    });
}

/// One write through every write route of every vendor (the list is
/// checked against the vendors' route tables by the unit test
/// `every_store_kind_a_write_route_touches_is_in_the_vendors_snapshot`).
fn one_of_each() -> Vec<Write> {
    vec![
        Write::ActivityCreateDepartment { n: 1 },
        Write::ActivityUserDepartments {
            user: 0,
            departments: vec![6],
        },
        Write::ActivityMembers {
            department: 6,
            users: vec![1],
            add: true,
        },
        Write::ActivityMembers {
            department: 6,
            users: vec![0],
            add: false,
        },
        Write::ActivityRenameDepartment {
            department: 0,
            n: 2,
        },
        Write::ActivityDeleteDepartment { department: 1 },
        Write::AworkPut { user: 1, n: 3 },
        Write::AworkLifecycle { user: 2, action: 0 },
        Write::AworkLifecycle { user: 2, action: 1 },
        Write::AworkLifecycle { user: 3, action: 2 },
        Write::AworkLifecycle { user: 1, action: 4 },
        Write::AworkInvite { n: 4 },
        Write::RelesysPatch { user: 0, n: 5 },
        Write::RelesysCreate { n: 6 },
        Write::ReplayChild { n: 7 },
        Write::ReplayInvite {
            n: 8,
            company: Some(2),
        },
        Write::ReplayInvite {
            n: 9,
            company: None,
        },
        Write::ReplayPatch { user: 0, n: 10 },
    ]
}

#[tokio::test]
async fn a_write_through_every_write_route_survives_snapshot_reset_and_restore_in_the_shared_state()
{
    let server = TestServer::start().await;
    let (created, statuses) = apply(&server, None, &one_of_each()).await;
    let refused: Vec<(usize, u16)> = statuses
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, status)| !(200..300).contains(status))
        .collect();
    assert_eq!(refused, vec![], "every write of the list succeeds");
    assert_eq!(created.departments.len(), 1, "the department was created");
    assert_eq!(created.companies.len(), 1, "the child company was created");
    round_trip(&server, None, &created).await;
}

// ------------------------------------------------------- the findings --

#[tokio::test]
async fn a_department_created_through_the_api_is_in_the_snapshot_and_restored_from_it() {
    let server = TestServer::start().await;
    let base = format!("/v2/clients/{CLIENT}");
    let made = send(
        &server,
        None,
        &activity(
            Method::POST,
            format!("{base}/departments"),
            Some(json!({"name": "Night Shift", "description": "after hours"})),
        ),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text.clone());
    let made = made.json();
    let id = made["id"].as_str().unwrap_or_default().to_owned();
    let user = ACTIVITY_USERS[0];
    let joined = send(
        &server,
        None,
        &activity(
            Method::POST,
            format!("{base}/departments/{id}/members"),
            Some(json!({"user_ids": [user]})),
        ),
    )
    .await;
    assert_eq!(joined.status, 200, "{}", joined.text.clone());
    let department = send(
        &server,
        None,
        &activity(Method::GET, format!("{base}/departments/{id}"), None),
    )
    .await
    .json();
    let member = send(
        &server,
        None,
        &activity(Method::GET, format!("{base}/users/{user}"), None),
    )
    .await
    .json();

    let snapshot = admin(&server, None, Method::GET, "/__admin/snapshot", None)
        .await
        .json();
    let in_snapshot: Vec<&Value> = snapshot["activity"]["departments"]
        .as_array()
        .map(|all| all.iter().filter(|d| d["id"] == json!(id)).collect())
        .unwrap_or_default();
    assert_eq!(
        in_snapshot,
        vec![&json!({
            "id": id, "client_id": CLIENT, "name": "Night Shift", "description": "after hours",
            "created_at": made["created_at"], "updated_at": made["updated_at"],
        })]
    );

    admin(&server, None, Method::POST, "/__admin/reset", None).await;
    let restored = admin(
        &server,
        None,
        Method::PUT,
        "/__admin/snapshot",
        Some(&snapshot),
    )
    .await;
    assert_eq!(
        restored.json(),
        json!({"status": "replaced", "session": null, "users": common::users_restored(json!({"activity": 14, "awork": 15, "relesys": 13, "replay": 21}), &snapshot)})
    );
    let again = send(
        &server,
        None,
        &activity(Method::GET, format!("{base}/departments/{id}"), None),
    )
    .await;
    assert_eq!(again.json(), department);
    let member_again = send(
        &server,
        None,
        &activity(Method::GET, format!("{base}/users/{user}"), None),
    )
    .await;
    assert_eq!(member_again.json(), member);
}

#[tokio::test]
async fn a_child_company_and_its_invited_user_are_in_the_snapshot_and_restored_from_it() {
    let server = TestServer::start().await;
    let child = send(
        &server,
        None,
        &replay(
            Method::POST,
            "/api/company/child".into(),
            Some(json!({"name": "Northstar Benelux", "externalId": "acct-benelux", "url": "https://benelux.example", "summary": "BE, NL, LU"})),
        ),
    )
    .await;
    assert_eq!(child.status, 201, "{}", child.text.clone());
    let child = child.json();
    let id = child["id"].as_str().unwrap_or_default().to_owned();
    let invited = send(
        &server,
        None,
        &replay(
            Method::POST,
            "/api/user".into(),
            Some(json!({"email": "eva@northstar.example", "firstName": "Eva", "role": "Manager", "childCompanyId": id})),
        ),
    )
    .await;
    assert_eq!(invited.status, 201, "{}", invited.text.clone());
    let listed = send(
        &server,
        None,
        &replay(
            Method::GET,
            format!("/api/user?child_company_id={id}"),
            None,
        ),
    )
    .await;
    assert_eq!(listed.status, 200);

    let snapshot = admin(&server, None, Method::GET, "/__admin/snapshot", None)
        .await
        .json();
    let companies = snapshot["replay"]["companies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        companies.last(),
        Some(&json!({
            "id": id, "name": "Northstar Benelux", "parent_id": "11111111-1111-4111-8111-111111111111",
            "external_id": "acct-benelux", "created_at": child["createdAt"],
            "url": "https://benelux.example", "summary": "BE, NL, LU",
        }))
    );

    admin(&server, None, Method::POST, "/__admin/reset", None).await;
    let gone = send(
        &server,
        None,
        &replay(
            Method::GET,
            format!("/api/user?child_company_id={id}"),
            None,
        ),
    )
    .await;
    assert_ne!(
        gone.text.clone(),
        listed.text.clone(),
        "the reset dropped the child"
    );
    let restored = admin(
        &server,
        None,
        Method::PUT,
        "/__admin/snapshot",
        Some(&snapshot),
    )
    .await;
    assert_eq!(restored.status, 200, "{}", restored.text.clone());
    let again = send(
        &server,
        None,
        &replay(
            Method::GET,
            format!("/api/user?child_company_id={id}"),
            None,
        ),
    )
    .await;
    assert_eq!((again.status, again.json()), (listed.status, listed.json()));
    // The restored child is a company again: its external id is taken.
    let retried = send(
        &server,
        None,
        &replay(
            Method::POST,
            "/api/company/child".into(),
            Some(json!({"name": "Northstar Benelux", "externalId": "acct-benelux"})),
        ),
    )
    .await;
    assert_eq!((retried.status.as_u16(), retried.json()), (200, child));
}

#[tokio::test]
async fn a_vendor_a_restore_leaves_out_goes_back_to_its_startup_fixture() {
    let server = TestServer::start().await;
    let awork_user = format!("/api/v1/users/{}", AWORK_USERS[1]);
    let fixture_user = send(&server, None, &awork(Method::GET, awork_user.clone(), None))
        .await
        .json();
    let renamed = send(
        &server,
        None,
        &awork(
            Method::PUT,
            awork_user.clone(),
            Some(json!({"firstName": "Changed", "lastName": "Before"})),
        ),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text.clone());
    let patched = send(
        &server,
        None,
        &replay(
            Method::PATCH,
            format!("/api/user/{}", REPLAY_USERS[0]),
            Some(json!({"firstName": "Kept"})),
        ),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.text.clone());
    let replay_user = replay(Method::GET, format!("/api/user/{}", REPLAY_USERS[0]), None);
    let replay_then = send(&server, None, &replay_user).await.json();
    assert_eq!(replay_then["firstName"], "Kept");
    let snapshot = admin(&server, None, Method::GET, "/__admin/snapshot", None)
        .await
        .json();

    let restored = admin(
        &server,
        None,
        Method::PUT,
        "/__admin/snapshot",
        Some(&json!({"replay": snapshot["replay"]})),
    )
    .await;
    assert_eq!(
        restored.json(),
        json!({"status": "replaced", "session": null, "users": {"replay": 21}})
    );
    let awork_now = send(&server, None, &awork(Method::GET, awork_user, None)).await;
    assert_eq!(awork_now.json(), fixture_user, "awork is its fixture again");
    let replay_now = send(&server, None, &replay_user).await;
    assert_eq!(replay_now.json(), replay_then, "replay is the snapshot's");
}

/// The 1-based column, in a vendor's document as the request sends it
/// (compact JSON, one line), of the value that follows `before`: problems
/// point into the vendor's own document, as `usermock check` would.
fn column_in_document(document: &Value, before: &str) -> usize {
    let text = document.to_string();
    text.find(before)
        .map(|at| at + before.len() + 1)
        .unwrap_or(0)
}

#[tokio::test]
async fn a_restored_record_larger_than_max_record_bytes_is_refused_and_nothing_restored() {
    let server = TestServer::start_with(usermock::Options {
        max_record_bytes: 2048,
        ..usermock::Options::default()
    })
    .await;
    let mut snapshot = admin(&server, None, Method::GET, "/__admin/snapshot", None)
        .await
        .json();
    snapshot["activity"]["users"][0]["username"] = json!("x".repeat(3000));
    let size = serde_json::to_vec(&snapshot["activity"]["users"][0])
        .map(|bytes| bytes.len())
        .unwrap_or_default();
    let refused = admin(
        &server,
        None,
        Method::PUT,
        "/__admin/snapshot",
        Some(&snapshot),
    )
    .await;
    assert_eq!(refused.status, 400);
    let column = column_in_document(&snapshot["activity"], "\"users\":[");
    assert_eq!(
        refused.json(),
        json!({"error": "invalid_snapshot", "message": "nothing was restored", "problems": [{
            "vendor": "activity", "pointer": "/users/0", "line": 1, "column": column,
            "message": format!("the record is {size} bytes as JSON, more than --max-record-bytes (2048)"),
        }]})
    );
}

#[tokio::test]
async fn a_restore_cannot_change_what_no_api_call_changes() {
    let server = TestServer::start().await;
    let mut snapshot = admin(&server, None, Method::GET, "/__admin/snapshot", None)
        .await
        .json();
    snapshot["activity"]["credentials"] = json!([]);
    let refused = admin(
        &server,
        None,
        Method::PUT,
        "/__admin/snapshot",
        Some(&snapshot),
    )
    .await;
    let column = column_in_document(&snapshot["activity"], "\"credentials\":");
    assert_eq!(
        refused.json(),
        json!({"error": "invalid_snapshot", "message": "nothing was restored", "problems": [{
            "vendor": "activity", "pointer": "/credentials", "line": 1, "column": column,
            "message": "'credentials' must equal the running fixture's: no API call changes it, so a snapshot cannot either (only departments, users are state)",
        }]})
    );
}

// ------------------------------------------- a snapshot as a fixture folder --

#[tokio::test]
async fn a_snapshot_saved_as_files_passes_check_and_serves_the_same_answers() {
    let server = TestServer::start().await;
    let (created, _) = apply(&server, None, &one_of_each()).await;
    let before = read_everything(&server, None, &created).await;
    let snapshot = admin(&server, None, Method::GET, "/__admin/snapshot", None)
        .await
        .json();
    let dir = TempDir::new("snapshot-folder");
    for (vendor, document) in snapshot.as_object().into_iter().flatten() {
        let text = serde_json::to_string_pretty(document).expect("serialises");
        dir.write(&format!("{vendor}.json"), &text);
    }
    let dir_text = dir.path().to_owned();

    let check = binary()
        .args(["check", "--fixtures", &dir_text])
        .output()
        .expect("usermock check runs");
    assert!(
        check.status.success(),
        "check failed: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    let binary = BinaryServer::start(&["--fixtures", &dir_text]);
    let from_files = TestServer::attach(&binary.base);
    let after = read_everything(&from_files, None, &created).await;
    for (was, is) in before.iter().zip(&after) {
        assert_eq!(was, is, "the fixture folder answers differently");
    }
    assert_eq!(before.len(), after.len());
}
