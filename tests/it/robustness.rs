//! Bad input never crashes the server or corrupts state, and logging never
//! blocks serving.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use common::{binary, TestServer};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

const USER_PATH: &str =
    "/activity/v2/clients/aa7cf840-9ca9-46a3-9778-9015d6580d50/users/a1d97031-04e2-4907-a249-093f7436207b";

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-f0-9-]{0,40}".prop_map(Value::from),
        Just(json!("d1a2b3c4-e5f6-7890-abcd-ef1234567890")),
        Just(json!("ffffffff-ffff-ffff-ffff-ffffffffffff")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("departments".to_owned()),
                    Just("id".to_owned()),
                    "[a-z_]{1,8}"
                ],
                inner,
                0..3
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn random_bodies_never_produce_a_5xx_and_the_user_stays_valid(
        body in any_json(),
        raw in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let server = TestServer::start().await;
            for payload in [body.to_string().into_bytes(), raw.clone()] {
                let request = server
                    .request(Method::PATCH, USER_PATH)
                    .bearer_auth("activity-admin")
                    .header("content-type", "application/json")
                    .body(payload);
                let answer = server.send(request).await;
                prop_assert!([200, 400, 404].contains(&answer.status.as_u16()), "{} {}", answer.status, answer.text);
                let error_or_user = answer.json();
                prop_assert!(error_or_user.get("error").is_some() || error_or_user.get("updated_at").is_some());
            }
            let read = server.send(server.request(Method::GET, USER_PATH).bearer_auth("activity-admin")).await;
            prop_assert_eq!(read.status.as_u16(), 200);
            let user = read.json();
            prop_assert_eq!(&user["username"], "mikechang");
            prop_assert!(user["departments"].as_array().is_some_and(|d| d.iter().all(|d| d["name"].is_string())));
            Ok(())
        })?;
    }
}

#[test]
fn a_server_whose_stderr_is_never_read_keeps_answering() {
    // The pipe holds ~64 KiB; 2,000 requests log far more than that. With a
    // blocking writer the server would stall; with the lossy one it answers.
    let mut child = binary()
        .args(["--listen", "127.0.0.1:0", "--log", "debug"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).map(|n| n == 1).unwrap_or(false) && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&line).into_owned();
    let addr = line
        .trim_start_matches("usermock listening on http://")
        .to_owned();
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = format!(
        "GET {USER_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer activity-admin\r\n\r\n"
    );
    let mut answered = 0;
    let mut buf = vec![0u8; 8192];
    for _ in 0..2000 {
        stream.write_all(request.as_bytes()).expect("write");
        let n = stream
            .read(&mut buf)
            .expect("the server stalled: no answer within 10 s");
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
        answered += 1;
    }
    assert_eq!(answered, 2000);
    let _ = child.kill();
    let _ = child.wait();
}

const RELESYS_USER: &str = "6cd99267-5adf-462d-88a2-6f86b7b2a164";

fn relesys_path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        prop::sample::select(vec![
            "/id",
            "/url",
            "/status",
            "/name",
            "/title",
            "/userName",
            "/email",
            "/phoneNumber",
            "/phoneNumber/countryCode",
            "/phoneNumber/number",
            "/secondaryPhoneNumber",
            "/birthDate",
            "/primaryDepartmentId",
            "/additionalDepartments",
            "/additionalDepartments/0",
            "/additionalDepartments/-",
            "/userGroups",
            "/userGroups/1",
            "/userGroups/-",
            "/userGroups/0/id",
            "/customFields",
            "/customFields/customfieldone",
            "/customFields/shoesize",
            "/employmentDate",
            "/employmentType",
            "/nickname",
            "/lastModifiedDateTime",
        ])
        .prop_map(str::to_owned),
    ]
}

fn relesys_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any_json(),
        Just(json!("Activated")),
        Just(json!("Disabled")),
        Just(json!("2001-02-03")),
        Just(json!({"countryCode": 45, "number": "12345678"})),
        Just(json!({"id": "e4d3c2b1-a098-4f7e-8d6c-5b4a39281706"})),
        Just(json!("27744bfa-d16b-4a6a-8f9a-8a79351f9c5f")),
        Just(json!("someone@example.com")),
    ]
}

