//! Relesys authentication: OAuth 2.0 client credentials at
//! `POST /login/oauth/authorize`, bearer tokens, and scopes.
//!
//! Facts (shared/vendor-notes.md §1b, confirmed from Relesys' docs): the
//! token endpoint takes a form body with `grant_type=client_credentials`,
//! `client_id`, `client_secret` and `scope` (all four required) and answers
//! `{"access_token","expires_in":"3600","token_type":"Bearer"}` — note the
//! string `expires_in`. Too few scopes on a token → 403 listing the accepted
//! ones.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use serde_json::{json, Value};

use crate::http::Call;
use crate::vendors::legacy::ApiError;

/// Scopes that allow `PATCH /users/{id}` (the seed's "Scopes:" line).
pub(super) const WRITE_SCOPES: &[&str] = &[
    "relesys.api",
    "relesys.api:write",
    "relesys.api.users",
    "relesys.api.users:write",
];

/// Scopes that allow `GET /users/{id}`: `relesys.api` and
/// `relesys.api.users` are read *and* write; the `:read` ones read only.
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
    expires_at: Option<Instant>,
}

impl Grant {
    pub fn fixed(client_id: String, scopes: Vec<String>) -> Grant {
        Grant {
            client_id,
            scopes,
            expires_at: None,
        }
    }

    /// 403 unless the token holds at least one of `accepted`.
    pub fn require_any(&self, accepted: &'static [&'static str]) -> Result<(), ApiError> {
        if self.scopes.iter().any(|s| accepted.contains(&s.as_str())) {
            Ok(())
        } else {
            Err(ApiError::MissingScope { accepted })
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

pub(super) struct Tokens {
    /// By lower-cased client id.
    clients: HashMap<String, OAuthClient>,
    fixed: HashMap<String, Grant>,
    issued: DashMap<String, Grant>,
    lifetime: Duration,
}

impl Tokens {
    pub fn new(
        clients: Vec<OAuthClient>,
        fixed: HashMap<String, Grant>,
        lifetime: Duration,
    ) -> Tokens {
        Tokens {
            clients: clients
                .into_iter()
                .map(|c| (c.client_id.to_ascii_lowercase(), c))
                .collect(),
            fixed,
            issued: DashMap::new(),
            lifetime,
        }
    }

    /// The grant of the call's bearer token; 401 when there is none, it is
    /// unknown, or it has expired.
    pub fn authenticate(&self, call: &Call) -> Result<Grant, ApiError> {
        let token = call.bearer_token().ok_or(ApiError::Unauthenticated {
            reason: "missing bearer token",
        })?;
        if let Some(grant) = self.fixed.get(token) {
            return Ok(grant.clone());
        }
        let grant = self
            .issued
            .get(token)
            .map(|g| g.clone())
            .ok_or(ApiError::Unauthenticated {
                reason: "unknown token",
            })?;
        if grant.expires_at.is_some_and(|at| Instant::now() >= at) {
            self.issued.remove(token);
            return Err(ApiError::Unauthenticated {
                reason: "token expired",
            });
        }
        Ok(grant)
    }

    /// `POST /login/oauth/authorize`: the client-credentials grant.
    pub fn issue(&self, call: &Call) -> Result<Value, ApiError> {
        let form: HashMap<String, String> =
            form_urlencoded::parse(&call.body).into_owned().collect();
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
        // The scope parameter is required and must name Relesys scopes, but
        // the token carries the scopes configured for the client (inferred:
        // the docs do not say how the parameter narrows the grant), so a
        // client that logs in works unchanged and its permissions are the
        // fixture's.
        if let Some(unknown) = scope.split_whitespace().find(|s| !is_scope_name(s)) {
            return Err(oauth(
                "invalid_scope",
                format!("'{unknown}' is not a Relesys scope"),
            ));
        }
        let now = Instant::now();
        self.issued
            .retain(|_, g| g.expires_at.is_none_or(|at| at > now));
        let token = format!("rlsm.{}", uuid::Uuid::new_v4().simple());
        self.issued.insert(
            token.clone(),
            Grant {
                client_id: client.client_id.clone(),
                scopes: client.scopes.clone(),
                expires_at: Some(now + self.lifetime),
            },
        );
        Ok(json!({
            "access_token": token,
            "expires_in": self.lifetime.as_secs().to_string(),
            "token_type": "Bearer",
        }))
    }
}

fn oauth(error: &'static str, description: String) -> ApiError {
    ApiError::OAuth { error, description }
}

#[cfg(test)]
mod tests {
    use super::is_scope_name;

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
}
