//! Credentials in journal listings, shown as fingerprints.
//!
//! The journal is read over HTTP and pasted into bug reports and CI logs;
//! the vendor tokens, API keys, passwords and client secrets in it are the
//! test's own, but may be real ones. A fingerprint (`sha256:` and the first
//! 8 hex digits of the SHA-256 of the secret) still tells which of a test's
//! credentials was sent: `printf %s TOKEN | sha256sum` gives the same digits.

use std::borrow::Cow;

use hyper::header::HeaderName;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::http::Call;

/// How listings show credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// As `sha256:` and 8 hex digits (the default).
    Fingerprint,
    /// As received (`--journal-credentials show`).
    Show,
}

/// Headers whose whole value (after an auth scheme) is a credential.
const SECRET_HEADERS: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x-usermock-admin-token",
    "cookie",
    "set-cookie",
];

/// Body, form and query members holding a credential, compared without
/// regard to case: Relesys' token request (`client_secret`), user
/// passwords (Relesys create, awork invitations' `password`/`passcode`),
/// issued tokens in token answers.
const SECRET_MEMBERS: [&str; 8] = [
    "password",
    "passcode",
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "apikey",
];

fn is_secret_member(name: &str) -> bool {
    SECRET_MEMBERS.iter().any(|m| m.eq_ignore_ascii_case(name))
}

/// `sha256:` and the first 8 hex digits of the secret's SHA-256.
pub(crate) fn fingerprint(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    let mut out = String::from("sha256:");
    for byte in digest.iter().take(4) {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// A header value as listed: a credential header keeps its auth scheme
/// (`Bearer sha256:…`), the rest of its value is fingerprinted.
pub(super) fn header<'a>(name: &HeaderName, value: Cow<'a, str>) -> Cow<'a, str> {
    if !SECRET_HEADERS.contains(&name.as_str()) {
        return value;
    }
    let scheme = ["authorization", "proxy-authorization"]
        .contains(&name.as_str())
        .then(|| value.split_once(' '))
        .flatten();
    Cow::Owned(match scheme {
        Some((scheme, secret)) => format!("{scheme} {}", fingerprint(secret.trim().as_bytes())),
        None => fingerprint(value.as_bytes()),
    })
}

/// Fingerprints the credentials in a listed request's `body`, `json` and
/// `query` members.
pub(super) fn request_body(entry: &mut Value, call: &Call) {
    if let Some(json) = entry.get_mut("json") {
        if redact_json(json) {
            let text = json.to_string();
            entry["body"] = Value::String(text);
        }
    } else if !call.body.is_empty() {
        let text = String::from_utf8_lossy(&call.body);
        if let Some(redacted) = redact_form(&text) {
            entry["body"] = Value::String(redacted);
        }
    }
    if let Some(query) = call.query.as_deref() {
        if let Some(redacted) = redact_form(query) {
            entry["query"] = Value::String(redacted);
        }
    }
}

/// Fingerprints the credentials in a listed answer's parsed JSON (a token
/// endpoint's `access_token`), and its `body` to match.
pub(super) fn json_answer(answer: &mut Value) {
    if let Some(json) = answer.get_mut("json") {
        if redact_json(json) {
            let text = json.to_string();
            answer["body"] = Value::String(text);
        }
    }
}

/// Replaces every string under a secret member name; true when any was.
fn redact_json(value: &mut Value) -> bool {
    let mut changed = false;
    match value {
        Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                match member {
                    Value::String(secret) if is_secret_member(name) => {
                        *secret = fingerprint(secret.as_bytes());
                        changed = true;
                    }
                    other => changed |= redact_json(other),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                changed |= redact_json(item);
            }
        }
        _ => {}
    }
    changed
}

/// A form-encoded text (a body or a query) with its secret members'
/// values fingerprinted, the rest as written; `None` when it has none.
fn redact_form(text: &str) -> Option<String> {
    let mut changed = false;
    let pieces: Vec<Cow<'_, str>> = text
        .split('&')
        .map(|piece| {
            let (raw_name, raw_value) = piece.split_once('=').unwrap_or((piece, ""));
            let secret = form_urlencoded::parse(raw_name.as_bytes())
                .next()
                .is_some_and(|(name, _)| is_secret_member(&name));
            if !secret {
                return Cow::Borrowed(piece);
            }
            changed = true;
            let value: String = form_urlencoded::parse(format!("v={raw_value}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            Cow::Owned(format!("{raw_name}={}", fingerprint(value.as_bytes())))
        })
        .collect();
    changed.then(|| pieces.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_fingerprint_is_the_sha256_prefix_of_the_secret() {
        // printf %s relesys-admin | sha256sum
        assert_eq!(fingerprint(b"abc"), "sha256:ba7816bf");
    }

    #[test]
    fn bearer_tokens_keep_their_scheme() {
        let name = HeaderName::from_static("authorization");
        assert_eq!(
            header(&name, Cow::Borrowed("Bearer abc")),
            "Bearer sha256:ba7816bf"
        );
        let other = HeaderName::from_static("accept");
        assert_eq!(header(&other, Cow::Borrowed("abc")), "abc");
    }

    #[test]
    fn nested_json_secrets_are_fingerprinted() {
        let mut value =
            json!({"user": {"Password": "abc", "name": "n"}, "list": [{"access_token": "abc"}]});
        assert!(redact_json(&mut value));
        assert_eq!(
            value,
            json!({"user": {"Password": "sha256:ba7816bf", "name": "n"}, "list": [{"access_token": "sha256:ba7816bf"}]})
        );
    }

    #[test]
    fn form_secrets_are_fingerprinted_and_the_rest_kept() {
        assert_eq!(
            redact_form("grant_type=client_credentials&client_secret=abc").as_deref(),
            Some("grant_type=client_credentials&client_secret=sha256:ba7816bf")
        );
        assert_eq!(redact_form("a=1&b=2"), None);
    }
}
