//! awork API v1, rule by rule: `shared/seeds/awork-update-user.txt` plus the
//! confirmed facts of `shared/vendor-notes.md` §3 (awork's developer docs).

mod common;

use common::{Answer, TempDir, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const ADMIN: &str = "9b2f6c1e-3d4a-4e5b-8c7d-1a2b3c4d5e6f";
const MEMBER: &str = "4e8d2a1b-7c6f-4d3e-9a8b-2c1d0e9f8a7b";
const HR: &str = "c5a4b3d2-e1f0-4a9b-8c7d-6e5f4a3b2c1d";
/// Created by the member.
const PAUL: &str = "7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d";
/// Created by the admin.
const SOFIA: &str = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e";
const ARCHIVED: &str = "8e9f0a1b-2c3d-4e4f-9a5b-6c7d8e9f0a1b";
const DEACTIVATED: &str = "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f";
const INVITED: &str = "3a4b5c6d-7e8f-4091-a2b3-c4d5e6f7a8b9";
const LINK: &str = "https://developers.awork.com/#response-types";

fn fixture_text() -> String {
    std::fs::read_to_string(common::repo_fixtures().join("awork.json")).expect("fixture")
}

/// The fixture's user record, which is also what the API shows.
fn fixture_user(id: &str) -> Value {
    let fixture: Value = serde_json::from_str(&fixture_text()).expect("json");
    fixture["users"]
        .as_array()
        .and_then(|users| users.iter().find(|u| u["id"] == id))
        .cloned()
        .expect("user in fixture")
}

fn user_path(id: &str) -> String {
    format!("/awork/api/v1/users/{id}")
}

async fn put_as(server: &TestServer, token: &str, id: &str, body: Value) -> Answer {
    let request = server
        .request(Method::PUT, &user_path(id))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string());
    server.send(request).await
}

async fn get(server: &TestServer, id: &str) -> Answer {
    server
        .send(
            server
                .request(Method::GET, &user_path(id))
                .bearer_auth("awork-admin"),
        )
        .await
}

fn error(code: &str, description: &str, details: Value, validation: Value) -> Value {
    json!({"code": code, "description": description, "link": LINK, "details": details, "validationErrors": validation})
}

fn permission_error() -> Value {
    error(
        "unauthorized",
        "The requesting user is lacking the necessary permissions for this request.",
        json!(["Updating a user requires being an admin, the creator of the user, or the permission user-master-data:write."]),
        json!([]),
    )
}

fn validation_error(errors: Value) -> Value {
    error(
        "validation-failed",
        "The model sent in the request is invalid. See the validation errors for details.",
        json!([]),
        errors,
    )
}

/// Asserts a 200 equal to `expected` apart from the write's own audit
/// fields, which must show `by` as the writer and a fresh version.
fn assert_written(answer: &Answer, mut expected: Value, by: &str) -> i64 {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    let version = body["resourceVersion"].as_i64().expect("resourceVersion");
    assert!(
        version > expected["resourceVersion"].as_i64().unwrap_or_default(),
        "version must grow"
    );
    // Ticks of "now": after 2026-01-01 and not in the far future.
    assert!(
        (639_030_000_000_000_000..700_000_000_000_000_000).contains(&version),
        "{version}"
    );
    let updated_on = body["updatedOn"].as_str().expect("updatedOn").to_owned();
    assert!(
        updated_on.ends_with('Z') && updated_on.len() == 24,
        "{updated_on}"
    );
    expected["updatedOn"] = json!(updated_on);
    expected["updatedBy"] = json!(by);
    expected["resourceVersion"] = json!(version);
    assert_eq!(body, expected);
    version
}

// ------------------------------------------------------------- reads, PUT --

