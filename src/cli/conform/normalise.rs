//! What makes two answers comparable across runs and tenants: secrets and
//! the run's unique names blanked, tenant data reduced to its shape, known
//! volatile kinds (uuids, timestamps, tokens, trace ids) turned into
//! numbered references, and whatever still differed between two runs of
//! the same case (found as Twitter's Diffy does) marked volatile.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

/// Marks a value that differed between two runs of one case.
pub const VOLATILE: &str = "<volatile>";
/// Marks a value the case leaves out (`ignore`).
pub const IGNORED: &str = "<ignored>";
const SHAPE_PREFIX: &str = "<shape:";

/// What is replaced in every string before comparing.
pub struct Blanks<'a> {
    /// Credential values: become `<secret>`.
    pub secrets: &'a [String],
    /// The run's unique id: becomes `<run>`.
    pub run: &'a str,
    /// The target's base URL: becomes `<base>`.
    pub base: &'a str,
}

/// One step's recorded answer, per the case's `shape`/`ignore` pointers.
pub struct StepRules<'a> {
    pub shape: &'a [String],
    pub ignore: &'a [String],
}

/// Normalises a run's steps (each `{request, status, headers, body}`) in
/// place, numbering known volatile kinds across all steps.
pub fn normalise(steps: &mut [Value], rules: &[StepRules<'_>], blanks: &Blanks<'_>) {
    for step in steps.iter_mut() {
        blank(step, blanks);
    }
    for (step, rule) in steps.iter_mut().zip(rules) {
        for pointer in rule.ignore {
            if let Some(v) = step.pointer_mut(pointer) {
                *v = Value::String(IGNORED.to_owned());
            }
        }
        for pointer in rule.shape {
            if let Some(v) = step.pointer_mut(pointer) {
                *v = shape(v);
            }
        }
    }
    let mut numbers = Numbers::default();
    for step in steps.iter_mut() {
        if let Some(headers) = step.get_mut("headers") {
            numbers.walk(headers, None);
        }
        if let Some(body) = step.get_mut("body") {
            numbers.walk(body, None);
        }
    }
}

fn blank(value: &mut Value, blanks: &Blanks<'_>) {
    match value {
        Value::String(text) => {
            let mut out = text.clone();
            for secret in blanks.secrets {
                if out.contains(secret.as_str()) {
                    out = out.replace(secret.as_str(), "<secret>");
                }
            }
            if !blanks.base.is_empty() && out.contains(blanks.base) {
                out = out.replace(blanks.base, "<base>");
            }
            if !blanks.run.is_empty() && out.contains(blanks.run) {
                out = out.replace(blanks.run, "<run>");
            }
            *text = out;
        }
        Value::Array(items) => items.iter_mut().for_each(|v| blank(v, blanks)),
        Value::Object(map) => map.values_mut().for_each(|v| blank(v, blanks)),
        _ => {}
    }
}

/// Numbered references per kind, by first appearance.
#[derive(Default)]
struct Numbers {
    seen: HashMap<(&'static str, String), usize>,
    next: HashMap<&'static str, usize>,
}

impl Numbers {
    fn reference(&mut self, kind: &'static str, value: &str) -> String {
        let key = (kind, value.to_ascii_lowercase());
        let n = match self.seen.get(&key) {
            Some(n) => *n,
            None => {
                let n = self.next.get(kind).copied().unwrap_or(0).saturating_add(1);
                self.next.insert(kind, n);
                self.seen.insert(key, n);
                n
            }
        };
        format!("<{kind}:{n}>")
    }

    fn walk(&mut self, value: &mut Value, key: Option<&str>) {
        match value {
            Value::String(text) => {
                if text.starts_with('<') && text.ends_with('>') && !text.contains(' ') {
                    return;
                }
                let kind = key
                    .and_then(key_kind)
                    .or_else(|| is_timestamp(text).then_some("timestamp"));
                *text = match kind {
                    Some(kind) => self.reference(kind, text),
                    None => {
                        let cursors = self.cursors_in(text);
                        self.uuids_in(&cursors)
                    }
                };
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.walk(v, None)),
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    self.walk(v, Some(k));
                }
            }
            _ => {}
        }
    }

    /// `text` with the value of each `cursor=` query parameter (a paging
    /// link's opaque position) replaced by its reference, so the rest of
    /// the link (filters, sort, limit) is still compared.
    fn cursors_in(&mut self, text: &str) -> String {
        const MARK: &str = "cursor=";
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(MARK) {
            let start = at + MARK.len();
            let after = &rest[start..];
            let end = after.find(['&', '#']).unwrap_or(after.len());
            out.push_str(&rest[..start]);
            if end == 0 {
                rest = after;
                continue;
            }
            out.push_str(&self.reference("cursor", &after[..end]));
            rest = &after[end..];
        }
        out.push_str(rest);
        out
    }

    /// `text` with every uuid in it replaced by its reference.
    fn uuids_in(&mut self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < bytes.len() {
            let end = i.saturating_add(36);
            // `get`: a window that cuts a multi-byte character is no uuid.
            if let Some(candidate) = text.get(i..end) {
                let bounded = i == 0 || bytes.get(i - 1).is_none_or(|b| !b.is_ascii_hexdigit());
                let after = bytes.get(end).is_none_or(|b| !b.is_ascii_hexdigit());
                if bounded && after && is_uuid(candidate) {
                    out.push_str(&self.reference("uuid", candidate));
                    i = end;
                    continue;
                }
            }
            let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8().max(1);
        }
        out
    }
}

