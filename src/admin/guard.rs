//! What a web page must not be able to do to the developer's machine
//! through the admin API, with or without an admin token:
//!
//! - **DNS rebinding.** A page on `evil.example` re-points its own name at
//!   127.0.0.1 and reads `/__admin/requests` as same-origin. Its requests
//!   carry `Host: evil.example`, so admin calls answer only a `Host` that is
//!   a loopback name or address, the address the connection arrived at, a
//!   vendor's real host (container aliases), or a name configured with
//!   `--admin-host` (a CI service alias such as `usermock`).
//! - **Cross-site writes.** A page can POST to `http://127.0.0.1:8080`
//!   without reading the answer (`text/plain` and bodiless POSTs need no
//!   CORS preflight). A browser marks such requests with `Origin` and
//!   `Sec-Fetch-Site`: another origin is refused, and a write's body must be
//!   declared JSON, which a page can only send after a preflight that
//!   usermock never grants.
//!
//! The dashboard is same-origin and sends JSON, so it passes every check.

use std::net::{IpAddr, SocketAddr};

use hyper::Method;

use super::AdminError;
use crate::http::Call;
use crate::vendors::Vendor;

/// What the guard needs to know besides the request.
pub(crate) struct Allowed<'a> {
    /// Names from `--admin-host`; `*` allows any `Host`.
    pub hosts: &'a [String],
    /// The address the request's connection arrived at.
    pub local: Option<SocketAddr>,
    pub vendors: &'a [std::sync::Arc<dyn Vendor>],
}

/// `Err` with the refusal when the request must not reach an admin route.
/// `static_page` is true for the dashboard page and the OpenAPI document:
/// they hold no data, so a link from another site may open them.
pub(super) fn check(
    allowed: &Allowed<'_>,
    call: &Call,
    static_page: bool,
) -> Result<(), AdminError> {
    if let Some(host) = call.header("host") {
        if !host_allowed(allowed, host) {
            return Err(AdminError::HostRefused {
                host: host.to_owned(),
            });
        }
    }
    if static_page {
        return Ok(());
    }
    if let Some(why) = cross_site(call) {
        return Err(AdminError::CrossSite(why));
    }
    let writes = !matches!(call.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let declares_body = !call.body.is_empty() || call.headers.contains_key("content-type");
    if writes && declares_body && !call.declares_json() {
        let given = call.media_type().unwrap_or_else(|| "none".to_owned());
        return Err(AdminError::JsonRequired { given });
    }
    Ok(())
}

fn host_allowed(allowed: &Allowed<'_>, host: &str) -> bool {
    let name = host_name(host);
    if allowed
        .hosts
        .iter()
        .any(|h| h == "*" || h.eq_ignore_ascii_case(name))
    {
        return true;
    }
    // RFC 6761: `localhost` and names under it resolve to loopback only,
    // so no page can rebind them.
    if name.eq_ignore_ascii_case("localhost") || ends_with_ignore_case(name, ".localhost") {
        return true;
    }
    if let Ok(ip) = name.parse::<IpAddr>() {
        let ip = ip.to_canonical();
        return ip.is_loopback() || allowed.local.is_some_and(|l| l.ip().to_canonical() == ip);
    }
    allowed
        .vendors
        .iter()
        .any(|v| v.real_host().eq_ignore_ascii_case(name))
}

/// The name or address of a `Host` value: without the port, the brackets
/// of an IPv6 address, or a trailing dot.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        },
    };
    name.strip_suffix('.').unwrap_or(name)
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len()
        .checked_sub(suffix.len())
        .and_then(|at| text.get(at..))
        .is_some_and(|end| end.eq_ignore_ascii_case(suffix))
}

/// Why the request comes from another web origin, if it does.
fn cross_site(call: &Call) -> Option<String> {
    if let Some(site) = call.header("sec-fetch-site") {
        let site = site.trim();
        if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
            return Some(format!("Sec-Fetch-Site: {site}"));
        }
    }
    let origin = call.header("origin")?.trim();
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let same = match (authority, call.header("host")) {
        (Some(authority), Some(host)) => {
            without_default_port(authority).eq_ignore_ascii_case(without_default_port(host.trim()))
        }
        _ => false,
    };
    (!same).then(|| format!("Origin: {origin}"))
}

/// Browsers leave the default port out of `Origin`; a client may write it
/// in `Host`.
fn without_default_port(authority: &str) -> &str {
    authority
        .strip_suffix(":80")
        .or_else(|| authority.strip_suffix(":443"))
        .unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_port_brackets_and_trailing_dot() {
        assert_eq!(host_name("localhost:8080"), "localhost");
        assert_eq!(host_name("[::1]:8080"), "::1");
        assert_eq!(host_name("[::1]"), "::1");
        assert_eq!(host_name("evil.example."), "evil.example");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn the_address_a_connection_arrived_at_is_answered_and_other_addresses_are_not() {
        let allowed = Allowed {
            hosts: &[],
            local: "10.0.0.5:8080".parse().ok(),
            vendors: &[],
        };
        assert!(host_allowed(&allowed, "10.0.0.5:8080"));
        assert!(host_allowed(&allowed, "[::ffff:10.0.0.5]:8080"));
        assert!(host_allowed(&allowed, "127.0.0.1"));
        assert!(!host_allowed(&allowed, "10.0.0.6:8080"));
        assert!(!host_allowed(&allowed, "usermock:8080"));
    }

    #[test]
    fn localhost_subdomains_end_with_the_suffix() {
        assert!(ends_with_ignore_case("app.LOCALHOST", ".localhost"));
        assert!(!ends_with_ignore_case("localhost.evil", ".localhost"));
        assert!(!ends_with_ignore_case("x", ".localhost"));
    }
}
