//! usermock started from its image for one test, ready when it prints its
//! listening line (stdout carries nothing else), on a port Docker picks.

use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{GenericImage, ImageExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const IMAGE: &str = "ghcr.io/usermock/usermock";
const TAG: &str = "0.1";

/// The published image, or `USERMOCK_IMAGE=name:tag` (usermock's own CI
/// sets it to the image it just built).
fn image() -> (String, String) {
    match std::env::var("USERMOCK_IMAGE") {
        Ok(image) => match image.rsplit_once(':') {
            Some((name, tag)) => (name.to_owned(), tag.to_owned()),
            None => (image, "latest".to_owned()),
        },
        Err(_) => (IMAGE.to_owned(), TAG.to_owned()),
    }
}

#[tokio::test]
async fn the_client_reads_a_seeded_activity_user() -> Result<(), Box<dyn std::error::Error>> {
    let (name, tag) = image();
    let usermock = GenericImage::new(name, tag)
        .with_exposed_port(8080.tcp())
        .with_wait_for(WaitFor::message_on_stdout("usermock listening on"))
        // Every option is an environment variable.
        .with_env_var("USERMOCK_RATE_LIMIT", "relesys")
        .start()
        .await?;
    let host = usermock.get_host().await?;
    let port = usermock.get_host_port_ipv4(8080.tcp()).await?;
    // This is the base URL your client under test gets.
    let base_url = format!("http://{host}:{port}/activity/v2");
    println!("activity base URL: {base_url}");

    let response = get(
        &host.to_string(),
        port,
        "/activity/v2/clients/aa7cf840-9ca9-46a3-9778-9015d6580d50/users/a1d97031-04e2-4907-a249-093f7436207b",
        "activity-admin",
    )
    .await?;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("mikechang"), "{response}");
    Ok(())
}

/// One HTTP/1.1 GET over a fresh connection, read whole.
async fn get(
    host: &str,
    port: u16,
    path: &str,
    token: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut stream = tokio::net::TcpStream::connect((host, port)).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}
