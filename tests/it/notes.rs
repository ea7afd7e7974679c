//! Request notes: the journal says where an answer relied on usermock's
//! own reading of a vendor rather than the vendor's word.

use crate::awork_support::{fixture_user, full_form, ADMIN};
use crate::common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

async fn last_entry(server: &TestServer) -> Value {
    let list = server
        .send(server.request(Method::GET, "/__admin/requests?vendor=awork"))
        .await
        .json();
    list["requests"]
        .as_array()
        .and_then(|entries| entries.last())
        .cloned()
        .expect("a journal entry")
}

#[tokio::test]
async fn a_body_read_without_a_json_content_type_is_noted_and_a_json_one_is_not() {
    let server = TestServer::start().await;
    let body = full_form(&fixture_user(ADMIN)).to_string();

    let answer = server
        .send(
            server
                .request(Method::PUT, &format!("/awork/api/v1/users/{ADMIN}"))
                .bearer_auth("awork-admin")
                .body(body.clone()),
        )
        .await;
    assert_eq!(answer.status.as_u16(), 200, "{}", answer.text);
    assert_eq!(
        last_entry(&server).await["notes"],
        json!([{
            "rule": "lenient-content-type",
            "message": "the body was read as JSON although the request has no Content-Type",
            "source": "inferred: the vendor's documentation does not say what a body with another content type gets"
        }])
    );

    let answer = server
        .send(
            server
                .request(Method::PUT, &format!("/awork/api/v1/users/{ADMIN}"))
                .bearer_auth("awork-admin")
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
    assert_eq!(answer.status.as_u16(), 200, "{}", answer.text);
    assert_eq!(last_entry(&server).await["notes"], json!([]));
}
