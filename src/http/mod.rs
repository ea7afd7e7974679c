//! The request as the rest of usermock sees it, and the reply it builds.
//!
//! A hyper request is read once into a [`Call`]: an owned, hyper-free value.
//! Everything after that (vendor rules, admin calls) is plain synchronous code
//! that is easy to test and never holds a body stream across an `.await`.

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{HeaderMap, Method, Response, StatusCode};
use serde::Serialize;

use crate::server::Body;

mod path;
mod vendor_path;

pub(crate) use path::{pattern_matches, Captures, PathPattern};
pub(crate) use vendor_path::VendorPath;

/// The request headers usermock itself reads, besides the vendors' own.
pub(crate) mod headers {
    /// Selects an isolated copy of the state (sessions).
    pub(crate) const SESSION: &str = "x-usermock-session";
    /// Names scenarios for one request (comma-separated).
    pub(crate) const SCENARIO: &str = "x-usermock-scenario";
    /// Carries the admin token, as an alternative to `Authorization`.
    pub(crate) const ADMIN_TOKEN: &str = "x-usermock-admin-token";
}

/// One request, fully read. `path` is relative to the vendor's real base
/// host: the `/activity` prefix (or nothing, when routed by `Host`) is gone.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub path: VendorPath,
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
            path: VendorPath::from("/"),
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
    /// Compared without case instead of through [`Call::media_type`]: every
    /// write request asks, and a lower-cased copy is an allocation each time.
    pub fn declares_json(&self) -> bool {
        let Some(value) = self.header("content-type") else {
            return false;
        };
        let essence = value.split(';').next().unwrap_or_default().trim();
        let bytes = essence.as_bytes();
        let starts = |prefix: &str| {
            bytes
                .get(..prefix.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(prefix.as_bytes()))
        };
        let ends = |suffix: &str| {
            bytes
                .len()
                .checked_sub(suffix.len())
                .and_then(|from| bytes.get(from..))
                .is_some_and(|b| b.eq_ignore_ascii_case(suffix.as_bytes()))
        };
        essence.eq_ignore_ascii_case("application/json")
            || (starts("application/") && ends("+json"))
    }
}

/// The values of a path's `{params}` in pattern order, when `path` matches
/// `pattern`. A thin form of [`PathPattern`] for code that has not moved to
/// a route table yet.
pub(crate) fn match_path<'a>(pattern: &str, path: &'a str) -> Option<Vec<&'a str>> {
    let pattern = PathPattern::parse(pattern).ok()?;
    let captures = pattern.captures(path)?;
    Some(captures.values().collect())
}

/// A reply's headers, in order. Room for one without a heap block: most
/// answers carry only their content type.
pub(crate) type Headers = smallvec::SmallVec<[(HeaderName, HeaderValue); 1]>;

/// A finished answer, not yet a hyper response.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: Headers,
    pub body: Bytes,
    /// Where the answer relied on usermock's own reading rather than the
    /// vendor's word (journal only; never sent to the client).
    pub notes: Vec<Note>,
}

/// One place an answer relied on a rule marked inferred, or ignored part
/// of the request. `rule` is a stable id that the vendor's page in
/// `docs/vendors/` names next to the rule; `source` is where the rule (or
/// the silence it fills) comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Note {
    pub rule: &'static str,
    pub message: String,
    pub source: &'static str,
}

impl Reply {
    /// A JSON body. Serialising our own types cannot fail in practice; if it
    /// ever did, the caller gets an honest 500 instead of a panic.
    pub fn json(status: StatusCode, value: &impl Serialize) -> Reply {
        // Most answers are a user of a few hundred bytes to a few KiB:
        // starting at 1 KiB saves the buffer's growing from nothing
        // (serde_json's own `to_vec` starts empty and doubles).
        let mut body = Vec::with_capacity(1024);
        match serde_json::to_writer(&mut body, value) {
            Ok(()) => Reply::json_text(status, Bytes::from(body)),
            Err(err) => {
                tracing::error!(%err, "could not serialise a response body");
                Reply {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    headers: Headers::new(),
                    body: Bytes::new(),
                    notes: Vec::new(),
                }
            }
        }
    }