#[tokio::test]
async fn get_shows_the_user_with_every_field_the_seed_lists() {
    let server = TestServer::start().await;
    let answer = get(&server, ADMIN).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), fixture_user(ADMIN));
    let keys: Vec<String> = answer
        .json()
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        [
            "firstName",
            "lastName",
            "birthDate",
            "gender",
            "title",
            "position",
            "language",
            "id",
            "status",
            "createdOn",
            "createdBy",
            "updatedOn",
            "updatedBy",
            "isArchived",
            "isDeactivated",
            "deactivatedOn",
            "hasImage",
            "shouldMigrateToConnect",
            "userContactInfos",
            "resourceVersion",
            "tags",
            "teams",
            "isExternal"
        ]
    );
}

#[tokio::test]
async fn an_admin_put_returns_the_full_updated_user() {
    let server = TestServer::start().await;
    let body = json!({
        "firstName": "Sofia", "lastName": "Romano-Berg", "birthDate": "1990-04-05",
        "gender": "female", "title": "Dr.", "position": "Lead Designer", "language": "de"
    });
    let answer = put_as(&server, "awork-admin", SOFIA, body).await;
    let mut expected = fixture_user(SOFIA);
    expected["lastName"] = json!("Romano-Berg");
    expected["birthDate"] = json!("1990-04-05T00:00:00.000Z");
    expected["title"] = json!("Dr.");
    expected["position"] = json!("Lead Designer");
    expected["language"] = json!("de");
    assert_written(&answer, expected.clone(), ADMIN);
    let stored = get(&server, SOFIA).await.json();
    assert_eq!(stored["lastName"], "Romano-Berg");
    assert_eq!(stored["updatedBy"], ADMIN);
}

#[tokio::test]
async fn omitted_fields_are_kept_and_explicit_nulls_clear() {
    let server = TestServer::start().await;
    let answer = put_as(
        &server,
        "awork-admin",
        SOFIA,
        json!({"position": "Art Director", "title": null}),
    )
    .await;
    let mut expected = fixture_user(SOFIA);
    expected["position"] = json!("Art Director");
    expected["title"] = Value::Null;
    assert_written(&answer, expected, ADMIN);
}

#[tokio::test]
async fn with_omitted_fields_clear_a_put_replaces_every_updatable_field() {
    let dir = TempDir::new("awork-clear");
    dir.write(
        "awork.json",
        &fixture_text().replace(
            "\"omitted_fields\": \"keep\"",
            "\"omitted_fields\": \"clear\"",
        ),
    );
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    let answer = put_as(
        &server,
        "awork-admin",
        SOFIA,
        json!({"firstName": "Sofia", "language": "it"}),
    )
    .await;
    let mut expected = fixture_user(SOFIA);
    for field in ["lastName", "birthDate", "gender", "title", "position"] {
        expected[field] = Value::Null;
    }
    assert_written(&answer, expected, ADMIN);
}

#[tokio::test]
async fn resource_version_grows_strictly_even_for_rapid_writes() {
    let server = TestServer::start().await;
    let mut previous = fixture_user(SOFIA)["resourceVersion"]
        .as_i64()
        .expect("version");
    for i in 0..10 {
        let answer = put_as(
            &server,
            "awork-admin",
            SOFIA,
            json!({"position": format!("P{i}")}),
        )
        .await;
        let version = answer.json()["resourceVersion"].as_i64().expect("version");
        assert!(version > previous, "{version} <= {previous}");
        previous = version;
    }
}

#[tokio::test]
async fn read_only_and_unknown_members_are_ignored_by_default() {
    let server = TestServer::start().await;
    let answer = put_as(
        &server,
        "awork-admin",
        SOFIA,
        json!({"id": ADMIN, "isArchived": true, "resourceVersion": 1, "nickname": "So", "position": "Designer II"}),
    )
    .await;
    let mut expected = fixture_user(SOFIA);
    expected["position"] = json!("Designer II");
    assert_written(&answer, expected, ADMIN);
}

