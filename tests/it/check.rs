//! `usermock check`: one pass finds every problem of a file (type,
//! duplicate and reference problems alike), each with FILE:LINE:COLUMN, in
//! file order, with a suggestion for a misspelt member; and it prints no
//! server loading lines.

use serde_json::Value;

use crate::common::{binary, repo_fixtures, TempDir};

/// The activity fixture with four mistakes of three kinds, in file order:
/// an unknown member of the first user, a misspelt member, a duplicate id
/// and a department nobody has, all in the last user.
fn broken_fixture() -> String {
    let text = std::fs::read_to_string(repo_fixtures().join("activity.json")).expect("fixture");
    let mut doc: Value = serde_json::from_str(&text).expect("json");
    let users = doc["users"].as_array_mut().expect("users");
    users[0]["email"] = Value::from("ann@example.com");
    let mut extra = users[1].clone();
    extra["id"] = users[2]["id"].clone();
    extra["departments"] = serde_json::json!(["00000000-0000-4000-8000-0000000000ff"]);
    extra["usernme"] = Value::from("x");
    users.push(extra);
    serde_json::to_string_pretty(&doc).expect("text")
}

#[test]
fn one_pass_lists_every_problem_with_its_line_and_column_in_file_order() {
    let dir = TempDir::new("check-one-pass");
    let text = broken_fixture();
    let file = dir.write("activity.json", &text);
    let output = binary()
        .args(["check", "--fixtures", dir.path()])
        .env_remove("USERMOCK_LOG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let doc: Value = serde_json::from_str(&text).expect("json");
    let last = doc["users"].as_array().expect("users").len() - 1;
    let dup = doc["users"][last]["id"].as_str().expect("id").to_owned();
    // The line of each place, found in the text the way a reader would.
    let line_of = |needle: &str, nth: usize| {
        text.lines()
            .enumerate()
            .filter(|(_, l)| l.contains(needle))
            .nth(nth)
            .map(|(i, l)| (i + 1, l.find(needle).expect("column") + 1))
            .expect(needle)
    };
    let file = file.display().to_string();
    let (l1, c1) = line_of("\"email\"", 0);
    let (l2, c2) = line_of(&format!("\"id\": \"{dup}\""), 1);
    let (l3, c3) = line_of("\"00000000-0000-4000-8000-0000000000ff\"", 0);
    let (l4, c4) = line_of("\"usernme\"", 0);
    let members = "expected one of `id`, `client_id`, `username`, `user_key`, `last_activity`, `departments`, `created_at`, `updated_at`";
    let expected = [
        "usermock check: 4 problem(s):".to_owned(),
        format!("  {file}:{l1}:{c1} at /users/0/email: unknown field `email`, {members}"),
        format!("  {file}:{l2}:{c2} at /users/{last}/id: duplicate user id '{dup}'"),
        format!("  {file}:{l3}:{c3} at /users/{last}/departments/0: no department has id '00000000-0000-4000-8000-0000000000ff'"),
        format!("  {file}:{l4}:{c4} at /users/{last}/usernme: unknown field `usernme`, {members}; did you mean `username`?"),
        String::new(),
    ]
    .join("\n");
    assert_eq!(stderr, expected);
}

#[test]
fn client_subcommands_print_no_server_loading_lines() {
    let output = binary()
        .arg("check")
        .env_remove("USERMOCK_LOG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run");
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr, "", "check's stderr carries only problems");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.ends_with("ok: no problems\n"), "{stdout}");
}
