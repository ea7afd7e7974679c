//! docs/admin-api.md's examples are real answers: every `sh` block on the
//! page is run, as written, against a fresh usermock with the embedded
//! fixtures, in the order of the page (as a reader following it would), and
//! every answer it documents is compared with the one usermock gives.
//!
//! What the page may write, and what this module reads:
//!
//! - A `sh` block holds `curl` commands (`-i`, `-g`, `-X`, `-H`, `-d`,
//!   `--data-binary`, `@file`, `> file`; `\` continues a line). A command's
//!   answer is the comment line under it: `# → STATUS`, then its JSON body
//!   on the same line, or a header (`Location: /x`) for a bodiless answer;
//!   any text after the JSON is prose. A command without an answer line must
//!   succeed (below 400).
//! - In a documented JSON answer, `"…"` stands for any value, an array
//!   ending in `"…"` for those first items and maybe more, and a member
//!   `"…": "…"` for more members. Volatile members ([`VOLATILE`], and `now`
//!   of a running clock) are compared by type only.
//! - `<!-- run against: usermock --admin-token TOKEN -->` before a block runs
//!   it against its own fresh server started with that token.
//! - `<!-- answer: /json/pointer -->` before a `json` block: the block is
//!   that part of the previous command's answer.
//!
//! The page shows the shipped vendors: when an example vendor is registered
//! too (`.ci/fifth-vendor`), its members and names are left out of the
//! answers before they are compared.
//!
//! A stale answer fails the test; `USERMOCK_BLESS=1 cargo test --test it
//! admin_docs` writes the real ones in place (keeping the page's `…`).

use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};

use crate::common::{self, TempDir, TestServer};

/// Members whose values change from run to run: times and durations.
const VOLATILE: &[&str] = &[
    "at",
    "received_at",
    "created_at",
    "idle_seconds",
    "duration_ms",
    "duration_us",
    "user-agent",
];

const ELIDED: &str = "…";

const DOC: &str = "docs/admin-api.md";

/// The address every example on the page uses; the test swaps in its own.
const DOC_BASE: &str = "http://127.0.0.1:8080";

/// A documented answer: `# → STATUS ...`.
#[derive(Debug)]
struct Expect {
    status: u16,
    /// Byte range of the status digits in the page.
    status_at: (usize, usize),
    /// The documented body and its byte range in the page.
    json: Option<(Value, (usize, usize))>,
    /// A header the answer must carry (`Location: /__admin/ui`).
    header: Option<(String, String)>,
}

#[derive(Debug, Default)]
struct Command {
    words: Vec<String>,
    redirect: Option<String>,
    expect: Option<Expect>,
    line: usize,
}