#[tokio::test]
async fn with_other_fields_reject_read_only_members_fail_validation() {
    let dir = TempDir::new("awork-reject");
    dir.write(
        "awork.json",
        &fixture_text().replace(
            "\"other_fields\": \"ignore\"",
            "\"other_fields\": \"reject\"",
        ),
    );
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    let answer = put_as(&server, "awork-admin", SOFIA, json!({"isArchived": true})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        validation_error(
            json!([{"property": "IsArchived", "message": "'isArchived' cannot be updated."}])
        )
    );
}

#[tokio::test]
async fn an_invited_users_status_object_stays_consistent() {
    let server = TestServer::start().await;
    let answer = put_as(&server, "awork-admin", INVITED, json!({"firstName": "Noa"})).await;
    let mut expected = fixture_user(INVITED);
    expected["firstName"] = json!("Noa");
    assert_written(&answer, expected, ADMIN);
    assert_eq!(
        answer.json()["status"],
        json!({"invitationAccepted": false, "isDeactivated": false})
    );
}

// ------------------------------------------------------------ permissions --

#[tokio::test]
async fn a_member_may_update_the_users_they_created() {
    let server = TestServer::start().await;
    let answer = put_as(
        &server,
        "awork-member",
        PAUL,
        json!({"position": "Junior Consultant"}),
    )
    .await;
    let mut expected = fixture_user(PAUL);
    expected["position"] = json!("Junior Consultant");
    assert_written(&answer, expected, MEMBER);
}

#[tokio::test]
async fn a_member_without_permission_gets_awork_s_401_unauthorized() {
    let server = TestServer::start().await;
    let answer = put_as(
        &server,
        "awork-member",
        SOFIA,
        json!({"position": "Hacked"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), permission_error());
    assert_eq!(get(&server, SOFIA).await.json(), fixture_user(SOFIA));
}

#[tokio::test]
async fn user_master_data_write_allows_updating_anyone() {
    let server = TestServer::start().await;
    let answer = put_as(&server, "awork-hr", SOFIA, json!({"position": "Designer"})).await;
    assert_written(&answer, fixture_user(SOFIA), HR);
}

#[tokio::test]
async fn no_or_unknown_token_is_a_401() {
    let server = TestServer::start().await;
    let request = server
        .request(Method::PUT, &user_path(SOFIA))
        .header("content-type", "application/json")
        .body("{}");
    let answer = server.send(request).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        answer.json(),
        error(
            "unauthorized",
            "The request requires a valid access token.",
            json!(["No bearer token was sent."]),
            json!([])
        )
    );
    let answer = put_as(&server, "awork-nobody", SOFIA, json!({})).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.json()["details"],
        json!(["The bearer token is not valid."])
    );
}

#[tokio::test]
async fn a_deactivated_callers_token_stops_working() {
    let server = TestServer::start().await;
    let mut member = fixture_user(MEMBER);
    member["isDeactivated"] = json!(true);
    member["status"]["isDeactivated"] = json!(true);
    member["deactivatedOn"] = json!("2026-03-01T00:00:00.000Z");
    let seeded = server
        .send(
            server
                .request(Method::PUT, &format!("/__admin/awork/users/{MEMBER}"))
                .json(&member),
        )
        .await;
    assert_eq!(seeded.status, StatusCode::OK, "{}", seeded.text);
    let answer = put_as(&server, "awork-member", PAUL, json!({"position": "x"})).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.json(),
        error(
            "deactivated-user",
            "The requesting user is deactivated.",
            json!([format!(
                "User '{MEMBER}' is deactivated and cannot use the API."
            )]),
            json!([])
        )
    );
}

// ------------------------------------------------------------- validation --

