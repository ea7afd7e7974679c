//! The test harness: usermock started for real, spoken to over HTTP.
//!
//! `TestServer` runs the library in-process on port 0 (fast, one per test);
//! `BinaryServer` runs the built `usermock` binary and reads the address from
//! its stdout line, as a user's CI would. When an assertion fails, the
//! binary's stderr is printed so the failure explains itself.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct TestServer {
    pub base: String,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(usermock::Options::default()).await
    }

    pub async fn start_with(options: usermock::Options) -> TestServer {
        let server = usermock::Usermock::new(&options).expect("fixtures load");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(listener, async move {
            let _ = stopped.await;
        }));
        TestServer {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            stop: Some(stop),
        }
    }

    /// Speaks to a server already listening at `base` (e.g. a
    /// [`BinaryServer`]) with the same helpers; it is not stopped on drop.
    pub fn attach(base: &str) -> TestServer {
        TestServer {
            base: base.to_owned(),
            client: reqwest::Client::new(),
            stop: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request builder for `method path`.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Sends a request; an answer from the admin API is checked against
    /// the admin API's OpenAPI document (every admin answer in the suite).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = request.build().expect("request builds");
        let method = request.method().as_str().to_owned();
        let path = request.url().path().to_owned();
        let answer = Reply::from(self.client.execute(request).await.expect("request sent")).await;
        if path.starts_with("/__admin") {
            check_admin_answer(&method, &path, &answer);
        }
        answer
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Reply {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The repo's own fixture folder.
pub fn repo_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The built binary, started with `args`, address read from stdout.
pub struct BinaryServer {
    pub child: Child,
    pub base: String,
    pub stderr: Arc<Mutex<String>>,
    pub stdout_rest: Arc<Mutex<String>>,
}

/// The built binary, in an environment that no `USERMOCK_*` or `RUST_LOG`
/// variable of the machine running the tests can influence.
pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_usermock"));
    for (name, _) in std::env::vars_os() {
        if name
            .to_str()
            .is_some_and(|n| n.starts_with("USERMOCK_") || n == "RUST_LOG")
        {
            command.env_remove(name);
        }
    }
    command
}

impl BinaryServer {
    pub fn start(args: &[&str]) -> BinaryServer {
        let mut child = binary()
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn usermock");
        let stderr = Arc::new(Mutex::new(String::new()));
        drain(child.stderr.take().expect("stderr"), Arc::clone(&stderr));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("read stdout");
        let base = first
            .trim()
            .strip_prefix("usermock listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first stdout line {first:?}; stderr:\n{}",
                    stderr.lock().map(|s| s.clone()).unwrap_or_default()
                )
            })
            .to_owned();
        let stdout_rest = Arc::new(Mutex::new(String::new()));
        drain(stdout.into_inner(), Arc::clone(&stdout_rest));
        BinaryServer {
            child,
            base,
            stderr,
            stdout_rest,
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "usermock did not exit within 5 s of SIGTERM; stderr:\n{}",
            self.stderr()
        );
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- usermock stderr ----\n{}", self.stderr());
        }
    }
}

fn drain(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut s) = into.lock() {
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    });
}

/// A scratch folder removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("usermock-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    pub fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The admin API's OpenAPI document, as the server serves it (the vendor
/// keys filled in from the registry).
pub fn admin_openapi() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(usermock::admin_openapi()).expect("openapi.json is JSON")
    })
}

/// The document's path template for a concrete admin path.
fn admin_template(path: &str) -> Option<String> {
    let doc = admin_openapi();
    let want: Vec<&str> = path.split('/').collect();
    let paths = doc["paths"].as_object()?;
    let mut best: Option<(usize, String)> = None;
    for template in paths.keys() {
        let have: Vec<&str> = template.split('/').collect();
        if have.len() != want.len() {
            continue;
        }
        let fits = have
            .iter()
            .zip(&want)
            .all(|(h, w)| (h.starts_with('{') && !w.is_empty()) || h == w);
        let literals = have.iter().filter(|h| !h.starts_with('{')).count();
        if fits && best.as_ref().is_none_or(|(n, _)| literals > *n) {
            best = Some((literals, template.clone()));
        }
    }
    best.map(|(_, t)| t)
}

