//! The Rust API's first-hour edges: the base URL a client is given is the
//! README's, and a mistyped scenario name gets a message, not a failure deep
//! inside the admin client.

use std::panic::AssertUnwindSafe;

use usermock::MockServer;

#[tokio::test]
async fn api_base_is_the_base_url_the_readme_gives_each_vendor() {
    let server = MockServer::start().await;
    let root = server.uri();
    assert_eq!(
        server.api_base("relesys"),
        format!("{root}/relesys/api/v1.3")
    );
    assert_eq!(server.api_base("activity"), format!("{root}/activity/v2"));
    assert_eq!(server.api_base("awork"), format!("{root}/awork/api/v1"));
    assert_eq!(server.api_base("replay"), format!("{root}/replay"));
    // A client's own path goes right after it, as after the real base URL.
    let answer = reqwest::Client::new()
        .get(format!(
            "{}/users/6cd99267-5adf-462d-88a2-6f86b7b2a164",
            server.api_base("relesys")
        ))
        .bearer_auth("relesys-admin")
        .send()
        .await
        .expect("send");
    assert_eq!(
        answer.status().as_u16(),
        200,
        "the README base URL serves users"
    );
    // The admin API says the same, for clients in other languages.
    let health: serde_json::Value = reqwest::get(format!("{root}/__admin/health"))
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(health["api_bases"], crate::common::expected_api_bases());
}

#[tokio::test]
async fn an_unknown_scenario_name_gets_a_message_with_the_closest_name() {
    let server = MockServer::start().await;
    let outcome = tokio::task::spawn(async move {
        AssertUnwindSafe(server.activate("relesys-rate-limitted")).await;
    })
    .await;
    let panic = outcome.expect_err("activating an unknown scenario fails");
    let payload = panic.into_panic();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    assert!(
        message.starts_with(
            "usermock: no scenario is named 'relesys-rate-limitted'. Did you mean 'relesys-rate-limited'? Loaded: "
        ),
        "{message}"
    );
    assert!(message.contains("any-connection-reset"), "{message}");
}

#[test]
fn the_rust_api_docs_give_a_ready_dev_dependencies_block_without_the_cli() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rust-api.md"),
    )
    .expect("docs/rust-api.md");
    let block = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml block");
    assert!(block.starts_with("[dev-dependencies]\n"), "{block}");
    let line = block
        .lines()
        .find(|l| l.starts_with("usermock = "))
        .expect("a usermock line");
    assert!(line.contains("default-features = false"), "{line}");
    assert!(
        line.contains(&format!("tag = \"v{}\"", env!("CARGO_PKG_VERSION"))),
        "pins the release this checkout would publish: {line}"
    );
}
