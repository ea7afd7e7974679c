//! Does a request match? The one matcher behind scenario rules' `match`
//! and the journal's find and count: plain synchronous code over a
//! [`Call`].

use hyper::header::HeaderName;
use hyper::Method;
use regex::bytes::Regex;
use serde_json::Value;

use crate::http::{Call, PathPattern};

/// The most conditions one matcher may hold (see [`conditions`]): a
/// journal find runs the matcher over every entry, so its size bounds the
/// work (a 4,400-entry query matcher once took 17 s of CPU per find).
pub(crate) const MAX_CONDITIONS: usize = 256;

/// How much a matcher asks: its methods, path parameters, query and header
/// entries, body pointers and the values in its JSON subset.
pub(crate) fn conditions(m: &RequestPattern) -> usize {
    fn values(v: &Value) -> usize {
        match v {
            Value::Object(members) => members
                .values()
                .map(values)
                .sum::<usize>()
                .saturating_add(1),
            Value::Array(items) => items.iter().map(values).sum::<usize>().saturating_add(1),
            _ => 1,
        }
    }
    [
        m.methods.len(),
        m.path_params.len(),
        m.query.len(),
        m.headers.len(),
        m.body_pointers.len(),
        m.body_json.as_ref().map_or(0, values),
    ]
    .iter()
    .fold(0usize, |sum, n| sum.saturating_add(*n))
}

/// Everything a rule's `match` asks; all given conditions must hold.
#[derive(Debug, Default)]
pub(crate) struct RequestPattern {
    pub vendor: Option<String>,
    pub methods: Vec<Method>,
    pub path: Option<PathPattern>,
    pub path_params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(HeaderName, String)>,
    pub body_json: Option<Value>,
    pub body_pointers: Vec<(String, Value)>,
    pub body_regex: Option<Regex>,
}

impl RequestPattern {
    pub fn matches(&self, vendor: &str, call: &Call) -> bool {
        if self.vendor.as_deref().is_some_and(|v| v != vendor) {
            return false;
        }
        if !self.methods.is_empty() && !self.methods.contains(&call.method) {
            return false;
        }
        if let Some(path) = &self.path {
            let Some(captured) = path.captures(&call.path) else {
                return false;
            };
            let params_ok = self.path_params.iter().all(|(name, want)| {
                captured
                    .get(name.as_str())
                    .is_some_and(|got| got.eq_ignore_ascii_case(want))
            });
            if !params_ok {
                return false;
            }
        }
        if !self.query.is_empty() {
            // One pass over the request's pairs, each looked up among the
            // wanted ones: linear in the query's length, whatever its size.
            let mut wanted: std::collections::HashMap<&str, Vec<(usize, &str)>> =
                std::collections::HashMap::new();
            for (i, (k, v)) in self.query.iter().enumerate() {
                wanted.entry(k.as_str()).or_default().push((i, v.as_str()));
            }
            let mut found = vec![false; self.query.len()];
            let mut missing = self.query.len();
            let query = call.query.as_deref().unwrap_or_default();
            for (key, value) in form_urlencoded::parse(query.as_bytes()) {
                for (i, want) in wanted.get(key.as_ref()).into_iter().flatten() {
                    if *want == value.as_ref() && !found[*i] {
                        found[*i] = true;
                        missing = missing.saturating_sub(1);
                    }
                }
                if missing == 0 {
                    break;
                }
            }
            if missing > 0 {
                return false;
            }
        }
        if !self.headers.iter().all(|(name, want)| {
            call.headers
                .get_all(name)
                .iter()
                .any(|v| v.as_bytes() == want.as_bytes())
        }) {
            return false;
        }
        if let Some(regex) = &self.body_regex {
            if !regex.is_match(&call.body) {
                return false;
            }
        }
        if self.body_json.is_some() || !self.body_pointers.is_empty() {
            let Ok(body) = serde_json::from_slice::<Value>(&call.body) else {
                return false;
            };
            if self
                .body_json
                .as_ref()
                .is_some_and(|want| !json_contains(&body, want))
            {
                return false;
            }
            if !self
                .body_pointers
                .iter()
                .all(|(pointer, want)| body.pointer(pointer) == Some(want))
            {
                return false;
            }
        }
        true
    }
}

/// Subset match: every member of `want` is in `have` with a matching value;
/// arrays match element by element and must have the same length.
pub(crate) fn json_contains(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(have), Value::Object(want)) => want
            .iter()
            .all(|(k, w)| have.get(k).is_some_and(|h| json_contains(h, w))),
        (Value::Array(have), Value::Array(want)) => {
            have.len() == want.len() && have.iter().zip(want).all(|(h, w)| json_contains(h, w))
        }
        (have, want) => have == want,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_subset_matching() {
        let have = json!({"departments": ["a", "b"], "x": {"y": 1, "z": 2}});
        assert!(json_contains(&have, &json!({"x": {"y": 1}})));
        assert!(json_contains(&have, &json!({"departments": ["a", "b"]})));
        assert!(!json_contains(&have, &json!({"departments": ["a"]})));
        assert!(!json_contains(&have, &json!({"x": {"y": 2}})));
        assert!(!json_contains(&have, &json!({"missing": null})));
    }
}
