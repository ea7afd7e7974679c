//! The request as the rest of usermock sees it, and the reply it builds.
//!
//! A hyper request is read once into a [`Call`]: an owned, hyper-free value.
//! Everything after that (vendor rules, admin calls) is plain synchronous code
//! that is easy to test and never holds a body stream across an `.await`.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{HeaderMap, Method, Response, StatusCode};
use serde::Serialize;

use crate::server::Body;

/// One request, fully read. `path` is relative to the vendor's real base
/// host: the `/activity` prefix (or nothing, when routed by `Host`) is gone.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Call {
    /// A request with nothing in it (for checking what a vendor can render).
    pub fn empty() -> Call {
        Call {
            method: Method::GET,
            path: String::from("/"),
            query: None,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The token of an `Authorization: Bearer <token>` header. The scheme is
    /// matched case-insensitively, as RFC 7235 asks.
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.header("authorization")?.trim();
        let (scheme, token) = value.split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
    }

    /// The media type of the body without parameters, lower-cased.
    pub fn media_type(&self) -> Option<String> {
        let value = self.header("content-type")?;
        let essence = value.split(';').next().unwrap_or_default().trim();
        Some(essence.to_ascii_lowercase())
    }

    /// True when the body is declared as JSON (`application/json` or any
    /// `application/*+json`, such as `application/json-patch+json`).
    pub fn declares_json(&self) -> bool {
        self.media_type().is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
    }
}

/// Matches `path` against a pattern such as `/v2/clients/{client_id}/users/{user_id}`
/// and returns the captured segments in order. A trailing slash is tolerated.
pub(crate) fn match_path<'a>(pattern: &str, path: &'a str) -> Option<Vec<&'a str>> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let mut want = pattern.split('/');
    let mut have = path.split('/');
    let mut captured = Vec::new();
    loop {
        match (want.next(), have.next()) {
            (None, None) => return Some(captured),
            (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') => {
                if h.is_empty() {
                    return None;
                }
                captured.push(h);
            }
            (Some(w), Some(h)) if w == h => {}
            _ => return None,
        }
    }
}

/// The `index`-th `{param}` of `pattern` in `path`, lower-cased; empty when
/// the path does not match.
pub(crate) fn path_param(pattern: &str, path: &str, index: usize) -> String {
    match_path(pattern, path)
        .and_then(|params| params.get(index).map(|p| p.to_ascii_lowercase()))
        .unwrap_or_default()
}

/// A finished answer, not yet a hyper response.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl Reply {
    /// A JSON body. Serialising our own types cannot fail in practice; if it
    /// ever did, the caller gets an honest 500 instead of a panic.
    pub fn json(status: StatusCode, value: &impl Serialize) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply {
                status,
                headers: vec![(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                )],
                body: Bytes::from(body),
            },
            Err(err) => {
                tracing::error!(%err, "could not serialise a response body");
                Reply {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    headers: Vec::new(),
                    body: Bytes::new(),
                }
            }
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Reply {
        self.headers.retain(|(n, _)| n != name);
        self.headers.push((name, value));
        self
    }

    pub fn into_response(self) -> Response<Body> {
        let body = Full::new(self.body).map_err(|never| match never {}).boxed();
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_patterns_capture_parameters_in_order() {
        let got = match_path("/v2/clients/{c}/users/{u}", "/v2/clients/a/users/b");
        assert_eq!(got, Some(vec!["a", "b"]));
        assert_eq!(
            match_path("/v2/clients/{c}/users/{u}", "/v2/clients/a/users/b/"),
            Some(vec!["a", "b"])
        );
        assert_eq!(
            match_path("/v2/clients/{c}/users/{u}", "/v2/clients/a/users"),
            None
        );
        assert_eq!(
            match_path("/v2/clients/{c}/users/{u}", "/v2/clients//users/b"),
            None
        );
        assert_eq!(
            match_path("/v2/clients/{c}/users/{u}", "/v2/clients/a/users/b/x"),
            None
        );
    }
}