#[derive(Debug)]
enum Block {
    Shell {
        commands: Vec<Command>,
        admin_token: Option<String>,
    },
    /// `<!-- answer: POINTER -->` and the `json` block under it.
    Answer {
        pointer: String,
        json: Value,
        at: (usize, usize),
        line: usize,
    },
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// The page's blocks, in order.
fn blocks(doc: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    let mut pos = 0;
    let mut lines = doc.split_inclusive('\n');
    while let Some(line) = lines.next() {
        let start = pos;
        pos += line.len();
        let trimmed = line.trim();
        if let Some(comment) = trimmed
            .strip_prefix("<!--")
            .and_then(|c| c.strip_suffix("-->"))
        {
            marker = Some(comment.trim().to_owned());
            continue;
        }
        let Some(lang) = trimmed.strip_prefix("```") else {
            if !trimmed.is_empty() {
                marker = None;
            }
            continue;
        };
        let lang = lang.trim().to_owned();
        let body_start = pos;
        let mut body_end = pos;
        for inner in lines.by_ref() {
            pos += inner.len();
            if inner.trim() == "```" {
                break;
            }
            body_end = pos;
        }
        let body = &doc[body_start..body_end];
        let taken = marker.take();
        match lang.as_str() {
            "sh" => {
                let admin_token = taken.as_deref().and_then(|m| {
                    let rest = m.strip_prefix("run against: usermock ")?;
                    let token = rest.strip_prefix("--admin-token ")?;
                    Some(token.trim().to_owned())
                });
                if let Some(m) = &taken {
                    assert!(
                        admin_token.is_some(),
                        "{DOC}:{}: unknown marker before a sh block: <!-- {m} -->",
                        line_of(doc, start)
                    );
                }
                out.push(Block::Shell {
                    commands: shell(doc, body_start, body),
                    admin_token,
                });
            }
            "json" => {
                if let Some(pointer) = taken.as_deref().and_then(|m| m.strip_prefix("answer:")) {
                    let json = serde_json::from_str(body).unwrap_or_else(|e| {
                        panic!(
                            "{DOC}:{}: the answer block is not JSON: {e}",
                            line_of(doc, body_start)
                        )
                    });
                    out.push(Block::Answer {
                        pointer: pointer.trim().to_owned(),
                        json,
                        at: (body_start, body_end),
                        line: line_of(doc, body_start),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// The commands of a `sh` block (`base` is the block's place in the page).
fn shell(doc: &str, base: usize, body: &str) -> Vec<Command> {
    let mut commands: Vec<Command> = Vec::new();
    let mut current = Command::default();
    let mut word = String::new();
    let mut in_word = false;
    let mut redirect_next = false;
    let mut chars = body.char_indices().peekable();
    let place = |at: usize| format!("{DOC}:{}", line_of(doc, base + at));
    let end_word =
        |word: &mut String, in_word: &mut bool, current: &mut Command, redirect_next: &mut bool| {
            if *in_word {
                if *redirect_next {
                    current.redirect = Some(std::mem::take(word));
                    *redirect_next = false;
                } else {
                    current.words.push(std::mem::take(word));
                }
                *in_word = false;
            }
        };
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, '\n')) => {}
                Some((_, next)) => {
                    word.push(next);
                    in_word = true;
                }
                None => {}
            },
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, ch)) => word.push(ch),
                        None => panic!("{}: unclosed '", place(at)),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, ch @ ('"' | '\\' | '$' | '`'))) => word.push(ch),
                            Some((_, ch)) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => panic!("{}: unclosed \"", place(at)),
                        },
                        Some((_, ch @ ('$' | '`'))) => {
                            panic!("{}: {ch} in double quotes is not supported here", place(at))
                        }
                        Some((_, ch)) => word.push(ch),
                        None => panic!("{}: unclosed \"", place(at)),
                    }
                }
            }
            '#' if !in_word => {
                let line_end = body[at..].find('\n').map_or(body.len(), |i| at + i);
                let comment = &body[at..line_end];
                while chars.peek().is_some_and(|(i, _)| *i < line_end) {
                    chars.next();
                }
                if let Some(rest) = comment.strip_prefix("# →") {
                    let offset = base + at + "# →".len();
                    let expect = expectation(rest, offset, &place(at));
                    let target = if current.words.is_empty() {
                        commands.last_mut()
                    } else {
                        Some(&mut current)
                    };
                    let Some(target) = target else {
                        panic!("{}: an answer with no command above it", place(at));
                    };
                    assert!(
                        target.expect.is_none(),
                        "{}: one answer line per command",
                        place(at)
                    );
                    target.expect = Some(expect);
                }
            }
            ' ' | '\t' => end_word(&mut word, &mut in_word, &mut current, &mut redirect_next),
            '\n' => {
                end_word(&mut word, &mut in_word, &mut current, &mut redirect_next);
                if !current.words.is_empty() {
                    commands.push(std::mem::take(&mut current));
                }
            }
            '>' if !in_word => redirect_next = true,
            '|' | '&' | ';' | '<' | '$' | '`' | '(' | ')' => {
                panic!("{}: `{c}` is not supported in an example", place(at))
            }
            _ => {
                if current.words.is_empty() && !in_word {
                    current.line = line_of(doc, base + at);
                }
                word.push(c);
                in_word = true;
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut current, &mut redirect_next);
    if !current.words.is_empty() {
        commands.push(current);
    }
    commands
}

/// `STATUS [JSON | Header: value] [prose]` after `# →`; `offset` is where
/// `rest` starts in the page.
fn expectation(rest: &str, offset: usize, place: &str) -> Expect {
    let skipped = rest.len() - rest.trim_start().len();
    let text = rest.trim_start();
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let status: u16 = text[..digits]
        .parse()
        .unwrap_or_else(|_| panic!("{place}: `# →` needs a status"));
    let status_at = (offset + skipped, offset + skipped + digits);
    let after = &text[digits..];
    let lead = after.len() - after.trim_start().len();
    let after = after.trim_start();
    let body_at = status_at.1 + lead;
    let mut json = None;
    let mut header = None;
    if after.starts_with('{') || after.starts_with('[') {
        let mut stream = serde_json::Deserializer::from_str(after).into_iter::<Value>();
        let value = match stream.next() {
            Some(Ok(value)) => value,
            other => panic!("{place}: the documented answer is not JSON: {other:?}"),
        };
        json = Some((value, (body_at, body_at + stream.byte_offset())));
    } else if let Some((name, value)) = after.split_once(": ") {
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            header = Some((name.to_owned(), value.trim().to_owned()));
        }
    }
    Expect {
        status,
        status_at,
        json,
        header,
    }
}

