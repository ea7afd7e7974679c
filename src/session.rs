//! Which state a request reads and writes: the shared one, or a session's.
//!
//! `X-Usermock-Session: ID` gives a request its own copy-on-write state,
//! journal view, scenario activations, counters and clock. The header is
//! parsed once per request into a [`Session`]; nothing else reads it.

use std::fmt;
use std::sync::Arc;

use hyper::HeaderMap;

use crate::http::headers;

/// The longest session id accepted.
pub(crate) const MAX_ID_LEN: usize = 128;

/// The shared state, or one named session.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Session {
    Shared,
    Named(Arc<str>),
}

/// An `X-Usermock-Session` value that is not 1–128 visible ASCII
/// characters, or the header given twice. Such a request is refused rather
/// than served from the shared state, where its writes would leak to
/// everyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidSession;

impl fmt::Display for InvalidSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "X-Usermock-Session must be given once, as 1 to {MAX_ID_LEN} visible ASCII characters (no spaces)"
        )
    }
}

impl Session {
    /// The request's session, from its headers.
    pub fn from_headers(headers: &HeaderMap) -> Result<Session, InvalidSession> {
        let mut values = headers.get_all(headers::SESSION).iter();
        let Some(value) = values.next() else {
            return Ok(Session::Shared);
        };
        if values.next().is_some() {
            return Err(InvalidSession);
        }
        Session::parse(value.as_bytes())
    }

    /// A session id as given in a header or an admin path.
    pub fn parse(id: &[u8]) -> Result<Session, InvalidSession> {
        let visible = |b: &u8| (0x21..=0x7e).contains(b);
        if id.is_empty() || id.len() > MAX_ID_LEN || !id.iter().all(visible) {
            return Err(InvalidSession);
        }
        // All bytes are ASCII, so this cannot fail.
        let text = std::str::from_utf8(id).map_err(|_| InvalidSession)?;
        Ok(Session::Named(Arc::from(text)))
    }

    /// The session id, or `None` for the shared state.
    pub fn id(&self) -> Option<&str> {
        match self {
            Session::Shared => None,
            Session::Named(id) => Some(id),
        }
    }

    pub fn is_shared(&self) -> bool {
        matches!(self, Session::Shared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn with(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(
                headers::SESSION,
                HeaderValue::from_bytes(value).expect("header value"),
            );
        }
        map
    }

    #[test]
    fn a_missing_header_is_the_shared_state() {
        assert_eq!(Session::from_headers(&with(&[])), Ok(Session::Shared));
    }

    #[test]
    fn visible_ascii_ids_name_a_session() {
        let got = Session::from_headers(&with(&[b"test-42_a.b"])).expect("valid");
        assert_eq!(got.id(), Some("test-42_a.b"));
        let longest = vec![b'x'; MAX_ID_LEN];
        assert!(Session::parse(&longest).is_ok());
    }

    #[test]
    fn everything_else_is_refused_never_shared() {
        let too_long = vec![b'x'; MAX_ID_LEN + 1];
        for bad in [
            "test-größe".as_bytes(),
            b"",
            b"a b",
            b"tab\there",
            &too_long,
        ] {
            assert_eq!(Session::parse(bad), Err(InvalidSession), "{bad:?}");
        }
        assert_eq!(
            Session::from_headers(&with(&[b"a", b"b"])),
            Err(InvalidSession)
        );
    }
}