/// The kind a member's name gives its value, whatever it looks like.
fn key_kind(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "traceid" | "trace_id" | "requestid" | "request_id"
    ) {
        return Some("trace");
    }
    let credential = (lower.ends_with("token") && lower != "token_type")
        || matches!(lower.as_str(), "invitationcode" | "passwordresetcode");
    credential.then_some("token")
}

pub fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// An ISO 8601 date or date-time (`2026-01-02`, `2026-01-02T03:04:05.123Z`,
/// with an offset or none).
pub fn is_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10))
    {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    if !matches!(b.get(10), Some(b'T' | b' '))
        || !digits(11..13)
        || b.get(13) != Some(&b':')
        || !digits(14..16)
    {
        return false;
    }
    b[16..]
        .iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.' | b'Z' | b'+' | b'-'))
}

/// The shape of a value: member names and kinds of leaves; an array's items
/// merged into one.
pub fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => {
            let mut merged: Option<Value> = None;
            for item in items {
                let s = shape(item);
                merged = Some(match merged {
                    None => s,
                    Some(m) => merge(m, s),
                });
            }
            match merged {
                Some(m) => Value::Array(vec![m]),
                None => Value::String(format!("{SHAPE_PREFIX}[]>")),
            }
        }
        // Already a shape, or left out (a pointer both a case and an
        // example name).
        Value::String(text) if kinds(text).is_some() || text == IGNORED => value.clone(),
        leaf => Value::String(format!("{SHAPE_PREFIX}{}>", leaf_kind(leaf))),
    }
}

fn leaf_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(s) if is_uuid(s) => "uuid",
        Value::String(s) if is_timestamp(s) => "timestamp",
        Value::String(_) => "string",
        _ => "other",
    }
}

fn kinds(text: &str) -> Option<BTreeSet<&str>> {
    text.strip_prefix(SHAPE_PREFIX)
        .and_then(|t| t.strip_suffix('>'))
        .map(|t| t.split('|').collect())
}

fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(old) => {
                        let taken = old.take();
                        *old = merge(taken, v);
                    }
                    None => {
                        a.insert(k, v);
                    }
                }
            }
            Value::Object(a)
        }
        (Value::Array(mut a), Value::Array(mut b)) => match (a.pop(), b.pop()) {
            (Some(x), Some(y)) => Value::Array(vec![merge(x, y)]),
            (Some(x), None) | (None, Some(x)) => Value::Array(vec![x]),
            (None, None) => Value::Array(vec![]),
        },
        (Value::String(a), Value::String(b)) if kinds(&a).is_some() && kinds(&b).is_some() => {
            let mut all: BTreeSet<&str> = kinds(&a).unwrap_or_default();
            all.extend(kinds(&b).unwrap_or_default());
            all.remove("[]");
            if all.is_empty() {
                return Value::String(format!("{SHAPE_PREFIX}[]>"));
            }
            Value::String(format!(
                "{SHAPE_PREFIX}{}>",
                all.into_iter().collect::<Vec<_>>().join("|")
            ))
        }
        // A null or an empty list beside a richer value: keep the richer.
        (Value::String(a), other) | (other, Value::String(a))
            if kinds(&a).is_some_and(|k| k.iter().all(|k| matches!(*k, "null" | "[]"))) =>
        {
            other
        }
        (a, _) => a,
    }
}

