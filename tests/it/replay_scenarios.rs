//! Every shipped `replay-*` scenario answers in Replay's format, and
//! random queries and bodies on Replay's routes never give a 5xx.

use crate::common;
use crate::replay_support;

use common::{Reply, TestServer};
use proptest::prelude::*;
use replay_support::*;
use reqwest::Method;
use serde_json::{json, Value};

const SEED_RECORD: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";

/// A shipped scenario, a request it targets, and its whole answer.
struct Case {
    scenario: &'static str,
    method: Method,
    path: String,
    key: &'static str,
    body: Option<Value>,
    status: u16,
    expected: Value,
}

fn case(scenario: &'static str, method: Method, path: &str, status: u16, expected: Value) -> Case {
    Case {
        scenario,
        method,
        path: path.to_owned(),
        key: "replay-parent",
        body: None,
        status,
        expected,
    }
}

impl Case {
    fn body(mut self, body: Value) -> Case {
        self.body = Some(body);
        self
    }
}

fn cases() -> Vec<Case> {
    let user = format!("/api/user/{SEED_RECORD}");
    let in_child = json!({"firstName": "Jane", "childCompanyId": CHILD});
    let invite = json!({"email": "new.one@northstar.example", "firstName": "New", "role": "User", "childCompanyId": CHILD});
    let company = json!({"name": "Scenario Co"});
    vec![
        case(
            "replay-invalid-request",
            Method::PATCH,
            &user,
            400,
            invalid(json!([{"field": "firstName", "message": "Must be at least 1 character"}])),
        )
        .body(in_child.clone()),
        case(
            "replay-unauthorized",
            Method::GET,
            "/api/user",
            401,
            error("Invalid API key"),
        ),
        case(
            "replay-forbidden",
            Method::GET,
            &format!("{user}?childCompanyId={CHILD}"),
            403,
            not_a_direct_child(CHILD),
        ),
        case(
            "replay-user-not-found",
            Method::GET,
            &format!("{user}?childCompanyId={CHILD}"),
            404,
            error("User not found"),
        ),
        case(
            "replay-server-error",
            Method::POST,
            "/api/company/child",
            500,
            error("Internal server error"),
        )
        .body(company.clone()),
        case(
            "replay-user-disabled",
            Method::PATCH,
            &user,
            400,
            error("Disabled users cannot be updated"),
        )
        .body(in_child),
        case(
            "replay-list-forbidden",
            Method::GET,
            &format!("/api/user?child_company_id={CHILD}"),
            403,
            not_a_direct_child(CHILD),
        ),
        case(
            "replay-list-invalid-request",
            Method::GET,
            "/api/user",
            400,
            invalid(
                json!([{"field": "limit", "message": "Must be a whole number from 1 to 1000"}]),
            ),
        ),
        case(
            "replay-invite-invalid-request",
            Method::POST,
            "/api/user",
            400,
            invalid(json!([{"field": "firstName", "message": "Must be at least 1 character"}])),
        )
        .body(invite.clone()),
        case(
            "replay-invite-forbidden",
            Method::POST,
            "/api/user",
            403,
            not_a_direct_child(CHILD),
        )
        .body(invite.clone()),
        case(
            "replay-invite-email-taken",
            Method::POST,
            "/api/user",
            409,
            error("A user or invitation with this email already exists"),
        )
        .body(invite.clone()),
        case(
            "replay-invite-external-id-taken",
            Method::POST,
            "/api/user",
            409,
            error("externalId is already used by another user of this company"),
        )
        .body(invite),
        case(
            "replay-child-company-invalid-request",
            Method::POST,
            "/api/company/child",
            400,
            invalid(json!([{"field": "name", "message": "Required"}])),
        )
        .body(company.clone()),
        case(
            "replay-child-company-name-taken",
            Method::POST,
            "/api/company/child",
            409,
            error("A company with this name already exists"),
        )
        .body(company.clone()),
        case(
            "replay-child-company-external-id-taken",
            Method::POST,
            "/api/company/child",
            409,
            error("externalId is already used by another child company"),
        )
        .body(company),
        case(
            "replay-team-not-found",
            Method::PATCH,
            &format!("/api/team/{CLOSERS}"),
            404,
            error("Team not found"),
        )
        .body(json!({"name": "Closers"})),
        case(
            "replay-invite-user-team-not-found",
            Method::POST,
            "/api/user/invite",
            404,
            error("Team not found"),
        )
        .body(json!({"email": "scenario.invite@example.com", "teamId": CLOSERS, "role": "User"})),
    ]
}

