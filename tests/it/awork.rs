//! awork API v1, rule by rule: the seed (`PUT /users/{userId}`) and
//! awork's own contract (its OpenAPI document and guide pages; see
//! `docs/vendors/awork.md`). The lifecycle routes are in
//! `tests/awork_routes.rs`.

use crate::awork_support as support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

/// Asserts a 200 equal to `expected` apart from the write's own audit
/// fields, which must show `by` as the writer and a fresh version.
fn assert_written(answer: &Reply, mut expected: Value, by: &str) -> i64 {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = body(answer);
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
    assert_awork_time(&updated_on);
    expected["updatedOn"] = json!(updated_on);
    expected["updatedBy"] = json!(by);
    expected["resourceVersion"] = json!(version);
    assert_eq!(body, expected);
    version
}

// ------------------------------------------------------------- reads, PUT --

#[tokio::test]
async fn get_shows_the_user_with_every_field_of_the_specs_user_in_its_order() {
    let server = TestServer::start().await;
    let answer = get(&server, ADMIN).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(body(&answer), fixture_user(ADMIN));
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
            "isAgent",
            "deactivatedOn",
            "deletedOn",
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
    expected["birthDate"] = json!("1990-04-05T00:00:00.0000000Z");
    expected["title"] = json!("Dr.");
    expected["position"] = json!("Lead Designer");
    expected["language"] = json!("de");
    assert_written(&answer, expected.clone(), ADMIN);
    let stored = get(&server, SOFIA).await.json();
    assert_eq!(stored["lastName"], "Romano-Berg");
    assert_eq!(stored["updatedBy"], ADMIN);
}

#[tokio::test]
async fn by_default_a_put_replaces_every_updatable_field_and_omitted_ones_become_null() {
    let server = TestServer::start().await;
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
async fn with_omitted_fields_keep_omitted_fields_stay_and_explicit_nulls_clear() {
    let (server, _dir) = server_with(
        "awork-keep",
        "\"omitted_fields\": \"clear\"",
        "\"omitted_fields\": \"keep\"",
    )
    .await;
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
        let version = body(&answer)["resourceVersion"].as_i64().expect("version");
        assert!(version > previous, "{version} <= {previous}");
        previous = version;
    }
}

#[tokio::test]
async fn read_only_and_unknown_members_are_ignored_by_default() {
    let server = TestServer::start().await;
    let answer = put_as(&server, "awork-admin", SOFIA, {
        let mut form = full_form(&fixture_user(SOFIA));
        form["position"] = json!("Designer II");
        for (k, v) in [
            ("id", json!(ADMIN)),
            ("isArchived", json!(true)),
            ("resourceVersion", json!(1)),
            ("nickname", json!("So")),
        ] {
            form[k] = v;
        }
        form
    })
    .await;
    let mut expected = fixture_user(SOFIA);
    expected["position"] = json!("Designer II");
    assert_written(&answer, expected, ADMIN);
}

#[tokio::test]
async fn with_other_fields_reject_read_only_members_fail_validation() {
    let (server, _dir) = server_with(
        "awork-reject",
        "\"other_fields\": \"ignore\"",
        "\"other_fields\": \"reject\"",
    )
    .await;
    let answer = put_as(&server, "awork-admin", SOFIA, json!({"isArchived": true})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body(&answer),
        validation_error(
            json!([{"property": "IsArchived", "message": "'isArchived' cannot be updated."}])
        )
    );
}

#[tokio::test]
async fn an_invited_users_status_object_stays_consistent() {
    let server = TestServer::start().await;
    let mut form = full_form(&fixture_user(INVITED));
    form["firstName"] = json!("Noa");
    let answer = put_as(&server, "awork-admin", INVITED, form).await;
    let mut expected = fixture_user(INVITED);
    expected["firstName"] = json!("Noa");
    assert_written(&answer, expected, ADMIN);
    assert_eq!(
        body(&answer)["status"],
        json!({"invitationAccepted": false, "isDeactivated": false})
    );
}

// ------------------------------------------------------------ permissions --

