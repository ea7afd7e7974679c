//! awork's user lifecycle beyond the seed: the list with paging, filters
//! and ordering, `/users/me`, deactivate / activate / setarchived / delete,
//! invitations; every answer checked against awork's own OpenAPI schemas.

use crate::awork_support as support;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

// ----------------------------------------------------------------- schemas --

#[tokio::test]
async fn every_kind_of_answer_conforms_to_awork_s_openapi_document() {
    let server = TestServer::start().await;
    for user in fixture()["users"].as_array().expect("users") {
        let id = user["id"].as_str().expect("id");
        assert_conforms(schema("User"), &get(&server, id).await.json(), id);
    }
    let put = put_as(
        &server,
        "awork-admin",
        SOFIA,
        json!({"firstName": "S", "language": "en-GB", "birthDate": "1990-01-02"}),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_conforms(schema("User"), &put.json(), "PUT");
    let list = call(
        &server,
        Method::GET,
        "/awork/api/v1/users?pageSize=1000&showArchived=true",
        "awork-admin",
        None,
    )
    .await;
    assert_conforms(array_of("User"), &list.json(), "GET /users");
    for path in ["/awork/api/v1/users/me", "/awork/api/v1/me"] {
        let me = call(&server, Method::GET, path, "awork-admin", None).await;
        assert_conforms(schema("UserAndWorkspace"), &me.json(), path);
    }
    let archived = call(
        &server,
        Method::POST,
        &format!("{}/setarchived", user_path(PAUL)),
        "awork-admin",
        Some(json!({"isArchived": true})),
    )
    .await;
    assert_conforms(schema("ExtendedUser"), &archived.json(), "setarchived");
    let summary = call(
        &server,
        Method::POST,
        &format!("{}/deactivate?includeSummary=true", user_path(SOFIA)),
        "awork-admin",
        None,
    )
    .await;
    assert_conforms(
        schema("PostUserDeactivateByUserIdResponse"),
        &summary.json(),
        "deactivate",
    );
    let invited = invite(&server, "awork-admin", json!({"email": "new@example.com"})).await;
    assert_conforms(schema("InvitationResponse"), &invited.json(), "invitation");
    let new_id = invited.json()["userId"]
        .as_str()
        .expect("userId")
        .to_owned();
    assert_conforms(
        schema("User"),
        &get(&server, &new_id).await.json(),
        "invited user",
    );
    // Errors: every code usermock raises.
    let errors = [
        put_as(&server, "awork-admin", SOFIA, json!({"firstName": 5})).await,
        put_as(&server, "nobody", SOFIA, json!({})).await,
        put_as(&server, "awork-member", SOFIA, json!({})).await,
        get(&server, UNKNOWN).await,
        call(
            &server,
            Method::GET,
            "/awork/api/v1/users?filterby=nope",
            "awork-admin",
            None,
        )
        .await,
        call(
            &server,
            Method::GET,
            "/awork/api/v1/nowhere",
            "awork-admin",
            None,
        )
        .await,
        call(
            &server,
            Method::PATCH,
            &user_path(SOFIA),
            "awork-admin",
            None,
        )
        .await,
        invite(&server, "awork-admin", json!({"workspaceId": null})).await,
    ];
    for answer in errors {
        assert!(answer.status.is_client_error(), "{}", answer.text);
        assert_conforms(schema("ErrorResponse"), &answer.json(), &answer.text);
    }
}

// -------------------------------------------------------------------- list --

async fn list(server: &TestServer, token: &str, query: &str) -> Reply {
    call(
        server,
        Method::GET,
        &format!("/awork/api/v1/users?{query}"),
        token,
        None,
    )
    .await
}

fn ids(answer: &Reply) -> Vec<String> {
    answer
        .json()
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_owned())
        .collect()
}

