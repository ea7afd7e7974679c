//! docs/scenarios.md's list of shipped scenarios is generated from
//! `scenarios/` (name, description and example request of each file), and
//! every example gets its scenario's answer from a running usermock.

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::Value;

use crate::common::TestServer;

const HEADING: &str = "## Shipped scenarios\n";

fn shipped() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("scenario");
            let doc: Value = serde_json::from_str(&text).expect("scenario JSON");
            let name = doc["name"].as_str().expect("name").to_owned();
            (name, doc)
        })
        .collect()
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The curl line of a scenario's example request.
fn curl(name: &str, example: &Value) -> String {
    let method = example["method"].as_str().expect("method");
    let path = example["path"].as_str().expect("path");
    let url = format!("http://127.0.0.1:8080{path}");
    let mut line = format!("curl -i -X {method} {}", shell_quote(&url));
    if let Some(headers) = example["headers"].as_object() {
        for (key, value) in headers {
            let value = value.as_str().expect("header value");
            line.push_str(&format!(" -H {}", shell_quote(&format!("{key}: {value}"))));
        }
    }
    line.push_str(&format!(" -H 'X-Usermock-Scenario: {name}'"));
    if let Some(body) = example.get("body") {
        line.push_str(" -H 'Content-Type: application/json' -d ");
        line.push_str(&shell_quote(&body.to_string()));
    }
    line
}

fn generated_section() -> String {
    let mut text = format!(
        "{HEADING}\nEach works against the default fixtures exactly as written. This list is\n\
         generated from `scenarios/` (each file's `description` and `example`); a\n\
         test fails when it is stale, and `USERMOCK_BLESS=1 cargo test --test it\n\
         scenario_docs` writes it anew.\n"
    );
    let examples = crate::common::example_vendors();
    for (name, doc) in shipped() {
        // An example vendor's scenarios are not shipped to users.
        if examples.iter().any(|v| name.starts_with(&format!("{v}-"))) {
            continue;
        }
        let description = doc["description"].as_str().unwrap_or_default();
        let example = doc.get("example").unwrap_or_else(|| {
            panic!("scenarios/{name}.json has no `example`: every shipped scenario needs one")
        });
        text.push_str(&format!(
            "\n### `{name}`\n\n{description}\n\n```sh\n{}\n```\n",
            curl(&name, example)
        ));
    }
    text
}

#[test]
fn the_shipped_scenario_list_in_the_docs_is_generated_from_the_scenarios_folder() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenarios.md");
    let doc = std::fs::read_to_string(&path).expect("docs/scenarios.md");
    let start = doc.find(HEADING).expect("a Shipped scenarios section");
    let rest = &doc[start + HEADING.len()..];
    let end = rest
        .find("\n## ")
        .map_or(doc.len(), |i| start + HEADING.len() + i + 1);
    let current = &doc[start..end];
    let wanted = generated_section();
    if current == wanted {
        return;
    }
    if std::env::var_os("USERMOCK_BLESS").is_some() {
        let updated = format!("{}{wanted}{}", &doc[..start], &doc[end..]);
        std::fs::write(&path, updated).expect("write docs/scenarios.md");
        return;
    }
    panic!(
        "docs/scenarios.md's shipped scenario list is stale (scenarios/ changed): \
         run `USERMOCK_BLESS=1 cargo test --test it scenario_docs` and commit the result"
    );
}

/// Whether a scenario's answer takes long by design (a held connection, a
/// slow answer): its example is shown but not waited for here.
fn slow(doc: &Value) -> bool {
    let text = doc["rules"].to_string();
    text.contains("\"timeout\"") || text.contains("delay_ms")
}

#[tokio::test]
async fn every_shipped_scenarios_example_is_answered_by_that_scenario() {
    let server = TestServer::start().await;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("client");
    let mut checked = 0;
    for (name, doc) in shipped() {
        if slow(&doc) {
            continue;
        }
        let example = &doc["example"];
        let method: Method = example["method"]
            .as_str()
            .expect("method")
            .parse()
            .expect("method");
        let path = example["path"].as_str().expect("path");
        let session = format!("docs-{name}");
        let mut request = client
            .request(method, server.url(path))
            .header("X-Usermock-Scenario", &name)
            .header("X-Usermock-Session", &session);
        if let Some(headers) = example["headers"].as_object() {
            for (key, value) in headers {
                request = request.header(key, value.as_str().expect("header"));
            }
        }
        if let Some(body) = example.get("body") {
            request = request.json(body);
        }
        // Faults break the connection on purpose: only the journal counts.
        let _ = request.send().await.map(|r| r.bytes());
        let journal = server
            .send(
                server
                    .request(Method::GET, "/__admin/requests")
                    .header("X-Usermock-Session", &session),
            )
            .await
            .json();
        let answered_by: Vec<&Value> = journal["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .map(|entry| &entry["scenario"])
            .collect();
        assert_eq!(
            answered_by,
            [&Value::from(name.clone())],
            "{name}'s example was not answered by its rule: {journal}"
        );
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} examples were sent");
}
