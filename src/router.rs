//! From a hyper request to a reply: picks the admin API or a vendor, reads
//! the body once, and turns every error into the right body format.
//!
//! The order of the steps is the product's contract:
//! route → read body (413) → [scenario rules, later] → vendor emulation.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, HOST};
use hyper::{Request, Response, StatusCode};
use serde_json::json;

use crate::admin;
use crate::error::ApiError;
use crate::http::{Call, Reply};
use crate::store::Store;
use crate::vendors::Vendor;

/// Header that selects an isolated copy of the state (product.md §6).
pub(crate) const SESSION_HEADER: &str = "x-usermock-session";

/// Everything a request needs, shared by all connections.
pub(crate) struct App {
    pub vendors: Vec<Arc<dyn Vendor>>,
    pub store: Store,
    pub max_body: usize,
}

enum Target<'a> {
    Admin(String),
    Vendor(&'a Arc<dyn Vendor>, String),
    Nowhere,
}

impl App {
    fn target(&self, req: &Request<Incoming>) -> Target<'_> {
        let path = req.uri().path();
        if path == "/__admin" || path.starts_with("/__admin/") {
            return Target::Admin(path.to_owned());
        }
        // A request addressed to the vendor's real host (a container alias)
        // carries the vendor's own path, without our prefix.
        let host = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().host())
            .map(strip_port);
        if let Some(host) = host {
            if let Some(vendor) = self
                .vendors
                .iter()
                .find(|v| v.real_host().eq_ignore_ascii_case(host))
            {
                return Target::Vendor(vendor, path.to_owned());
            }
        }
        let rest = path.trim_start_matches('/');
        let (first, tail) = rest.split_once('/').map_or((rest, ""), |(f, t)| (f, t));
        match self.vendors.iter().find(|v| v.name() == first) {
            Some(vendor) => Target::Vendor(vendor, format!("/{tail}")),
            None => Target::Nowhere,
        }
    }

    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let method = req.method().clone();
        let uri = req.uri().clone();
        let reply = match self.target(&req) {
            Target::Admin(path) => match self.read(req).await {
                Ok(call) => admin::handle(&self, Call { path, ..call }),
                Err(limit) => admin::too_large(limit),
            },
            Target::Vendor(vendor, path) => {
                let vendor = Arc::clone(vendor);
                match self.read(req).await {
                    Ok(call) => {
                        let call = Call { path, ..call };
                        let state = self.store.state(call.header(SESSION_HEADER));
                        vendor
                            .handle(&call, &state)
                            .unwrap_or_else(|e| render(vendor.as_ref(), &e))
                    }
                    Err(limit) => render(vendor.as_ref(), &ApiError::PayloadTooLarge { limit }),
                }
            }
            Target::Nowhere => no_vendor(uri.path(), &self.vendors),
        };
        tracing::info!(
            %method,
            path = uri.path(),
            status = reply.status.as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "request"
        );
        reply.into_response()
    }

    /// Reads the whole body, refusing more than `max_body` bytes (checked
    /// against `Content-Length` first, so a large upload is not read at all).
    async fn read(&self, req: Request<Incoming>) -> Result<Call, usize> {
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return Err(self.max_body);
        }
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => collected.to_bytes(),
            // Over the limit, or the client broke off mid-body: either way
            // there is no whole request to answer, and the limit is the one
            // error the client can act on.
            Err(err) => {
                tracing::debug!(%err, "request body not read");
                return Err(self.max_body);
            }
        };
        Ok(Call {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            headers: parts.headers,
            body,
        })
    }
}

/// A vendor error in the vendor's format, plus what HTTP itself requires.
fn render(vendor: &dyn Vendor, error: &ApiError) -> Reply {
    let reply = vendor.render_error(error);
    match error {
        ApiError::MethodNotAllowed { allow } => {
            reply.with_header(ALLOW, HeaderValue::from_static(allow))
        }
        _ => reply,
    }
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Not under any vendor: usermock's own format, naming the valid prefixes.
fn no_vendor(path: &str, vendors: &[Arc<dyn Vendor>]) -> Reply {
    let prefixes: Vec<String> = vendors.iter().map(|v| format!("/{}", v.name())).collect();
    Reply::json(
        StatusCode::NOT_FOUND,
        &json!({
            "error": "no_route",
            "message": format!("no usermock route for {path}"),
            "vendor_prefixes": prefixes,
            "admin_prefix": "/__admin",
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::strip_port;

    #[test]
    fn ports_are_stripped_from_host_names() {
        assert_eq!(strip_port("api.example.com:8080"), "api.example.com");
        assert_eq!(strip_port("api.example.com"), "api.example.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
