//! awork's documented filter language on `GET /users` (developers.awork.com
//! /filtering): `in`, `any` and `count` over a user's collections, the date
//! keywords on the session's clock, every example of the page in a user's
//! version, and the request notes of a loosely read filter.

use crate::awork_support as support;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const SESSION: &str = "awork-filters";

async fn list(server: &TestServer, session: Option<&str>, filter: &str) -> Reply {
    let mut request = server
        .request(
            Method::GET,
            &format!(
                "/awork/api/v1/users?pageSize=1000&filterby={}",
                urlencode(filter)
            ),
        )
        .bearer_auth("awork-admin");
    if let Some(session) = session {
        request = request.header("x-usermock-session", session);
    }
    server.send(request).await
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn ids(answer: &Reply) -> BTreeSet<String> {
    answer
        .json()
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The ids of the listed (not archived) fixture users that pass `keep`.
fn listed(keep: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    fixture()["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| u["isArchived"] == false && keep(u))
        .map(|u| u["id"].as_str().expect("id").to_owned())
        .collect()
}

fn names(user: &Value, collection: &str, member: &str) -> Vec<String> {
    user[collection]
        .as_array()
        .expect("collection")
        .iter()
        .filter_map(|item| item[member].as_str().map(str::to_owned))
        .collect()
}

fn text(user: &Value, member: &str) -> String {
    user[member].as_str().unwrap_or_default().to_owned()
}

async fn assert_filters(
    server: &TestServer,
    session: Option<&str>,
    cases: Vec<(&str, BTreeSet<String>)>,
) {
    for (filter, expected) in cases {
        let answer = list(server, session, filter).await;
        assert_eq!(answer.status, StatusCode::OK, "{filter}: {}", answer.text);
        assert_eq!(ids(&answer), expected, "{filter}");
    }
}

#[tokio::test]
async fn in_any_and_count_filter_over_teams_tags_and_contact_infos() {
    let server = TestServer::start().await;
    let in_team =
        |team: &'static str| move |u: &Value| names(u, "teams", "name").contains(&team.to_owned());
    let cases = vec![
        (
            "firstName in ('Sofia','Tim','Nobody')",
            listed(|u| ["Sofia", "Tim"].contains(&text(u, "firstName").as_str())),
        ),
        ("teams/any()", listed(|u| u["teams"] != json!([]))),
        (
            "teams/any(t: t/name eq 'Development')",
            listed(in_team("Development")),
        ),
        // The page's "does not contain" form.
        (
            "teams/any(t: t/name eq 'Development') eq false",
            listed(|u| !in_team("Development")(u)),
        ),
        (
            "teams/any(t: t/icon eq 'code' and t/color eq 'blue')",
            listed(in_team("Development")),
        ),
        (
            "tags/any(t: t/name in ('Berlin','In Progress'))",
            listed(|u| names(u, "tags", "name").contains(&"Berlin".to_owned())),
        ),
        ("teams/count() lt 1", listed(|u| u["teams"] == json!([]))),
        (
            "userContactInfos/count(c: c/type eq 'email') gt 0",
            listed(|u| names(u, "userContactInfos", "type").contains(&"email".to_owned())),
        ),
        (
            "userContactInfos/any(c: endswith(c/value,'@example.com') and c/isAddress eq false)",
            listed(|u| {
                names(u, "userContactInfos", "value")
                    .iter()
                    .any(|v| v.ends_with("@example.com"))
            }),
        ),
        // The lambda body may also name the user's own properties.
        (
            "teams/any(t: t/name eq 'Management' and firstName eq 'Mara')",
            listed(|u| text(u, "firstName") == "Mara"),
        ),
        (
            "not (teams/count() gt 0 or tags/count() gt 0)",
            listed(|u| u["teams"] == json!([]) && u["tags"] == json!([])),
        ),
    ];
    assert!(
        cases.iter().all(|(_, expected)| !expected.is_empty()),
        "every case selects someone"
    );
    assert_filters(&server, None, cases).await;
}

/// Sets the clock of `SESSION` (a Sunday noon).
async fn freeze_session_clock(server: &TestServer, now: &str) {
    let answer = server
        .send(
            server
                .request(Method::PUT, "/__admin/clock")
                .header("x-usermock-session", SESSION)
                .json(&json!({ "now": now })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[tokio::test]
async fn date_keywords_are_read_on_the_session_s_clock() {
    let server = TestServer::start().await;
    // Sunday 2024-05-05: the week began on Monday 2024-04-29.
    freeze_session_clock(&server, "2024-05-05T12:00:00Z").await;
    let created = |from: &'static str, to: &'static str| {
        listed(move |u| {
            let on = text(u, "createdOn");
            on.as_str() >= from && on.as_str() < to
        })
    };
    let cases = vec![
        ("createdOn lt now", created("", "2024-05-05T12")),
        (
            "createdOn ge sow and createdOn le eow",
            created("2024-04-29", "2024-05-06"),
        ),
        ("createdOn lt som", created("", "2024-05-01")),
        ("createdOn gt eom", created("2024-06-01", "9999")),
        ("createdOn eq today-3d", created("2024-05-02", "2024-05-03")),
        (
            "createdOn gt today-5d and createdOn lt today",
            created("2024-05-01", "2024-05-05"),
        ),
        ("createdOn eq today+1d", BTreeSet::new()),
        ("createdOn eq today", BTreeSet::new()),
    ];
    for (_, expected) in &cases[..6] {
        assert!(!expected.is_empty());
    }
    assert_filters(&server, Some(SESSION), cases).await;

    // Without the session, the same filter is read on the real clock.
    let answer = list(&server, None, "createdOn lt som").await;
    assert_eq!(ids(&answer), listed(|_| true));
}

#[tokio::test]
async fn every_example_of_the_filtering_page_works_in_its_users_version() {
    let server = TestServer::start().await;
    freeze_session_clock(&server, "2024-05-05T12:00:00Z").await;
    // (the page's example, its version on users, the expected ids)
    let neil = |member: &'static str| move |u: &Value| text(u, member) == "Sofia";
    let cases: Vec<(&str, String, BTreeSet<String>)> = vec![
        (
            "firstName eq 'Sebastian'",
            "firstName eq 'Sofia'".into(),
            listed(neil("firstName")),
        ),
        (
            "name eq 'awork %26 co'",
            "lastName eq 'Hansen %26 co'".into(),
            BTreeSet::new(),
        ),
        (
            "name eq 'user''s task'",
            "lastName eq 'user''s task'".into(),
            BTreeSet::new(),
        ),
        (
            "company/name eq 'awork'",
            "status/invitationAccepted eq false".into(),
            listed(|u| u["status"]["invitationAccepted"] == false),
        ),
        (
            "not firstName eq 'Sebastian'",
            "not firstName eq 'Sofia'".into(),
            listed(|u| !neil("firstName")(u)),
        ),
        (
            "plannedDuration le 200 and plannedDuration gt 3.5",
            "resourceVersion le 200 and resourceVersion gt 3.5".into(),
            BTreeSet::new(),
        ),
        (
            "plannedDuration le 200 or plannedDuration gt 300",
            "resourceVersion le 200 or resourceVersion gt 300".into(),
            listed(|_| true),
        ),
        (
            "lists/any(l: l/name eq 'Draft') eq false",
            "teams/any(l: l/name eq 'Management') eq false".into(),
            listed(|u| !names(u, "teams", "name").contains(&"Management".to_owned())),
        ),
        (
            "duration le 6000 and duration gt 1000",
            "resourceVersion le 6000 and resourceVersion gt 1000".into(),
            BTreeSet::new(),
        ),
        (
            "birthDate ge datetime'2018-04-03T00:00'",
            "birthDate ge datetime'1990-04-03T00:00'".into(),
            listed(|u| !u["birthDate"].is_null() && text(u, "birthDate").as_str() >= "1990-04-03"),
        ),
        (
            "id eq guid'12345678-aaaa-bbbb-cccc-ddddeeeeffff'",
            format!("id eq guid'{SOFIA}'"),
            [SOFIA.to_owned()].into(),
        ),
        (
            "firstName ne 'Neil'",
            "firstName ne 'Sofia'".into(),
            listed(|u| !neil("firstName")(u)),
        ),
        (
            "endswith(firstName,'Neil')",
            "endswith(firstName,'fia')".into(),
            listed(neil("firstName")),
        ),
        (
            "startswith(firstName,'Neil')",
            "startswith(firstName,'Sof')".into(),
            listed(neil("firstName")),
        ),
        (
            "substringof('Neil',firstName)",
            "substringof('ofi',firstName)".into(),
            listed(neil("firstName")),
        ),
        (
            "birthDate gt datetime'2018-04-03T00:00'",
            "birthDate gt datetime'1992-02-03T00:00'".into(),
            listed(|u| {
                !u["birthDate"].is_null()
                    && text(u, "birthDate").as_str() > "1992-02-03T00:00:00.0000000Z"
            }),
        ),
        (
            "birthDate lt datetime'2018-04-03T00:00'",
            "birthDate lt datetime'1992-02-03T00:00'".into(),
            listed(|u| !u["birthDate"].is_null() && text(u, "birthDate").as_str() < "1992-02-03"),
        ),
        (
            "birthDate le datetime'2018-04-03T00:00'",
            "birthDate le datetime'1992-02-03T00:00'".into(),
            listed(|u| {
                !u["birthDate"].is_null()
                    && text(u, "birthDate").as_str() <= "1992-02-03T00:00:00.0000000Z"
            }),
        ),
        (
            "tags/any(t: t/name in ('Draft','In Progress'))",
            "tags/any(t: t/name in ('Berlin','In Progress'))".into(),
            [MEMBER.to_owned()].into(),
        ),
        (
            "members/any(p: p/firstName eq 'Neil')",
            "teams/any(p: p/name eq 'Development')".into(),
            [JONAS.to_owned()].into(),
        ),
        (
            "members/count() lt 10",
            "teams/count() lt 10".into(),
            listed(|_| true),
        ),
        (
            "members/count(m: m/firstName eq 'Neil') gt 0",
            "teams/count(m: m/name eq 'Management') gt 0".into(),
            [ADMIN.to_owned()].into(),
        ),
        (
            "tolower(name) eq 'website'",
            "tolower(lastName) eq 'romano'".into(),
            listed(neil("firstName")),
        ),
        (
            "id eq me.id",
            "id eq me.id".into(),
            [ADMIN.to_owned()].into(),
        ),
        (
            "dueOn lt now",
            "createdOn lt now".into(),
            listed(|u| text(u, "createdOn").as_str() < "2024-05-05T12"),
        ),
        (
            "dueOn gt sow",
            "createdOn gt sow".into(),
            listed(|u| text(u, "createdOn").as_str() >= "2024-04-29"),
        ),
        (
            "dueOn gt eow",
            "createdOn gt eow".into(),
            listed(|u| text(u, "createdOn").as_str() >= "2024-05-06"),
        ),
        (
            "dueOn gt som",
            "createdOn gt som".into(),
            listed(|u| text(u, "createdOn").as_str() >= "2024-05-01"),
        ),
        (
            "dueOn lt eom",
            "createdOn lt eom".into(),
            listed(|u| text(u, "createdOn").as_str() < "2024-06-01"),
        ),
        (
            "dueOn eq today",
            "createdOn eq today".into(),
            BTreeSet::new(),
        ),
        (
            "dueOn gt today-30d",
            "createdOn gt today-30d".into(),
            listed(|u| text(u, "createdOn").as_str() >= "2024-04-06"),
        ),
        (
            "dueOn gt today+5d",
            "createdOn gt today+5d".into(),
            listed(|u| text(u, "createdOn").as_str() >= "2024-05-11"),
        ),
    ];
    for (example, version, expected) in cases {
        // The page's own `%26` is URL encoding: decode it as a server would.
        let filter = version.replace("%26", "&");
        let answer = list(&server, Some(SESSION), &filter).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{example} as {filter}: {}",
            answer.text
        );
        assert_eq!(ids(&answer), expected, "{example} as {filter}");
    }
}

async fn last_notes(server: &TestServer) -> Value {
    let list = server
        .send(server.request(Method::GET, "/__admin/requests?vendor=awork"))
        .await
        .json();
    list["requests"]
        .as_array()
        .and_then(|entries| entries.last())
        .map(|entry| entry["notes"].clone())
        .expect("a journal entry")
}

#[tokio::test]
async fn a_filter_read_loosely_or_an_unknown_parameter_is_noted_and_a_documented_query_is_not() {
    let server = TestServer::start().await;
    let source = "inferred: https://developers.awork.com/filtering does not say how property names are matched or in which time zone the date keywords are read";
    let documented = "/awork/api/v1/users?page=1&pageSize=5&showArchived=true&orderby=LastName,FirstName%20desc&filterby=firstName%20eq%20'Sofia'";
    let answer = call(&server, Method::GET, documented, "awork-admin", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(last_notes(&server).await, json!([]));

    let answer = list(&server, None, "FirstName eq 'Sofia'").await;
    assert_eq!(ids(&answer), [SOFIA.to_owned()].into());
    assert_eq!(
        last_notes(&server).await,
        json!([{
            "rule": "awork-filter-property-case",
            "message": "the filter's 'FirstName' was read as 'firstName'",
            "source": source,
        }])
    );

    freeze_session_clock(&server, "2024-05-05T12:00:00Z").await;
    let answer = list(&server, Some(SESSION), "createdOn gt today-5d").await;
    assert_eq!(answer.status, StatusCode::OK);
    let notes = server
        .send(
            server
                .request(Method::GET, "/__admin/requests?vendor=awork")
                .header("x-usermock-session", SESSION),
        )
        .await
        .json();
    assert_eq!(
        notes["requests"]
            .as_array()
            .and_then(|e| e.last())
            .map(|e| e["notes"].clone()),
        Some(json!([{
            "rule": "awork-filter-dates-utc",
            "message": "'today-5d' was read in UTC on the request's clock: the UTC day 2024-04-30",
            "source": source,
        }]))
    );

    let answer = call(
        &server,
        Method::GET,
        "/awork/api/v1/users?pagesize=2&limit=5&limit=6",
        "awork-admin",
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        last_notes(&server).await,
        json!([{
            "rule": "awork-unknown-query-parameter",
            "message": "the query parameter 'limit' is not one of this route's and was ignored",
            "source": "inferred: awork's OpenAPI document lists the route's parameters; ASP.NET ignores others",
        }])
    );
}

#[tokio::test]
async fn a_malformed_or_hostile_filter_is_invalid_filter_or_order_and_answers_quickly() {
    let server = TestServer::start().await;
    let deep = format!("{}isAgent eq true{}", "(".repeat(200), ")".repeat(200));
    let chain = vec!["isAgent eq true"; 1100].join(" and ");
    let list_of = format!("firstName in ({})", vec!["'x'"; 2100].join(","));
    let lambdas = "teams/any(t: tags/any(g: g/name eq 'x'))";
    for (filter, detail) in [
        (
            "teams/any(t: t/nickname eq 'x')",
            "'nickname' is not a property of the items of 't'.",
        ),
        (
            "teams/all(t: t/name eq 'x')",
            "'all' is not supported in user filters.",
        ),
        (
            "firstName in ()",
            "'in' takes a list of literals: ('a','b').",
        ),
        (
            "createdOn gt today+x",
            "'today+x' is not a relative date: write today+5d or today-30d.",
        ),
        (
            "members/any(p: p/firstName eq 'Neil')",
            "'members' is not a collection of users.",
        ),
        (lambdas, "'any' cannot be nested in another lambda."),
        (deep.as_str(), "The filter is nested too deeply."),
        (
            chain.as_str(),
            "The filter is too long: at most 4096 terms.",
        ),
        (
            list_of.as_str(),
            "The filter is too long: at most 4096 terms.",
        ),
    ] {
        let started = std::time::Instant::now();
        let answer = list(&server, None, filter).await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "slow: {}",
            &filter[..filter.len().min(60)]
        );
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
        assert_eq!(
            body(&answer),
            error(
                "invalid-filter-or-order",
                "The request contains an invalid filter or sort statement.",
                json!([detail]),
                json!([])
            ),
            "{}",
            &filter[..filter.len().min(60)]
        );
    }
}