fn relesys_op() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "add", "remove", "replace", "move", "copy", "test", "bogus",
        ]),
        relesys_path(),
        relesys_path(),
        relesys_value(),
    )
        .prop_map(
            |(op, path, from, value)| json!({"op": op, "path": path, "from": from, "value": value}),
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, .. ProptestConfig::default() })]

    #[test]
    fn random_patch_documents_never_produce_a_5xx_or_an_invalid_user(
        patches in prop::collection::vec(prop::collection::vec(relesys_op(), 0..5), 1..4),
    ) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let server = TestServer::start().await;
            let path = format!("/relesys/api/v1.3/users/{RELESYS_USER}");
            for ops in &patches {
                let request = server
                    .request(Method::PATCH, &path)
                    .bearer_auth("relesys-admin")
                    .header("content-type", "application/json-patch+json")
                    .body(Value::from(ops.clone()).to_string());
                let answer = server.send(request).await;
                prop_assert!([200, 400].contains(&answer.status.as_u16()), "{} {}", answer.status, answer.text);
            }
            // Whatever happened, the stored user still passes the same
            // validation a fixture user does: the admin API re-validates it.
            let read = server.send(server.request(Method::GET, &path).bearer_auth("relesys-admin")).await;
            prop_assert_eq!(read.status.as_u16(), 200);
            let user = read.json()["data"].clone();
            let put = server
                .send(server.request(Method::PUT, &format!("/__admin/relesys/users/{RELESYS_USER}")).json(&user))
                .await;
            prop_assert_eq!(put.status.as_u16(), 200, "{}", put.text);
            prop_assert_eq!(put.json(), user);
            Ok(())
        })?;
    }
}

fn replay_or_awork_body() -> impl Strategy<Value = Value> {
    let member = prop_oneof![
        Just("firstName".to_owned()),
        Just("lastName".to_owned()),
        Just("role".to_owned()),
        Just("childCompanyId".to_owned()),
        Just("birthDate".to_owned()),
        Just("language".to_owned()),
        "[a-zA-Z]{1,10}",
    ];
    let value = prop_oneof![
        any_json(),
        Just(json!("Manager")),
        Just(json!("22222222-2222-4222-8222-222222222222")),
        Just(json!("1999-01-01")),
        Just(json!("de")),
        "\\PC{0,300}".prop_map(Value::from),
    ];
    prop_oneof![
        any_json(),
        prop::collection::btree_map(member, value, 0..5)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, .. ProptestConfig::default() })]

    #[test]
    fn random_awork_and_replay_bodies_never_produce_a_5xx(body in replay_or_awork_body()) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let server = TestServer::start().await;
            let awork = server
                .request(Method::PUT, "/awork/api/v1/users/2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e")
                .bearer_auth("awork-admin")
                .header("content-type", "application/json")
                .body(body.to_string());
            let replay = server
                .request(Method::PATCH, "/replay/api/user/3c90c3cc-0d44-4b50-8888-8dd25736052a")
                .header("x-api-key", "replay-parent")
                .header("content-type", "application/json")
                .body(body.to_string());
            for request in [awork, replay] {
                let answer = server.send(request).await;
                prop_assert!(answer.status.as_u16() < 500, "{} {}", answer.status, answer.text);
                prop_assert!(answer.json().is_object());
            }
            // Whatever was written still validates as a fixture record.
            for (vendor, id, read) in [
                ("awork", "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", server.request(Method::GET, "/__admin/awork/users/2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e")),
                ("replay", "3c90c3cc-0d44-4b50-8888-8dd25736052a", server.request(Method::GET, "/__admin/replay/users/3c90c3cc-0d44-4b50-8888-8dd25736052a")),
            ] {
                let record = server.send(read).await.json();
                let put = server
                    .send(server.request(Method::PUT, &format!("/__admin/{vendor}/users/{id}")).json(&record))
                    .await;
                prop_assert_eq!(put.status.as_u16(), 200, "{}", put.text);
            }
            Ok(())
        })?;
    }
}
