//! The server's own admin API, spoken to over HTTP with hyper's client.
//!
//! Every control method of [`MockServer`](super::MockServer) is one admin
//! call, so each operation has exactly one implementation (the admin API)
//! and the Rust API stays a thin typed layer over it.
//!
//! Calls run as tasks on the server's own runtime and are awaited through
//! their `JoinHandle`, which any executor can poll: the caller needs no
//! particular runtime, and a caller blocked in `Drop` cannot starve the
//! server of the thread it needs to answer.

use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::runtime::Handle;

use crate::http::headers;

/// Where the admin API is and how to get in.
#[derive(Debug, Clone)]
pub(crate) struct AdminClient {
    addr: SocketAddr,
    token: Option<String>,
    runtime: Handle,
}

/// An admin call that did not get the answer it wanted.
#[derive(Debug)]
pub(crate) enum AdminError {
    /// No HTTP answer at all (connection refused, broken, task cancelled).
    Transport(String),
    /// The admin API refused: its status and its JSON error body.
    Refused { status: StatusCode, body: String },
    /// A 2xx answer that is not the JSON the contract describes.
    Unexpected(String),
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminError::Transport(why) => write!(f, "no answer: {why}"),
            AdminError::Refused { status, body } => write!(f, "{status}: {body}"),
            AdminError::Unexpected(why) => write!(f, "unexpected answer: {why}"),
        }
    }
}

/// One admin call: the route, the session it is scoped to, and a JSON body.
#[derive(Debug, Clone)]
pub(crate) struct AdminCall {
    pub method: Method,
    pub path: String,
    pub session: Option<String>,
    pub body: Option<Value>,
}

impl AdminCall {
    pub fn new(method: Method, path: impl Into<String>, session: Option<&str>) -> AdminCall {
        AdminCall {
            method,
            path: path.into(),
            session: session.map(str::to_owned),
            body: None,
        }
    }

    pub fn with_body(mut self, body: Value) -> AdminCall {
        self.body = Some(body);
        self
    }
}

impl fmt::Display for AdminCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(session) = &self.session {
            write!(f, " (X-Usermock-Session: {session})")?;
        }
        Ok(())
    }
}

impl AdminClient {
    pub fn new(addr: SocketAddr, token: Option<String>, runtime: Handle) -> AdminClient {
        AdminClient {
            addr,
            token,
            runtime,
        }
    }

    /// Sends `call` and returns the JSON answer of a 2xx status.
    pub async fn send(&self, call: AdminCall) -> Result<Value, AdminError> {
        let task = self
            .runtime
            .spawn(exchange(self.addr, self.token.clone(), call));
        match task.await {
            Ok(result) => result,
            Err(err) => Err(AdminError::Transport(err.to_string())),
        }
    }

    /// Like [`send`](Self::send), panicking with the call and the admin
    /// API's answer when it fails: a control call that fails is a mistake in
    /// the test's setup, and the test should stop right there.
    pub async fn expect(&self, call: AdminCall) -> Value {
        let shown = call.to_string();
        match self.send(call).await {
            Ok(value) => value,
            Err(err) => panic!("usermock: admin call {shown} failed: {err}"),
        }
    }

    /// Runs `work` on the server's runtime and awaits it from any executor.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = T> + Send + 'static,
    ) -> T {
        match self.runtime.spawn(work).await {
            Ok(value) => value,
            Err(err) => panic!("usermock: the server's runtime is gone: {err}"),
        }
    }

    /// Runs `work` on the server's runtime and waits for it from a thread
    /// that may be inside another runtime (`Drop`): blocking here cannot
    /// starve the server, which has a thread of its own.
    pub fn block_on<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv_timeout(std::time::Duration::from_secs(60)).ok()
    }
}

/// One request on a fresh connection. Admin calls are few and cheap, so
/// there is no pool to keep healthy.
async fn exchange(
    addr: SocketAddr,
    token: Option<String>,
    call: AdminCall,
) -> Result<Value, AdminError> {
    let transport = |e: &dyn fmt::Display| AdminError::Transport(e.to_string());
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| transport(&e))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| transport(&e))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });

    let body = match &call.body {
        Some(value) => Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
        None => Bytes::new(),
    };
    let mut request = Request::builder()
        .method(call.method.clone())
        .uri(&call.path)
        .header(HOST, addr.to_string());
    if call.body.is_some() {
        request = request.header(CONTENT_TYPE, "application/json");
    }
    if let Some(token) = &token {
        let value = HeaderValue::from_str(token).map_err(|e| transport(&e))?;
        request = request.header(headers::ADMIN_TOKEN, value);
    }
    if let Some(session) = &call.session {
        let value = HeaderValue::from_str(session).map_err(|e| transport(&e))?;
        request = request.header(headers::SESSION, value);
    }
    let request = request.body(Full::new(body)).map_err(|e| transport(&e))?;

    let response = sender
        .send_request(request)
        .await
        .map_err(|e| transport(&e))?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| transport(&e))?
        .to_bytes();
    if !status.is_success() {
        return Err(AdminError::Refused {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        });
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| AdminError::Unexpected(format!("{e}: {}", String::from_utf8_lossy(&bytes))))
}
