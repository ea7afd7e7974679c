//! [`RecordedRequest`]: one journal entry of `GET /__admin/requests`, typed.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A request the server received and what it answered: one entry of the
/// request journal (`GET /__admin/requests`, `POST /__admin/requests/find`).
///
/// Admin calls are never journaled.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawEntry")]
#[non_exhaustive]
pub struct RecordedRequest {
    /// Increasing, never reused (not even after a reset).
    pub id: u64,
    /// When the request arrived, in real (wall-clock) time whatever the
    /// mock clock says.
    pub received_at: OffsetDateTime,
    /// The `X-Usermock-Session` id the request carried.
    pub session: Option<String>,
    /// The vendor the request reached, `None` when it reached none.
    pub vendor: Option<String>,
    /// Whether the path is one of the vendor's routes (whatever the method).
    pub matched: bool,
    /// The method, upper case.
    pub method: String,
    /// The path as received, with usermock's `/vendor` prefix if it had one.
    pub path: String,
    /// The vendor's own path (as on its real host), `None` without a vendor.
    pub vendor_path: Option<String>,
    /// The raw query string without `?`.
    pub query: Option<String>,
    /// Headers by lower-case name; repeated ones are joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body as UTF-8 (invalid bytes replaced), possibly cut short.
    pub body: String,
    /// The body's full size in bytes.
    pub body_size: u64,
    /// Whether [`body`](Self::body) was cut short.
    pub body_truncated: bool,
    /// The parsed body, when it was kept whole and is JSON.
    pub json: Option<Value>,
    /// The answer's status; `None` when a scenario fault sent no answer.
    pub status: Option<u16>,
    /// The scenario rule that answered instead of the emulation.
    pub rule: Option<RuleRef>,
    /// The name of the scenario whose rule answered (`rule.scenario`).
    pub scenario: Option<String>,
    /// The fault that rule injected (`connection_reset`, `timeout`,
    /// `close_after_headers`, `truncated_body`, `malformed_json`,
    /// `wrong_content_type`).
    pub fault: Option<String>,
    /// What was sent back; `None` exactly when [`status`](Self::status) is.
    pub response: Option<RecordedResponse>,
    /// From the request head to the answer handed over, delays included,
    /// in whole milliseconds (most answers take less than one).
    pub duration_ms: u64,
    /// The same duration in whole microseconds.
    pub duration_us: u64,
    /// Where the answer relied on a rule usermock inferred rather than the
    /// vendor's documentation, or ignored part of the request.
    pub notes: Vec<RecordedNote>,
}

/// One place a [`RecordedRequest`]'s answer relied on usermock's own
/// reading: the rule's id (named in the vendor's page of `docs/vendors/`),
/// what happened, and where the rule (or the silence it fills) comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RecordedNote {
    /// The rule's stable id.
    pub rule: String,
    /// What usermock did.
    pub message: String,
    /// Where the rule comes from.
    pub source: String,
}

impl fmt::Display for RecordedNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.rule, self.message, self.source)
    }
}

impl RecordedRequest {
    /// A request header by name, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// One line: `#7 PATCH /activity/v2/… → 404 [session test-42] (scenario x)`.
impl fmt::Display for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {} {}", self.id, self.method, self.path)?;
        if let Some(query) = &self.query {
            write!(f, "?{query}")?;
        }
        match self.status {
            Some(status) => write!(f, " → {status}")?,
            None => write!(f, " → no answer")?,
        }
        if let Some(session) = &self.session {
            write!(f, " [session {session}]")?;
        }
        if let Some(scenario) = &self.scenario {
            write!(f, " (scenario {scenario})")?;
        }
        Ok(())
    }
}

/// What usermock sent back for a [`RecordedRequest`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct RecordedResponse {
    /// The status sent.
    pub status: u16,
    /// Headers by lower-case name.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body as sent (for faults that cut it: the bytes actually
    /// written), as UTF-8, possibly cut short.
    #[serde(default)]
    pub body: String,
    /// The body's full size in bytes.
    #[serde(default)]
    pub body_size: u64,
    /// Whether [`body`](Self::body) was cut short.
    #[serde(default)]
    pub truncated: bool,
    /// The parsed body, when it was kept whole and is JSON.
    #[serde(default)]
    pub json: Option<Value>,
}