#[tokio::test]
async fn every_invalid_field_is_listed_in_one_validation_error() {
    let server = TestServer::start().await;
    let answer = put_as(
        &server,
        "awork-admin",
        SOFIA,
        json!({"firstName": 5, "birthDate": "soon", "gender": ["f"], "language": "english"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        validation_error(json!([
            {"property": "FirstName", "message": "'FirstName' must be a string, not a number."},
            {"property": "BirthDate", "message": "'soon' is not a valid date time."},
            {"property": "Gender", "message": "'Gender' must be a string, not an array."},
            {"property": "Language", "message": "'english' is not a valid ISO 639-1 language code."}
        ]))
    );
}

#[tokio::test]
async fn language_must_be_a_real_iso_639_1_code() {
    let server = TestServer::start().await;
    for code in ["da", "zu", "nb", "fr"] {
        let answer = put_as(&server, "awork-admin", SOFIA, json!({"language": code})).await;
        assert_eq!(answer.status, StatusCode::OK, "{code}");
        assert_eq!(answer.json()["language"], code);
    }
    for code in ["EN", "xx", "eng", "bh", "en-US", ""] {
        let answer = put_as(&server, "awork-admin", SOFIA, json!({"language": code})).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{code}");
        assert_eq!(
            answer.json(),
            validation_error(
                json!([{"property": "Language", "message": format!("'{code}' is not a valid ISO 639-1 language code.")}])
            )
        );
    }
}

#[tokio::test]
async fn a_birth_date_in_the_future_is_date_out_of_range() {
    let server = TestServer::start().await;
    let answer = put_as(
        &server,
        "awork-admin",
        SOFIA,
        json!({"birthDate": "2999-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        error(
            "date-out-of-range",
            "A date is outside of the allowed range.",
            json!(["The birth date must not be in the future."]),
            json!([{"property": "BirthDate", "message": "The birth date must not be in the future."}])
        )
    );
    let answer = put_as(
        &server,
        "awork-admin",
        SOFIA,
        json!({"birthDate": "1991-08-09T10:00:00+02:00"}),
    )
    .await;
    assert_eq!(answer.json()["birthDate"], "1991-08-09T08:00:00.000Z");
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_invalid_model() {
    let server = TestServer::start().await;
    for (body, detail) in [
        ("", "The request body is empty."),
        ("[]", "The request body must be a JSON object."),
        ("null", "The request body must be a JSON object."),
    ] {
        let request = server
            .request(Method::PUT, &user_path(SOFIA))
            .bearer_auth("awork-admin")
            .header("content-type", "application/json")
            .body(body);
        let answer = server.send(request).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(
            answer.json(),
            error(
                "invalid-model",
                "The model sent in the request is invalid or empty.",
                json!([detail]),
                json!([])
            ),
            "{body:?}"
        );
    }
    let request = server
        .request(Method::PUT, &user_path(SOFIA))
        .bearer_auth("awork-admin")
        .header("content-type", "application/json")
        .body("{\"firstName\":");
    let answer = server.send(request).await;
    assert_eq!(answer.json()["code"], "invalid-model");
    let request = server
        .request(Method::PUT, &user_path(SOFIA))
        .bearer_auth("awork-admin")
        .header("content-type", "text/plain")
        .body("{}");
    assert_eq!(
        server.send(request).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[tokio::test]
async fn a_malformed_id_is_a_400_and_an_unknown_one_a_404() {
    let server = TestServer::start().await;
    let answer = put_as(&server, "awork-admin", "42", json!({})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        validation_error(json!([{"property": "UserId", "message": "'42' is not a valid GUID."}]))
    );
    let unknown = "00000000-0000-4000-8000-000000000000";
    for answer in [
        put_as(&server, "awork-admin", unknown, json!({})).await,
        get(&server, unknown).await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(
            answer.json(),
            error(
                "not-found",
                "The requested entity was not found.",
                json!([format!("No user with id '{unknown}' exists.")]),
                json!([])
            )
        );
    }
}

// ----------------------------------------------------------- status rules --

#[tokio::test]
async fn an_archived_user_cannot_be_updated() {
    let server = TestServer::start().await;
    let answer = put_as(
        &server,
        "awork-admin",
        ARCHIVED,
        json!({"firstName": "Johann"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        error(
            "entity-archived",
            "The entity is archived and cannot be changed.",
            json!([format!("User '{ARCHIVED}' is archived.")]),
            json!([])
        )
    );
    assert_eq!(get(&server, ARCHIVED).await.json(), fixture_user(ARCHIVED));
}

#[tokio::test]
async fn a_deactivated_user_cannot_be_updated() {
    let server = TestServer::start().await;
    let answer = put_as(
        &server,
        "awork-admin",
        DEACTIVATED,
        json!({"firstName": "Evi"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        error(
            "deactivated-user",
            "The user is deactivated and cannot be changed.",
            json!([format!("User '{DEACTIVATED}' is deactivated.")]),
            json!([])
        )
    );
}

#[tokio::test]
async fn checks_run_in_order() {
    let server = TestServer::start().await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    // 401 (token) beats 400.
    assert_eq!(
        put_as(&server, "nobody", SOFIA, json!({"language": "xx"}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // 400 beats the permission 401.
    assert_eq!(
        put_as(&server, "awork-member", SOFIA, json!({"language": "xx"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // Permission beats 404: a member cannot be the creator of a user that does not exist.
    assert_eq!(
        put_as(&server, "awork-member", unknown, json!({}))
            .await
            .json(),
        permission_error()
    );
    // 404 for those allowed; then the status rules.
    assert_eq!(
        put_as(&server, "awork-hr", unknown, json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        put_as(&server, "awork-hr", ARCHIVED, json!({}))
            .await
            .json()["code"],
        "entity-archived"
    );
}

// --------------------------------------------------------- routes, limits --

#[tokio::test]
async fn the_real_host_reaches_awork_without_the_prefix() {
    let server = TestServer::start().await;
    let request = server
        .request(Method::GET, &format!("/api/v1/users/{ADMIN}"))
        .header("host", "api.awork.com")
        .bearer_auth("awork-admin");
    assert_eq!(server.send(request).await.json(), fixture_user(ADMIN));
    let answer = server
        .send(
            server
                .request(Method::PATCH, &user_path(ADMIN))
                .bearer_auth("awork-admin"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.header("allow"), Some("GET, PUT"));
}

#[tokio::test]
async fn the_rate_limit_is_off_by_default_and_sends_no_headers() {
    let server = TestServer::start().await;
    let answer = get(&server, ADMIN).await;
    assert!(answer.header("ratelimit-limit").is_none());
}

#[tokio::test]
async fn when_on_every_answer_carries_the_rate_limit_headers_and_the_excess_gets_429() {
    let dir = TempDir::new("awork-limit");
    dir.write(
        "awork.json",
        &fixture_text().replace(
            "\"requests_per_minute\": 1000",
            "\"requests_per_minute\": 3",
        ),
    );
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        rate_limit: vec!["awork".to_owned()],
        ..usermock::Options::default()
    })
    .await;
    for remaining in [2, 1, 0] {
        let answer = get(&server, ADMIN).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.header("ratelimit-limit"), Some("3"));
        assert_eq!(
            answer.header("ratelimit-remaining"),
            Some(remaining.to_string().as_str())
        );
        assert_eq!(answer.header("x-ratelimit-limit-minute"), Some("3"));
        assert_eq!(
            answer.header("x-ratelimit-remaining-minute"),
            Some(remaining.to_string().as_str())
        );
        assert_eq!(answer.header("x-ratelimit-limit-second"), Some("500"));
        let reset: u64 = answer
            .header("ratelimit-reset")
            .and_then(|v| v.parse().ok())
            .expect("reset");
        assert!((1..=60).contains(&reset));
    }
    // Errors count and carry the headers too; the 4th request is refused.
    let answer = put_as(&server, "awork-admin", SOFIA, json!({})).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.json(), json!({"message": "API rate limit exceeded"}));
    assert_eq!(answer.header("ratelimit-remaining"), Some("0"));
    assert_eq!(answer.header("x-ratelimit-remaining-minute"), Some("0"));
}
