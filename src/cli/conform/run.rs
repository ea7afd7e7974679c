//! Carrying out a case: resolving `${…}` values, sending each step,
//! capturing from the answers, and always sending the cleanup once
//! anything was sent.

use std::collections::BTreeMap;

use bytes::Bytes;
use hyper::Method;
use serde_json::{json, Map, Value};

use super::case::{Case, Step};
use super::creds::{self, Credentials};
use super::http::{Client, Outgoing};

/// What a run of the corpus shares: where, as whom, how fast.
pub struct Context {
    pub vendor: String,
    /// The vendor's base URL, without a trailing `/`.
    pub base: String,
    pub credentials: Credentials,
    pub client: Client,
}

/// A run's answers, one `{request, status, headers, body}` per step sent,
/// and why it stopped early, if it did.
pub struct Transcript {
    pub steps: Vec<Value>,
    /// For each recorded step, its index in the case's steps followed by
    /// its cleanup steps (a failed step shifts the ones after it).
    pub defs: Vec<usize>,
    pub error: Option<String>,
    /// The values the run resolved `${…}` with at its end (captures,
    /// `run`, `new_uuid`, credentials): `derive` fills examples with them.
    pub vars: BTreeMap<String, String>,
}

/// The value a credential-less `invalid` step sends.
const INVALID_CREDENTIAL: &str = "conform-invalid-credential";

/// Headers recorded when present, besides a step's `record_headers`.
const RECORDED_HEADERS: &[&str] = &[
    "content-type",
    "allow",
    "retry-after",
    "www-authenticate",
    "location",
];

impl Context {
    /// Why `case` cannot run with these credentials, if it cannot.
    pub fn missing_credential(&self, case: &Case) -> Option<String> {
        for step in case.steps.iter().chain(&case.cleanup) {
            let role = step.auth.as_deref().unwrap_or(&case.auth);
            if let Some(field) = creds::role_field(&self.vendor, role) {
                if matches!(role, "main" | "limited") && self.credentials.get(field).is_none() {
                    return Some(format!(
                        "needs the {role} credential ({})",
                        self.role_hint(role)
                    ));
                }
            }
        }
        let mut vars: Vec<String> = Vec::new();
        for step in case.steps.iter().chain(&case.cleanup) {
            collect_vars(&step.path, &mut vars);
            for (_, v) in &step.query {
                collect_vars(v, &mut vars);
            }
            if let Some(form) = &step.form {
                for (_, v) in form {
                    collect_vars(v, &mut vars);
                }
            }
            if let Some(body) = &step.body {
                collect_value_vars(body, &mut vars);
            }
        }
        vars.into_iter()
            .filter_map(|v| v.strip_prefix("cred.").map(str::to_owned))
            .find(|field| self.credentials.get(field).is_none())
            .map(|field| {
                format!(
                    "needs the credential field '{field}' ({})",
                    creds::env_name(&self.vendor, &field)
                )
            })
    }

    fn role_hint(&self, role: &str) -> String {
        match (self.vendor.as_str(), role) {
            ("relesys", "main") => format!(
                "{} and {}, or {}",
                creds::env_name("relesys", "client_id"),
                creds::env_name("relesys", "client_secret"),
                creds::env_name("relesys", "token")
            ),
            ("relesys", _) => format!(
                "{} and {}, or {}",
                creds::env_name("relesys", "limited_client_id"),
                creds::env_name("relesys", "limited_client_secret"),
                creds::env_name("relesys", "limited_token")
            ),
            (vendor, role) => creds::role_field(vendor, role)
                .map(|f| creds::env_name(vendor, f))
                .unwrap_or_default(),
        }
    }

