//! awork's invitation routes beyond `POST /invitations` (`GET
//! /invitations`, `POST /invitations/accept`), the role activation routes,
//! the fixture switches for the inferred rules, and the request notes that
//! say where an answer relied on one.

use crate::awork_support as support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const INVITATIONS: &str = "/awork/api/v1/invitations";
const ACCEPT: &str = "/awork/api/v1/invitations/accept";
const ADMIN_ROLE: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

/// The guide's minimal call (developers.awork.com/api/users), in this
/// fixture's workspace and role.
fn guide_invitation(email: &str) -> Value {
    json!({"email": email, "invitationFlow": "invite", "workspaceId": WORKSPACE, "roleId": MEMBER_ROLE})
}

async fn post(server: &TestServer, path: &str, token: &str, body: Value) -> Reply {
    call(server, Method::POST, path, token, Some(body)).await
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

fn rules(notes: &Value) -> Vec<String> {
    notes
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n["rule"].as_str().expect("rule").to_owned())
        .collect()
}

#[tokio::test]
async fn get_invitations_answers_the_spec_s_404_error_response_with_or_without_a_token() {
    let server = TestServer::start().await;
    for token in [None, Some("awork-admin")] {
        let mut request = server.request(Method::GET, INVITATIONS);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let answer = server.send(request).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text);
        assert_eq!(
            body(&answer),
            error(
                "not-found",
                "The requested resource was not found.",
                json!(["No endpoint matches '/api/v1/invitations'."]),
                json!([])
            )
        );
    }
}

async fn invited_user(server: &TestServer, email: &str) -> (String, String) {
    let answer = post(server, INVITATIONS, "awork-admin", guide_invitation(email)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        last_notes(server).await,
        json!([]),
        "the guide's call relies on nothing inferred"
    );
    let body = answer.json();
    (
        body["invitationCode"].as_str().expect("code").to_owned(),
        body["userId"].as_str().expect("id").to_owned(),
    )
}