fn fixture_ids(keep: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    fixture()["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| keep(u))
        .map(|u| u["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn the_list_is_a_bare_array_of_whole_users_with_the_aw_paging_headers() {
    let server = TestServer::start().await;
    let answer = list(&server, "awork-admin", "").await;
    assert_eq!(answer.status, StatusCode::OK);
    let unarchived = fixture_ids(|u| u["isArchived"] == false);
    assert!(unarchived.len() > 10, "the fixture makes paging real");
    // Default page size: 10, the spec's default (the guide's 1000 is a setting).
    assert_eq!(answer.header("aw-page"), Some("1"));
    assert_eq!(answer.header("aw-pagesize"), Some("10"));
    assert_eq!(answer.header("aw-items"), Some("10"));
    assert_eq!(
        answer.header("aw-totalitems"),
        Some(unarchived.len().to_string().as_str())
    );
    for user in answer.json().as_array().expect("array") {
        assert_eq!(*user, fixture_user(user["id"].as_str().expect("id")));
    }
}

#[tokio::test]
async fn paging_walks_return_every_listed_user_exactly_once_in_order_for_every_sort() {
    let server = TestServer::start().await;
    let all = fixture_ids(|_| true);
    for order in [
        "",
        "LastName asc",
        "LastName,FirstName desc",
        "createdOn desc",
        "birthDate",
        "language,gender desc",
        "isDeactivated desc,title",
    ] {
        let full = list(
            &server,
            "awork-admin",
            &format!("showArchived=true&pageSize=1000&orderby={order}"),
        )
        .await;
        assert_eq!(full.status, StatusCode::OK, "{order}: {}", full.text);
        let expected = ids(&full);
        assert_eq!(
            expected.iter().cloned().collect::<BTreeSet<_>>(),
            all,
            "{order}"
        );
        for size in [1, 3, 4, 7, 10] {
            let mut walked = Vec::new();
            for page in 1.. {
                let answer = list(
                    &server,
                    "awork-admin",
                    &format!("showArchived=true&pageSize={size}&page={page}&orderby={order}"),
                )
                .await;
                assert_eq!(
                    answer.header("aw-totalitems"),
                    Some(all.len().to_string().as_str())
                );
                let got = ids(&answer);
                assert_eq!(
                    answer.header("aw-items"),
                    Some(got.len().to_string().as_str())
                );
                if got.is_empty() {
                    break;
                }
                walked.extend(got);
            }
            assert_eq!(walked, expected, "order {order:?}, page size {size}");
        }
    }
}

#[tokio::test]
async fn orderby_sorts_by_each_key_with_its_own_direction_and_nulls_first() {
    let server = TestServer::start().await;
    let answer = list(
        &server,
        "awork-admin",
        "pageSize=1000&orderby=LastName,FirstName%20desc",
    )
    .await;
    let names: Vec<(String, String)> = answer
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|u| {
            (
                u["lastName"].as_str().unwrap_or_default().to_owned(),
                u["firstName"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    assert_eq!(names, sorted);
    // Becker, Jonas comes after Becker, Tim? No: FirstName desc puts Tim first.
    let beckers: Vec<&str> = names
        .iter()
        .filter(|n| n.0 == "Becker")
        .map(|n| n.1.as_str())
        .collect();
    assert_eq!(beckers, ["Tim", "Jonas"]);
    let answer = list(&server, "awork-admin", "pageSize=1000&orderby=title").await;
    let titles: Vec<Value> = answer
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|u| u["title"].clone())
        .collect();
    let first_set = titles
        .iter()
        .position(|t| !t.is_null())
        .expect("some titles");
    assert!(
        titles[first_set..].iter().all(|t| !t.is_null()),
        "nulls first: {titles:?}"
    );
}

#[tokio::test]
async fn archived_users_are_listed_only_with_show_archived() {
    let server = TestServer::start().await;
    let without = ids(&list(&server, "awork-admin", "pageSize=1000").await);
    assert!(!without.contains(&ARCHIVED.to_owned()));
    let with = ids(&list(&server, "awork-admin", "pageSize=1000&showArchived=true").await);
    assert!(with.contains(&ARCHIVED.to_owned()));
    assert_eq!(with.len(), without.len() + 1);
}

#[tokio::test]
async fn a_caller_without_master_data_read_permission_sees_only_itself() {
    let server = TestServer::start().await;
    let answer = list(&server, "awork-member", "pageSize=1000&showArchived=true").await;
    assert_eq!(answer.json(), json!([fixture_user(MEMBER)]));
    assert_eq!(answer.header("aw-totalitems"), Some("1"));
    // Filters cannot widen it.
    let answer = list(
        &server,
        "awork-member",
        &format!("filterby=id%20eq%20guid'{SOFIA}'"),
    )
    .await;
    assert_eq!(answer.json(), json!([]));
    for token in ["awork-reader", "awork-hr", "awork-admin"] {
        let answer = list(&server, token, "pageSize=1000&showArchived=true").await;
        assert_eq!(ids(&answer).len(), fixture_ids(|_| true).len(), "{token}");
    }
}

#[tokio::test]
async fn filterby_supports_the_documented_operators() {
    let server = TestServer::start().await;
    let users = fixture()["users"].as_array().expect("users").clone();
    let with = |f: &dyn Fn(&Value) -> bool| -> BTreeSet<String> {
        users
            .iter()
            .filter(|u| u["isArchived"] == false && f(u))
            .map(|u| u["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let s = |u: &Value, k: &str| u[k].as_str().unwrap_or_default().to_owned();
    let cases: Vec<(String, BTreeSet<String>)> = vec![
        (
            "firstName eq 'Sofia'".into(),
            with(&|u| u["firstName"] == "Sofia"),
        ),
        (
            "firstName ne 'Sofia'".into(),
            with(&|u| u["firstName"] != "Sofia"),
        ),
        (
            "not firstName eq 'Sofia'".into(),
            with(&|u| u["firstName"] != "Sofia"),
        ),
        (
            "lastName eq 'Becker' and firstName eq 'Tim'".into(),
            [MEMBER.to_owned()].into(),
        ),
        (
            "(firstName eq 'Tim' or firstName eq 'Lena') and isDeactivated eq false".into(),
            [MEMBER.to_owned(), HR.to_owned()].into(),
        ),
        (
            "startswith(lastName,'Sch')".into(),
            with(&|u| s(u, "lastName").starts_with("Sch")),
        ),
        (
            "endswith(firstName,'a')".into(),
            with(&|u| s(u, "firstName").ends_with('a')),
        ),
        (
            "substringof('ar',firstName)".into(),
            with(&|u| s(u, "firstName").contains("ar")),
        ),
        (
            "tolower(lastName) eq 'becker'".into(),
            with(&|u| u["lastName"] == "Becker"),
        ),
        ("title eq null".into(), with(&|u| u["title"].is_null())),
        ("title ne null".into(), with(&|u| !u["title"].is_null())),
        (
            "birthDate ge datetime'1990-01-01T00:00'".into(),
            with(&|u| s(u, "birthDate").as_str() >= "1990" && !u["birthDate"].is_null()),
        ),
        (
            "birthDate lt datetime'1990-01-01'".into(),
            with(&|u| !u["birthDate"].is_null() && s(u, "birthDate").as_str() < "1990"),
        ),
        (format!("id eq guid'{SOFIA}'"), [SOFIA.to_owned()].into()),
        ("id eq me.id".into(), [ADMIN.to_owned()].into()),
        ("isAgent eq true".into(), with(&|u| u["isAgent"] == true)),
        (
            "status/invitationAccepted eq false".into(),
            [INVITED.to_owned()].into(),
        ),
        (
            "resourceVersion gt 639066600120450000L".into(),
            with(&|u| u["resourceVersion"].as_i64().unwrap_or_default() > 639_066_600_120_450_000),
        ),
        ("title eq 'user''s'".into(), BTreeSet::new()),
    ];
    for (filter, expected) in cases {
        let query = format!("pageSize=1000&filterby={}", urlencode(&filter));
        let answer = list(&server, "awork-admin", &query).await;
        assert_eq!(answer.status, StatusCode::OK, "{filter}: {}", answer.text);
        assert_eq!(
            ids(&answer).into_iter().collect::<BTreeSet<_>>(),
            expected,
            "{filter}"
        );
    }
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

#[tokio::test]
async fn an_unsupported_or_invalid_query_is_invalid_filter_or_order_never_an_unfiltered_list() {
    let server = TestServer::start().await;
    let filter_cases = [
        (
            "members/any(p: p/firstName eq 'Neil')",
            "'members' is not a collection of users.",
        ),
        ("firstName in 'a'", "Expected '(' in the filter."),
        (
            "firstName gt now",
            "Cannot compare a string with a datetime.",
        ),
        (
            "nickname eq 'x'",
            "'nickname' is not a filterable property of users.",
        ),
        ("id eq 'not-typed'", "Cannot compare a guid with a string."),
        (
            "firstName eq 'open",
            "A string in the filter is not closed.",
        ),
        ("firstName", "The filter is not a condition."),
    ];
    for (filter, detail) in filter_cases {
        let answer = list(
            &server,
            "awork-admin",
            &format!("filterby={}", urlencode(filter)),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{filter}");
        assert_eq!(
            body(&answer),
            error(
                "invalid-filter-or-order",
                "The request contains an invalid filter or sort statement.",
                json!([detail]),
                json!([])
            ),
            "{filter}"
        );
    }
    for (order, detail) in [
        ("LastName, FirstName", "'LastName, FirstName' is not a sort statement: no spaces around ',' and no empty keys."),
        ("LastName up", "'LastName up' is not a sort key: use 'Property asc' or 'Property desc'."),
        ("Nickname", "'Nickname' is not a sortable property of users."),
    ] {
        let answer = list(&server, "awork-admin", &format!("orderby={}", urlencode(order))).await;
        assert_eq!(
            body(&answer),
            error("invalid-filter-or-order", "The request contains an invalid filter or sort statement.", json!([detail]), json!([])),
            "{order}"
        );
    }
}

#[tokio::test]
async fn paging_parameters_outside_what_awork_allows_are_validation_failed() {
    let server = TestServer::start().await;
    for (query, property, value) in [
        ("pageSize=1001", "PageSize", "1001"),
        ("pageSize=0", "PageSize", "0"),
        ("page=0", "Page", "0"),
        ("page=x", "Page", "x"),
    ] {
        let answer = list(&server, "awork-admin", query).await;
        let max = if property == "Page" { u32::MAX } else { 1000 };
        assert_eq!(
            body(&answer),
            validation_error(
                json!([{"property": property, "message": format!("The value '{value}' is not valid for {property}: use a whole number from 1 to {max}.")}])
            ),
            "{query}"
        );
    }
    let answer = list(&server, "awork-admin", "showArchived=maybe").await;
    assert_eq!(
        body(&answer),
        validation_error(
            json!([{"property": "ShowArchived", "message": "The value 'maybe' is not valid for ShowArchived."}])
        )
    );
    let answer = list(&server, "awork-admin", "page=1&page=2").await;
    assert_eq!(
        body(&answer),
        validation_error(json!([{"property": "Page", "message": "'Page' was given 2 times."}]))
    );
    // Past the last page: an empty page, not an error.
    let answer = list(&server, "awork-admin", "page=99").await;
    assert_eq!(
        (answer.json(), answer.header("aw-items")),
        (json!([]), Some("0"))
    );
}

// ---------------------------------------------------------------------- me --

#[tokio::test]
async fn users_me_and_me_show_the_caller_with_its_workspace() {
    let server = TestServer::start().await;
    for path in ["/awork/api/v1/users/me", "/awork/api/v1/me"] {
        let answer = call(&server, Method::GET, path, "awork-member", None).await;
        let mut expected = fixture_user(MEMBER);
        expected["accountId"] = Value::Null;
        expected["workspace"] =
            json!({"id": WORKSPACE, "name": "NCNSTN", "url": "https://ncnstn.awork.com"});
        assert_eq!(answer.json(), expected, "{path}");
    }
}

// --------------------------------------------------------------- lifecycle --

fn action(id: &str, what: &str) -> String {
    format!("{}/{what}", user_path(id))
}

#[tokio::test]
async fn deactivating_answers_204_and_the_user_shows_it() {
    let server = TestServer::start().await;
    let answer = call(
        &server,
        Method::POST,
        &action(SOFIA, "deactivate"),
        "awork-manager",
        None,
    )
    .await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (StatusCode::NO_CONTENT, "")
    );
    let user = get(&server, SOFIA).await.json();
    let mut expected = fixture_user(SOFIA);
    expected["isDeactivated"] = json!(true);
    expected["status"]["isDeactivated"] = json!(true);
    for field in ["deactivatedOn", "updatedOn", "resourceVersion"] {
        expected[field] = user[field].clone();
    }
    expected["updatedBy"] = json!(AMIRA);
    assert_eq!(user, expected);
    assert_awork_time(user["deactivatedOn"].as_str().expect("deactivatedOn"));
    // A deactivated user cannot be changed, nor deactivated again.
    let put = put_as(&server, "awork-admin", SOFIA, json!({})).await;
    assert_eq!(body(&put)["code"], "deactivated-user");
    let again = call(
        &server,
        Method::POST,
        &action(SOFIA, "deactivate"),
        "awork-admin",
        None,
    )
    .await;
    assert_eq!(
        body(&again),
        error(
            "deactivated-user",
            "The user is deactivated and cannot be changed.",
            json!([format!("User '{SOFIA}' is deactivated.")]),
            json!([])
        )
    );
}

#[tokio::test]
async fn include_summary_answers_200_with_the_orphan_summary() {
    let server = TestServer::start().await;
    let answer = call(
        &server,
        Method::POST,
        &format!("{}?includeSummary=true", action(SOFIA, "deactivate")),
        "awork-admin",
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({"privateProjectManagersReassignedCount": 0, "privateProjectsDeletedCount": 0})
    );
}

#[tokio::test]
async fn activating_lets_the_user_be_changed_again() {
    let server = TestServer::start().await;
    let answer = call(
        &server,
        Method::POST,
        &action(DEACTIVATED, "activate"),
        "awork-admin",
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let user = get(&server, DEACTIVATED).await.json();
    assert_eq!(
        (
            user["isDeactivated"].clone(),
            user["status"]["isDeactivated"].clone(),
            user["deactivatedOn"].clone()
        ),
        (json!(false), json!(false), Value::Null)
    );
    let put = put_as(
        &server,
        "awork-admin",
        DEACTIVATED,
        full_form(&fixture_user(DEACTIVATED)),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK);
    let again = call(
        &server,
        Method::POST,
        &action(DEACTIVATED, "activate"),
        "awork-admin",
        None,
    )
    .await;
    assert_eq!(
        body(&again),
        error(
            "invalid-operation",
            "The operation is not allowed.",
            json!([format!("User '{DEACTIVATED}' is not deactivated.")]),
            json!([])
        )
    );
}

#[tokio::test]
async fn the_last_admin_can_be_neither_deactivated_archived_nor_deleted() {
    let server = TestServer::start().await;
    let answer = call(
        &server,
        Method::POST,
        &action(OLE, "deactivate"),
        "awork-admin",
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let last = error(
        "invalid-operation",
        "The operation is not allowed.",
        json!([format!(
            "User '{ADMIN}' is the last admin of the workspace."
        )]),
        json!([]),
    );
    for (method, path, body_sent) in [
        (Method::POST, action(ADMIN, "deactivate"), None),
        (
            Method::POST,
            action(ADMIN, "setarchived"),
            Some(json!({"isArchived": true})),
        ),
        (Method::DELETE, user_path(ADMIN), None),
    ] {
        let answer = call(&server, method, &path, "awork-manager", body_sent).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body(&answer), last, "{path}");
    }
    // With Ole back, Mara may go.
    call(
        &server,
        Method::POST,
        &action(OLE, "activate"),
        "awork-admin",
        None,
    )
    .await;
    let answer = call(
        &server,
        Method::POST,
        &action(ADMIN, "deactivate"),
        "awork-manager",
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn set_archived_answers_the_extended_user_and_archived_users_cannot_be_put() {
    let server = TestServer::start().await;
    let answer = call(
        &server,
        Method::POST,
        &action(PAUL, "setarchived"),
        "awork-manager",
        Some(json!({"isArchived": true})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let got = answer.json();
    let mut expected = fixture_user(PAUL);
    expected["isArchived"] = json!(true);
    for field in ["updatedOn", "resourceVersion"] {
        expected[field] = got[field].clone();
    }
    expected["updatedBy"] = json!(AMIRA);
    expected["accountId"] = Value::Null;
    assert_eq!(got, expected);
    let put = put_as(&server, "awork-admin", PAUL, json!({})).await;
    assert_eq!(
        body(&put),
        error(
            "entity-archived",
            "The entity is archived and cannot be changed.",
            json!([format!("User '{PAUL}' is archived.")]),
            json!([])
        )
    );
    assert!(!ids(&list(&server, "awork-admin", "pageSize=1000").await).contains(&PAUL.to_owned()));
    let answer = call(
        &server,
        Method::POST,
        &action(PAUL, "setarchived"),
        "awork-admin",
        Some(json!({"isArchived": false})),
    )
    .await;
    assert_eq!(answer.json()["isArchived"], false);
    for sent in [json!({}), json!({"isArchived": "yes"})] {
        let answer = call(
            &server,
            Method::POST,
            &action(PAUL, "setarchived"),
            "awork-admin",
            Some(sent.clone()),
        )
        .await;
        let message = if sent == json!({}) {
            "'IsArchived' must be set."
        } else {
            "'IsArchived' must be a boolean, not a string."
        };
        assert_eq!(
            body(&answer),
            validation_error(json!([{"property": "IsArchived", "message": message}])),
            "{sent}"
        );
    }
}

#[tokio::test]
async fn delete_is_a_soft_delete_after_which_the_user_is_gone_from_every_route() {
    let server = TestServer::start().await;
    let answer = call(
        &server,
        Method::DELETE,
        &user_path(SOFIA),
        "awork-manager",
        None,
    )
    .await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (StatusCode::NO_CONTENT, "")
    );
    for (method, path, sent) in [
        (Method::GET, user_path(SOFIA), None),
        (Method::PUT, user_path(SOFIA), Some(json!({}))),
        (Method::DELETE, user_path(SOFIA), None),
        (Method::POST, action(SOFIA, "deactivate"), None),
        (Method::POST, action(SOFIA, "activate"), None),
        (
            Method::POST,
            action(SOFIA, "setarchived"),
            Some(json!({"isArchived": true})),
        ),
    ] {
        let answer = call(&server, method.clone(), &path, "awork-admin", sent).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(body(&answer), not_found(SOFIA), "{method} {path}");
    }
    assert!(
        !ids(&list(&server, "awork-admin", "pageSize=1000&showArchived=true").await)
            .contains(&SOFIA.to_owned())
    );
    // The record stays, with deletedOn, for the admin API.
    let stored = server
        .send(server.request(Method::GET, &format!("/__admin/awork/users/{SOFIA}")))
        .await
        .json();
    assert_awork_time(stored["deletedOn"].as_str().expect("deletedOn"));
}

#[tokio::test]
async fn each_route_refuses_a_caller_without_its_documented_permission_with_401() {
    let server = TestServer::start().await;
    for (method, path, sent, rule) in [
        (
            Method::POST,
            action(SOFIA, "deactivate"),
            None,
            ACTIVATE_RULE,
        ),
        (
            Method::POST,
            action(DEACTIVATED, "activate"),
            None,
            ACTIVATE_RULE,
        ),
        (
            Method::POST,
            action(SOFIA, "setarchived"),
            Some(json!({"isArchived": true})),
            ARCHIVE_RULE,
        ),
        (Method::DELETE, user_path(SOFIA), None, DELETE_RULE),
        (Method::PUT, user_path(SOFIA), Some(json!({})), UPDATE_RULE),
    ] {
        // user-master-data:write (awork-hr) is not what these need, except PUT.
        for token in ["awork-member", "awork-reader"] {
            let answer = call(&server, method.clone(), &path, token, sent.clone()).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{token} {method} {path}"
            );
            assert_eq!(
                body(&answer),
                permission_error(rule),
                "{token} {method} {path}"
            );
        }
        // Permission before existence.
        let unknown_path = path.replace(SOFIA, UNKNOWN).replace(DEACTIVATED, UNKNOWN);
        let answer = call(
            &server,
            method.clone(),
            &unknown_path,
            "awork-member",
            sent.clone(),
        )
        .await;
        assert_eq!(body(&answer), permission_error(rule), "{unknown_path}");
    }
    let answer = invite(&server, "awork-member", json!({})).await;
    assert_eq!(body(&answer), permission_error(INVITE_RULE));
}

#[tokio::test]
async fn lifecycle_routes_check_token_then_id_then_permission_then_existence() {
    let server = TestServer::start().await;
    for what in ["deactivate", "activate"] {
        let answer = call(&server, Method::POST, &action("42", what), "nobody", None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        let answer = call(
            &server,
            Method::POST,
            &action("42", what),
            "awork-member",
            None,
        )
        .await;
        assert_eq!(
            body(&answer),
            validation_error(
                json!([{"property": "UserId", "message": "'42' is not a valid GUID."}])
            )
        );
        let answer = call(
            &server,
            Method::POST,
            &action(UNKNOWN, what),
            "awork-admin",
            None,
        )
        .await;
        assert_eq!(body(&answer), not_found(UNKNOWN));
    }
}

// ------------------------------------------------------------- invitations --

async fn invite(server: &TestServer, token: &str, overrides: Value) -> Reply {
    let mut sent = json!({"workspaceId": WORKSPACE, "invitationFlow": "invite", "email": "carla@example.com", "roleId": MEMBER_ROLE});
    for (k, v) in overrides.as_object().expect("object") {
        sent[k] = v.clone();
    }
    call(
        server,
        Method::POST,
        "/awork/api/v1/invitations",
        token,
        Some(sent),
    )
    .await
}

#[tokio::test]
async fn an_invitation_creates_a_user_who_has_not_accepted_yet() {
    let server = TestServer::start().await;
    let answer = invite(&server, "awork-admin", json!({"firstName": "Carla", "lastName": "Creative", "gender": "female", "title": "Miss", "position": "Creative Director", "teamIds": [DEV_TEAM], "skipSendingEmail": true})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let got = answer.json();
    let user_id = got["userId"].as_str().expect("userId").to_owned();
    let code = got["invitationCode"].as_str().expect("code").to_owned();
    assert_eq!(
        got,
        json!({"invitationCode": code, "passwordResetCode": null, "userId": user_id,
               "workspace": {"name": "NCNSTN", "id": WORKSPACE, "allowSocialLogin": true, "allowCredentialsLogin": true}})
    );
    let user = get(&server, &user_id).await.json();
    let contact = user["userContactInfos"][0].clone();
    assert_eq!(
        user,
        json!({
            "firstName": "Carla", "lastName": "Creative", "birthDate": null, "gender": "female", "title": "Miss",
            "position": "Creative Director", "language": null, "id": user_id,
            "status": {"invitationAccepted": false, "isDeactivated": false},
            "createdOn": user["createdOn"], "createdBy": ADMIN, "updatedOn": user["createdOn"], "updatedBy": ADMIN,
            "isArchived": false, "isDeactivated": false, "isAgent": false, "deactivatedOn": null, "deletedOn": null,
            "hasImage": false, "shouldMigrateToConnect": false,
            "userContactInfos": [{"type": "email", "subType": "work", "value": "carla@example.com", "isAddress": false,
                "id": contact["id"], "createdOn": user["createdOn"], "createdBy": ADMIN, "updatedOn": user["createdOn"], "updatedBy": ADMIN}],
            "resourceVersion": user["resourceVersion"], "tags": [],
            "teams": [{"id": DEV_TEAM, "name": "Development", "icon": "code", "color": "blue"}], "isExternal": false
        })
    );
    assert_awork_time(user["createdOn"].as_str().expect("createdOn"));
    // Listed like everyone else; the same e-mail cannot be invited twice.
    assert!(ids(&list(&server, "awork-admin", "pageSize=1000").await).contains(&user_id));
    let again = invite(
        &server,
        "awork-admin",
        json!({"email": "CARLA@example.com"}),
    )
    .await;
    assert_eq!(
        body(&again),
        error(
            "already-exist-error",
            "The entity already exists.",
            json!(["A user with the email 'CARLA@example.com' already exists in this workspace."]),
            json!([])
        )
    );
}

#[tokio::test]
async fn invitation_errors_follow_awork_s_codes() {
    let server = TestServer::start().await;
    let answer = invite(&server, "awork-admin", json!({"workspaceId": null})).await;
    assert_eq!(
        body(&answer),
        error(
            "workspaceid-missing",
            "The request requires a workspace id.",
            json!(["Set 'workspaceId' to the id of your workspace (see GET /users/me)."]),
            json!([])
        )
    );
    let answer = invite(&server, "awork-admin", json!({"workspaceId": UNKNOWN})).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body(&answer),
        error(
            "unauthorized",
            "The requesting user is lacking the necessary permissions for this request.",
            json!([format!(
                "The requesting user is not a member of workspace '{UNKNOWN}'."
            )]),
            json!([])
        )
    );
    let answer = invite(&server, "awork-admin", json!({"roleId": UNKNOWN})).await;
    assert_eq!(
        body(&answer),
        error(
            "not-found",
            "The requested entity was not found.",
            json!([format!("No role with id '{UNKNOWN}' exists.")]),
            json!([])
        )
    );
    let answer = invite(
        &server,
        "awork-admin",
        json!({"teamIds": [UNKNOWN, DEV_TEAM]}),
    )
    .await;
    assert_eq!(
        body(&answer),
        error(
            "not-found",
            "The requested entity was not found.",
            json!([format!("No team with id '{UNKNOWN}' exists.")]),
            json!([])
        )
    );
    let answer = invite(&server, "awork-admin", json!({"invitationFlow": "new_user_new_workspace", "gender": "f", "email": "nope", "roleId": null, "teamIds": ["x"]})).await;
    assert_eq!(
        body(&answer),
        validation_error(json!([
            {"property": "Gender", "message": "'f' is not a valid gender: use 'male', 'female' or 'other'."},
            {"property": "InvitationFlow", "message": "The invitation flow 'new_user_new_workspace' creates a new workspace and cannot be used with 'WorkspaceId'."},
            {"property": "RoleId", "message": "'RoleId' must not be empty."},
            {"property": "Email", "message": "'nope' is not a valid email address."},
            {"property": "TeamIds", "message": "'\"x\"' is not a valid GUID."}
        ]))
    );
}

// ------------------------------------------------------- tenants, sessions --

#[tokio::test]
async fn a_user_invited_in_one_session_does_not_exist_in_another_or_the_shared_state() {
    let server = TestServer::start().await;
    let in_session = |m: Method, path: &str, session: &str| {
        server
            .request(m, path)
            .bearer_auth("awork-admin")
            .header("x-usermock-session", session)
    };
    let sent = json!({"workspaceId": WORKSPACE, "invitationFlow": "invite", "email": "a@example.com", "roleId": MEMBER_ROLE});
    let answer = server
        .send(in_session(Method::POST, "/awork/api/v1/invitations", "tenant-a").json(&sent))
        .await;
    let id = answer.json()["userId"].as_str().expect("userId").to_owned();
    for session in [Some("tenant-b"), None] {
        for (method, path, sent) in [
            (Method::GET, user_path(&id), None),
            (Method::PUT, user_path(&id), Some(json!({}))),
            (Method::DELETE, user_path(&id), None),
            (Method::POST, action(&id, "deactivate"), None),
            (Method::POST, action(&id, "activate"), None),
            (
                Method::POST,
                action(&id, "setarchived"),
                Some(json!({"isArchived": true})),
            ),
        ] {
            let mut request = server
                .request(method.clone(), &path)
                .bearer_auth("awork-admin");
            if let Some(session) = session {
                request = request.header("x-usermock-session", session);
            }
            if let Some(sent) = sent {
                request = request.json(&sent);
            }
            let answer = server.send(request).await;
            assert_eq!(body(&answer), not_found(&id), "{session:?} {method} {path}");
        }
        let mut request = server
            .request(
                Method::GET,
                "/awork/api/v1/users?pageSize=1000&showArchived=true",
            )
            .bearer_auth("awork-admin");
        if let Some(session) = session {
            request = request.header("x-usermock-session", session);
        }
        assert!(!ids(&server.send(request).await).contains(&id));
    }
    let mine = server
        .send(in_session(Method::GET, &user_path(&id), "tenant-a"))
        .await;
    assert_eq!(mine.status, StatusCode::OK);
}

// ---------------------------------------------------------------- property --

#[test]
fn random_queries_and_bodies_never_get_a_5xx() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(TestServer::start());
    let query = prop::collection::vec(
        (
            prop::sample::select(vec![
                "page",
                "pageSize",
                "showArchived",
                "orderby",
                "filterby",
                "includeSummary",
                "x",
            ]),
            "[ -~]{0,40}",
        ),
        0..4,
    );
    let filter = prop::collection::vec(
        prop::sample::select(vec![
            "firstName",
            "id",
            "birthDate",
            "eq",
            "ne",
            "gt",
            "and",
            "or",
            "not",
            "(",
            ")",
            "'x'",
            "''",
            "null",
            "true",
            "3",
            "2.5M",
            "64L",
            "0x22",
            "guid'",
            "datetime'2000-01-01'",
            "startswith(",
            "tolower(",
            ",",
            "me.id",
            "status/isDeactivated",
        ]),
        0..12,
    );
    let value = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,30}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
        Just(json!(WORKSPACE)),
        Just(json!(MEMBER_ROLE)),
    ];
    let body = prop::collection::btree_map(
        prop::sample::select(vec![
            "firstName",
            "lastName",
            "birthDate",
            "gender",
            "title",
            "position",
            "language",
            "isArchived",
            "workspaceId",
            "invitationFlow",
            "email",
            "roleId",
            "teamIds",
            "skipSendingEmail",
            "bookedSeats",
            "zzz",
        ]),
        value,
        0..6,
    );
    let mut runner = TestRunner::new(Config {
        cases: 96,
        ..Config::default()
    });
    runner
        .run(
            &(query, filter, body, 0..6usize),
            |(query, filter, body, route)| {
                let mut pairs: Vec<String> = query
                    .iter()
                    .map(|(k, v)| format!("{k}={}", urlencode(v)))
                    .collect();
                pairs.push(format!("filterby={}", urlencode(&filter.join(" "))));
                let query = pairs.join("&");
                let body =
                    Value::Object(body.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
                let (method, path) = match route {
                    0 => (Method::GET, format!("/awork/api/v1/users?{query}")),
                    1 => (Method::PUT, format!("{}?{query}", user_path(SOFIA))),
                    2 => (
                        Method::POST,
                        format!("{}?{query}", action(PAUL, "setarchived")),
                    ),
                    3 => (Method::POST, format!("/awork/api/v1/invitations?{query}")),
                    4 => (
                        Method::POST,
                        format!("{}?{query}", action(HR, "deactivate")),
                    ),
                    _ => (Method::GET, format!("/awork/api/v1/users/me?{query}")),
                };
                let session = format!("prop-{route}");
                let answer = runtime.block_on(
                    server.send(
                        server
                            .request(method, &path)
                            .bearer_auth("awork-admin")
                            .header("x-usermock-session", session)
                            .json(&body),
                    ),
                );
                prop_assert!(
                    answer.status.as_u16() < 500,
                    "{path} {body}: {} {}",
                    answer.status,
                    answer.text
                );
                Ok(())
            },
        )
        .expect("no 5xx");
}

// --------------------------------------------------------------- scenarios --

/// One shipped scenario on one route, and the whole answer it gives.
struct ScenarioCase {
    scenario: &'static str,
    method: Method,
    path: String,
    sent: Option<Value>,
    status: u16,
    expected: Value,
}

fn scenario_cases() -> Vec<ScenarioCase> {
    let case =
        |scenario, method, path: String, sent: Option<Value>, status, expected| ScenarioCase {
            scenario,
            method,
            path,
            sent,
            status,
            expected,
        };
    let invitation = json!({"workspaceId": WORKSPACE, "invitationFlow": "invite", "email": "x@example.com", "roleId": MEMBER_ROLE});
    let archive = Some(json!({"isArchived": true}));
    let list = "/awork/api/v1/users".to_owned();
    let invitations = "/awork/api/v1/invitations".to_owned();
    let validation = validation_error(
        json!([{"property": "FirstName", "message": "'FirstName' must be a string, not a number."}]),
    );
    let invalid_model = error(
        "invalid-model",
        "The model sent in the request is invalid or empty.",
        json!(["The request body is not valid JSON."]),
        json!([]),
    );
    let archived = error(
        "entity-archived",
        "The entity is archived and cannot be changed.",
        json!([format!("User '{SOFIA}' is archived.")]),
        json!([]),
    );
    let deactivated = error(
        "deactivated-user",
        "The user is deactivated and cannot be changed.",
        json!([format!("User '{SOFIA}' is deactivated.")]),
        json!([]),
    );
    let last = error(
        "invalid-operation",
        "The operation is not allowed.",
        json!([format!(
            "User '{SOFIA}' is the last admin of the workspace."
        )]),
        json!([]),
    );
    let unknown_token = error(
        "unauthorized",
        "The request requires a valid access token.",
        json!(["The bearer token is not valid."]),
        json!([]),
    );
    let server_error = error(
        "server-error",
        "An unexpected error occurred.",
        json!([]),
        json!([]),
    );
    vec![
        case(
            "awork-validation-failed",
            Method::PUT,
            user_path(SOFIA),
            Some(json!({})),
            400,
            validation.clone(),
        ),
        case(
            "awork-validation-failed",
            Method::POST,
            action(SOFIA, "setarchived"),
            archive.clone(),
            400,
            validation.clone(),
        ),
        case(
            "awork-validation-failed",
            Method::POST,
            invitations.clone(),
            Some(invitation.clone()),
            400,
            validation.clone(),
        ),
        case(
            "awork-validation-failed",
            Method::GET,
            list.clone(),
            None,
            400,
            validation,
        ),
        case(
            "awork-invalid-model",
            Method::PUT,
            user_path(SOFIA),
            Some(json!({})),
            400,
            invalid_model.clone(),
        ),
        case(
            "awork-invalid-model",
            Method::POST,
            action(SOFIA, "setarchived"),
            archive.clone(),
            400,
            invalid_model.clone(),
        ),
        case(
            "awork-invalid-model",
            Method::POST,
            invitations.clone(),
            Some(invitation.clone()),
            400,
            invalid_model,
        ),
        case(
            "awork-date-out-of-range",
            Method::PUT,
            user_path(SOFIA),
            Some(json!({})),
            400,
            error(
                "date-out-of-range",
                "A date is outside of the allowed range.",
                json!(["The birth date must not be in the future."]),
                json!([{"property": "BirthDate", "message": "The birth date must not be in the future."}]),
            ),
        ),
        case(
            "awork-entity-archived",
            Method::PUT,
            user_path(SOFIA),
            Some(json!({})),
            400,
            archived.clone(),
        ),
        case(
            "awork-entity-archived",
            Method::POST,
            action(SOFIA, "deactivate"),
            None,
            400,
            archived.clone(),
        ),
        case(
            "awork-entity-archived",
            Method::POST,
            action(SOFIA, "activate"),
            None,
            400,
            archived,
        ),
        case(
            "awork-deactivated-user",
            Method::PUT,
            user_path(SOFIA),
            Some(json!({})),
            400,
            deactivated.clone(),
        ),
        case(
            "awork-deactivated-user",
            Method::POST,
            action(SOFIA, "deactivate"),
            None,
            400,
            deactivated,
        ),
        case(
            "awork-unauthorized",
            Method::PUT,
            user_path(SOFIA),
            Some(json!({})),
            401,
            permission_error(UPDATE_RULE),
        ),
        case(
            "awork-unauthorized",
            Method::DELETE,
            user_path(SOFIA),
            None,
            401,
            permission_error(DELETE_RULE),
        ),
        case(
            "awork-unauthorized",
            Method::POST,
            action(SOFIA, "deactivate"),
            None,
            401,
            permission_error(ACTIVATE_RULE),
        ),
        case(
            "awork-unauthorized",
            Method::POST,
            action(SOFIA, "activate"),
            None,
            401,
            permission_error(ACTIVATE_RULE),
        ),
        case(
            "awork-unauthorized",
            Method::POST,
            action(SOFIA, "setarchived"),
            archive.clone(),
            401,
            permission_error(ARCHIVE_RULE),
        ),
        case(
            "awork-unauthorized",
            Method::POST,
            invitations.clone(),
            Some(invitation.clone()),
            401,
            permission_error(INVITE_RULE),
        ),
        case(
            "awork-unauthorized",
            Method::POST,
            format!("/awork/api/v1/roles/{MEMBER_ROLE}/users/{SOFIA}/deactivate"),
            None,
            401,
            permission_error(ROLE_RULE),
        ),
        case(
            "awork-unauthorized",
            Method::POST,
            format!("/awork/api/v1/roles/{MEMBER_ROLE}/users/{SOFIA}/activate"),
            None,
            401,
            permission_error(ROLE_RULE),
        ),
        case(
            "awork-unauthenticated",
            Method::GET,
            user_path(SOFIA),
            None,
            401,
            unknown_token.clone(),
        ),
        case(
            "awork-unauthenticated",
            Method::GET,
            list.clone(),
            None,
            401,
            unknown_token.clone(),
        ),
        case(
            "awork-unauthenticated",
            Method::POST,
            invitations.clone(),
            Some(invitation.clone()),
            401,
            unknown_token,
        ),
        case(
            "awork-user-not-found",
            Method::GET,
            user_path(SOFIA),
            None,
            404,
            not_found(SOFIA),
        ),
        case(
            "awork-user-not-found",
            Method::PUT,
            user_path(SOFIA),
            Some(json!({})),
            404,
            not_found(SOFIA),
        ),
        case(
            "awork-user-not-found",
            Method::DELETE,
            user_path(SOFIA),
            None,
            404,
            not_found(SOFIA),
        ),
        case(
            "awork-user-not-found",
            Method::POST,
            action(SOFIA, "deactivate"),
            None,
            404,
            not_found(SOFIA),
        ),
        case(
            "awork-user-not-found",
            Method::POST,
            action(SOFIA, "activate"),
            None,
            404,
            not_found(SOFIA),
        ),
        case(
            "awork-user-not-found",
            Method::POST,
            action(SOFIA, "setarchived"),
            archive.clone(),
            404,
            not_found(SOFIA),
        ),
        case(
            "awork-user-not-found",
            Method::GET,
            "/awork/api/v1/users/me".into(),
            None,
            404,
            not_found(ADMIN),
        ),
        case(
            "awork-user-not-found",
            Method::GET,
            "/awork/api/v1/me".into(),
            None,
            404,
            not_found(ADMIN),
        ),
        case(
            "awork-rate-limited",
            Method::GET,
            list.clone(),
            None,
            429,
            json!({"message": "API rate limit exceeded"}),
        ),
        case(
            "awork-rate-limited",
            Method::GET,
            user_path(SOFIA),
            None,
            429,
            json!({"message": "API rate limit exceeded"}),
        ),
        case(
            "awork-server-error",
            Method::GET,
            list.clone(),
            None,
            500,
            server_error.clone(),
        ),
        case(
            "awork-server-error",
            Method::POST,
            invitations.clone(),
            Some(invitation.clone()),
            500,
            server_error,
        ),
        case(
            "awork-invalid-filter-or-order",
            Method::GET,
            list,
            None,
            400,
            error(
                "invalid-filter-or-order",
                "The request contains an invalid filter or sort statement.",
                json!(["The filter expression could not be read."]),
                json!([]),
            ),
        ),
        case(
            "awork-last-admin",
            Method::POST,
            action(SOFIA, "deactivate"),
            None,
            400,
            last.clone(),
        ),
        case(
            "awork-last-admin",
            Method::POST,
            action(SOFIA, "setarchived"),
            archive,
            400,
            last.clone(),
        ),
        case(
            "awork-last-admin",
            Method::DELETE,
            user_path(SOFIA),
            None,
            400,
            last,
        ),
        case(
            "awork-workspaceid-missing",
            Method::POST,
            invitations.clone(),
            Some(invitation.clone()),
            400,
            error(
                "workspaceid-missing",
                "The request requires a workspace id.",
                json!(["Set 'workspaceId' to the id of your workspace (see GET /users/me)."]),
                json!([]),
            ),
        ),
        case(
            "awork-already-exists",
            Method::POST,
            invitations,
            Some(invitation),
            400,
            error(
                "already-exist-error",
                "The entity already exists.",
                json!(["A user with the email 'x@example.com' already exists in this workspace."]),
                json!([]),
            ),
        ),
    ]
}

#[tokio::test]
async fn every_shipped_awork_scenario_renders_its_error_on_every_route_it_names() {
    let server = TestServer::start().await;
    for c in scenario_cases() {
        let send = |scenario: Option<&str>| {
            let mut request = server
                .request(c.method.clone(), &c.path)
                .bearer_auth("awork-admin")
                .header("x-usermock-session", "scenarios");
            if let Some(scenario) = scenario {
                request = request.header("x-usermock-scenario", scenario);
            }
            if let Some(sent) = &c.sent {
                request = request.json(sent);
            }
            request
        };
        let answer = server.send(send(Some(c.scenario))).await;
        assert_eq!(
            answer.status.as_u16(),
            c.status,
            "{} {} {}: {}",
            c.scenario,
            c.method,
            c.path,
            answer.text
        );
        assert_eq!(
            body(&answer),
            c.expected,
            "{} {} {}",
            c.scenario,
            c.method,
            c.path
        );
        if c.status == 429 {
            assert_eq!(
                (
                    answer.header("ratelimit-limit"),
                    answer.header("ratelimit-remaining"),
                    answer.header("ratelimit-reset"),
                    answer.header("retry-after")
                ),
                (Some("1000"), Some("0"), Some("47"), Some("47"))
            );
        }
    }
}

/// The shipped scenarios [`scenario_cases`] tests, for the one coverage
/// check (`scenarios::every_shipped_scenario_has_a_test`).
pub(crate) fn tested_scenarios() -> Vec<&'static str> {
    scenario_cases().iter().map(|c| c.scenario).collect()
}
