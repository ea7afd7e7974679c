//! The `usermock` binary as a user's CI runs it: the listening line, exit
//! codes, fixture errors, `check`, `healthcheck`, `schema`, and SIGTERM.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{binary, repo_file, repo_fixtures, BinaryServer, TempDir};

const SEED_CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const SEED_USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";

fn fixture_text() -> String {
    std::fs::read_to_string(repo_fixtures().join("activity.json")).expect("fixture")
}

/// One plain HTTP/1.1 exchange over a fresh connection.
pub(crate) fn http(base: &str, request: &str) -> String {
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
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("ok: no problems"), "{stdout}");

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
        "COPY conformance ./conformance",
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
            if expected.contains(".json at /") {
                crate::common::lists_problem_with_place(&stderr, expected)
            } else {
                stderr.contains(expected)
            },
            "expected {expected:?}, with its line and column, in:\n{stderr}"
        );
    }
}

// ------------------------------------------------------ shipping it --

/// The built binary started with `args` and `env`, address read from stdout
/// (as `BinaryServer::start`, which adds `--listen 127.0.0.1:0` and takes no
/// environment).
pub(crate) fn start_server(args: &[&str], env: &[(&str, &str)]) -> BinaryServer {
    use std::io::BufRead;
    let mut command = binary();
    command
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("spawn usermock");
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    drain_into(child.stderr.take().expect("stderr"), stderr.clone());
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("read stdout");
    let Some(base) = first.trim().strip_prefix("usermock listening on ") else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "unexpected first stdout line {first:?}; stderr:\n{}",
            stderr.lock().map(|s| s.clone()).unwrap_or_default()
        );
    };
    let base = base.to_owned();
    let stdout_rest = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    drain_into(stdout.into_inner(), stdout_rest.clone());
    BinaryServer {
        child,
        base,
        stderr,
        stdout_rest,
    }
}

fn drain_into(
    mut from: impl Read + Send + 'static,
    into: std::sync::Arc<std::sync::Mutex<String>>,
) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut text) = into.lock() {
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    });
}

/// A port nothing listens on (bound, then released).
pub(crate) fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// `usermock healthcheck` with `args` and `env`: (exit code, stderr).
pub(crate) fn healthcheck(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = binary();
    command.arg("healthcheck").args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run healthcheck");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn healthcheck_finds_a_server_given_listen_as_an_argument_through_its_state_file() {
    // As in the container: USERMOCK_LISTEN says one port, the server's
    // argument another (here any free one), the health check has no argument.
    let dir = TempDir::new("state-file");
    let state = format!("{}/usermock.state", dir.path());
    let configured = format!("127.0.0.1:{}", dead_port());
    let env = [
        ("USERMOCK_LISTEN", configured.as_str()),
        ("USERMOCK_STATE_FILE", state.as_str()),
    ];
    let mut server = start_server(&["--listen", "127.0.0.1:0"], &env);
    let recorded = std::fs::read_to_string(&state).expect("the state file");
    assert!(
        recorded.contains(server.base.trim_start_matches("http://")),
        "{recorded}"
    );
    let (code, stderr) = healthcheck(&[], &env);
    assert_eq!(code, Some(0), "{stderr}");

    assert_eq!(server.terminate().code(), Some(0), "{}", server.stderr());
    assert!(
        !std::path::Path::new(&state).exists(),
        "a clean exit removes the state file"
    );
    let (code, stderr) = healthcheck(&["--timeout", "2"], &env);
    assert_eq!(code, Some(1), "the server is gone: {stderr}");
}

#[test]
fn healthcheck_finds_the_server_through_the_default_state_file_and_fails_once_it_is_killed() {
    // No USERMOCK_STATE_FILE: the default file is named after USERMOCK_LISTEN,
    // so this test's server and health check share one no other test uses.
    let configured = format!("127.0.0.1:{}", dead_port());
    let env = [("USERMOCK_LISTEN", configured.as_str())];
    let mut server = start_server(&["--listen", "127.0.0.1:0"], &env);
    let (code, stderr) = healthcheck(&[], &env);
    assert_eq!(code, Some(0), "{stderr}");
    // Killed without a chance to clean up: the file stays, and points at a
    // port nobody answers on.
    server.child.kill().expect("kill");
    server.child.wait().expect("wait");
    let (code, stderr) = healthcheck(&["--timeout", "2"], &env);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("recorded by process"), "{stderr}");
}