#[tokio::test]
async fn an_invitation_is_accepted_once_with_its_code_and_the_user_then_shows_it() {
    let server = TestServer::start().await;
    let (code, id) = invited_user(&server, "carla.creative@ncnstn.com").await;
    assert_eq!(
        get(&server, &id).await.json()["status"]["invitationAccepted"],
        false
    );

    let answer = post(
        &server,
        ACCEPT,
        "awork-admin",
        json!({"invitationCode": code}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.text, "");
    let user = get(&server, &id).await.json();
    assert_eq!(
        user["status"],
        json!({"invitationAccepted": true, "isDeactivated": false})
    );
    assert_eq!(user["updatedBy"], json!(id));

    // A code works once; an unknown one is not found either.
    for code in [code.as_str(), "a368cfdb4="] {
        let answer = post(
            &server,
            ACCEPT,
            "awork-admin",
            json!({"invitationCode": code}),
        )
        .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(
            body(&answer),
            error(
                "not-found",
                "The requested entity was not found.",
                json!(["No open invitation has this code."]),
                json!([])
            )
        );
        assert_eq!(
            rules(&last_notes(&server).await),
            ["awork-invitation-accept-errors"]
        );
    }
    let answer = post(&server, ACCEPT, "awork-admin", json!({"invitationCode": 5})).await;
    assert_eq!(
        body(&answer),
        validation_error(
            json!([{"property": "InvitationCode", "message": "'InvitationCode' must be a string, not a number."}])
        )
    );
    let answer = post(
        &server,
        ACCEPT,
        "awork-admin",
        json!({"referralCode": "cdf989ff="}),
    )
    .await;
    assert_eq!(
        body(&answer),
        validation_error(
            json!([{"property": "InvitationCode", "message": "'InvitationCode' must not be empty."}])
        )
    );
    let answer = post(&server, ACCEPT, "nobody", json!({"invitationCode": "x"})).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_invitation_code_expires_after_24_hours_on_the_session_s_clock() {
    let server = TestServer::start().await;
    let session = "awork-expiry";
    let admin = |method: Method, path: &str| {
        server
            .request(method, path)
            .header("x-usermock-session", session)
    };
    let answer = server
        .send(admin(Method::PUT, "/__admin/clock").json(&json!({"now": "2026-03-01T12:00:00Z"})))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let invited = server
        .send(
            admin(Method::POST, INVITATIONS)
                .bearer_auth("awork-admin")
                .json(&guide_invitation("late@example.com")),
        )
        .await;
    let code = invited.json()["invitationCode"]
        .as_str()
        .expect("code")
        .to_owned();
    let answer = server
        .send(
            admin(Method::POST, "/__admin/clock/advance").json(&json!({"seconds": 24 * 3600 + 1})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let answer = server
        .send(
            admin(Method::POST, ACCEPT)
                .bearer_auth("awork-admin")
                .json(&json!({"invitationCode": code})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body(&answer),
        error(
            "invalid-operation",
            "The operation is not allowed.",
            json!(["The invitation code has expired."]),
            json!([])
        )
    );
}

fn role_path(role: &str, user: &str, what: &str) -> String {
    format!("/awork/api/v1/roles/{role}/users/{user}/{what}")
}

#[tokio::test]
async fn the_role_routes_deactivate_and_activate_a_member_of_the_role_and_answer_200_without_a_body(
) {
    let server = TestServer::start().await;
    let answer = post(
        &server,
        &role_path(MEMBER_ROLE, SOFIA, "deactivate"),
        "awork-admin",
        json!(null),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.text, "");
    let notes = last_notes(&server).await;
    assert_eq!(
        notes,
        json!([{
            "rule": "awork-role-activation",
            "message": format!("read as POST /users/{SOFIA}/deactivate"),
            "source": "inferred: the spec says only 'Deactivates / Activates the user with the specified id' (200, 404, 500)",
        }])
    );
    let user = get(&server, SOFIA).await.json();
    assert_eq!(user["isDeactivated"], true);
    assert_eq!(user["status"]["isDeactivated"], true);
    let answer = post(
        &server,
        &role_path(MEMBER_ROLE, SOFIA, "activate"),
        "awork-admin",
        json!(null),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(get(&server, SOFIA).await.json()["isDeactivated"], false);

    // An invited user has no recorded role: any existing role reaches it.
    let (_, invited) = invited_user(&server, "new@example.com").await;
    let answer = post(
        &server,
        &role_path(MEMBER_ROLE, &invited, "deactivate"),
        "awork-admin",
        json!(null),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);

    let cases = [
        (
            role_path(ADMIN_ROLE, SOFIA, "deactivate"),
            "awork-admin",
            StatusCode::NOT_FOUND,
            error("not-found", "The requested entity was not found.", json!([format!("User '{SOFIA}' is not in role '{ADMIN_ROLE}'.")]), json!([])),
        ),
        (
            role_path(UNKNOWN, SOFIA, "deactivate"),
            "awork-admin",
            StatusCode::NOT_FOUND,
            error("not-found", "The requested entity was not found.", json!([format!("No role with id '{UNKNOWN}' exists.")]), json!([])),
        ),
        (role_path(MEMBER_ROLE, UNKNOWN, "activate"), "awork-admin", StatusCode::NOT_FOUND, not_found(UNKNOWN)),
        (
            role_path(MEMBER_ROLE, SOFIA, "deactivate"),
            "awork-manager",
            StatusCode::UNAUTHORIZED,
            permission_error("Activating or deactivating a user in a role requires being an admin or the permission workspace-manage-config:write."),
        ),
        (
            role_path("nope", SOFIA, "deactivate"),
            "awork-admin",
            StatusCode::BAD_REQUEST,
            validation_error(json!([{"property": "RoleId", "message": "'nope' is not a valid GUID."}])),
        ),
    ];
    for (path, token, status, expected) in cases {
        let answer = post(&server, &path, token, json!(null)).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.text);
        assert_eq!(body(&answer), expected, "{path}");
    }
}

#[tokio::test]
async fn the_last_admin_cannot_be_deactivated_through_the_admin_role_either() {
    let server = TestServer::start().await;
    let answer = post(
        &server,
        &role_path(ADMIN_ROLE, OLE, "deactivate"),
        "awork-admin",
        json!(null),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let answer = post(
        &server,
        &role_path(ADMIN_ROLE, ADMIN, "deactivate"),
        "awork-admin",
        json!(null),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body(&answer),
        error(
            "invalid-operation",
            "The operation is not allowed.",
            json!([format!(
                "User '{ADMIN}' is the last admin of the workspace."
            )]),
            json!([])
        )
    );
}

#[tokio::test]
async fn an_invitation_without_role_id_is_refused_and_noted_unless_the_fixture_makes_it_optional() {
    let server = TestServer::start().await;
    let mut body_without_role = guide_invitation("norole@example.com");
    body_without_role["roleId"] = Value::Null;
    let answer = post(
        &server,
        INVITATIONS,
        "awork-admin",
        body_without_role.clone(),
    )
    .await;
    assert_eq!(
        body(&answer),
        validation_error(json!([{"property": "RoleId", "message": "'RoleId' must not be empty."}]))
    );
    assert_eq!(
        last_notes(&server).await,
        json!([{
            "rule": "awork-invitation-role-required",
            "message": "an invitation without roleId was refused",
            "source": "inferred: the spec marks Invitation.roleId nullable, the guide's minimal call sends one (settings.invitation_role)",
        }])
    );

    let (server, _dir) = server_with(
        "awork-role-optional",
        "\"invitation_role\": \"required\"",
        "\"invitation_role\": \"optional\"",
    )
    .await;
    let answer = post(&server, INVITATIONS, "awork-admin", body_without_role).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(last_notes(&server).await, json!([]));
}

#[tokio::test]
async fn other_invitation_flows_are_refused_in_awork_s_voice_and_noted() {
    let server = TestServer::start().await;
    for (flow, message) in [
        (json!("new_user_new_workspace"), "The invitation flow 'new_user_new_workspace' creates a new workspace and cannot be used with 'WorkspaceId'."),
        (json!("existing_user_new_workspace"), "The invitation flow 'existing_user_new_workspace' creates a new workspace and cannot be used with 'WorkspaceId'."),
        (json!("join"), "'join' is not a valid invitation flow: use 'invite', 'new_user_new_workspace' or 'existing_user_new_workspace'."),
        (json!(null), "'InvitationFlow' must not be empty."),
    ] {
        let mut sent = guide_invitation("flow@example.com");
        sent["invitationFlow"] = flow.clone();
        let answer = post(&server, INVITATIONS, "awork-admin", sent).await;
        assert_eq!(
            body(&answer),
            validation_error(json!([{"property": "InvitationFlow", "message": message}])),
            "{flow}"
        );
        assert!(!answer.text.to_lowercase().contains("usermock"), "{}", answer.text);
        assert_eq!(rules(&last_notes(&server).await), ["awork-invitation-flow"]);
    }
}

#[tokio::test]
async fn no_awork_answer_speaks_of_usermock() {
    // Without a workspace in the fixture the default one shows: it must be
    // a workspace name, not the mock's.
    let text = fixture_text();
    let start = text.find("\"workspace\":").expect("workspace");
    let end = start + text[start..].find("},").expect("end") + 2;
    let dir = TempDir::new("awork-default-workspace");
    let mut without = text.clone();
    without.replace_range(start..end, "");
    dir.write("awork.json", &without);
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    let answers = [
        call(
            &server,
            Method::GET,
            "/awork/api/v1/users/me",
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
        post(
            &server,
            INVITATIONS,
            "awork-admin",
            json!({"invitationFlow": "existing_user_new_workspace"}),
        )
        .await,
        call(
            &server,
            Method::GET,
            "/awork/api/v1/users?filterby=x%20eq",
            "awork-admin",
            None,
        )
        .await,
        post(
            &server,
            ACCEPT,
            "awork-admin",
            json!({"invitationCode": "nope"}),
        )
        .await,
    ];
    assert_eq!(answers[0].json()["workspace"]["name"], "Workspace");
    for answer in answers {
        assert!(
            !answer.text.to_lowercase().contains("usermock"),
            "{}",
            answer.text
        );
    }
}

#[tokio::test]
async fn put_gender_and_language_lists_are_inferred_noted_and_switchable() {
    let server = TestServer::start().await;
    let mut form = full_form(&fixture_user(SOFIA));
    form["gender"] = json!("diverse");
    form["language"] = json!("english");
    let answer = put_as(&server, "awork-admin", SOFIA, form.clone()).await;
    assert_eq!(
        body(&answer),
        validation_error(json!([
            {"property": "Gender", "message": "'diverse' is not a valid gender: use 'male', 'female' or 'other'."},
            {"property": "Language", "message": "'english' is not a valid ISO 639-1 language code."}
        ]))
    );
    assert_eq!(
        last_notes(&server).await,
        json!([
            {"rule": "awork-put-gender-values", "message": "'diverse' was refused for 'gender'", "source": "inferred: UserForm.gender has no list of values; 'male', 'female' or 'other' is the Invitation's (settings.gender_values)"},
            {"rule": "awork-put-language-values", "message": "'english' was refused for 'language'", "source": "inferred: UserForm.language is described as ISO 639-1 (example en-GB) but awork's docs do not say other values are refused (settings.language_values)"}
        ])
    );

    let (server, _dir) = server_with(
        "awork-any-values",
        "\"gender_values\": \"listed\",\n    \"language_values\": \"listed\"",
        "\"gender_values\": \"any\",\n    \"language_values\": \"any\"",
    )
    .await;
    let answer = put_as(&server, "awork-admin", SOFIA, form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        (&answer.json()["gender"], &answer.json()["language"]),
        (&json!("diverse"), &json!("english"))
    );
    assert_eq!(last_notes(&server).await, json!([]));
    // The spec's maxLength still holds.
    let answer = put_as(
        &server,
        "awork-admin",
        SOFIA,
        json!({"gender": "x".repeat(26)}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_spec_s_own_user_form_example_succeeds_and_says_what_was_read_loosely() {
    let server = TestServer::start().await;
    // `UserForm`'s example values, as the spec writes them.
    let example = json!({"firstName": "Carla", "lastName": "Creative", "birthDate": "1998-04-19T00:00:000Z", "gender": "female", "title": "Miss", "language": "en-GB"});
    let answer = put_as(&server, "awork-admin", SOFIA, example).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["birthDate"], "1998-04-19T00:00:00.0000000Z");
    assert_eq!(
        last_notes(&server).await,
        json!([
            {"rule": "awork-birthdate-example-form", "message": "birthDate '1998-04-19T00:00:000Z' was read as 1998-04-19T00:00:00.0000000Z", "source": "inferred: the spec's UserForm example writes birthDate as '1998-04-19T00:00:000Z', which is not RFC 3339"},
            {"rule": "awork-put-omitted-fields-cleared", "message": "'position' left out of the body, so set to null", "source": "inferred: awork's docs do not say whether PUT keeps or clears a field the body leaves out (settings.omitted_fields)"}
        ])
    );
    // A whole form with a plain date relies on nothing inferred.
    let answer = put_as(
        &server,
        "awork-admin",
        SOFIA,
        full_form(&fixture_user(SOFIA)),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(last_notes(&server).await, json!([]));
    // Members UserForm does not have are ignored, and noted.
    let mut whole_user = fixture_user(SOFIA);
    whole_user["nickname"] = json!("So");
    let answer = put_as(&server, "awork-admin", SOFIA, whole_user).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let notes = last_notes(&server).await;
    assert_eq!(rules(&notes), ["awork-other-members-ignored"]);
    let message = notes[0]["message"].as_str().expect("message");
    assert!(message.starts_with("'id', 'status', "), "{message}");
    assert!(
        message
            .ends_with(", 'isExternal', 'nickname' are not in awork's UserForm and were ignored"),
        "{message}"
    );
}

/// A request (method, path, token, body), its status and its note rules.
type Case<'a> = (Method, String, &'a str, Option<Value>, u16, Vec<&'a str>);

#[tokio::test]
async fn refusals_that_rest_on_inferred_rules_are_noted_and_documented_answers_are_not() {
    let server = TestServer::start().await;
    let action = |id: &str, what: &str| format!("{}/{what}", user_path(id));
    let mut taken = guide_invitation("mara.schulz@example.com");
    taken["roleId"] = json!(MEMBER_ROLE);
    // (method, path, token, body, expected status, expected note rules)
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            user_path(SOFIA),
            "awork-admin",
            None,
            200,
            vec![],
        ),
        (
            Method::GET,
            "/awork/api/v1/users/me".into(),
            "awork-member",
            None,
            200,
            vec![],
        ),
        (
            Method::GET,
            format!("{}?expand=tags", user_path(SOFIA)),
            "awork-admin",
            None,
            200,
            vec!["awork-unknown-query-parameter"],
        ),
        (
            Method::POST,
            action(DEACTIVATED, "deactivate"),
            "awork-admin",
            None,
            400,
            vec!["awork-inactive-target"],
        ),
        (
            Method::POST,
            action(SOFIA, "activate"),
            "awork-admin",
            None,
            400,
            vec!["awork-inactive-target"],
        ),
        (
            Method::PUT,
            user_path(ARCHIVED),
            "awork-admin",
            Some(full_form(&fixture_user(ARCHIVED))),
            400,
            vec!["awork-inactive-target"],
        ),
        (
            Method::POST,
            action(PAUL, "deactivate?includeSummary=true"),
            "awork-admin",
            None,
            200,
            vec!["awork-deactivate-summary"],
        ),
        (
            Method::POST,
            action(AMIRA, "deactivate"),
            "awork-admin",
            None,
            204,
            vec![],
        ),
        (
            Method::POST,
            action(OLE, "deactivate"),
            "awork-admin",
            None,
            204,
            vec![],
        ),
        // The spec states the last-admin rule for deactivation: documented.
        (
            Method::POST,
            action(ADMIN, "deactivate"),
            "awork-admin",
            None,
            400,
            vec![],
        ),
        (
            Method::POST,
            action(ADMIN, "setarchived"),
            "awork-admin",
            Some(json!({"isArchived": true})),
            400,
            vec!["awork-last-admin-beyond-deactivation"],
        ),
        (
            Method::DELETE,
            user_path(ADMIN),
            "awork-admin",
            None,
            400,
            vec!["awork-last-admin-beyond-deactivation"],
        ),
        (
            Method::POST,
            INVITATIONS.into(),
            "awork-member",
            Some(guide_invitation("m@example.com")),
            401,
            vec!["awork-invitation-permission"],
        ),
        (
            Method::POST,
            INVITATIONS.into(),
            "awork-admin",
            Some(taken),
            400,
            vec!["awork-invitation-email-taken"],
        ),
        (
            Method::PUT,
            user_path(SOFIA),
            "awork-admin",
            Some(json!({"birthDate": "2999-01-01"})),
            400,
            vec!["awork-birthdate-future"],
        ),
    ];
    for (method, path, token, sent, status, expected) in cases {
        let answer = call(&server, method.clone(), &path, token, sent).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{method} {path}: {}",
            answer.text
        );
        assert_eq!(
            rules(&last_notes(&server).await),
            expected,
            "{method} {path}"
        );
    }
    let answer = server
        .send(
            server
                .request(Method::PUT, &user_path(SOFIA))
                .bearer_auth("awork-admin")
                .header("content-type", "text/plain")
                .body("{}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        last_notes(&server).await,
        json!([{
            "rule": "awork-content-type",
            "message": "answered 415 invalid-model",
            "source": "inferred: the spec lists application/json bodies; what another Content-Type gets is not documented",
        }])
    );
}