/// A JSON pointer segment, percent-encoded for use in a URI fragment.
fn escape(segment: &str) -> String {
    segment
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// Panics unless `answer` is what the OpenAPI document says `method path`
/// answers with its status: a documented status, and (for JSON) a body
/// that validates against the documented schema.
pub fn check_admin_answer(method: &str, path: &str, answer: &Reply) {
    let doc = admin_openapi();
    let status = answer.status.as_u16().to_string();
    let method = method.to_ascii_lowercase();
    let template = admin_template(path);
    let operation = template
        .as_ref()
        .map(|t| &doc["paths"][t][&method])
        .filter(|o| o.is_object());
    // Outside the documented routes and methods only the generic answers
    // can come: 404 for an unknown route, 405 for an unknown method.
    let (mut response, mut pointer) = match (operation, status.as_str()) {
        (Some(operation), _) => (
            &operation["responses"][&status],
            format!(
                "#/paths/{}/{method}/responses/{status}",
                escape(template.as_deref().unwrap_or_default())
            ),
        ),
        (None, "404") if template.is_none() => (
            &doc["components"]["responses"]["NotFound"],
            "#/components/responses/NotFound".to_owned(),
        ),
        (None, "405") if template.is_some() => (
            &doc["components"]["responses"]["MethodNotAllowed"],
            "#/components/responses/MethodNotAllowed".to_owned(),
        ),
        _ => panic!("{method} {path} answered {status}, and the admin OpenAPI document has no such route: {}", answer.text),
    };
    if response.is_null() {
        panic!(
            "{method} {path} answered {status}, which the OpenAPI document does not list: {}",
            answer.text
        );
    }
    if let Some(reference) = response["$ref"].as_str() {
        pointer = reference.to_owned();
        let path = reference
            .trim_start_matches("#/")
            .split('/')
            .collect::<Vec<_>>();
        response = path.iter().fold(doc, |v, k| &v[*k]);
    }
    if response["content"]["application/json"].is_null() {
        return;
    }
    let body: Value = serde_json::from_str(&answer.text)
        .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {}", answer.text));
    let mut schema = doc.clone();
    schema["$ref"] = Value::String(format!("{pointer}/content/application~1json/schema"));
    let validator = jsonschema::validator_for(&schema).expect("the OpenAPI schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} ({status}) does not match the OpenAPI document:\n{}\nbody: {}",
        errors.join("\n"),
        answer.text
    );
}

/// Whether `stderr` lists the problem `expected` ("FILE at /pointer: what")
/// with its line and column: "FILE:LINE:COLUMN at /pointer: what".
pub fn lists_problem_with_place(stderr: &str, expected: &str) -> bool {
    let Some((file, rest)) = expected.split_once(" at ") else {
        return false;
    };
    stderr.lines().any(|line| {
        let Some(start) = line.find(&format!("{file}:")) else {
            return false;
        };
        let after = &line[start + file.len() + 1..];
        let Some((place, tail)) = after.split_once(' ') else {
            return false;
        };
        let mut numbers = place.split(':');
        let numeric = |n: Option<&str>| {
            n.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        numeric(numbers.next())
            && numeric(numbers.next())
            && numbers.next().is_none()
            && tail.starts_with(&format!("at {rest}"))
    })
}

/// Registered vendors that are examples, not shipped (`USERMOCK_EXAMPLE_VENDORS`,
/// comma-separated; only `.ci/fifth-vendor` sets it): the README, the CI
/// examples and docs/scenarios.md need not list them.
pub fn example_vendors() -> Vec<String> {
    std::env::var("USERMOCK_EXAMPLE_VENDORS")
        .unwrap_or_default()
        .split(',')
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect()
}

/// A restore's `users` counts: the shipped vendors' as given, plus each
/// example vendor's from the snapshot restored (a restore covers every
/// registered vendor the snapshot names).
pub fn users_restored(
    shipped: serde_json::Value,
    snapshot: &serde_json::Value,
) -> serde_json::Value {
    let mut users = shipped;
    for vendor in example_vendors() {
        if let Some(list) = snapshot[&vendor]["users"].as_array() {
            users[&vendor] = serde_json::json!(list.len());
        }
    }
    users
}

/// A file of the repository, as text (panics naming it when unreadable).
pub fn repo_file(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `GET /__admin/health`'s `api_bases`: the base URL the README gives each
/// shipped vendor, and for an example vendor ([`example_vendors`]) the one
/// it declares. A newly registered vendor fails here until its README base
/// is added.
pub fn expected_api_bases() -> Value {
    const DOCUMENTED: [(&str, &str); 4] = [
        ("activity", "/activity/v2"),
        ("awork", "/awork/api/v1"),
        ("relesys", "/relesys/api/v1.3"),
        ("replay", "/replay"),
    ];
    let examples = example_vendors();
    let server = usermock::Usermock::new(&usermock::Options::default()).expect("default server");
    let bases: serde_json::Map<String, Value> = server
        .vendor_bases()
        .into_iter()
        .map(|(name, base)| {
            let documented = DOCUMENTED.iter().find(|(n, _)| *n == name);
            let value = match documented {
                Some((_, url)) => (*url).to_owned(),
                None if examples.iter().any(|e| e == name) => format!("/{name}{base}"),
                None => panic!(
                    "tests/it/common/mod.rs: add the README's base URL of '{name}' to expected_api_bases"
                ),
            };
            (name.to_owned(), Value::from(value))
        })
        .collect();
    Value::Object(bases)
}
