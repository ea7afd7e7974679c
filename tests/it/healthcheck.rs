//! `usermock healthcheck`: each server keeps its own record, a stopped
//! server never reads as healthy, the check names the server it probed, and
//! liveness needs no admin token.

use std::io::{Read, Write};
use std::process::Command;

use crate::binary::{dead_port, start_server};
use crate::common::{binary, TempDir};

/// `usermock healthcheck` with a private temporary directory (where the
/// default records live) and `env`: (exit code, stdout, stderr).
fn check(tmp: &str, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut command: Command = binary();
    command
        .arg("healthcheck")
        .args(args)
        .env("TMPDIR", tmp)
        .env_remove("USERMOCK_LISTEN")
        .env_remove("USERMOCK_STATE_FILE")
        .env_remove("USERMOCK_ADMIN_TOKEN");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run healthcheck");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn records(tmp: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(tmp)
        .expect("tmp")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.starts_with("usermock-") && n.ends_with(".state"))
        .collect();
    names.sort();
    names
}

#[test]
fn servers_sharing_an_environment_keep_their_own_records_and_stopping_one_leaves_the_other() {
    let tmp = TempDir::new("health-two");
    let env = [("TMPDIR", tmp.path())];
    let mut first = start_server(&["--listen", "127.0.0.1:0"], &env);
    let mut second = start_server(&["--listen", "127.0.0.1:0"], &env);
    assert_eq!(records(tmp.path()).len(), 2, "{:?}", records(tmp.path()));

    let (code, stdout, stderr) = check(tmp.path(), &[], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let second_addr = second.base.trim_start_matches("http://").to_owned();
    assert!(
        stdout.contains(&format!("{second_addr}/__admin/live is up")),
        "the newest server is probed and named: {stdout}"
    );

    assert_eq!(second.terminate().code(), Some(0));
    assert_eq!(
        records(tmp.path()).len(),
        1,
        "the first server's record stays"
    );
    let (code, stdout, stderr) = check(tmp.path(), &[], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let first_addr = first.base.trim_start_matches("http://").to_owned();
    assert!(
        stdout.contains(&format!("{first_addr}/__admin/live is up")),
        "{stdout}"
    );
    assert_eq!(first.terminate().code(), Some(0));
    assert!(records(tmp.path()).is_empty());
}

#[test]
fn a_stopped_server_never_reads_as_healthy_through_another_server_on_the_default_port() {
    // Something healthy-looking on the built-in default address, if the
    // port is free (if it is taken, something already answers there).
    let stand_in = std::net::TcpListener::bind("127.0.0.1:8080").ok();
    if let Some(listener) = stand_in {
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\nconnection: close\r\n\r\n{\"status\":\"up\"}",
                );
            }
        });
    }
    let tmp = TempDir::new("health-stopped");
    let env = [("TMPDIR", tmp.path())];
    let mut server = start_server(&["--listen", "127.0.0.1:0"], &env);
    let (code, _, stderr) = check(tmp.path(), &[], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(server.terminate().code(), Some(0));

    let (code, stdout, stderr) = check(tmp.path(), &["--timeout", "2"], &[]);
    assert_eq!(code, Some(1), "stopped, yet healthy: {stdout}");
    assert!(
        stderr.contains("no running usermock is recorded in"),
        "{stderr}"
    );

    // Killed without cleaning up: the record names a process that is gone.
    let mut killed = start_server(&["--listen", "127.0.0.1:0"], &env);
    killed.child.kill().expect("kill");
    killed.child.wait().expect("wait");
    let (code, _, stderr) = check(tmp.path(), &["--timeout", "2"], &[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("is not running"), "{stderr}");
}

#[test]
fn liveness_needs_no_admin_token_and_says_nothing_but_up() {
    let tmp = TempDir::new("health-token");
    let state = format!("{}/usermock.state", tmp.path());
    // As in a container: the token is an argument the HEALTHCHECK cannot see.
    let server = start_server(
        &["--listen", "127.0.0.1:0", "--admin-token", "s3cret"],
        &[("USERMOCK_STATE_FILE", state.as_str())],
    );
    let (code, stdout, stderr) = check(
        tmp.path(),
        &[],
        &[
            ("USERMOCK_STATE_FILE", state.as_str()),
            ("USERMOCK_LISTEN", &format!("0.0.0.0:{}", dead_port())),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("recorded by process"), "{stdout}");

    let live = raw::get(&format!("{}/__admin/live", server.base));
    assert_eq!(live, (200, r#"{"status":"up"}"#.to_owned()));
    let health = raw::get(&format!("{}/__admin/health", server.base));
    assert_eq!(
        health.0, 401,
        "the rest of the admin API still needs the token"
    );
}

/// A plain blocking GET over the binary tests' raw HTTP helper: (status, body).
mod raw {
    pub fn get(url: &str) -> (u16, String) {
        let rest = url.strip_prefix("http://").expect("http URL");
        let (host, path) = rest.split_at(rest.find('/').expect("a path"));
        let answer = crate::binary::http(
            &format!("http://{host}"),
            &format!("GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"),
        );
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status");
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}