/// What one command got.
struct Got {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

/// Runs one curl command as curl would send it.
async fn run(
    server: &TestServer,
    client: &reqwest::Client,
    command: &Command,
    files: &TempDir,
) -> Got {
    let place = format!("{DOC}:{}", command.line);
    let mut words = command.words.iter();
    assert_eq!(
        words.next().map(String::as_str),
        Some("curl"),
        "{place}: only curl commands are run"
    );
    let mut method: Option<String> = None;
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut data: Option<Vec<u8>> = None;
    let mut url: Option<String> = None;
    let mut globoff = false;
    while let Some(word) = words.next() {
        let mut value = || {
            words
                .next()
                .unwrap_or_else(|| panic!("{place}: {word} needs a value"))
                .clone()
        };
        match word.as_str() {
            "-i" | "--include" | "-s" | "--silent" | "-sS" => {}
            "-g" | "--globoff" => globoff = true,
            "-X" | "--request" => method = Some(value()),
            "-H" | "--header" => {
                let header = value();
                let (name, val) = header
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{place}: header without a colon: {header}"));
                headers.push((name.trim().to_owned(), val.trim().to_owned()));
            }
            "-d" | "--data" | "--data-binary" => {
                let raw = value();
                let mut bytes = match raw.strip_prefix('@') {
                    Some(file) => std::fs::read(resolve(files, file))
                        .unwrap_or_else(|e| panic!("{place}: read {file}: {e}")),
                    None => raw.clone().into_bytes(),
                };
                if word != "--data-binary" && raw.starts_with('@') {
                    // curl -d @file drops the file's line breaks.
                    bytes.retain(|b| *b != b'\n' && *b != b'\r');
                }
                data = Some(bytes);
            }
            other if other.starts_with('-') => {
                panic!("{place}: curl option {other} is not supported here")
            }
            other => {
                assert!(url.is_none(), "{place}: two URLs");
                url = Some(other.to_owned());
            }
        }
    }
    let url = url.unwrap_or_else(|| panic!("{place}: no URL"));
    let path = url
        .strip_prefix(DOC_BASE)
        .unwrap_or_else(|| panic!("{place}: examples use {DOC_BASE}, not {url}"));
    assert!(
        globoff || !path.contains(['{', '}', '[', ']']),
        "{place}: curl reads {{}} and [] in a URL as a glob: percent-encode them or add -g"
    );
    let method = method.unwrap_or_else(|| if data.is_some() { "POST" } else { "GET" }.to_owned());
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    // The headers curl sends by itself, unless the command sets them.
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut request = client
        .request(method.clone(), server.url(path))
        .header("Host", "127.0.0.1:8080");
    if !has("user-agent") {
        request = request.header("User-Agent", "curl/8.5.0");
    }
    if !has("accept") {
        request = request.header("Accept", "*/*");
    }
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if let Some(data) = data {
        if !has("content-type") {
            request = request.header("Content-Type", "application/x-www-form-urlencoded");
        }
        request = request.body(data);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{place}: {e}"));
    let got = Got {
        status: response.status(),
        headers: response.headers().clone(),
        text: response.text().await.expect("body"),
    };
    if path.starts_with("/__admin") {
        let answer = common::Reply {
            status: got.status,
            headers: got.headers.clone(),
            text: got.text.clone(),
        };
        let route = path.split('?').next().unwrap_or(path);
        common::check_admin_answer(method.as_str(), route, &answer);
    }
    if let Some(file) = &command.redirect {
        std::fs::write(files.0.join(file), &got.text).expect("write the redirected answer");
    }
    got
}

/// A file an example names: one an earlier example wrote, else the repo's.
fn resolve(files: &TempDir, name: &str) -> PathBuf {
    let written = files.0.join(name);
    if written.exists() {
        written
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
    }
}

/// Whether `actual` is what the page documents; the first difference.
fn differs(doc: &Value, actual: &Value, at: &str) -> Option<String> {
    if doc == ELIDED {
        return None;
    }
    match (doc, actual) {
        (Value::Array(want), Value::Array(got)) => {
            let open = want.last().is_some_and(|v| v == ELIDED);
            let shown = if open {
                &want[..want.len() - 1]
            } else {
                &want[..]
            };
            if got.len() < shown.len() || (!open && got.len() != shown.len()) {
                return Some(format!(
                    "{at}: {} items, the page shows {}",
                    got.len(),
                    want.len()
                ));
            }
            shown
                .iter()
                .zip(got)
                .enumerate()
                .find_map(|(i, (w, g))| differs(w, g, &format!("{at}/{i}")))
        }
        (Value::Object(want), Value::Object(got)) => {
            let open = want.get(ELIDED).is_some();
            let running = got.get("frozen") == Some(&Value::Bool(false));
            for (name, w) in want {
                if name == ELIDED {
                    continue;
                }
                let Some(g) = got.get(name) else {
                    return Some(format!("{at}/{name}: not in the answer"));
                };
                let volatile = VOLATILE.contains(&name.as_str()) || (name == "now" && running);
                if volatile {
                    if std::mem::discriminant(w) != std::mem::discriminant(g) {
                        return Some(format!("{at}/{name}: {g}, of another type than {w}"));
                    }
                    continue;
                }
                if let Some(d) = differs(w, g, &format!("{at}/{name}")) {
                    return Some(d);
                }
            }
            if !open {
                if let Some(extra) = got.keys().find(|k| !want.contains_key(*k)) {
                    return Some(format!("{at}/{extra}: in the answer, not on the page"));
                }
            }
            None
        }
        _ if doc == actual => None,
        _ => Some(format!("{at}: {actual}, the page shows {doc}")),
    }
}

/// The real answer, cut where the page cuts it.
fn elide(doc: &Value, actual: &Value) -> Value {
    if doc == ELIDED {
        return doc.clone();
    }
    match (doc, actual) {
        (Value::Array(want), Value::Array(got)) => {
            let open = want.last().is_some_and(|v| v == ELIDED);
            let mut out: Vec<Value> = if open {
                got.iter()
                    .zip(&want[..want.len() - 1])
                    .map(|(g, w)| elide(w, g))
                    .collect()
            } else {
                got.iter()
                    .enumerate()
                    .map(|(i, g)| want.get(i).map_or_else(|| g.clone(), |w| elide(w, g)))
                    .collect()
            };
            if open {
                out.push(Value::String(ELIDED.to_owned()));
            }
            Value::Array(out)
        }
        (Value::Object(want), Value::Object(got)) => {
            let open = want.get(ELIDED).is_some();
            let mut out = Map::new();
            for (name, g) in got {
                match want.get(name) {
                    Some(w) => {
                        out.insert(name.clone(), elide(w, g));
                    }
                    None if open => {}
                    None => {
                        out.insert(name.clone(), g.clone());
                    }
                }
            }
            if open {
                out.insert(ELIDED.to_owned(), Value::String(ELIDED.to_owned()));
            }
            Value::Object(out)
        }
        _ => actual.clone(),
    }
}

/// The answer as a server with only the shipped vendors gives it: an
/// example vendor's members (`api_bases.roster`, `users.roster`) and names
/// in lists (`vendors`, `vendor_prefixes`) go.
fn without_example_vendors(value: &mut Value, examples: &[String]) {
    let named = |v: &Value| {
        v.as_str().is_some_and(|s| {
            let s = s.strip_prefix('/').unwrap_or(s);
            examples.iter().any(|e| e == s)
        })
    };
    match value {
        Value::Object(members) => {
            members.retain(|name, _| !examples.contains(name));
            for member in members.values_mut() {
                without_example_vendors(member, examples);
            }
        }
        Value::Array(items) => {
            items.retain(|item| !named(item));
            for item in items {
                without_example_vendors(item, examples);
            }
        }
        _ => {}
    }
}

fn pointer_of<'a>(value: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        Some(value)
    } else {
        value.pointer(pointer)
    }
}