/// A shape leaf seen only as `null` or an empty list: it tells nothing
/// about the value's kind, so it admits anything.
fn uninformative(value: &Value) -> bool {
    value
        .as_str()
        .and_then(kinds)
        .is_some_and(|k| k.iter().all(|k| matches!(*k, "null" | "[]")))
}

/// Whether a shape leaf `expected` admits `got`: the kinds agree once a
/// `null` (optional data) is set aside; a value seen only as null or an
/// empty list tells nothing and admits anything.
fn shape_admits(expected: &str, got: &Value) -> Option<bool> {
    let want = kinds(expected)?;
    let Some(have) = got.as_str().and_then(kinds) else {
        return Some(false);
    };
    let strip = |k: BTreeSet<&str>| -> BTreeSet<String> {
        k.into_iter()
            .filter(|k| *k != "null")
            .map(str::to_owned)
            .collect()
    };
    Some(strip(want) == strip(have))
}

/// One difference between a golden and an answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Difference {
    pub pointer: String,
    pub expected: Value,
    pub got: Value,
}

/// Every difference between `expected` and `got`, by JSON pointer below
/// `at`. `<volatile>` and `<ignored>` in `expected` admit anything.
pub fn diff(at: &str, expected: &Value, got: &Value, out: &mut Vec<Difference>) {
    if matches!(expected.as_str(), Some(VOLATILE | IGNORED)) {
        return;
    }
    if uninformative(expected) || uninformative(got) {
        return;
    }
    if let Some(admits) = expected.as_str().and_then(|e| shape_admits(e, got)) {
        if !admits {
            out.push(Difference {
                pointer: at.to_owned(),
                expected: expected.clone(),
                got: got.clone(),
            });
        }
        return;
    }
    match (expected, got) {
        (Value::Object(e), Value::Object(g)) => {
            for (k, ev) in e {
                let p = format!("{at}/{}", escape(k));
                match g.get(k) {
                    Some(gv) => diff(&p, ev, gv, out),
                    None => out.push(Difference {
                        pointer: p,
                        expected: ev.clone(),
                        got: Value::String("(missing)".into()),
                    }),
                }
            }
            for (k, gv) in g {
                if !e.contains_key(k) {
                    out.push(Difference {
                        pointer: format!("{at}/{}", escape(k)),
                        expected: Value::String("(missing)".into()),
                        got: gv.clone(),
                    });
                }
            }
        }
        (Value::Array(e), Value::Array(g)) => {
            let longest = e.len().max(g.len());
            for i in 0..longest {
                let p = format!("{at}/{i}");
                match (e.get(i), g.get(i)) {
                    (Some(ev), Some(gv)) => diff(&p, ev, gv, out),
                    (Some(ev), None) => out.push(Difference {
                        pointer: p,
                        expected: ev.clone(),
                        got: Value::String("(missing)".into()),
                    }),
                    (None, Some(gv)) => out.push(Difference {
                        pointer: p,
                        expected: Value::String("(missing)".into()),
                        got: gv.clone(),
                    }),
                    (None, None) => {}
                }
            }
        }
        (e, g) if e == g => {}
        (e, g) => out.push(Difference {
            pointer: at.to_owned(),
            expected: e.clone(),
            got: g.clone(),
        }),
    }
}

/// A JSON pointer token (RFC 6901).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Marks every pointer in `volatile` as volatile in `steps` (where present).
pub fn mark_volatile(steps: &mut Value, volatile: &[String]) {
    for pointer in volatile {
        if let Some(v) = steps.pointer_mut(pointer) {
            *v = Value::String(VOLATILE.to_owned());
        }
    }
}