#[test]
fn healthcheck_accepts_the_servers_own_flags() {
    let dir = TempDir::new("healthcheck-flags");
    let state = format!("{}/usermock.state", dir.path());
    let server = start_server(
        &["--listen", "127.0.0.1:0", "--admin-token", "s3cret"],
        &[("USERMOCK_STATE_FILE", state.as_str())],
    );
    let addr = server.base.trim_start_matches("http://");
    // `--listen` typed on the command line wins over any state file.
    let (code, stderr) = healthcheck(&["--listen", addr, "--admin-token", "s3cret"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    // Liveness needs no token, so a wrong one does not matter either (the
    // container's HEALTHCHECK cannot see a token given as an argument).
    let (code, stderr) = healthcheck(&["--listen", addr, "--admin-token", "wrong"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    // Flags before the subcommand count too, and so does --state-file.
    let (code, stderr) = {
        let output = binary()
            .args([
                "--admin-token",
                "s3cret",
                "--state-file",
                &state,
                "healthcheck",
            ])
            .output()
            .expect("run");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _) = healthcheck(
        &[
            "--listen",
            &format!("127.0.0.1:{}", dead_port()),
            "--timeout",
            "2",
        ],
        &[
            ("USERMOCK_STATE_FILE", state.as_str()),
            ("USERMOCK_ADMIN_TOKEN", "s3cret"),
        ],
    );
    assert_eq!(code, Some(1), "--listen typed wins over the state file");
}

#[test]
fn version_names_the_package_version_and_the_git_revision() {
    let output = binary().arg("--version").output().expect("run");
    assert!(output.status.success());
    let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let prefix = format!("usermock {} (", env!("CARGO_PKG_VERSION"));
    let revision = line
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line:?}"));
    let from_git = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match from_git {
        // A checkout: exactly the commit built.
        Some(head) => assert_eq!(revision, head, "{line}"),
        None => assert!(
            revision == "unknown" || revision.chars().all(|c| c.is_ascii_hexdigit()),
            "{line}"
        ),
    }
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let output = binary().args(["completions", shell]).output().expect("run");
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        for word in [
            "usermock",
            "healthcheck",
            "push",
            // fish spells flags `-l listen`.
            "listen",
            "state-file",
        ] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    // The bash script is valid bash.
    let dir = TempDir::new("completions");
    let output = binary()
        .args(["completions", "bash"])
        .output()
        .expect("run");
    dir.write("usermock.bash", &String::from_utf8_lossy(&output.stdout));
    let status = std::process::Command::new("bash")
        .args(["-n", &format!("{}/usermock.bash", dir.path())])
        .status()
        .expect("bash");
    assert!(status.success());
    let output = binary()
        .args(["completions", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

/// A scenario file named `name`, answering 418 to every request.
fn teapot_scenario(name: &str) -> String {
    serde_json::json!({
        "name": name,
        "rules": [{"answer": {"respond": {"status": 418, "text": "teapot"}}}]
    })
    .to_string()
}

#[test]
fn push_uploads_scenarios_and_activates_them_for_everyone_or_one_session() {
    let server = BinaryServer::start(&[]);
    let dir = TempDir::new("push-scenarios");
    dir.write("any-ci-teapot.json", &teapot_scenario("any-ci-teapot"));
    dir.write("notes.txt", "not a scenario; ignored");
    let user = format!("/activity/v2/clients/{SEED_CLIENT}/users/{SEED_USER}");
    assert!(get(&server.base, &user, "activity-admin").starts_with("HTTP/1.1 200"));

    let output = binary()
        .args(["push", "--url", &server.base, "--scenarios", dir.path()])
        .args(["--activate", "any-ci-teapot"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("uploaded scenario"), "{stdout}");
    assert!(
        stdout.contains("activated scenario any-ci-teapot"),
        "{stdout}"
    );
    let response = get(&server.base, &user, "activity-admin");
    assert!(response.starts_with("HTTP/1.1 418"), "{response}");

    // A shipped scenario, for one session only.
    let output = binary()
        .args(["push", "--url", &format!("{}/", server.base)])
        .args(["--activate", "activity-server-error", "--session", "s1"])
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing = get(&server.base, "/__admin/scenarios", "");
    assert!(listing.contains("any-ci-teapot"), "{listing}");
}

#[test]
fn push_reports_what_the_server_refused_and_sends_the_admin_token() {
    let server = BinaryServer::start(&["--admin-token", "s3cret"]);
    let push = |env: &[(&str, &str)], name: &str| {
        let mut command = binary();
        command.args(["push", "--url", &server.base, "--activate", name]);
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().expect("run")
    };
    let output = push(&[], "relesys-server-error");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("answered 401"));
    let output = push(
        &[("USERMOCK_ADMIN_TOKEN", "s3cret")],
        "relesys-server-error",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = push(&[("USERMOCK_ADMIN_TOKEN", "s3cret")], "no-such-scenario");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/__admin/scenarios/no-such-scenario/activate answered 404"),
        "{stderr}"
    );
}

/// A one-shot HTTP server on a free port: answers `status` to the requests
/// it gets and hands each request's head and body to the test.
fn fake_server(status: u16, count: usize) -> (String, std::sync::mpsc::Receiver<(String, String)>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(count) {
            let Ok(mut stream) = stream else { return };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut data = Vec::new();
            let mut buf = [0u8; 65536];
            let (head, body) = loop {
                let Ok(n) = stream.read(&mut buf) else { return };
                if n == 0 {
                    return;
                }
                data.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&data).into_owned();
                let Some(end) = text.find("\r\n\r\n") else {
                    continue;
                };
                let head = text[..end].to_owned();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .and_then(|v| v.trim().parse().ok())
                    })
                    .unwrap_or(0);
                if data.len() >= end + 4 + length {
                    break (head, String::from_utf8_lossy(&data[end + 4..]).into_owned());
                }
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
            );
            let _ = tx.send((head, body));
        }
    });
    (base, rx)
}

#[test]
fn push_sends_every_vendors_fixture_document_in_one_snapshot() {
    let (base, requests) = fake_server(200, 1);
    let dir = TempDir::new("push-fixtures");
    dir.write("activity.json", &fixture_text());
    dir.write("awork.json", &repo_fixture("awork"));
    dir.write("README.txt", "ignored");
    let output = binary()
        .args(["push", "--url", &base, "--fixtures", dir.path()])
        .env("USERMOCK_ADMIN_TOKEN", "s3cret")
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("pushed fixtures for activity, awork"));
    let (head, body) = requests
        .recv_timeout(Duration::from_secs(5))
        .expect("a request");
    assert!(head.starts_with("PUT /__admin/snapshot HTTP/1.1"), "{head}");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(head.contains("x-usermock-admin-token: s3cret"), "{head}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    let expected = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("fixture");
    assert_eq!(body["activity"], expected(&fixture_text()));
    assert_eq!(body["awork"], expected(&repo_fixture("awork")));
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(2),
        "only the vendors given"
    );
}