async fn send(server: &TestServer, c: &Case, scenario: Option<&str>) -> Reply {
    let mut request = server
        .request(c.method.clone(), &format!("/replay{}", c.path))
        .header("x-api-key", c.key);
    if let Some(scenario) = scenario {
        request = request.header("x-usermock-scenario", scenario);
    }
    if let Some(body) = &c.body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    server.send(request).await
}

#[tokio::test]
async fn every_shipped_replay_scenario_answers_in_replay_s_format() {
    let server = TestServer::start().await;
    for c in cases() {
        // In a fresh session each, so the plain request succeeds.
        let session = format!("plain-{}", c.scenario);
        let plain = server
            .send({
                let mut r = server
                    .request(c.method.clone(), &format!("/replay{}", c.path))
                    .header("x-api-key", c.key)
                    .header("x-usermock-session", &session);
                if let Some(body) = &c.body {
                    r = r
                        .header("content-type", "application/json")
                        .body(body.to_string());
                }
                r
            })
            .await;
        assert!(
            plain.status.is_success(),
            "{}: the request alone fails: {}",
            c.scenario,
            plain.text
        );
        let answer = send(&server, &c, Some(c.scenario)).await;
        assert_eq!(
            answer.status.as_u16(),
            c.status,
            "{}: {}",
            c.scenario,
            answer.text
        );
        assert_eq!(answer.json(), c.expected, "{}", c.scenario);
    }
}

/// The shipped scenarios [`cases`] tests, for the one coverage check
/// (`scenarios::every_shipped_scenario_has_a_test`).
pub(crate) fn tested_scenarios() -> Vec<&'static str> {
    cases().iter().map(|c| c.scenario).collect()
}

// ------------------------------------------------------------ properties --

fn query_string() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("offset".to_owned()),
        Just("limit".to_owned()),
        Just("child_company_id".to_owned()),
        Just("childCompanyId".to_owned()),
        "[a-z_]{1,8}",
    ];
    let value = prop_oneof![
        Just(CHILD.to_owned()),
        Just(GRANDCHILD.to_owned()),
        "-?[0-9]{1,25}",
        "\\PC{0,12}",
    ];
    prop::collection::vec((name, value), 0..5).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| {
                let v: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!("User")),
        Just(json!("Manager")),
        Just(json!(CHILD)),
        Just(json!(CLOSERS)),
        Just(json!("Default")),
        Just(json!("someone@northstar.example")),
        Just(json!("https://example.com")),
        "\\PC{0,300}".prop_map(Value::from),
    ]
}

fn body() -> impl Strategy<Value = Value> {
    let member = prop_oneof![
        Just("email".to_owned()),
        Just("firstName".to_owned()),
        Just("lastName".to_owned()),
        Just("role".to_owned()),
        Just("externalId".to_owned()),
        Just("childCompanyId".to_owned()),
        Just("name".to_owned()),
        Just("url".to_owned()),
        Just("summary".to_owned()),
        Just("teamId".to_owned()),
        Just("sendEmail".to_owned()),
        Just("description".to_owned()),
        Just("type".to_owned()),
        Just("useTurnConnection".to_owned()),
        "[a-zA-Z]{1,8}",
    ];
    let value = leaf().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![
        1 => leaf(),
        6 => prop::collection::btree_map(member, value, 0..7)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, .. ProptestConfig::default() })]

    #[test]
    fn random_queries_and_bodies_never_give_a_5xx(query in query_string(), body in body(), key in prop_oneof![Just("replay-parent"), Just("replay-child"), Just("nope")]) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let server = TestServer::start().await;
            let caller = Caller::new(&server, key);
            let answers = [
                caller.get(&format!("/api/user?{query}")).await,
                caller.get(&format!("/api/user/{SEED_RECORD}?{query}")).await,
                caller.post("/api/user", &body).await,
                caller.post("/api/company/child", &body).await,
                caller.patch(&format!("/api/user/{SEED_RECORD}"), &body).await,
                caller.post("/api/user/invite", &body).await,
                caller.patch(&format!("/api/team/{CLOSERS}"), &body).await,
                // A retry of the same body: idempotency and resend paths.
                caller.post("/api/user", &body).await,
                caller.post("/api/company/child", &body).await,
                caller.post("/api/user/invite", &body).await,
            ];
            for answer in answers {
                prop_assert!(answer.status.as_u16() < 500, "{} {}", answer.status, answer.text);
                prop_assert!(answer.json().is_object(), "{}", answer.text);
            }
            let teams = caller.get(&format!("/api/team?{query}")).await;
            prop_assert!(teams.status.as_u16() < 500, "{} {}", teams.status, teams.text);
            Ok(())
        })?;
    }
}