#[tokio::test]
async fn a_member_may_update_the_users_they_created() {
    let server = TestServer::start().await;
    let mut form = full_form(&fixture_user(PAUL));
    form["position"] = json!("Junior Consultant");
    let answer = put_as(&server, "awork-member", PAUL, form).await;
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
    assert_eq!(body(&answer), permission_error(UPDATE_RULE));
    assert_eq!(get(&server, SOFIA).await.json(), fixture_user(SOFIA));
}

#[tokio::test]
async fn user_master_data_write_allows_updating_anyone() {
    let server = TestServer::start().await;
    let answer = put_as(&server, "awork-hr", SOFIA, full_form(&fixture_user(SOFIA))).await;
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
        body(&answer),
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
        body(&answer)["details"],
        json!(["The bearer token is not valid."])
    );
}

#[tokio::test]
async fn a_deactivated_callers_token_stops_working() {
    let server = TestServer::start().await;
    let mut member = fixture_user(MEMBER);
    member["isDeactivated"] = json!(true);
    member["status"]["isDeactivated"] = json!(true);
    member["deactivatedOn"] = json!("2026-03-01T00:00:00.0000000Z");
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
        body(&answer),
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
        body(&answer),
        validation_error(json!([
            {"property": "FirstName", "message": "'FirstName' must be a string, not a number."},
            {"property": "BirthDate", "message": "'soon' is not a valid date time."},
            {"property": "Gender", "message": "'Gender' must be a string, not an array."},
            {"property": "Language", "message": "'english' is not a valid ISO 639-1 language code."}
        ]))
    );
}

#[tokio::test]
async fn language_is_iso_639_1_or_a_tag_starting_with_it_like_the_specs_en_gb() {
    let server = TestServer::start().await;
    for code in [
        "da",
        "zu",
        "nb",
        "fr",
        "en-GB",
        "en-US",
        "zh-Hant-TW",
        "es-419",
    ] {
        let answer = put_as(&server, "awork-admin", SOFIA, json!({"language": code})).await;
        assert_eq!(answer.status, StatusCode::OK, "{code}: {}", answer.text);
        assert_eq!(body(&answer)["language"], code);
    }
    for code in ["EN", "xx", "eng", "bh", "", "en-gb", "en_GB", "xx-GB"] {
        let answer = put_as(&server, "awork-admin", SOFIA, json!({"language": code})).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{code}");
        assert_eq!(
            body(&answer),
            validation_error(
                json!([{"property": "Language", "message": format!("'{code}' is not a valid ISO 639-1 language code.")}])
            )
        );
    }
}

#[tokio::test]
async fn gender_is_male_female_or_other_as_the_invitation_docs_say() {
    let server = TestServer::start().await;
    for gender in ["male", "female", "other"] {
        let answer = put_as(&server, "awork-admin", SOFIA, json!({"gender": gender})).await;
        assert_eq!(answer.status, StatusCode::OK, "{gender}");
        assert_eq!(body(&answer)["gender"], gender);
    }
    for gender in ["Female", "f", "diverse", ""] {
        let answer = put_as(&server, "awork-admin", SOFIA, json!({"gender": gender})).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{gender}");
        assert_eq!(
            body(&answer),
            validation_error(
                json!([{"property": "Gender", "message": format!("'{gender}' is not a valid gender: use 'male', 'female' or 'other'.")}])
            )
        );
    }
}