/// The pointers where two normalised runs differ: the volatile values. A
/// member or item present in one run only makes its container volatile.
pub fn volatile_between(a: &Value, b: &Value) -> Vec<String> {
    let mut found = Vec::new();
    diff("", a, b, &mut found);
    let mut pointers: Vec<String> = found
        .into_iter()
        .map(|d| {
            let missing = |v: &Value| v.as_str() == Some("(missing)");
            if missing(&d.expected) || missing(&d.got) {
                match d.pointer.rfind('/') {
                    Some(cut) if cut > 0 => d.pointer[..cut].to_owned(),
                    _ => d.pointer,
                }
            } else {
                d.pointer
            }
        })
        .collect();
    pointers.sort();
    pointers.dedup();
    pointers
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(steps: Value) -> Value {
        let mut steps = steps;
        let n = steps.as_array().map_or(0, Vec::len);
        let rules: Vec<StepRules<'_>> = (0..n)
            .map(|_| StepRules {
                shape: &[],
                ignore: &[],
            })
            .collect();
        let blanks = Blanks {
            secrets: &[],
            run: "",
            base: "",
        };
        if let Some(items) = steps.as_array_mut() {
            normalise(items, &rules, &blanks);
        }
        steps
    }

    #[test]
    fn the_same_uuid_in_two_steps_gets_the_same_number() {
        let got = run(json!([
            {"status": 201, "headers": {}, "body": {"id": "0F8FAD5B-D9CB-469F-A165-70867728950E", "at": "2026-01-01T00:00:00Z"}},
            {"status": 200, "headers": {}, "body": {"id": "0f8fad5b-d9cb-469f-a165-70867728950e", "other": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "url": "/u/0f8fad5b-d9cb-469f-a165-70867728950e"}},
            {"status": 200, "headers": {}, "body": {"name": "Bjørn Ærø ünïcødé 0f8fad5b-d9cb-469f-a165-70867728950e ✓"}}
        ]));
        assert_eq!(
            got,
            json!([
                {"status": 201, "headers": {}, "body": {"id": "<uuid:1>", "at": "<timestamp:1>"}},
                {"status": 200, "headers": {}, "body": {"id": "<uuid:1>", "other": "<uuid:2>", "url": "/u/<uuid:1>"}},
                {"status": 200, "headers": {}, "body": {"name": "Bjørn Ærø ünïcødé <uuid:1> ✓"}}
            ])
        );
    }

    #[test]
    fn a_paging_link_keeps_its_query_and_numbers_its_cursor() {
        let got = run(json!([
            {"body": {"nextUrl": "http://h/users?limit=1&cursor=85a54ea0f23b4c99&status=x", "previousUrl": null}},
            {"body": {"nextUrl": "http://h/users?limit=1&cursor=0f0f", "previousUrl": "http://h/users?limit=1&cursor=85a54ea0f23b4c99"}}
        ]));
        assert_eq!(
            got,
            json!([
                {"body": {"nextUrl": "http://h/users?limit=1&cursor=<cursor:1>&status=x", "previousUrl": null}},
                {"body": {"nextUrl": "http://h/users?limit=1&cursor=<cursor:2>", "previousUrl": "http://h/users?limit=1&cursor=<cursor:1>"}}
            ])
        );
    }

    #[test]
    fn values_that_differ_between_runs_are_volatile() {
        let a = json!([{"body": {"n": 1, "same": "x", "list": [1, 2]}}]);
        let b = json!([{"body": {"n": 2, "same": "x", "list": [1]}}]);
        assert_eq!(volatile_between(&a, &b), vec!["/0/body/list", "/0/body/n"]);
    }

    #[test]
    fn a_value_shaped_twice_keeps_its_first_shape() {
        // A pointer both a case and an example mark as tenant data.
        let once = shape(&json!({"at": "2026-02-24T21:23:53.082Z", "n": 87, "x": IGNORED}));
        assert_eq!(
            once,
            json!({"at": "<shape:timestamp>", "n": "<shape:integer>", "x": IGNORED})
        );
        assert_eq!(shape(&once), once);
    }

    #[test]
    fn shapes_ignore_nulls_and_empty_lists() {
        let expected = shape(&json!([{"a": "x", "b": null, "c": []}]));
        let got = shape(&json!([{"a": "y", "b": "z", "c": [{"id": 1}]}]));
        let mut out = Vec::new();
        diff("", &expected, &got, &mut out);
        assert_eq!(out, vec![]);
        let wrong = shape(&json!([{"a": 1, "b": null, "c": []}]));
        diff("", &expected, &wrong, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].pointer, "/0/a");
    }
}
