//! Relesys authentication: OAuth 2.0 client credentials at
//! `POST /login/oauth/authorize`, bearer tokens, and scopes.
//!
//! Facts (docs/vendors/relesys.md, confirmed from Relesys' access and
//! scopes pages): the token endpoint takes a form body with
//! `grant_type=client_credentials`, `client_id`, `client_secret` and `scope`
//! (all four required; scopes space-separated) and answers
//! `{"access_token","expires_in":"3600","token_type":"Bearer"}` — note the
//! string `expires_in`. Too few scopes on a token → 403 listing the
//! accepted ones.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use super::error::{RelesysError, TokenProblem};
use crate::http::Call;

/// Scopes that allow writing users (the "Scopes:" line of Relesys' update-user
/// page, docs/vendors/relesys.md).
pub(super) const WRITE_SCOPES: &[&str] = &[
    "relesys.api",
    "relesys.api:write",
    "relesys.api.users",
    "relesys.api.users:write",
];

/// Scopes that allow reading users, departments and user groups:
/// `relesys.api` and `relesys.api.users` are read *and* write; the `:read`
/// ones read only.
pub(super) const READ_SCOPES: &[&str] = &[
    "relesys.api",
    "relesys.api:read",
    "relesys.api.users",
    "relesys.api.users:read",
];

/// `relesys.api`, optionally `.family` (users, kpis, …), optionally
/// `:read`/`:write`: the pattern of Relesys' scope table.
pub(super) fn is_scope_name(scope: &str) -> bool {
    let Some(rest) = scope.strip_prefix("relesys.api") else {
        return false;
    };
    let (family, access) = rest
        .split_once(':')
        .map_or((rest, None), |(f, a)| (f, Some(a)));
    let family_ok = family.is_empty()
        || family
            .strip_prefix('.')
            .is_some_and(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_lowercase()));
    family_ok && matches!(access, None | Some("read") | Some("write"))
}

/// What a token lets its bearer do.
#[derive(Debug, Clone)]
pub(super) struct Grant {
    pub client_id: String,
    pub scopes: Vec<String>,
    /// `None` for the fixture's static tokens, which never expire.
    expires_at: Option<OffsetDateTime>,
}

impl Grant {
    pub fn fixed(client_id: String, scopes: Vec<String>) -> Grant {
        Grant {
            client_id,
            scopes,
            expires_at: None,
        }
    }

    fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// 403 unless the token holds at least one of `accepted`.
    pub fn require_any(&self, accepted: &'static [&'static str]) -> Result<(), RelesysError> {
        if self.scopes.iter().any(|s| accepted.contains(&s.as_str())) {
            Ok(())
        } else {
            Err(RelesysError::InsufficientScope { accepted })
        }
    }
}

/// A fixture OAuth client.
#[derive(Debug, Clone)]
pub(super) struct OAuthClient {
    pub client_id: String,
    pub secret: String,
    pub scopes: Vec<String>,
}

/// Issued tokens in issue order, so the oldest is dropped first and
/// expired ones are pruned from the front: O(1) amortised per issue.
#[derive(Debug, Default)]
struct Issued {
    grants: HashMap<String, Arc<Grant>>,
    order: VecDeque<String>,
}

impl Issued {
    fn insert(&mut self, token: String, grant: Grant, now: OffsetDateTime, cap: usize) {
        while let Some(oldest) = self.order.front() {
            let expired = self.grants.get(oldest).is_none_or(|g| g.expired(now));
            if !expired && self.grants.len() < cap {
                break;
            }
            if let Some(oldest) = self.order.pop_front() {
                self.grants.remove(&oldest);
            }
        }
        self.order.push_back(token.clone());
        self.grants.insert(token, Arc::new(grant));
    }
}

pub(super) struct Tokens {
    /// By lower-cased client id.
    clients: HashMap<String, OAuthClient>,
    /// Shared, not copied, with every request that shows the token.
    fixed: HashMap<String, Arc<Grant>>,
    issued: Mutex<Issued>,
    lifetime: Duration,
    cap: usize,
}

impl Tokens {
    pub fn new(
        clients: Vec<OAuthClient>,
        fixed: HashMap<String, Grant>,
        lifetime: Duration,
        cap: usize,
    ) -> Tokens {
        Tokens {
            clients: clients
                .into_iter()
                .map(|c| (c.client_id.to_ascii_lowercase(), c))
                .collect(),
            fixed: fixed
                .into_iter()
                .map(|(token, grant)| (token, Arc::new(grant)))
                .collect(),
            issued: Mutex::new(Issued::default()),
            lifetime,
            cap: cap.max(1),
        }
    }

    /// The grant of the call's bearer token at `now`; 401 when there is
    /// none, it is unknown, or it has expired.
    pub fn authenticate(
        &self,
        call: &Call,
        now: OffsetDateTime,
    ) -> Result<Arc<Grant>, RelesysError> {
        let token = call
            .bearer_token()
            .ok_or(RelesysError::Unauthenticated(TokenProblem::Missing))?;
        if let Some(grant) = self.fixed.get(token) {
            return Ok(Arc::clone(grant));
        }
        let grant = self
            .issued
            .lock()
            .ok()
            .and_then(|issued| issued.grants.get(token).cloned())
            .ok_or(RelesysError::Unauthenticated(TokenProblem::Unknown))?;
        if grant.expired(now) {
            return Err(RelesysError::Unauthenticated(TokenProblem::Expired));
        }
        Ok(grant)
    }

