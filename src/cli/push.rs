//! `usermock push`: bring a running usermock (a CI service container started
//! before the checkout) up to the repo's files, over the admin API only.
//!
//! 1. validate the files locally, as the server would at startup: nothing is
//!    sent when one is broken (exit 2);
//! 2. `PUT /__admin/snapshot` with `{"<vendor>": <fixture document>, …}` for
//!    every `<vendor>.json` of `--fixtures`;
//! 3. `POST /__admin/scenarios` with each scenario file of `--scenarios`;
//! 4. `POST /__admin/scenarios/{name}/activate` for each `--activate` name
//!    (with `X-Usermock-Session` when `--session` is given).
//!
//! Any answer other than 2xx stops the push (exit 1) and prints it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use hyper::Method;

use super::client;

/// Exit code for a file mistake found before anything is sent.
const EXIT_BAD_INPUT: u8 = 2;

/// What to push, and where.
pub struct Push {
    pub url: String,
    pub fixtures: Option<PathBuf>,
    pub scenarios: Option<PathBuf>,
    pub activate: Vec<String>,
    pub session: Option<String>,
    pub admin_token: Option<String>,
    pub timeout: Duration,
}

/// One admin call, prepared.
struct Step {
    method: Method,
    path: String,
    json: Option<Bytes>,
    /// What to print once it succeeded.
    done: String,
}

pub fn run(push: &Push) -> ExitCode {
    if push.fixtures.is_none() && push.scenarios.is_none() && push.activate.is_empty() {
        eprintln!("usermock push: nothing to push: give --fixtures, --scenarios or --activate");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let steps = match prepare(push) {
        Ok(steps) => steps,
        Err(message) => {
            eprintln!("usermock push: {message}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("usermock push: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let base = push.url.trim_end_matches('/');
    for step in steps {
        let url = format!("{base}{}", step.path);
        let call = client::Call {
            method: step.method.clone(),
            url: &url,
            admin_token: push.admin_token.as_deref(),
            session: push.session.as_deref(),
            json: step.json,
        };
        let answer = runtime
            .block_on(async { tokio::time::timeout(push.timeout, client::send(call)).await });
        match answer {
            Ok(Ok(response)) if (200..300).contains(&response.status) => {
                println!("{}", step.done);
            }
            Ok(Ok(response)) => {
                eprintln!(
                    "usermock push: {} {url} answered {}: {}",
                    step.method,
                    response.status,
                    response.body_excerpt(2000)
                );
                return ExitCode::FAILURE;
            }
            Ok(Err(err)) => {
                eprintln!("usermock push: {} {url}: {err}", step.method);
                return ExitCode::FAILURE;
            }
            Err(_) => {
                eprintln!(
                    "usermock push: {} {url}: no answer within {:?}",
                    step.method, push.timeout
                );
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// Validates the files and turns them into admin calls, in order.
fn prepare(push: &Push) -> Result<Vec<Step>, String> {
    // The server's own loader judges the files, with the same messages as
    // `usermock check`.
    let options = usermock::Options {
        fixtures: push.fixtures.clone(),
        scenarios: push.scenarios.clone(),
        ..usermock::Options::default()
    };
    usermock::Usermock::new(&options).map_err(|err| err.to_string())?;
    let mut steps = Vec::new();
    if let Some(dir) = &push.fixtures {
        steps.push(snapshot(dir)?);
    }
    if let Some(path) = &push.scenarios {
        for file in scenario_files(path)? {
            let text = read(&file)?;
            steps.push(Step {
                method: Method::POST,
                path: "/__admin/scenarios".to_owned(),
                json: Some(Bytes::from(text)),
                done: format!("uploaded scenario {}", file.display()),
            });
        }
    }
    for name in push
        .activate
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
    {
        steps.push(Step {
            method: Method::POST,
            path: format!("/__admin/scenarios/{}/activate", client::path_segment(name)),
            json: None,
            done: match &push.session {
                Some(session) => format!("activated scenario {name} for session {session}"),
                None => format!("activated scenario {name}"),
            },
        });
    }
    Ok(steps)
}

/// `PUT /__admin/snapshot` with every vendor's fixture document in `dir`.
fn snapshot(dir: &Path) -> Result<Step, String> {
    let known = usermock::vendor_names();
    let mut documents = serde_json::Map::new();
    for file in json_files(dir)? {
        let Some(vendor) = file.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if !known.contains(&vendor) {
            continue;
        }
        let text = read(&file)?;
        let document: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", file.display(), e.line(), e.column()))?;
        documents.insert(vendor.to_owned(), document);
    }
    if documents.is_empty() {
        return Err(format!(
            "no fixture file in {} (expected <vendor>.json, vendors: {})",
            dir.display(),
            known.join(", ")
        ));
    }
    let vendors: Vec<&str> = documents.keys().map(String::as_str).collect();
    let done = format!("pushed fixtures for {}", vendors.join(", "));
    let body = serde_json::to_vec(&serde_json::Value::Object(documents))
        .map_err(|e| format!("cannot encode the snapshot: {e}"))?;
    Ok(Step {
        method: Method::PUT,
        path: "/__admin/snapshot".to_owned(),
        json: Some(Bytes::from(body)),
        done,
    })
}

/// A scenario file, or the `.json` files of a folder in name order (as the
/// server loads them).
fn scenario_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_dir() {
        json_files(path)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        if path.is_file() && path.extension().and_then(|e| e.to_str()) == Some("json") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn read(file: &Path) -> Result<String, String> {
    std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
}