/// A scenario rule: the scenario's name and the rule's 0-based index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RuleRef {
    /// The scenario's name.
    pub scenario: String,
    /// The rule's index in the scenario's `rules`, from 0.
    pub index: usize,
}

/// The entry as the admin API writes it. Members a server may not send
/// default; `at` (kept for older clients) stands in for `received_at`.
#[derive(Deserialize)]
struct RawEntry {
    id: u64,
    #[serde(default)]
    received_at: Option<String>,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    matched: bool,
    method: String,
    path: String,
    #[serde(default)]
    vendor_path: Option<String>,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: String,
    #[serde(default)]
    body_size: Option<u64>,
    #[serde(default)]
    body_truncated: bool,
    #[serde(default)]
    json: Option<Value>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    rule: Option<RuleRef>,
    #[serde(default)]
    scenario: Option<String>,
    #[serde(default)]
    fault: Option<String>,
    #[serde(default)]
    response: Option<RecordedResponse>,
    #[serde(default)]
    duration_ms: u64,
    #[serde(default)]
    duration_us: u64,
    #[serde(default)]
    notes: Vec<RecordedNote>,
}

impl TryFrom<RawEntry> for RecordedRequest {
    type Error = String;

    fn try_from(raw: RawEntry) -> Result<RecordedRequest, String> {
        let stamp = raw
            .received_at
            .or(raw.at)
            .ok_or("the entry has neither `received_at` nor `at`")?;
        let received_at = OffsetDateTime::parse(&stamp, &Rfc3339)
            .map_err(|e| format!("`received_at` {stamp:?} is not RFC 3339: {e}"))?;
        Ok(RecordedRequest {
            id: raw.id,
            received_at,
            session: raw.session,
            matched: raw.matched,
            vendor: raw.vendor,
            method: raw.method,
            path: raw.path,
            vendor_path: raw.vendor_path,
            query: raw.query,
            headers: raw.headers,
            body_size: raw.body_size.unwrap_or(raw.body.len() as u64),
            body: raw.body,
            body_truncated: raw.body_truncated,
            json: raw.json,
            status: raw.status,
            rule: raw.rule,
            scenario: raw.scenario,
            fault: raw.fault,
            response: raw.response,
            duration_ms: raw.duration_ms,
            duration_us: raw.duration_us,
            notes: raw.notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_documented_entry_deserialises_whole() {
        let entry: RecordedRequest = serde_json::from_value(json!({
            "id": 7,
            "at": "2026-02-24T22:00:00.123Z",
            "received_at": "2026-02-24T22:00:00.123Z",
            "session": "test-42",
            "vendor": "activity",
            "matched": true,
            "method": "PATCH",
            "path": "/activity/v2/clients/c/users/u",
            "vendor_path": "/v2/clients/c/users/u",
            "query": null,
            "headers": {"authorization": "Bearer activity-admin"},
            "body": "{\"departments\":[]}",
            "body_size": 18,
            "body_truncated": false,
            "json": {"departments": []},
            "status": 404,
            "scenario": "activity-user-not-found",
            "rule": {"scenario": "activity-user-not-found", "index": 0},
            "fault": null,
            "response": {
                "status": 404,
                "headers": {"content-type": "application/json; charset=utf-8"},
                "body": "{}",
                "body_size": 2,
                "truncated": false,
                "json": {}
            },
            "duration_ms": 1,
            "duration_us": 1234
        }))
        .expect("entry");
        assert_eq!((entry.duration_ms, entry.duration_us), (1, 1234));
        assert_eq!(entry.header("Authorization"), Some("Bearer activity-admin"));
        assert_eq!(entry.scenario.as_deref(), Some("activity-user-not-found"));
        assert_eq!(entry.response.as_ref().map(|r| r.status), Some(404));
        assert_eq!(
            entry.to_string(),
            "#7 PATCH /activity/v2/clients/c/users/u → 404 [session test-42] (scenario activity-user-not-found)"
        );
    }

    #[test]
    fn an_entry_without_the_newer_members_still_deserialises() {
        let entry: RecordedRequest = serde_json::from_value(json!({
            "id": 1,
            "at": "2026-02-24T22:00:00.000Z",
            "method": "GET",
            "path": "/nowhere",
            "status": 404,
            "scenario": null
        }))
        .expect("entry");
        assert!(!entry.matched);
        assert_eq!(entry.response, None);
        assert_eq!(entry.rule, None);
        assert_eq!(entry.notes, []);
    }
}
