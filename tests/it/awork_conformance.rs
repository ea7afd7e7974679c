//! Every answer of every awork route, checked against the operation the
//! vendored OpenAPI subset (`tests/it/data/awork-openapi-subset.json`)
//! documents for it: a documented status has its documented schema (or no
//! body), an error status the spec does not list for the route is still
//! awork's `ErrorResponse` (error-handling guide), a 429 is the gateway's.

use crate::awork_support as support;

use reqwest::Method;
use serde_json::{json, Value};
use support::*;

fn subset() -> Value {
    serde_json::from_str(include_str!("data/awork-openapi-subset.json")).expect("subset")
}

/// The spec's path template for a usermock path (`/awork/api/v1` taken
/// off), literal segments preferred over `{params}`.
fn template(paths: &Value, path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or_default();
    let path = path.strip_prefix("/awork/api/v1")?;
    let segments: Vec<&str> = path.split('/').collect();
    let mut best: Option<(usize, String)> = None;
    for name in paths.as_object().expect("paths").keys() {
        let parts: Vec<&str> = name.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let fits = parts.iter().zip(&segments).all(|(p, s)| {
            if p.starts_with('{') {
                true
            } else {
                literal += 1;
                p == s
            }
        });
        if fits && best.as_ref().is_none_or(|(l, _)| literal > *l) {
            best = Some((literal, name.clone()));
        }
    }
    best.map(|(_, name)| name)
}

/// Checks `answer` to `method path` against the spec.
fn check(method: &Method, path: &str, answer: &Reply) {
    let spec = subset();
    let status = answer.status.as_u16();
    let what = format!("{method} {path} → {status}: {}", answer.text);
    let operation = template(&spec["paths"], path)
        .map(|t| spec["paths"][t.as_str()][method.as_str().to_ascii_lowercase()].clone())
        .filter(|op| !op.is_null());
    let documented = operation
        .as_ref()
        .map(|op| op["responses"][status.to_string()].clone())
        .filter(|r| !r.is_null());
    match documented {
        Some(response) => match response.pointer("/content/application~1json/schema") {
            Some(schema) => assert_conforms(schema.clone(), &answer.json(), &what),
            None => assert!(answer.text.is_empty(), "no body is documented: {what}"),
        },
        None if status == 429 => {
            assert_eq!(
                answer.json(),
                json!({"message": "API rate limit exceeded"}),
                "{what}"
            );
        }
        None if status >= 400 => assert_conforms(schema("ErrorResponse"), &answer.json(), &what),
        None => panic!("a success the spec does not document: {what}"),
    }
    if !answer.text.is_empty() {
        assert!(
            answer
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{what}"
        );
    }
}

async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = server.request(method.clone(), path);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let answer = server.send(request).await;
    check(&method, path, &answer);
    answer
}