#[tokio::test]
async fn every_user_form_length_limit_is_enforced_and_each_property_listed() {
    let server = TestServer::start().await;
    let at_limit = json!({
        "firstName": "a".repeat(1000), "lastName": "b".repeat(1000), "position": "c".repeat(1000),
        "title": "d".repeat(100),
    });
    let answer = put_as(&server, "awork-admin", SOFIA, at_limit).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let over = json!({
        "firstName": "a".repeat(1001), "lastName": "b".repeat(1001), "position": "c".repeat(1001),
        "title": "d".repeat(101), "gender": "e".repeat(26), "language": "f".repeat(26),
    });
    let answer = put_as(&server, "awork-admin", SOFIA, over).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let too_long = |p: &str, max: u32, n: u32| json!({"property": p, "message": format!("The length of '{p}' must be {max} characters or fewer. You entered {n} characters.")});
    assert_eq!(
        body(&answer),
        validation_error(json!([
            too_long("FirstName", 1000, 1001),
            too_long("LastName", 1000, 1001),
            too_long("Gender", 25, 26),
            too_long("Title", 100, 101),
            too_long("Position", 1000, 1001),
            too_long("Language", 25, 26),
        ]))
    );
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
        body(&answer),
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
    assert_eq!(body(&answer)["birthDate"], "1991-08-09T08:00:00.0000000Z");
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_invalid_model() {
    let server = TestServer::start().await;
    for (sent, detail) in [
        ("", "The request body is empty."),
        ("[]", "The request body must be a JSON object."),
        ("null", "The request body must be a JSON object."),
    ] {
        let request = server
            .request(Method::PUT, &user_path(SOFIA))
            .bearer_auth("awork-admin")
            .header("content-type", "application/json")
            .body(sent);
        let answer = server.send(request).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{sent:?}");
        assert_eq!(
            body(&answer),
            error(
                "invalid-model",
                "The model sent in the request is invalid or empty.",
                json!([detail]),
                json!([])
            ),
            "{sent:?}"
        );
    }
    let request = server
        .request(Method::PUT, &user_path(SOFIA))
        .bearer_auth("awork-admin")
        .header("content-type", "application/json")
        .body("{\"firstName\":");
    let answer = server.send(request).await;
    assert_eq!(body(&answer)["code"], "invalid-model");
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
        body(&answer),
        validation_error(json!([{"property": "UserId", "message": "'42' is not a valid GUID."}]))
    );
    let unknown = UNKNOWN;
    for answer in [
        put_as(&server, "awork-admin", unknown, json!({})).await,
        get(&server, unknown).await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(
            body(&answer),
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
        body(&answer),
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
        body(&answer),
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
    let unknown = UNKNOWN;
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
        body(&put_as(&server, "awork-member", unknown, json!({})).await),
        permission_error(UPDATE_RULE)
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
    assert_eq!(answer.header("allow"), Some("GET, PUT, DELETE"));
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
        assert_eq!(answer.header("x-ratelimit-limit-second"), Some("50"));
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
    // Kong's rate-limiting plugin, awork's gateway, says when to retry.
    let reset = answer.header("ratelimit-reset").expect("reset");
    assert_eq!(answer.header("retry-after"), Some(reset));
}

// ------------------------------------------------------ checked arithmetic --

/// Seeds `user` through the admin API (validated like a fixture user).
async fn seed(server: &TestServer, user: &Value) {
    let id = user["id"].as_str().expect("id");
    let answer = server
        .send(
            server
                .request(Method::PUT, &format!("/__admin/awork/users/{id}"))
                .json(user),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[tokio::test]
async fn a_resource_version_at_the_end_of_its_range_is_a_500_never_a_wrap() {
    let server = TestServer::start().await;
    let mut sofia = fixture_user(SOFIA);
    sofia["resourceVersion"] = json!(i64::MAX);
    seed(&server, &sofia).await;
    let answer = put_as(&server, "awork-admin", SOFIA, full_form(&sofia)).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body(&answer),
        error(
            "server-error",
            "An unexpected error occurred.",
            json!([]),
            json!([])
        )
    );
    assert_eq!(get(&server, SOFIA).await.json(), sofia);
}

#[tokio::test]
async fn an_updated_on_at_the_end_of_time_is_kept_and_never_overflows() {
    let server = TestServer::start().await;
    let mut sofia = fixture_user(SOFIA);
    sofia["updatedOn"] = json!("9999-12-31T23:59:59.9999999Z");
    seed(&server, &sofia).await;
    let answer = put_as(&server, "awork-admin", SOFIA, full_form(&sofia)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(body(&answer)["updatedOn"], "9999-12-31T23:59:59.9999999Z");
}

#[tokio::test]
async fn seeded_timestamps_in_any_rfc_3339_form_are_shown_in_awork_s_form() {
    let server = TestServer::start().await;
    let mut sofia = fixture_user(SOFIA);
    sofia["createdOn"] = json!("2025-01-08T10:00:00+01:00");
    seed(&server, &sofia).await;
    assert_eq!(
        get(&server, SOFIA).await.json()["createdOn"],
        "2025-01-08T09:00:00.0000000Z"
    );
}