#[tokio::test]
async fn every_example_in_the_admin_api_doc_gets_the_answer_it_shows() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    let doc = std::fs::read_to_string(&path).expect("the doc");
    let shared = TestServer::start().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let files = TempDir::new("admin-docs");
    let mut problems: Vec<String> = Vec::new();
    // (range in the page, new text), applied from the end when blessing.
    let mut fixes: Vec<((usize, usize), String)> = Vec::new();
    let mut last: Option<Value> = None;
    let examples = common::example_vendors();
    let mut commands_run = 0;
    let mut answers_checked = 0;
    for block in blocks(&doc) {
        match block {
            Block::Shell {
                commands,
                admin_token,
            } => {
                let own = match admin_token {
                    Some(token) => Some(
                        TestServer::start_with(usermock::Options {
                            admin_token: Some(token),
                            ..usermock::Options::default()
                        })
                        .await,
                    ),
                    None => None,
                };
                let server = own.as_ref().unwrap_or(&shared);
                for command in &commands {
                    let got = run(server, &client, command, &files).await;
                    commands_run += 1;
                    let place = format!("{DOC}:{}", command.line);
                    let mut body: Option<Value> = serde_json::from_str(&got.text).ok();
                    if let Some(body) = body.as_mut() {
                        without_example_vendors(body, &examples);
                    }
                    last = body.clone();
                    let Some(expect) = &command.expect else {
                        if got.status.as_u16() >= 400 {
                            problems.push(format!(
                                "{place}: answered {} {} (a command without `# →` must succeed)",
                                got.status, got.text
                            ));
                        }
                        continue;
                    };
                    answers_checked += 1;
                    let status_wrong = got.status.as_u16() != expect.status;
                    if status_wrong {
                        problems.push(format!(
                            "{place}: status {}, the page shows {}",
                            got.status.as_u16(),
                            expect.status
                        ));
                    }
                    if let Some((name, value)) = &expect.header {
                        let sent = got.headers.get(name).and_then(|v| v.to_str().ok());
                        if sent != Some(value.as_str()) {
                            problems.push(format!(
                                "{place}: {name} is {sent:?}, the page shows {value}"
                            ));
                        }
                    }
                    match (&expect.json, &body) {
                        (Some((want, range)), Some(actual)) => {
                            if let Some(d) = differs(want, actual, "") {
                                problems.push(format!("{place}: {d}"));
                                let fixed =
                                    serde_json::to_string(&elide(want, actual)).expect("json");
                                fixes.push((*range, fixed));
                            }
                        }
                        (Some(_), None) => {
                            problems.push(format!("{place}: the answer is not JSON: {}", got.text))
                        }
                        (None, Some(actual)) => {
                            problems.push(format!(
                                "{place}: the page shows no body; the answer is {actual}"
                            ));
                            let insert = expect.status_at.1;
                            fixes.push(((insert, insert), format!(" {actual}")));
                        }
                        (None, None) => {}
                    }
                    if status_wrong {
                        fixes.push((expect.status_at, got.status.as_u16().to_string()));
                    }
                }
            }
            Block::Answer {
                pointer,
                json,
                at,
                line,
            } => {
                answers_checked += 1;
                let place = format!("{DOC}:{line}");
                let Some(actual) = last.as_ref().and_then(|v| pointer_of(v, &pointer)) else {
                    problems.push(format!(
                        "{place}: the previous answer has nothing at {pointer}"
                    ));
                    continue;
                };
                if let Some(d) = differs(&json, actual, &pointer) {
                    problems.push(format!("{place}: {d}"));
                    let fixed = serde_json::to_string_pretty(&elide(&json, actual)).expect("json");
                    fixes.push((at, format!("{fixed}\n")));
                }
            }
        }
    }
    assert!(
        commands_run >= 40,
        "only {commands_run} commands found in {DOC}"
    );
    assert!(
        answers_checked >= 35,
        "only {answers_checked} answers found in {DOC}"
    );
    if problems.is_empty() {
        return;
    }
    if std::env::var_os("USERMOCK_BLESS").is_some() && !fixes.is_empty() {
        fixes.sort_by_key(|(range, _)| std::cmp::Reverse(*range));
        let mut text = doc.clone();
        for ((start, end), new) in fixes {
            text.replace_range(start..end, &new);
        }
        std::fs::write(&path, text).expect("write the doc");
        eprintln!(
            "{DOC}: wrote the real answers; check the diff:\n{}",
            problems.join("\n")
        );
        return;
    }
    panic!(
        "{DOC}'s examples differ from the real answers \
         (`USERMOCK_BLESS=1 cargo test --test it admin_docs` writes them):\n{}",
        problems.join("\n")
    );
}
