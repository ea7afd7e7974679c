//! The minimal stateful server (issue 25's anchor): hyper + serde_json, and
//! the least work a stateful user API can do. A GET serialises the user; any
//! other method parses the body as a JSON object, merges its members into
//! the user (held in a DashMap by the path's last segment), and serialises
//! the result back. No routing, checks, journal or vendor shapes: the gap
//! between this and usermock is the emulation's own work. Shared by
//! `[[example]] stateful` (timed by `bench/run`) and `[[example]] alloc`
//! (counted).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use dashmap::DashMap;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use tokio::net::TcpListener;

type Users = DashMap<String, Map<String, Value>>;

/// A user much like the activity vendor's (the bare baseline's answer).
const USER: &str = concat!(
    r#"{"id":"a1d97031-04e2-4907-a249-093f7436207b","username":"mikechang","user_key":"mikechang","#,
    r#""last_activity":{"at":"2026-02-24T21:23:53.082Z","desktop_at":"2026-02-24T21:22:46.119Z","#,
    r#""web_at":"2026-02-24T21:23:53.082Z"},"departments":[{"id":"d1a2b3c4-e5f6-7890-abcd-ef1234567890","#,
    r#""name":"Engineering","description":"Software development and infrastructure teams"}],"#,
    r#""created_at":"2026-02-05T21:29:34.214Z","updated_at":"2026-02-24T22:00:00.000Z"}"#
);

fn template() -> Map<String, Value> {
    serde_json::from_str(USER).unwrap_or_default()
}

fn reply(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

async fn answer(
    users: Arc<Users>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let id = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let method = req.method().clone();
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(reply(StatusCode::BAD_REQUEST, b"{}".to_vec())),
    };
    let mut user = users.entry(id).or_insert_with(template);
    if method != Method::GET {
        let changes: Map<String, Value> = match serde_json::from_slice(&body) {
            Ok(changes) => changes,
            Err(_) => return Ok(reply(StatusCode::BAD_REQUEST, b"{}".to_vec())),
        };
        for (key, value) in changes {
            user.insert(key, value);
        }
    }
    let out = serde_json::to_vec(&*user).unwrap_or_default();
    Ok(reply(StatusCode::OK, out))
}

/// Serves on `listener` forever.
pub async fn serve(listener: TcpListener) {
    let users = Arc::new(Users::new());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let users = Arc::clone(&users);
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(Arc::clone(&users), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
