//! `usermock healthcheck`: the container's HEALTHCHECK without curl or a
//! shell in the image. A GET to the health URL; exit 0 on a 200.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::client::conn::http1;
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;

/// Probes `url`; `admin_token` (the server's `--admin-token`, read from the
/// same `USERMOCK_ADMIN_TOKEN` in a container) is sent when set.
pub fn run(url: &str, admin_token: Option<&str>, timeout: Duration) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("usermock healthcheck: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(async { tokio::time::timeout(timeout, probe(url, admin_token)).await }) {
        Ok(Ok(200)) => ExitCode::SUCCESS,
        Ok(Ok(status)) => {
            eprintln!("usermock healthcheck: {url} answered {status}");
            ExitCode::FAILURE
        }
        Ok(Err(err)) => {
            eprintln!("usermock healthcheck: {url}: {err}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("usermock healthcheck: {url}: no answer within {timeout:?}");
            ExitCode::FAILURE
        }
    }
}

async fn probe(
    url: &str,
    admin_token: Option<&str>,
) -> Result<u16, Box<dyn std::error::Error + Send + Sync>> {
    let uri: Uri = url.parse()?;
    if uri.scheme_str() != Some("http") {
        return Err("only http:// URLs are supported".into());
    }
    let host = uri.host().ok_or("the URL has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let stream =
        tokio::net::TcpStream::connect((host.trim_start_matches('[').trim_end_matches(']'), port))
            .await?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let authority = uri
        .authority()
        .map(|a| a.as_str())
        .unwrap_or(host)
        .to_owned();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_owned();
    let mut request = Request::get(path).header("host", authority);
    if let Some(token) = admin_token {
        request = request.header("x-usermock-admin-token", token);
    }
    let request = request.body(Empty::<Bytes>::new())?;
    let response = sender.send_request(request).await?;
    Ok(response.status().as_u16())
}