    /// Relesys: exchanges client credentials for tokens first (the token
    /// endpoint is the documented way in). Other vendors use their key as is.
    pub async fn fetch_tokens(&mut self) -> Result<(), String> {
        if self.vendor != "relesys" {
            return Ok(());
        }
        for (prefix, default_scope) in [("", "relesys.api"), ("limited_", "relesys.api:read")] {
            let token_field = format!("{prefix}token");
            if self.credentials.get(&token_field).is_some() {
                continue;
            }
            let (Some(id), Some(secret)) = (
                self.credentials.get(&format!("{prefix}client_id")),
                self.credentials.get(&format!("{prefix}client_secret")),
            ) else {
                continue;
            };
            let scope = self
                .credentials
                .get(&format!("{prefix}scope"))
                .unwrap_or(default_scope);
            let form: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "client_credentials")
                .append_pair("client_id", id)
                .append_pair("client_secret", secret)
                .append_pair("scope", scope)
                .finish();
            let request = Outgoing {
                method: Method::POST,
                url: format!("{}/login/oauth/authorize", self.base),
                headers: vec![(
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded".to_owned(),
                )],
                body: Bytes::from(form),
            };
            let which = if prefix.is_empty() { "main" } else { "limited" };
            let answer = self
                .client
                .send(&request)
                .await
                .map_err(|e| format!("fetching the {which} Relesys token: {e}"))?;
            let token = serde_json::from_slice::<Value>(&answer.body)
                .ok()
                .and_then(|v| v.get("access_token")?.as_str().map(str::to_owned));
            match (answer.status, token) {
                (200, Some(token)) => self.credentials.set(&token_field, token),
                // The answer is not shown: it could echo a secret.
                (status, _) => {
                    return Err(format!(
                        "fetching the {which} Relesys token: the token endpoint answered {status} without an access_token"
                    ))
                }
            }
        }
        Ok(())
    }

    /// Runs `case` once with `run_id` as its unique id.
    pub async fn run(&mut self, case: &Case, run_id: &str) -> Transcript {
        let mut vars: BTreeMap<String, String> = self.credentials.variables().collect();
        vars.insert("run".to_owned(), run_id.to_owned());
        vars.insert("new_uuid".to_owned(), uuid::Uuid::new_v4().to_string());
        let mut transcript = Transcript {
            steps: Vec::new(),
            defs: Vec::new(),
            error: None,
            vars: BTreeMap::new(),
        };
        for (i, step) in case.steps.iter().enumerate() {
            if let Err(err) = self
                .step(case, (i, step), "", &mut vars, &mut transcript)
                .await
            {
                transcript.error = Some(err);
                break;
            }
        }
        if !transcript.steps.is_empty() {
            for (i, step) in case.cleanup.iter().enumerate() {
                let index = case.steps.len().saturating_add(i);
                if let Err(err) = self
                    .step(case, (index, step), "cleanup: ", &mut vars, &mut transcript)
                    .await
                {
                    let message = format!("cleanup {}: {err}", step.label());
                    tracing::warn!(case = %case.name, "{message}");
                    transcript.error.get_or_insert(message);
                }
            }
        }
        transcript.vars = vars;
        transcript
    }

    async fn step(
        &mut self,
        case: &Case,
        (index, step): (usize, &Step),
        prefix: &str,
        vars: &mut BTreeMap<String, String>,
        transcript: &mut Transcript,
    ) -> Result<(), String> {
        let request = self.outgoing(case, step, vars)?;
        let answer = self
            .client
            .send(&request)
            .await
            .map_err(|e| format!("{}: {e}", step.label()))?;
        let mut headers = Map::new();
        for (name, value) in &answer.headers {
            let wanted = RECORDED_HEADERS.contains(&name.as_str())
                || step
                    .record_headers
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(name));
            if wanted && !headers.contains_key(name) {
                headers.insert(name.clone(), Value::String(value.clone()));
            }
        }
        let body = if answer.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice::<Value>(&answer.body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&answer.body).into()))
        };
        let observed = json!({
            "request": format!("{prefix}{}", label_with_query(step)),
            "status": answer.status,
            "headers": headers,
            "body": body,
        });
        for (name, pointer) in &step.capture {
            let value = match capture(&observed, pointer).as_ref() {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => {
                    transcript.steps.push(observed);
                    transcript.defs.push(index);
                    return Err(format!(
                        "{}: nothing to capture as '{name}' at {pointer}",
                        step.label()
                    ));
                }
                Some(other) => other.to_string(),
            };
            vars.insert(name.clone(), value);
        }
        transcript.steps.push(observed);
        transcript.defs.push(index);
        Ok(())
    }

    /// The request `step` sends, `${…}` resolved.
    pub fn outgoing(
        &self,
        case: &Case,
        step: &Step,
        vars: &BTreeMap<String, String>,
    ) -> Result<Outgoing, String> {
        let method = Method::from_bytes(step.method.as_bytes())
            .map_err(|_| format!("{}: not an HTTP method", step.label()))?;
        // A path that is one captured absolute URL (a `nextUrl`) is
        // followed as the vendor gave it.
        let whole = step
            .path
            .strip_prefix("${")
            .and_then(|p| p.strip_suffix('}'))
            .and_then(|name| vars.get(name))
            .filter(|v| v.starts_with("http://") || v.starts_with("https://"));
        let mut url = match whole {
            Some(absolute) => absolute.clone(),
            None => format!("{}{}", self.base, resolve(&step.path, vars, true)?),
        };
        if !step.query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (name, value) in &step.query {
                query.append_pair(name, &resolve(value, vars, false)?);
            }
            url.push_str(&query.finish().replace('+', "%20"));
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        let role = step.auth.as_deref().unwrap_or(&case.auth);
        match role {
            "none" => {}
            "invalid" => {
                let (name, value) = creds::auth_header(&self.vendor, INVALID_CREDENTIAL);
                headers.push((name.to_owned(), value));
            }
            role => {
                let field = creds::role_field(&self.vendor, role)
                    .ok_or_else(|| format!("no credential role '{role}' for {}", self.vendor))?;
                let credential = self
                    .credentials
                    .get(field)
                    .ok_or_else(|| format!("no {role} credential"))?;
                let (name, value) = creds::auth_header(&self.vendor, credential);
                headers.push((name.to_owned(), value));
            }
        }
        for (name, value) in &step.headers {
            headers.push((name.to_ascii_lowercase(), resolve(value, vars, false)?));
        }
        let (body, default_type) = if let Some(body) = &step.body {
            let body = resolve_value(body, vars)?;
            (
                Bytes::from(serde_json::to_vec(&body).map_err(|e| e.to_string())?),
                Some("application/json"),
            )
        } else if let Some(form) = &step.form {
            let mut out = form_urlencoded::Serializer::new(String::new());
            for (name, value) in form {
                out.append_pair(name, &resolve(value, vars, false)?);
            }
            (
                Bytes::from(out.finish()),
                Some("application/x-www-form-urlencoded"),
            )
        } else if let Some(raw) = &step.raw {
            (Bytes::from(resolve(raw, vars, false)?), None)
        } else {
            (Bytes::new(), None)
        };
        if let Some(content_type) = step.content_type.as_deref().or(default_type) {
            if !headers.iter().any(|(n, _)| n == "content-type") {
                headers.push(("content-type".to_owned(), content_type.to_owned()));
            }
        }
        Ok(Outgoing {
            method,
            url,
            headers,
            body,
        })
    }
}