#[tokio::test]
async fn every_answer_of_every_route_conforms_to_the_operation_the_spec_documents() {
    let server = TestServer::start().await;
    let admin = Some("awork-admin");
    let member = Some("awork-member");
    let users = "/awork/api/v1/users";
    let invitations = "/awork/api/v1/invitations";
    let role_user = |role: &str, user: &str, what: &str| {
        format!("/awork/api/v1/roles/{role}/users/{user}/{what}")
    };
    let invitation = json!({"workspaceId": WORKSPACE, "invitationFlow": "invite", "email": "carla.creative@ncnstn.com", "roleId": MEMBER_ROLE});
    let invited = send(
        &server,
        Method::POST,
        invitations,
        admin,
        Some(invitation.clone()),
    )
    .await;
    let mut second = invitation.clone();
    second["email"] = json!("second@example.com");
    let code = invited.json()["invitationCode"]
        .as_str()
        .expect("code")
        .to_owned();
    let new_user = invited.json()["userId"].as_str().expect("id").to_owned();

    let cases: Vec<(Method, String, Option<&str>, Option<Value>)> = vec![
        (
            Method::GET,
            format!("{users}?pageSize=1000&showArchived=true"),
            admin,
            None,
        ),
        (
            Method::GET,
            format!("{users}?filterby=teams/any(t:%20t/name%20eq%20'Management')"),
            admin,
            None,
        ),
        (Method::GET, format!("{users}?filterby=nope"), admin, None),
        (Method::GET, format!("{users}?pageSize=0"), admin, None),
        (Method::GET, users.to_owned(), None, None),
        (Method::GET, user_path(SOFIA), admin, None),
        (Method::GET, user_path(UNKNOWN), admin, None),
        (Method::GET, user_path("not-a-guid"), admin, None),
        (Method::GET, user_path(SOFIA), Some("nobody"), None),
        (Method::GET, format!("{users}/me"), member, None),
        (Method::GET, "/awork/api/v1/me".to_owned(), member, None),
        (
            Method::PUT,
            user_path(SOFIA),
            admin,
            Some(json!({"firstName": "Sofia", "lastName": "Romano", "language": "en-GB"})),
        ),
        (
            Method::PUT,
            user_path(SOFIA),
            admin,
            Some(json!({"title": "x".repeat(101)})),
        ),
        (Method::PUT, user_path(SOFIA), member, Some(json!({}))),
        (Method::PUT, user_path(ARCHIVED), admin, Some(json!({}))),
        (
            Method::PUT,
            user_path(SOFIA),
            admin,
            Some(json!({"birthDate": "2999-01-01"})),
        ),
        (Method::PATCH, user_path(SOFIA), admin, None),
        (
            Method::POST,
            format!("{}/deactivate?includeSummary=true", user_path(PAUL)),
            admin,
            None,
        ),
        (
            Method::POST,
            format!("{}/activate", user_path(PAUL)),
            admin,
            None,
        ),
        (
            Method::POST,
            format!("{}/deactivate", user_path(PAUL)),
            admin,
            None,
        ),
        (
            Method::POST,
            format!("{}/deactivate", user_path(PAUL)),
            admin,
            None,
        ),
        (
            Method::POST,
            format!("{}/activate", user_path(PAUL)),
            member,
            None,
        ),
        (
            Method::POST,
            format!("{}/setarchived", user_path(SOFIA)),
            admin,
            Some(json!({"isArchived": true})),
        ),
        (
            Method::POST,
            format!("{}/setarchived", user_path(SOFIA)),
            admin,
            Some(json!({})),
        ),
        (Method::DELETE, user_path(JONAS), admin, None),
        (Method::DELETE, user_path(JONAS), admin, None),
        (Method::GET, invitations.to_owned(), None, None),
        (Method::GET, invitations.to_owned(), admin, None),
        (
            Method::POST,
            invitations.to_owned(),
            admin,
            Some(json!({"email": "x"})),
        ),
        (Method::POST, invitations.to_owned(), admin, Some(second)),
        (
            Method::POST,
            format!("{invitations}/accept"),
            admin,
            Some(json!({"invitationCode": code})),
        ),
        (
            Method::POST,
            format!("{invitations}/accept"),
            admin,
            Some(json!({"invitationCode": code})),
        ),
        (
            Method::POST,
            format!("{invitations}/accept"),
            admin,
            Some(json!({})),
        ),
        (
            Method::POST,
            role_user(MEMBER_ROLE, &new_user, "deactivate"),
            admin,
            None,
        ),
        (
            Method::POST,
            role_user(MEMBER_ROLE, &new_user, "activate"),
            admin,
            None,
        ),
        (
            Method::POST,
            role_user(MEMBER_ROLE, ADMIN, "deactivate"),
            admin,
            None,
        ),
        (
            Method::POST,
            role_user(UNKNOWN, SOFIA, "deactivate"),
            admin,
            None,
        ),
        (
            Method::POST,
            role_user(MEMBER_ROLE, SOFIA, "activate"),
            Some("awork-manager"),
            None,
        ),
        (Method::GET, "/awork/api/v1/nowhere".to_owned(), admin, None),
    ];
    let mut statuses = std::collections::BTreeSet::new();
    let mut answered = std::collections::BTreeSet::new();
    let spec = subset();
    for (method, path, token, body) in cases {
        let answer = send(&server, method.clone(), &path, token, body).await;
        statuses.insert(answer.status.as_u16());
        if let Some(template) = template(&spec["paths"], &path) {
            answered.insert(format!("{method} {template} {}", answer.status.as_u16()));
        }
    }
    // Every operation of the subset gave each of its documented successes
    // at least once (and GET /invitations its documented 404).
    let mut documented = std::collections::BTreeSet::new();
    for (template, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            for status in operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
            {
                let only = operation["responses"].as_object().map_or(0, |r| r.len()) == 1;
                if status.starts_with('2') || only {
                    documented.insert(format!(
                        "{} {template} {status}",
                        method.to_ascii_uppercase()
                    ));
                }
            }
        }
    }
    let missing: Vec<&String> = documented.difference(&answered).collect();
    assert!(
        missing.is_empty(),
        "never answered as documented: {missing:#?}"
    );
    // The cases reach every kind of answer.
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        vec![200, 204, 400, 401, 404, 405]
    );
}

#[tokio::test]
async fn every_scenario_answer_conforms_too() {
    let server = TestServer::start().await;
    let listed = server
        .send(server.request(Method::GET, "/__admin/scenarios"))
        .await
        .json();
    let names: Vec<String> = listed["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .filter(|n| n.starts_with("awork-"))
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 14, "{names:?}");
    for name in names {
        let on = server
            .send(server.request(Method::POST, &format!("/__admin/scenarios/{name}/activate")))
            .await;
        assert!(on.status.is_success(), "{name}: {}", on.text);
        for (method, path) in [
            (Method::GET, user_path(SOFIA)),
            (Method::PUT, user_path(SOFIA)),
            (Method::GET, "/awork/api/v1/users".to_owned()),
            (Method::POST, format!("{}/deactivate", user_path(SOFIA))),
            (Method::POST, "/awork/api/v1/invitations".to_owned()),
        ] {
            let body = (method != Method::GET).then(|| json!({}));
            send(&server, method, &path, Some("awork-admin"), body).await;
        }
        let off = server
            .send(server.request(
                Method::POST,
                &format!("/__admin/scenarios/{name}/deactivate"),
            ))
            .await;
        assert!(off.status.is_success(), "{name}: {}", off.text);
    }
}