#[test]
fn push_validates_files_first_and_sends_nothing_when_one_is_broken() {
    let (base, requests) = fake_server(200, 1);
    let dir = TempDir::new("push-broken");
    dir.write(
        "activity.json",
        &fixture_text().replacen("\"mikechang\"", "null", 1),
    );
    let output = binary()
        .args(["push", "--url", &base, "--fixtures", dir.path()])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("at /users/0/username"));
    let scenarios = TempDir::new("push-broken-scenario");
    scenarios.write(
        "bad.json",
        r#"{"name": "bad", "rules": [{"answer": {}}], "extra": 1}"#,
    );
    let output = binary()
        .args(["push", "--url", &base, "--scenarios", scenarios.path()])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        requests.recv_timeout(Duration::from_millis(300)).is_err(),
        "nothing is sent"
    );
    let output = binary()
        .args(["push", "--url", &base])
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(2),
        "nothing to push is a mistake"
    );
}

/// The commands of the README's "Running it" block, run as written: servers
/// start and answer their health check, the other commands exit 0.
#[test]
fn every_command_of_the_readme_running_it_block_works() {
    let readme = repo_file("README.md");
    let section = &readme[readme.find("## Running it").expect("a Running it section")..];
    let start = section
        .find("```sh\nusermock ")
        .expect("a block of usermock commands")
        + "```sh\n".len();
    let block = &section[start..start + section[start..].find("```").expect("block end")];
    // The reader's checkout holds fixtures/ and scenarios/; the folders the
    // block uses are made by the README's own block before it, run here as
    // written (nothing else is prepared).
    let work = TempDir::new("readme-running");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for folder in ["fixtures", "scenarios"] {
        let status = std::process::Command::new("cp")
            .args(["-r"])
            .arg(root.join(folder))
            .arg(work.path())
            .status()
            .expect("cp");
        assert!(status.success(), "copy {folder}");
    }
    let making = readme
        .split("```sh\n")
        .find(|block| block.starts_with("mkdir -p my-fixtures my-scenarios"))
        .and_then(|block| block.split("```").next())
        .expect("README has the block that makes my-fixtures and my-scenarios");
    let made = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", making])
        .current_dir(work.path())
        .output()
        .expect("bash");
    assert!(
        made.status.success(),
        "{making}\n{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let state = format!("{}/usermock.state", work.path());
    let listen = format!("127.0.0.1:{}", dead_port());
    let mut commands = 0;
    for line in block.lines() {
        let command = line.split('#').next().unwrap_or("").trim();
        let Some(args) = command.strip_prefix("usermock") else {
            continue;
        };
        commands += 1;
        let args: Vec<&str> = args.split_whitespace().collect();
        let env = [
            // Port 0 for the lines that do not choose one themselves.
            ("USERMOCK_LISTEN", "127.0.0.1:0"),
            ("USERMOCK_STATE_FILE", state.as_str()),
        ];
        let subcommand = args.first().filter(|a| !a.starts_with('-'));
        if subcommand.is_none() {
            let mut server = start_server_in(work.path(), &args, &env);
            let (code, stderr) = healthcheck(&[], &env);
            assert_eq!(code, Some(0), "`{command}`: {stderr}");
            assert_eq!(server.terminate().code(), Some(0), "`{command}`");
        } else if subcommand == Some(&"healthcheck") {
            let server = start_server_in(work.path(), &[], &env);
            let mut run = binary();
            run.current_dir(work.path()).args(&args).envs(env);
            let output = run.output().expect("run");
            assert!(
                output.status.success(),
                "`{command}`: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            drop(server);
        } else {
            let output = binary()
                .current_dir(work.path())
                .args(&args)
                .env("USERMOCK_LISTEN", &listen)
                .output()
                .expect("run");
            assert!(
                output.status.success(),
                "`{command}`: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    assert!(commands >= 8, "only {commands} commands found in:\n{block}");
}

fn start_server_in(dir: &str, args: &[&str], env: &[(&str, &str)]) -> BinaryServer {
    // The README's relative paths, resolved against `dir`.
    let mut full: Vec<String> = Vec::new();
    for arg in args {
        match arg.strip_prefix("./") {
            Some(rest) => full.push(format!("{dir}/{rest}")),
            None => full.push((*arg).to_owned()),
        }
    }
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    start_server(&full, env)
}

/// A folder beside the repository that its files must not cite (spelled in
/// two parts so this file does not cite it either).
const OUTSIDE: &str = concat!("..", "/shared");

/// What a new user copies must work as is: one image name, published by the
/// release workflow; uploads followed by an activation; every example linked.
#[test]
fn the_ci_examples_use_the_published_image_and_activate_what_they_upload() {
    let readme = repo_file("README.md");
    let examples = [
        "examples/ci/github-actions.yml",
        "examples/ci/github-actions-docker-run.yml",
        "examples/ci/gitlab-ci.yml",
        "examples/ci/docker-compose.yml",
        "examples/ci/testcontainers/tests/usermock.rs",
    ];
    for example in examples {
        assert!(
            readme.contains(&format!("({example})")),
            "README does not link {example}"
        );
        let text = repo_file(example);
        for placeholder in ["your-org", "registry.example.com", OUTSIDE] {
            assert!(!text.contains(placeholder), "{example} has {placeholder}");
        }
        if example != "examples/ci/github-actions-docker-run.yml" {
            assert!(
                text.contains("ghcr.io/usermock/usermock"),
                "{example}: image name"
            );
        }
        // An upload is followed by an activation.
        let uploads =
            text.matches("usermock push").count() + text.matches("/__admin/scenarios").count();
        if uploads > 0 {
            assert!(
                text.contains("--activate") || text.contains("/activate"),
                "{example} uploads scenarios but never activates one"
            );
        }
    }
    let release = repo_file(".github/workflows/release.yml");
    assert!(
        release.contains("ghcr.io"),
        "the release workflow publishes the image"
    );
    assert!(readme.contains("ghcr.io/usermock/usermock"));
    for text in [&readme, &repo_file("Dockerfile")] {
        assert!(
            !text.contains(OUTSIDE),
            "refers to files outside the repository"
        );
    }
    assert!(
        readme.contains("readable by") && readme.contains("65534"),
        "README says mounted files must be readable by the image's user"
    );
}

#[test]
fn the_dockerfile_caches_dependencies_pins_its_base_and_probes_quickly() {
    let dockerfile = repo_file("Dockerfile");
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let build = lines
        .iter()
        .find(|l| l.starts_with("FROM rust:"))
        .expect("a Rust build stage");
    let tag = build
        .trim_start_matches("FROM rust:")
        .split_whitespace()
        .next()
        .unwrap_or("");
    assert!(
        tag.split('-')
            .next()
            .is_some_and(|v| v.split('.').count() == 3)
            && tag.contains("alpine3."),
        "the base is pinned to a Rust and an Alpine release: {build}"
    );
    // Dependencies are fetched before the sources are copied.
    let fetch = lines
        .iter()
        .position(|l| l.contains("cargo fetch"))
        .expect("cargo fetch");
    let sources = lines
        .iter()
        .position(|l| *l == "COPY src ./src")
        .expect("COPY src");
    assert!(fetch < sources);
    assert!(
        dockerfile.contains("--mount=type=cache"),
        "compiled crates are cached"
    );
    assert!(lines.contains(&"COPY build.rs ./"));
    let healthcheck = lines
        .iter()
        .find(|l| l.starts_with("HEALTHCHECK"))
        .expect("HEALTHCHECK");
    assert!(healthcheck.contains("--start-interval=1s"), "{healthcheck}");
    // The state file lives in a /tmp the scratch image brings.
    assert!(lines.contains(&"ENV USERMOCK_STATE_FILE=/tmp/usermock.state"));
    assert!(dockerfile.contains("chmod 1777 /rootfs/tmp"));
    for label in ["title", "source", "licenses", "revision", "version"] {
        assert!(
            dockerfile.contains(&format!("org.opencontainers.image.{label}=")),
            "OCI label {label}"
        );
    }
}

#[test]
fn the_ci_examples_files_pass_check() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/usermock");
    let output = binary()
        .arg("check")
        .arg("--fixtures")
        .arg(root.join("fixtures"))
        .arg("--scenarios")
        .arg(root.join("scenarios"))
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // What the examples activate is what the folder holds.
    for example in [
        "github-actions.yml",
        "github-actions-docker-run.yml",
        "gitlab-ci.yml",
        "docker-compose.yml",
    ] {
        let text = repo_file(&format!("examples/ci/{example}"));
        assert!(text.contains("relesys-slow-login"), "{example}");
    }
    assert!(root.join("scenarios/relesys-slow-login.json").is_file());
}

// ------------------------------------------------------------ limit flags --

/// One request over a fresh connection, as raw bytes: the answer's text.
fn send(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    http(base, &request)
}

fn status_of(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn body_json(response: &str) -> serde_json::Value {
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
}

const RELESYS_USER: &str = "/relesys/api/v1.3/users/6cd99267-5adf-462d-88a2-6f86b7b2a164";

#[test]
fn help_documents_every_limit_with_its_env_var_and_default() {
    let output = binary().arg("--help").output().expect("run");
    let help = String::from_utf8_lossy(&output.stdout);
    let limits = [
        ("--max-body", "USERMOCK_MAX_BODY", "1048576"),
        ("--journal-size", "USERMOCK_JOURNAL_SIZE", "1000"),
        ("--journal-bytes", "USERMOCK_JOURNAL_BYTES", "33554432"),
        ("--max-header-bytes", "USERMOCK_MAX_HEADER_BYTES", "32768"),
        (
            "--header-read-timeout",
            "USERMOCK_HEADER_READ_TIMEOUT",
            "10",
        ),
        ("--body-timeout", "USERMOCK_BODY_TIMEOUT", "30"),
        ("--idle-timeout", "USERMOCK_IDLE_TIMEOUT", "60"),
        ("--max-connections", "USERMOCK_MAX_CONNECTIONS", "1024"),
        ("--max-sessions", "USERMOCK_MAX_SESSIONS", "10000"),
        ("--session-idle", "USERMOCK_SESSION_IDLE", "900"),
        (
            "--max-uploaded-scenarios",
            "USERMOCK_MAX_UPLOADED_SCENARIOS",
            "256",
        ),
        (
            "--max-scenario-bytes",
            "USERMOCK_MAX_SCENARIO_BYTES",
            "16777216",
        ),
        ("--max-record-bytes", "USERMOCK_MAX_RECORD_BYTES", "65536"),
        ("--max-issued-tokens", "USERMOCK_MAX_ISSUED_TOKENS", "10000"),
        ("--drain-timeout", "USERMOCK_DRAIN_TIMEOUT", "10"),
    ];
    for (flag, env, default) in limits {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{flag} ")))
            .unwrap_or_else(|| panic!("{flag} is not in --help:\n{help}"));
        assert!(
            line.contains(&format!("[env: {env}=]"))
                && line.contains(&format!("[default: {default}]")),
            "{line}"
        );
        // docs/limits.md lists it too.
        let limits_doc = repo_file("docs/limits.md");
        assert!(
            limits_doc.contains(&format!("`{flag}")),
            "docs/limits.md lacks {flag}"
        );
        assert!(
            limits_doc.contains(&format!("`{env}`")),
            "docs/limits.md lacks {env}"
        );
    }
    assert!(help.contains("--clock <RFC3339>") && help.contains("[env: USERMOCK_CLOCK=]"));
}

#[test]
fn max_connections_from_the_flag_turns_the_next_connection_away_with_503() {
    let server = start_server(&["--listen", "127.0.0.1:0", "--max-connections", "1"], &[]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let first = TcpStream::connect(&addr).expect("connect");
    std::thread::sleep(Duration::from_millis(200));
    let answer = get(&server.base, "/__admin/health", "");
    assert_eq!(status_of(&answer), 503, "{answer}");
    assert_eq!(body_json(&answer)["error"], "overloaded", "{answer}");
    drop(first);
    // Once the first is gone, the next is served.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let answer = get(&server.base, "/__admin/health", "");
        if status_of(&answer) == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{answer}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn limit_flags_take_effect() {
    let server = start_server(
        &[
            "--listen",
            "127.0.0.1:0",
            "--clock",
            "2030-01-02T03:04:05Z",
            "--max-record-bytes",
            "1500",
            "--max-uploaded-scenarios",
            "1",
            "--max-header-bytes",
            "8192",
            "--header-read-timeout",
            "1",
        ],
        &[],
    );
    // --clock: frozen there.
    let clock = body_json(&get(&server.base, "/__admin/clock", ""));
    assert_eq!(clock["frozen"], true, "{clock}");
    assert!(
        clock["now"]
            .as_str()
            .unwrap_or("")
            .starts_with("2030-01-02T03:04:05"),
        "{clock}"
    );
    // --max-record-bytes: a write that grows the user past it is the vendor's 400.
    let patch = |n: usize| {
        let body = serde_json::json!([{"op": "replace", "path": "/title", "value": "t".repeat(n)}]);
        send(
            &server.base,
            "PATCH",
            RELESYS_USER,
            &[
                ("Authorization", "Bearer relesys-admin"),
                ("Content-Type", "application/json-patch+json"),
            ],
            &body.to_string(),
        )
    };
    let answer = patch(600);
    assert_eq!(status_of(&answer), 400, "{answer}");
    assert!(
        body_json(&answer)["message"]
            .as_str()
            .unwrap_or("")
            .ends_with("the user would grow beyond 1500 bytes"),
        "{answer}"
    );
    assert_eq!(status_of(&patch(10)), 200);
    // --max-uploaded-scenarios: the second upload is refused.
    let upload = |name: &str| {
        send(
            &server.base,
            "POST",
            "/__admin/scenarios",
            &[("Content-Type", "application/json")],
            &teapot_scenario(name),
        )
    };
    assert_eq!(status_of(&upload("any-first")), 201);
    let answer = upload("any-second");
    assert_eq!(status_of(&answer), 409, "{answer}");
    assert_eq!(body_json(&answer)["error"], "too_many_scenarios");
    // --max-header-bytes: a larger head is hyper's 431.
    let big = "a".repeat(10_000);
    let answer = send(
        &server.base,
        "GET",
        "/__admin/health",
        &[("x-big", &big)],
        "",
    );
    assert_eq!(status_of(&answer), 431, "{answer}");
    // --header-read-timeout: a head that never ends is cut off.
    let addr = server.base.trim_start_matches("http://");
    let mut slow = TcpStream::connect(addr).expect("connect");
    slow.set_read_timeout(Some(Duration::from_secs(8)))
        .expect("timeout");
    slow.write_all(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    let started = std::time::Instant::now();
    let mut rest = String::new();
    let _ = slow.read_to_string(&mut rest);
    assert!(!rest.contains(" 200 "), "{rest}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "cut off after {:?}",
        started.elapsed()
    );
}

#[test]
fn limit_env_vars_take_effect() {
    let server = start_server(
        &[],
        &[
            ("USERMOCK_LISTEN", "127.0.0.1:0"),
            ("USERMOCK_JOURNAL_BYTES", "1"),
            ("USERMOCK_MAX_SESSIONS", "1"),
            ("USERMOCK_BODY_TIMEOUT", "1"),
            ("USERMOCK_IDLE_TIMEOUT", "1"),
            ("USERMOCK_CLOCK", "2031-05-06T07:08:09Z"),
            ("USERMOCK_MAX_ISSUED_TOKENS", "1"),
        ],
    );
    // USERMOCK_MAX_ISSUED_TOKENS: a second token drops the first.
    let login = || {
        let answer = send(
            &server.base,
            "POST",
            "/relesys/login/oauth/authorize",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            "grant_type=client_credentials&client_id=0f8fad5b-d9cb-469f-a165-70867728950e&client_secret=relesys-admin-secret&scope=relesys.api",
        );
        assert_eq!(status_of(&answer), 200, "{answer}");
        body_json(&answer)["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let (first, second) = (login(), login());
    assert_eq!(status_of(&get(&server.base, RELESYS_USER, &second)), 200);
    assert_eq!(status_of(&get(&server.base, RELESYS_USER, &first)), 401);
    let user = format!("/activity/v2/clients/{SEED_CLIENT}/users/{SEED_USER}");
    // USERMOCK_JOURNAL_BYTES: only the newest entry fits.
    for _ in 0..3 {
        assert_eq!(status_of(&get(&server.base, &user, "activity-admin")), 200);
    }
    let journal = body_json(&get(&server.base, "/__admin/requests", ""));
    let entries = journal
        .as_array()
        .or_else(|| journal["requests"].as_array())
        .map_or(0, Vec::len);
    assert_eq!(entries, 1, "{journal}");
    // USERMOCK_MAX_SESSIONS: the second session drops the first.
    for session in ["s1", "s2"] {
        let answer = send(
            &server.base,
            "GET",
            "/__admin/activity/users",
            &[("X-Usermock-Session", session)],
            "",
        );
        assert_eq!(status_of(&answer), 200, "{answer}");
    }
    let sessions = get(&server.base, "/__admin/sessions", "");
    assert!(
        sessions.contains("\"s2\"") && !sessions.contains("\"s1\""),
        "{sessions}"
    );
    // USERMOCK_CLOCK.
    let clock = body_json(&get(&server.base, "/__admin/clock", ""));
    assert!(
        clock["now"]
            .as_str()
            .unwrap_or("")
            .starts_with("2031-05-06T07:08:09"),
        "{clock}"
    );
    let addr = server.base.trim_start_matches("http://");
    // USERMOCK_BODY_TIMEOUT: a body that never arrives is the vendor's 408.
    let mut slow = TcpStream::connect(addr).expect("connect");
    slow.set_read_timeout(Some(Duration::from_secs(8)))
        .expect("timeout");
    let head = format!("PATCH {user} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer activity-admin\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"depa");
    slow.write_all(head.as_bytes()).expect("write");
    let started = std::time::Instant::now();
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer);
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert!(
        answer.contains(r#""error":{"code""#),
        "the vendor's envelope: {answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(6));
    // USERMOCK_IDLE_TIMEOUT: a kept-alive connection is closed soon after.
    let mut idle = TcpStream::connect(addr).expect("connect");
    idle.set_read_timeout(Some(Duration::from_secs(8)))
        .expect("timeout");
    idle.write_all(b"GET /__admin/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("write");
    let started = std::time::Instant::now();
    let mut answer = String::new();
    let _ = idle.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "closed after {:?}",
        started.elapsed()
    );
}

#[test]
fn an_empty_admin_token_from_the_flag_or_the_env_var_stops_startup() {
    let from_flag = binary()
        .args(["--listen", "127.0.0.1:0", "--admin-token", ""])
        .output()
        .expect("run");
    let from_env = binary()
        .args(["--listen", "127.0.0.1:0"])
        .env("USERMOCK_ADMIN_TOKEN", "")
        .output()
        .expect("run");
    for output in [from_flag, from_env] {
        assert_eq!(output.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("--admin-token is empty"),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.stdout.is_empty(), "nothing is served");
    }
}

// ------------------------------------------------- check and `$schema` --

#[test]
fn check_lists_every_bad_record_and_names_the_files_it_checked() {
    let mut fixture: serde_json::Value = serde_json::from_str(&fixture_text()).expect("json");
    fixture["$schema"] = "../docs/schemas/activity.fixture.schema.json".into();
    fixture["users"][0]["username"] = serde_json::Value::Null;
    fixture["users"][2]["created_at"] = 5.into();
    fixture["credentials"][1]["token"] = "with space".into();
    let fixtures = TempDir::new("check-every");
    fixtures.write("activity.json", &fixture.to_string());
    let scenarios = TempDir::new("check-every-scenarios");
    let mut scenario: serde_json::Value =
        serde_json::from_str(&teapot_scenario("any-ci-teapot")).expect("json");
    scenario["$schema"] = "../docs/schemas/scenario.schema.json".into();
    scenarios.write("any-ci-teapot.json", &scenario.to_string());
    let output = binary()
        .args([
            "check",
            "--fixtures",
            fixtures.path(),
            "--scenarios",
            scenarios.path(),
        ])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    for place in [
        "activity.json:",
        "at /users/0/username: invalid type: null",
        "at /users/2/created_at: invalid type: integer `5`",
        "at /credentials/1/token: the credential 'with space'",
    ] {
        assert!(stderr.contains(place), "{place} missing:\n{stderr}");
    }
    assert!(stderr.contains("3 problem(s)"), "{stderr}");
    assert!(stdout.contains("3 problem(s)"), "{stdout}");
    let checked = stdout
        .lines()
        .find(|l| l.starts_with("checked fixtures: "))
        .expect("the fixtures checked");
    assert!(
        checked.contains(&format!("{}/activity.json", fixtures.path()))
            && checked.contains("<embedded>/awork.json"),
        "{checked}"
    );
    let checked = stdout
        .lines()
        .find(|l| l.starts_with("checked scenarios: "))
        .expect("the scenarios checked");
    assert!(
        checked.contains(" shipped") && checked.contains("any-ci-teapot.json"),
        "{checked}"
    );

    // `$schema` is allowed at the top of both kinds of file.
    fixtures.write("activity.json", &{
        let mut ok: serde_json::Value = serde_json::from_str(&fixture_text()).expect("json");
        ok["$schema"] = "../docs/schemas/activity.fixture.schema.json".into();
        ok.to_string()
    });
    let output = binary()
        .args([
            "check",
            "--fixtures",
            fixtures.path(),
            "--scenarios",
            scenarios.path(),
        ])
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok: no problems"));
}

#[test]
fn every_published_schema_has_an_id_where_it_is_published_and_allows_dollar_schema() {
    let mut files: Vec<String> = usermock::vendor_names()
        .into_iter()
        .map(|v| format!("{v}.fixture.schema.json"))
        .collect();
    files.push("scenario.schema.json".to_owned());
    for file in files {
        let schema: serde_json::Value =
            serde_json::from_str(&repo_file(&format!("docs/schemas/{file}"))).expect("json");
        assert_eq!(
            schema["$id"],
            format!("{}{file}", usermock::SCHEMA_BASE),
            "{file}"
        );
        assert!(schema["properties"]["$schema"].is_object(), "{file}");
    }
    assert!(usermock::SCHEMA_BASE.ends_with("/docs/schemas/"));
}

// ------------------------------------------------------------------ push --

#[test]
fn push_replaces_the_users_of_a_running_server_with_a_fixture_folders() {
    let server = BinaryServer::start(&["--admin-token", "s3cret"]);
    let mut fixture: serde_json::Value = serde_json::from_str(&fixture_text()).expect("json");
    fixture["$schema"] = "../docs/schemas/activity.fixture.schema.json".into();
    fixture["users"][0]["username"] = "pushed-user".into();
    let users = fixture["users"].as_array().map_or(0, Vec::len);
    let dir = TempDir::new("push-real");
    dir.write("activity.json", &fixture.to_string());
    let output = binary()
        .args(["push", "--url", &server.base, "--fixtures", dir.path()])
        .env("USERMOCK_ADMIN_TOKEN", "s3cret")
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let user = format!("/activity/v2/clients/{SEED_CLIENT}/users/{SEED_USER}");
    let answer = get(&server.base, &user, "activity-admin");
    assert_eq!(body_json(&answer)["username"], "pushed-user", "{answer}");
    let listed = send(
        &server.base,
        "GET",
        "/__admin/activity/users",
        &[("X-Usermock-Admin-Token", "s3cret")],
        "",
    );
    let listed = body_json(&listed);
    let count = listed
        .as_array()
        .or_else(|| listed["users"].as_array())
        .map_or(0, Vec::len);
    assert_eq!(count, users, "{listed}");
}

/// The repository's files stand alone: none cites the files beside it that
/// usermock was first built from; the vendor pages in docs/vendors/ hold
/// the public sources.
#[test]
fn no_repository_file_refers_to_files_outside_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let outside = [
        OUTSIDE,
        concat!("shared", "/seeds"),
        concat!("-update-user", ".txt"),
    ];
    let mut stack: Vec<std::path::PathBuf> = [
        "README.md",
        "docs",
        "src",
        "tests",
        "examples",
        "scenarios",
        "fixtures",
    ]
    .iter()
    .map(|p| root.join(p))
    .collect();
    let mut read = 0;
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir").flatten() {
                stack.push(entry.path());
            }
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // binary files (the screenshot)
        };
        read += 1;
        for needle in outside {
            assert!(
                !text.contains(needle),
                "{} refers to {needle}",
                path.display()
            );
        }
    }
    assert!(read > 50, "only {read} files read");
}

#[test]
fn serving_beyond_loopback_without_an_admin_token_warns_at_startup() {
    use std::io::{BufRead, Read};
    // Bound on every interface (nothing is sent to it): the warning is all
    // this test looks at.
    let mut child = common::binary()
        .args(["--listen", "0.0.0.0:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn usermock");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("listening line");
    assert!(
        line.starts_with("usermock listening on http://0.0.0.0:"),
        "{line}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(
        stderr.contains("beyond loopback without --admin-token"),
        "{stderr}"
    );
    let local = common::BinaryServer::start(&[]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !local.stderr().contains("beyond loopback"),
        "{}",
        local.stderr()
    );
}

#[test]
fn credentials_never_reach_the_logs_even_at_debug() {
    let server =
        common::BinaryServer::start(&["--log", "debug", "--admin-token", "s3cret-admin-token"]);
    let answer = get(
        &server.base,
        &format!("/activity/v2/clients/{SEED_CLIENT}/users/{SEED_USER}"),
        "activity-admin",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    std::thread::sleep(Duration::from_millis(300));
    let logs = server.stderr();
    assert!(logs.contains("request"), "debug logs requests: {logs}");
    for secret in ["s3cret-admin-token", "activity-admin"] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
}
