//! The `usermock` binary as a user's CI runs it: the listening line, exit
//! codes, fixture errors, `check`, `healthcheck`, `schema`, and SIGTERM.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{binary, repo_fixtures, BinaryServer, TempDir};

const SEED_CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const SEED_USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";

fn fixture_text() -> String {
    std::fs::read_to_string(repo_fixtures().join("activity.json")).expect("fixture")
}

/// One plain HTTP/1.1 exchange over a fresh connection.
fn http(base: &str, request: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

fn get(base: &str, path: &str, token: &str) -> String {
    http(
        base,
        &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"),
    )
}

#[test]
fn the_first_stdout_line_announces_the_bound_port_and_nothing_else_goes_to_stdout() {
    let server = BinaryServer::start(&[]);
    assert!(
        server.base.starts_with("http://127.0.0.1:"),
        "{}",
        server.base
    );
    let port: u16 = server
        .base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    assert_ne!(port, 0);
    let response = get(&server.base, "/__admin/health", "");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""status":"ok""#), "{response}");
    let response = get(
        &server.base,
        &format!("/activity/v2/clients/{SEED_CLIENT}/users/{SEED_USER}"),
        "activity-admin",
    );
    assert!(response.contains("mikechang"), "{response}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server
            .stdout_rest
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default(),
        ""
    );
    assert!(
        server.stderr().contains("fixture loaded"),
        "logs go to stderr:\n{}",
        server.stderr()
    );
}

#[test]
fn json_logs_are_one_json_object_per_line_on_stderr() {
    let server = BinaryServer::start(&["--log-format", "json"]);
    get(&server.base, "/__admin/health", "");
    std::thread::sleep(Duration::from_millis(200));
    let stderr = server.stderr();
    assert!(!stderr.is_empty());
    for line in stderr.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_and_exits_zero() {
    let mut server = BinaryServer::start(&[]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let body = r#"{"departments": []}"#;
    let head = format!(
        "PATCH /activity/v2/clients/{SEED_CLIENT}/users/{SEED_USER} HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Bearer activity-admin\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    // Headers and half the body now; the rest after SIGTERM.
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(&body.as_bytes()[..5]).expect("write part");
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    std::thread::sleep(Duration::from_millis(200));
    stream.write_all(&body.as_bytes()[5..]).expect("write rest");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "in-flight request was cut: {response:?}"
    );
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "stderr:\n{}", server.stderr());
    assert!(server.stderr().contains("SIGTERM received"));
}

#[test]
fn sigint_exits_zero_too() {
    let mut server = BinaryServer::start(&[]);
    let pid = server.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    let status = server.terminate();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn fixtures_from_a_folder_replace_the_embedded_ones() {
    let dir = TempDir::new("fixture-folder");
    dir.write(
        "activity.json",
        &fixture_text().replace("\"mikechang\",", "\"mike.chang\","),
    );
    dir.write("README.txt", "not a fixture; ignored");
    let server = BinaryServer::start(&["--fixtures", dir.path()]);
    let response = get(
        &server.base,
        &format!("/activity/v2/clients/{SEED_CLIENT}/users/{SEED_USER}"),
        "activity-admin",
    );
    assert!(
        response.contains(r#""username":"mike.chang""#),
        "{response}"
    );
}

#[test]
fn the_fixtures_env_var_works_like_the_flag() {
    let dir = TempDir::new("fixture-env");
    dir.write("activity.json", "{");
    let output = binary()
        .args(["--listen", "127.0.0.1:0"])
        .env("USERMOCK_FIXTURES", dir.path())
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}

/// Runs the binary against a fixture folder holding `activity.json` = `text`
/// and returns (exit code, stdout, stderr).
fn start_with_activity_fixture(tag: &str, text: &str) -> (Option<i32>, String, String) {
    // An edit that did not apply would start a healthy server and wait.
    assert_ne!(text, fixture_text(), "the fixture edit did not apply");
    let dir = TempDir::new(tag);
    dir.write("activity.json", text);
    let output = binary()
        .args(["--listen", "127.0.0.1:0", "--fixtures", dir.path()])
        .output()
        .expect("run");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn broken_json_stops_startup_with_exit_2_naming_file_line_and_column() {
    let (code, stdout, stderr) =
        start_with_activity_fixture("bad-json", "{\n  \"clients\": [,]\n}\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stdout, "", "nothing is served, so nothing is announced");
    assert!(stderr.contains("activity.json:2:15"), "{stderr}");
    assert!(stderr.contains("expected value"), "{stderr}");
}

#[test]
fn a_wrong_type_names_the_json_pointer() {
    let text = fixture_text().replacen("\"username\": \"mikechang\"", "\"username\": 42", 1);
    let (code, _, stderr) = start_with_activity_fixture("wrong-type", &text);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("at /users/0/username: invalid type: integer `42`, expected a string"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_field_in_a_fixture_is_rejected() {
    let text = fixture_text().replacen(
        "\"username\": \"mikechang\"",
        "\"usernme\": \"mikechang\"",
        1,
    );
    let (code, _, stderr) = start_with_activity_fixture("unknown-field", &text);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown field `usernme`"), "{stderr}");
}

#[test]
fn every_reference_and_duplicate_problem_is_listed_with_its_pointer() {
    let text = fixture_text()
        // A duplicate user id (the second user takes the first one's id).
        .replacen("5b2e8f61-3c7d-4a9e-b1f0-6d4c2a8e9b37", SEED_USER, 1)
        // A user pointing at a department that does not exist.
        .replacen(
            "\"departments\": [\"7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f\"]",
            "\"departments\": [\"00000000-0000-4000-8000-000000000000\"]",
            1,
        )
        // A timestamp that is not RFC 3339.
        .replacen(
            "\"created_at\": \"2025-06-30T12:00:05.004Z\"",
            "\"created_at\": \"yesterday\"",
            1,
        );
    let (code, _, stderr) = start_with_activity_fixture("references", &text);
    assert_eq!(code, Some(2));
    for expected in [
        "at /users/1/id: duplicate user id 'a1d97031-04e2-4907-a249-093f7436207b'",
        "at /users/4/departments/0: no department has id '00000000-0000-4000-8000-000000000000'",
        "at /users/2/created_at: 'yesterday' is not an RFC 3339 timestamp",
        "3 problem(s)",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}

#[test]
fn a_user_pointing_at_a_missing_client_or_another_clients_department_is_rejected() {
    let text = fixture_text()
        .replacen(
            "\"client_id\": \"b5e0c3d2-6f4a-4c1b-9e8d-7a6b5c4d3e2f\",\n      \"username\"",
            "\"client_id\": \"00000000-0000-4000-8000-000000000000\",\n      \"username\"",
            1,
        )
        .replacen(
            "\"departments\": [\"f3c4d5e6-a7b8-4012-8def-123456789012\"]",
            "\"departments\": [\"7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f\"]",
            1,
        );
    let (code, _, stderr) = start_with_activity_fixture("missing-client", &text);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(
            "at /users/4/client_id: no client has id '00000000-0000-4000-8000-000000000000'"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("at /users/1/departments/0: department '7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f' belongs to client"),
        "{stderr}"
    );
}

#[test]
fn a_fixture_for_an_unknown_vendor_is_rejected() {
    let dir = TempDir::new("unknown-vendor");
    dir.write("salesforce.json", "{}");
    let output = binary()
        .args(["--listen", "127.0.0.1:0", "--fixtures", dir.path()])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("salesforce.json: unknown vendor 'salesforce'"),
        "{stderr}"
    );
}

#[test]
fn a_missing_fixture_folder_is_an_error() {
    let output = binary()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--fixtures",
            "/nonexistent/usermock",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("cannot read fixtures from /nonexistent/usermock"));
}

#[test]
fn check_accepts_the_repo_fixtures_and_lists_problems_in_bad_ones() {
    let output = binary()
        .args(["check", "--fixtures"])
        .arg(repo_fixtures())
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("ok: "));

    let dir = TempDir::new("check-bad");
    dir.write(
        "activity.json",
        &fixture_text().replacen("\"mikechang\"", "null", 1),
    );
    let output = binary()
        .args(["check", "--fixtures", dir.path()])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("at /users/0/username"));
}

#[test]
fn healthcheck_passes_against_a_running_server_and_fails_without_one() {
    let server = BinaryServer::start(&[]);
    let url = format!("{}/__admin/health", server.base);
    let status = binary()
        .args(["healthcheck", "--url", &url])
        .status()
        .expect("run");
    assert!(status.success());
    drop(server);
    let output = binary()
        .args(["healthcheck", "--url", &url, "--timeout", "2"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn the_published_fixture_and_scenario_schemas_match_the_rust_types() {
    let mut schemas: Vec<(String, String)> = usermock::vendor_names()
        .into_iter()
        .map(|v| {
            (
                v.to_owned(),
                format!("docs/schemas/{v}.fixture.schema.json"),
            )
        })
        .collect();
    schemas.push((
        "scenario".to_owned(),
        "docs/schemas/scenario.schema.json".to_owned(),
    ));
    for (vendor, file) in schemas {
        let output = binary().args(["schema", &vendor]).output().expect("run");
        assert!(output.status.success());
        let published =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&file))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            published.trim(),
            String::from_utf8_lossy(&output.stdout).trim(),
            "{file} is stale: run `usermock schema {vendor} > {file}`"
        );
    }
}

#[test]
fn a_listen_address_in_use_fails_cleanly() {
    let server = BinaryServer::start(&[]);
    let addr = server.base.trim_start_matches("http://");
    let output = binary().args(["--listen", addr]).output().expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen on"));
}

#[test]
fn the_complete_example_in_docs_fixtures_md_is_a_valid_fixture() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/fixtures.md"),
    )
    .expect("docs/fixtures.md");
    let start = doc.find("```json\n").expect("a json block") + "```json\n".len();
    let end = start + doc[start..].find("```").expect("block end");
    let dir = TempDir::new("doc-example");
    dir.write("activity.json", &doc[start..end]);
    let output = binary()
        .args(["check", "--fixtures", dir.path()])
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn healthcheck_defaults_to_the_listen_address() {
    let server = BinaryServer::start(&[]);
    let port = server.base.rsplit(':').next().expect("port").to_owned();
    let status = binary()
        .arg("healthcheck")
        .env("USERMOCK_LISTEN", format!("0.0.0.0:{port}"))
        .env_remove("USERMOCK_HEALTHCHECK_URL")
        .status()
        .expect("run");
    assert!(status.success());
}

/// No Docker engine runs here, so the image is checked through its recipe:
/// what the final stage contains and how it runs.
#[test]
fn the_dockerfile_builds_a_static_non_root_image_with_its_own_healthcheck() {
    let dockerfile = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile"),
    )
    .expect("Dockerfile");
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let final_stage: Vec<&str> = lines
        .iter()
        .rposition(|l| l.starts_with("FROM "))
        .map(|i| lines[i..].to_vec())
        .expect("a FROM");
    assert_eq!(
        final_stage[0], "FROM scratch",
        "no shell, no libc: the binary must be static"
    );
    // The build stage copies everything include_str! embeds.
    for needed in [
        "COPY src ./src",
        "COPY fixtures ./fixtures",
        "COPY scenarios ./scenarios",
        "COPY Cargo.toml Cargo.lock ./",
    ] {
        assert!(lines.contains(&needed), "build stage lacks `{needed}`");
    }
    let user = final_stage
        .iter()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER");
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "runs as root: {user}"
    );
    assert!(final_stage.contains(&"ENV USERMOCK_LISTEN=0.0.0.0:8080"));
    assert!(final_stage.contains(&"EXPOSE 8080"));
    let healthcheck = final_stage
        .iter()
        .find(|l| l.starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    assert!(
        healthcheck.ends_with(r#"CMD ["/usermock", "healthcheck"]"#),
        "{healthcheck}"
    );
    assert!(final_stage.contains(&r#"ENTRYPOINT ["/usermock"]"#));
}

#[test]
fn healthcheck_sends_the_admin_token_from_the_same_variable() {
    let server = BinaryServer::start(&["--admin-token", "s3cret"]);
    let url = format!("{}/__admin/health", server.base);
    let status = binary()
        .args(["healthcheck", "--url", &url])
        .status()
        .expect("run");
    assert_eq!(
        status.code(),
        Some(1),
        "without the token the health check is refused"
    );
    let status = binary()
        .args(["healthcheck", "--url", &url])
        .env("USERMOCK_ADMIN_TOKEN", "s3cret")
        .status()
        .expect("run");
    assert!(status.success());
}

/// Runs the binary with one vendor's fixture file and returns (code, stderr).
fn start_with_fixture(tag: &str, vendor: &str, text: &str) -> (Option<i32>, String) {
    let dir = TempDir::new(tag);
    dir.write(&format!("{vendor}.json"), text);
    let output = binary()
        .args(["--listen", "127.0.0.1:0", "--fixtures", dir.path()])
        .output()
        .expect("run");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn repo_fixture(vendor: &str) -> String {
    std::fs::read_to_string(repo_fixtures().join(format!("{vendor}.json"))).expect("fixture")
}

#[test]
fn every_vendor_fixture_is_checked_for_references_and_rules() {
    let cases = [
        (
            "relesys",
            repo_fixture("relesys").replacen(
                "\"primaryDepartmentId\": \"27744bfa-d16b-4a6a-8f9a-8a79351f9c5f\"",
                "\"primaryDepartmentId\": \"00000000-0000-4000-8000-000000000000\"",
                1,
            ),
            "relesys.json at /users/1/primaryDepartmentId: no department has id '00000000-0000-4000-8000-000000000000'",
        ),
        (
            "relesys",
            repo_fixture("relesys").replacen("\"shoesize\": \"39\"", "\"hatsize\": \"7\"", 1),
            "relesys.json at /users/1/customFields/hatsize: no custom field has key 'hatsize'",
        ),
        (
            "relesys",
            repo_fixture("relesys").replacen("\"relesys.api.users:read\"]", "\"relesys.admin\"]", 1),
            "is not a Relesys scope",
        ),
        (
            "activity",
            repo_fixture("activity").replacen("\"token\": \"activity-limited\"", "\"token\": \"activity limited\"", 1),
            "activity.json at /credentials/1/token: the credential 'activity limited' must be non-empty and without white space",
        ),
        (
            "replay",
            repo_fixture("replay").replacen("\"replay-other\"", "\"\"", 1),
            "replay.json at /companies/4/api_keys/0: the credential '' must be non-empty and without white space",
        ),
        (
            "awork",
            repo_fixture("awork").replacen("\"language\": \"de\"", "\"language\": \"german\"", 1),
            "awork.json at /users/0/language: 'german' is not an ISO 639-1 code",
        ),
        (
            "awork",
            repo_fixture("awork").replacen(
                "\"user_id\": \"9b2f6c1e-3d4a-4e5b-8c7d-1a2b3c4d5e6f\"",
                "\"user_id\": \"00000000-0000-4000-8000-000000000000\"",
                1,
            ),
            "awork.json at /credentials/0/user_id: no user has id '00000000-0000-4000-8000-000000000000'",
        ),
        (
            "replay",
            repo_fixture("replay").replacen("\"role\": \"Disabled\"", "\"role\": \"User\"", 1),
            "replay.json at /users/2/status: status 'disabled' does not fit role 'User'",
        ),
        (
            "replay",
            repo_fixture("replay").replacen(
                "\"parent_id\": \"11111111-1111-4111-8111-111111111111\"",
                "\"parent_id\": \"99999999-9999-4999-8999-999999999999\"",
                1,
            ),
            "replay.json at /companies/1/parent_id: no other company has id '99999999-9999-4999-8999-999999999999'",
        ),
    ];
    for (i, (vendor, text, expected)) in cases.iter().enumerate() {
        // An edit that did not apply would start a healthy server and wait.
        assert_ne!(
            text,
            &repo_fixture(vendor),
            "case {i}: the fixture edit did not apply"
        );
        let (code, stderr) = start_with_fixture(&format!("vendor-fixture-{i}"), vendor, text);
        assert_eq!(code, Some(2), "{expected}: {stderr}");
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in:\n{stderr}"
        );
    }
}