    /// How many issued tokens are remembered.
    #[cfg(test)]
    fn issued_count(&self) -> usize {
        self.issued.lock().map(|i| i.grants.len()).unwrap_or(0)
    }

    /// Forgets every issued token (a full reset).
    pub fn reset(&self) {
        if let Ok(mut issued) = self.issued.lock() {
            *issued = Issued::default();
        }
    }

    /// `POST /login/oauth/authorize`: the client-credentials grant at `now`.
    pub fn issue(&self, body: &[u8], now: OffsetDateTime) -> Result<Value, RelesysError> {
        let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        let field = |name: &'static str| {
            form.get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    oauth(
                        "invalid_request",
                        format!("The {name} parameter is required"),
                    )
                })
        };
        let grant_type = field("grant_type")?;
        let client_id = field("client_id")?;
        let secret = field("client_secret")?;
        let scope = field("scope")?;
        if grant_type != "client_credentials" {
            return Err(oauth(
                "unsupported_grant_type",
                format!("Grant type '{grant_type}' is not supported; use client_credentials"),
            ));
        }
        let client = self
            .clients
            .get(&client_id.to_ascii_lowercase())
            .filter(|c| c.secret == secret)
            .ok_or_else(|| oauth("invalid_client", "Client authentication failed".to_owned()))?;
        let scopes = granted_scopes(client, scope)?;
        let token = format!("rlsm.{}", uuid::Uuid::new_v4().simple());
        let grant = Grant {
            client_id: client.client_id.clone(),
            scopes,
            expires_at: Some(expiry(now, self.lifetime)),
        };
        if let Ok(mut issued) = self.issued.lock() {
            issued.insert(token.clone(), grant, now, self.cap);
        }
        Ok(json!({
            "access_token": token,
            "expires_in": self.lifetime.whole_seconds().to_string(),
            "token_type": "Bearer",
        }))
    }
}

/// The scopes an issued token carries: those requested, each of which the
/// client must be allowed (RFC 6749 §3.3: never more than was asked for).
fn granted_scopes(client: &OAuthClient, scope: &str) -> Result<Vec<String>, RelesysError> {
    let mut granted: Vec<String> = Vec::new();
    for requested in scope.split_whitespace() {
        if !is_scope_name(requested) {
            return Err(oauth(
                "invalid_scope",
                format!("'{requested}' is not a Relesys scope"),
            ));
        }
        if !client.scopes.iter().any(|s| s == requested) {
            return Err(oauth(
                "invalid_scope",
                format!("The client is not allowed the scope '{requested}'"),
            ));
        }
        if !granted.iter().any(|s| s == requested) {
            granted.push(requested.to_owned());
        }
    }
    if granted.is_empty() {
        return Err(oauth(
            "invalid_request",
            "The scope parameter is required".to_owned(),
        ));
    }
    Ok(granted)
}

/// `now + lifetime`, or the last representable instant when that lies
/// beyond it (a clock set to the year 9999): never a panic.
fn expiry(now: OffsetDateTime, lifetime: Duration) -> OffsetDateTime {
    now.checked_add(lifetime)
        .unwrap_or_else(|| PrimitiveDateTime::MAX.assume_utc())
}

fn oauth(error: &'static str, description: String) -> RelesysError {
    RelesysError::OAuth { error, description }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn scope_names_follow_relesys_pattern() {
        for ok in [
            "relesys.api",
            "relesys.api:read",
            "relesys.api.users:write",
            "relesys.api.kpis",
        ] {
            assert!(is_scope_name(ok), "{ok}");
        }
        for bad in [
            "relesys",
            "relesys.api:admin",
            "relesys.api.",
            "relesys.apiusers",
            "openid",
        ] {
            assert!(!is_scope_name(bad), "{bad}");
        }
    }

    fn tokens(cap: usize) -> Tokens {
        let client = OAuthClient {
            client_id: "c".into(),
            secret: "s".into(),
            scopes: vec!["relesys.api".into()],
        };
        Tokens::new(vec![client], HashMap::new(), Duration::hours(1), cap)
    }

    const FORM: &[u8] =
        b"grant_type=client_credentials&client_id=c&client_secret=s&scope=relesys.api";

    #[test]
    fn issued_tokens_are_capped_dropping_the_oldest_first() {
        let tokens = tokens(3);
        let now = datetime!(2026-01-01 00:00:00 UTC);
        for _ in 0..10 {
            tokens.issue(FORM, now).expect("issued");
        }
        assert_eq!(tokens.issued_count(), 3);
        tokens.reset();
        assert_eq!(tokens.issued_count(), 0);
    }

    #[test]
    fn expired_tokens_are_pruned_when_the_next_is_issued() {
        let tokens = tokens(100);
        let now = datetime!(2026-01-01 00:00:00 UTC);
        for _ in 0..5 {
            tokens.issue(FORM, now).expect("issued");
        }
        tokens
            .issue(FORM, now + Duration::hours(2))
            .expect("issued");
        assert_eq!(tokens.issued_count(), 1);
    }

    #[test]
    fn an_expiry_beyond_the_last_representable_instant_saturates() {
        let late = PrimitiveDateTime::MAX.assume_utc() - Duration::minutes(1);
        assert_eq!(
            expiry(late, Duration::hours(1)),
            PrimitiveDateTime::MAX.assume_utc()
        );
        assert!(tokens(3).issue(FORM, late).is_ok());
    }
}
