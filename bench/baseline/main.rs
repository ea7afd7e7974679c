//! The bare hyper server `bench/run` measures usermock against: the same
//! hyper 1.x / tokio stack and socket options, no routing, no state. Every
//! request's body is read in full, then the answer is one fixed ~400-byte
//! JSON user. Not part of usermock; only `bench/run` builds it.
//!
//!   cargo run --release --example baseline -- 127.0.0.1:0
//!
//! Prints `baseline listening on http://HOST:PORT` once it accepts.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A user much like the activity vendor's GET answer (≈400 bytes).
const USER: &str = concat!(
    r#"{"id":"a1d97031-04e2-4907-a249-093f7436207b","username":"mikechang","user_key":"mikechang","#,
    r#""last_activity":{"at":"2026-02-24T21:23:53.082Z","desktop_at":"2026-02-24T21:22:46.119Z","#,
    r#""web_at":"2026-02-24T21:23:53.082Z"},"departments":[{"id":"d1a2b3c4-e5f6-7890-abcd-ef1234567890","#,
    r#""name":"Engineering","description":"Software development and infrastructure teams"}],"#,
    r#""created_at":"2026-02-05T21:29:34.214Z","updated_at":"2026-02-24T22:00:00.000Z"}"#
);

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole body, as usermock does, and keep it alive until the
    // answer is built so the read cannot be optimised away.
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let mut response = Response::new(Full::new(Bytes::from_static(USER.as_bytes())));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    drop(body);
    Ok(response)
}

#[tokio::main]
async fn main() {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned())
        .parse()
        .expect("usage: baseline [HOST:PORT]");
    let listener = TcpListener::bind(addr).await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "baseline listening on http://{addr}").expect("stdout");
    stdout.flush().expect("stdout");
    drop(stdout);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}