/// The value at `pointer`; a `*` token collects that member of every item
/// of an array (`/body/departments/*/id` → the ids, as a JSON array).
fn capture(observed: &Value, pointer: &str) -> Option<Value> {
    match pointer.split_once("/*") {
        None => observed.pointer(pointer).cloned(),
        Some((list, rest)) => {
            let items = observed.pointer(list)?.as_array()?;
            items
                .iter()
                .map(|item| {
                    if rest.is_empty() {
                        Some(item.clone())
                    } else {
                        item.pointer(rest).cloned()
                    }
                })
                .collect::<Option<Vec<Value>>>()
                .map(Value::Array)
        }
    }
}

/// `GET /path?name=${x}`: the step as the golden shows it.
pub fn label_with_query(step: &Step) -> String {
    if step.query.is_empty() {
        return step.label();
    }
    let query: Vec<String> = step.query.iter().map(|(n, v)| format!("{n}={v}")).collect();
    format!("{}?{}", step.label(), query.join("&"))
}

fn collect_vars(text: &str, out: &mut Vec<String>) {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
}

fn collect_value_vars(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => collect_vars(s, out),
        Value::Array(items) => items.iter().for_each(|v| collect_value_vars(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_value_vars(v, out)),
        _ => {}
    }
}

/// `text` with each `${name}` replaced; a path segment's value is
/// percent-encoded.
fn resolve(text: &str, vars: &BTreeMap<String, String>, in_path: bool) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed ${{ in '{text}'"))?;
        let name = &after[..end];
        let value = vars
            .get(name)
            .ok_or_else(|| format!("no value for ${{{name}}}"))?;
        if in_path {
            out.push_str(&crate::cli::client::path_segment(value));
        } else {
            out.push_str(value);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub fn resolve_value(value: &Value, vars: &BTreeMap<String, String>) -> Result<Value, String> {
    Ok(match value {
        // `$json{name}`: the captured value itself (a list, a number), not
        // its text.
        Value::String(s) if s.starts_with("$json{") && s.ends_with('}') => {
            let name = s
                .strip_prefix("$json{")
                .and_then(|rest| rest.strip_suffix('}'))
                .unwrap_or_default();
            let text = vars
                .get(name)
                .ok_or_else(|| format!("no value for $json{{{name}}}"))?;
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
        }
        Value::String(s) => Value::String(resolve(s, vars, false)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve_value(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), resolve_value(v, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}
