//! [`Matcher`]: which journaled requests to find, count or expect.

use std::fmt;

use serde_json::{Map, Value};

/// Which requests to find, count or expect, in the vocabulary of a scenario
/// rule's `match` (see `docs/scenarios.md`). All given conditions must
/// hold; `Matcher::new()` alone matches every request.
///
/// It is sent as the body of `POST /__admin/requests/find` and `…/count`,
/// so the server checks it: a broken one (a bad regex, an unknown vendor)
/// makes the call panic with every problem listed.
///
/// ```
/// use serde_json::json;
/// use usermock::Matcher;
///
/// let matcher = Matcher::new()
///     .vendor("activity")
///     .method("PATCH")
///     .path("/v2/clients/{client_id}/users/{user_id}")
///     .path_param("user_id", "a1d97031-04e2-4907-a249-093f7436207b")
///     .body_json(json!({"departments": []}));
/// assert_eq!(
///     matcher.to_json(),
///     json!({
///         "vendor": "activity",
///         "method": "PATCH",
///         "path": "/v2/clients/{client_id}/users/{user_id}",
///         "path_params": {"user_id": "a1d97031-04e2-4907-a249-093f7436207b"},
///         "body": {"json": {"departments": []}}
///     })
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matcher {
    spec: Map<String, Value>,
}

impl Matcher {
    /// A matcher with no condition: it matches every request.
    pub fn new() -> Matcher {
        Matcher::default()
    }

    /// Requests that reached this vendor (a key of [`crate::vendor_names`]).
    pub fn vendor(mut self, vendor: &str) -> Matcher {
        self.spec.insert("vendor".into(), vendor.into());
        self
    }

    /// Requests with this method. Called again, any of the methods given
    /// matches.
    pub fn method(mut self, method: &str) -> Matcher {
        let method = Value::from(method.to_ascii_uppercase());
        let methods = match self.spec.remove("method") {
            None => method,
            Some(Value::Array(mut list)) => {
                list.push(method);
                Value::Array(list)
            }
            Some(one) => Value::Array(vec![one, method]),
        };
        self.spec.insert("method".into(), methods);
        self
    }

    /// Requests whose vendor path (as on the vendor's real host, e.g.
    /// `/v2/clients/{client_id}/users/{user_id}`), or whose path as received
    /// when no vendor was reached, matches this pattern: exact segments,
    /// `{param}`, `*` (one segment) or `**` (any number of segments).
    pub fn path(mut self, pattern: &str) -> Matcher {
        self.spec.insert("path".into(), pattern.into());
        self
    }

    /// The `{name}` parameter of [`path`](Self::path) has this value
    /// (compared case-insensitively).
    pub fn path_param(self, name: &str, value: &str) -> Matcher {
        self.insert_in("path_params", name, value.into())
    }

    /// The query has parameter `name` with this value.
    pub fn query(self, name: &str, value: &str) -> Matcher {
        self.insert_in("query", name, value.into())
    }

    /// The request has header `name` with exactly this value.
    pub fn header(self, name: &str, value: &str) -> Matcher {
        self.insert_in("headers", &name.to_ascii_lowercase(), value.into())
    }

    /// The JSON body contains `subset`: objects match when every member
    /// given matches (others may be present), arrays element by element
    /// with the same length, anything else by equality.
    pub fn body_json(self, subset: Value) -> Matcher {
        self.insert_in("body", "json", subset)
    }

    /// The JSON body has exactly `value` at this JSON pointer (e.g.
    /// `/departments/0`).
    pub fn body_pointer(mut self, pointer: &str, value: Value) -> Matcher {
        let body = self
            .spec
            .entry("body")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(body) = body {
            let pointers = body
                .entry("pointers")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(pointers) = pointers {
                pointers.insert(pointer.to_owned(), value);
            }
        }
        self
    }

    /// The raw body matches this regular expression somewhere.
    pub fn body_regex(self, regex: &str) -> Matcher {
        self.insert_in("body", "regex", regex.into())
    }

    /// The matcher as the admin API reads it.
    pub fn to_json(&self) -> Value {
        Value::Object(self.spec.clone())
    }

    fn insert_in(mut self, member: &str, key: &str, value: Value) -> Matcher {
        let object = self
            .spec
            .entry(member)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(object) = object {
            object.insert(key.to_owned(), value);
        }
        self
    }
}

/// The matcher's JSON, as in panic messages: `{"vendor":"activity",…}`.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Value::Object(self.spec.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_empty_matcher_is_an_empty_object() {
        assert_eq!(Matcher::new().to_json(), json!({}));
    }

    #[test]
    fn repeated_methods_become_a_list_and_conditions_accumulate() {
        let matcher = Matcher::new()
            .method("get")
            .method("PATCH")
            .query("page", "2")
            .header("X-Trace", "abc")
            .body_pointer("/a/0", json!(1))
            .body_regex("^\\{")
            .body_pointer("/b", json!(null));
        assert_eq!(
            matcher.to_json(),
            json!({
                "method": ["GET", "PATCH"],
                "query": {"page": "2"},
                "headers": {"x-trace": "abc"},
                "body": {"pointers": {"/a/0": 1, "/b": null}, "regex": "^\\{"}
            })
        );
        assert_eq!(
            Matcher::new().vendor("relesys").to_string(),
            r#"{"vendor":"relesys"}"#
        );
    }
}
