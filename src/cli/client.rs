//! A minimal HTTP/1.1 client over hyper for the binary's own calls to a
//! running usermock (`healthcheck`, `push`): plain `http://` only, one
//! connection per request.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The most of an answer's body that is read: usermock's admin answers
/// are small, and a server that sends an endless body must not make the
/// client hold it all (or wait for its end).
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// A response, its body read up to [`MAX_ANSWER_BYTES`].
pub struct Response {
    pub status: u16,
    pub body: Bytes,
    /// The body went on past [`MAX_ANSWER_BYTES`]; the rest was not read.
    pub truncated: bool,
}

impl Response {
    /// The body as text, cut to `max` characters, for error messages.
    pub fn body_excerpt(&self, max: usize) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        match text.char_indices().nth(max) {
            Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
            None if self.truncated => format!("{text}…"),
            None => text.to_owned(),
        }
    }
}

/// One request to a usermock admin endpoint.
pub struct Call<'a> {
    pub method: Method,
    pub url: &'a str,
    pub admin_token: Option<&'a str>,
    pub session: Option<&'a str>,
    /// A JSON body, sent with `Content-Type: application/json`.
    pub json: Option<Bytes>,
}

/// Sends `call` and reads the answer, its body up to [`MAX_ANSWER_BYTES`].
pub async fn send(call: Call<'_>) -> Result<Response, Error> {
    let uri: Uri = call.url.parse()?;
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
    let mut request = Request::builder()
        .method(call.method)
        .uri(path)
        .header("host", authority);
    if let Some(token) = call.admin_token.filter(|t| !t.is_empty()) {
        request = request.header("x-usermock-admin-token", token);
    }
    if let Some(session) = call.session {
        request = request.header("x-usermock-session", session);
    }
    let body = match call.json {
        Some(json) => {
            request = request.header("content-type", "application/json");
            json
        }
        None => Bytes::new(),
    };
    let response = sender.send_request(request.body(Full::new(body))?).await?;
    let status = response.status().as_u16();
    let mut incoming = response.into_body();
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(frame) = incoming.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
        if data.len() > room {
            body.extend_from_slice(data.get(..room).unwrap_or_default());
            truncated = true;
            // Dropping the body and its connection stops the transfer.
            break;
        }
        body.extend_from_slice(&data);
    }
    Ok(Response {
        status,
        body: Bytes::from(body),
        truncated,
    })
}

/// `segment` percent-encoded for use as one URL path segment.
pub fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