    /// A JSON body already written out (by [`serde_json`], as
    /// [`Reply::json`] would write it).
    pub fn json_text(status: StatusCode, body: Bytes) -> Reply {
        Reply {
            status,
            headers: smallvec::smallvec![(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            body,
            notes: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Reply {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value));
        self
    }

    /// [`Reply::with_header`] for each `(name, number)`, the numbers
    /// written in decimal into one shared block (one allocation for all,
    /// where `HeaderValue::from` makes two for each).
    pub fn with_number_headers(mut self, headers: &[(&'static str, u64)]) -> Reply {
        use std::fmt::Write;
        let mut digits = String::with_capacity(headers.len().saturating_mul(20));
        let mut ends = Vec::with_capacity(headers.len());
        for (_, number) in headers {
            // Writing into a `String` cannot fail.
            let _ = write!(digits, "{number}");
            ends.push(digits.len());
        }
        let block = Bytes::from(digits);
        self.headers.reserve(headers.len());
        let mut start = 0;
        for ((name, _), end) in headers.iter().zip(ends) {
            // Decimal digits are a valid header value.
            if let Ok(value) = HeaderValue::from_maybe_shared(block.slice(start..end)) {
                self = self.with_header(HeaderName::from_static(name), value);
            }
            start = end;
        }
        self
    }

    /// The response for the client, leaving the reply whole for the
    /// journal (cheaper than cloning the reply: no new header list).
    pub fn to_response(&self) -> Response<Body> {
        let mut response = Response::new(Either::Left(Full::new(self.body.clone())));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            headers.append(name, value.clone());
        }
        response
    }

    pub fn into_response(mut self) -> Response<Body> {
        let body = Either::Left(Full::new(std::mem::take(&mut self.body)));
        self.into_response_with(body)
    }

    /// The reply's status and headers with `body` instead of its own (a
    /// body streamed as it is written).
    pub fn into_response_with(self, body: Body) -> Response<Body> {
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        response
    }
}

/// Why a request body could not be read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Over the limit (declared or received).
    TooLarge { limit: usize },
    /// The client broke off mid-body, or sent broken chunked framing.
    Broken,
    /// The body did not arrive within the body timeout.
    TimedOut,
}

/// Reads a request into a [`Call`], refusing more than `max_body` bytes
/// (checked against `Content-Length` first, so a large upload is not read
/// at all). `path` is the path as the vendor or admin API sees it.
pub(crate) async fn read_call(
    req: hyper::Request<hyper::body::Incoming>,
    path: VendorPath,
    max_body: usize,
) -> Result<Call, BodyError> {
    use http_body_util::Limited;
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body as u64) {
        return Err(BodyError::TooLarge { limit: max_body });
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, max_body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            tracing::debug!(%err, "request body not read");
            return Err(if err.is::<http_body_util::LengthLimitError>() {
                BodyError::TooLarge { limit: max_body }
            } else {
                BodyError::Broken
            });
        }
    };
    Ok(Call {
        method: parts.method,
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_headers_are_the_numbers_in_decimal() {
        let reply = Reply::json_text(StatusCode::OK, Bytes::new())
            .with_header(
                HeaderName::from_static("aw-page"),
                HeaderValue::from_static("x"),
            )
            .with_number_headers(&[("aw-page", 1), ("aw-items", 0), ("aw-totalitems", u64::MAX)]);
        let headers: Vec<(&str, &str)> = reply
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or("?")))
            .collect();
        assert_eq!(
            headers,
            [
                ("content-type", "application/json; charset=utf-8"),
                ("aw-page", "1"),
                ("aw-items", "0"),
                ("aw-totalitems", "18446744073709551615"),
            ]
        );
    }

    fn with_content_type(value: &str) -> Call {
        let mut call = Call::empty();
        if let Ok(value) = HeaderValue::from_str(value) {
            call.headers.insert(CONTENT_TYPE, value);
        }
        call
    }

    #[test]
    fn declares_json_agrees_with_the_lower_cased_media_type() {
        let cases = [
            "application/json",
            "Application/JSON; charset=utf-8",
            "  application/json-patch+json ; q=1",
            "APPLICATION/VND.API+JSON",
            "application/+json",
            "application/jsonx",
            "text/json",
            "text/plain+json",
            "application/xml",
            "application/json+xml",
            "application/x-www-form-urlencoded",
            "",
            "+json",
            "application/ä+json",
        ];
        for case in cases {
            let call = with_content_type(case);
            let expected = call.media_type().is_some_and(|m| {
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
            assert_eq!(call.declares_json(), expected, "{case:?}");
        }
        assert!(!Call::empty().declares_json());
    }
}
