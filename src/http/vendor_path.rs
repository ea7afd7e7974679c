//! A request's path relative to its vendor's real host, without a copy.
//!
//! `/activity/v2/clients/…` is answered as the vendor's `/v2/clients/…`:
//! a tail of the path the request arrived with. The tail is kept as the
//! request's own path (shared with its URI, not copied) and where the tail
//! starts, so routing a vendor request allocates nothing. (The path, not
//! the whole `Uri`: a `Uri` is 88 bytes, and every journal entry holds a
//! `VendorPath`.) The journal swaps it for
//! its own copy ([`VendorPath::kept`]): the URI shares hyper's read buffer,
//! which an entry must not pin.

use std::fmt;

use bytes::Bytes;
use hyper::http::uri::PathAndQuery;
use hyper::Uri;

#[derive(Clone)]
pub(crate) struct VendorPath(Repr);

#[derive(Clone)]
enum Repr {
    /// `path.path()[start..]`, not empty.
    Tail {
        path: PathAndQuery,
        start: usize,
    },
    Root,
    Owned(String),
    /// Bytes copied from a `&str`, so UTF-8.
    Kept(Bytes),
}

impl VendorPath {
    /// The part of `uri`'s path from byte `start` on; `/` (the vendor's
    /// root) where that part is empty (`/activity` has nothing after the
    /// vendor's name) or is not one (out of range, inside a character).
    pub fn tail(uri: &Uri, start: usize) -> VendorPath {
        match uri.path_and_query() {
            Some(path) if path.path().get(start..).is_some_and(|t| !t.is_empty()) => {
                VendorPath(Repr::Tail {
                    path: path.clone(),
                    start,
                })
            }
            _ => VendorPath(Repr::Root),
        }
    }

    /// A copy of a path in a block of the caller's (the journal's): `bytes`
    /// must be a path's text, as [`VendorPath::as_str`] gave it.
    pub fn kept(bytes: Bytes) -> VendorPath {
        VendorPath(Repr::Kept(bytes))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Tail { path, start } => path.path().get(*start..).unwrap_or("/"),
            Repr::Root => "/",
            Repr::Owned(text) => text,
            Repr::Kept(bytes) => std::str::from_utf8(bytes).unwrap_or_default(),
        }
    }
}

impl From<String> for VendorPath {
    fn from(text: String) -> VendorPath {
        VendorPath(Repr::Owned(text))
    }
}

impl From<&str> for VendorPath {
    fn from(text: &str) -> VendorPath {
        VendorPath(Repr::Owned(text.to_owned()))
    }
}

impl std::ops::Deref for VendorPath {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for VendorPath {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for VendorPath {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for VendorPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for VendorPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().expect("uri")
    }

    #[test]
    fn a_tail_reads_as_the_path_from_its_slash_on() {
        let path = VendorPath::tail(&uri("/activity/v2/users/1?x=1"), 9);
        assert_eq!(path, "/v2/users/1");
        assert_eq!(VendorPath::tail(&uri("/activity/"), 9), "/");
        assert_eq!(VendorPath::tail(&uri("/v2/users"), 0), "/v2/users");
    }

    #[test]
    fn nothing_after_the_start_reads_as_the_root() {
        assert_eq!(VendorPath::tail(&uri("/activity"), 9), "/");
        assert_eq!(VendorPath::tail(&uri("/activity"), 40), "/");
    }

    #[test]
    fn every_form_reads_and_shows_as_its_text() {
        let forms = [
            VendorPath::tail(&uri("/awork/api/v1/users"), 6),
            VendorPath::from("/api/v1/users"),
            VendorPath::from(String::from("/api/v1/users")),
            VendorPath::kept(Bytes::from_static(b"/api/v1/users")),
        ];
        for path in forms {
            assert_eq!(path.as_str(), "/api/v1/users");
            assert_eq!(&*path, "/api/v1/users");
            assert_eq!(path.to_string(), "/api/v1/users");
            assert_eq!(format!("{path:?}"), "\"/api/v1/users\"");
        }
    }
}
