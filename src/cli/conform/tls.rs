//! HTTPS to a vendor's API.

pub type Stream = tokio::net::TcpStream;

/// This build speaks plain HTTP only (see docs/conformance.md: point
/// `--target` at a TLS-terminating proxy such as `socat` or `stunnel`).
pub async fn connect(
    host: &str,
    _stream: tokio::net::TcpStream,
) -> Result<Stream, super::http::Error> {
    Err(format!("https://{host}: this build of usermock has no TLS client").into())
}
