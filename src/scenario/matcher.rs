//! Does a request match a rule? Plain synchronous code over a [`Call`].

use std::collections::HashMap;

use hyper::header::HeaderName;
use hyper::Method;
use regex::bytes::Regex;
use serde_json::Value;

use crate::http::Call;

/// A path pattern: literal segments, `{name}` (one segment, captured), `*`
/// (one segment) and `**` (any number of segments, also none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathPattern(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Star,
    Any,
}

impl PathPattern {
    pub fn parse(pattern: &str) -> Result<PathPattern, String> {
        let Some(rest) = pattern.strip_prefix('/') else {
            return Err(format!("path '{pattern}' must start with '/'"));
        };
        let segments = rest
            .split('/')
            .map(|s| match s {
                "*" => Ok(Segment::Star),
                "**" => Ok(Segment::Any),
                s if s.starts_with('{') && s.ends_with('}') && s.len() > 2 => {
                    Ok(Segment::Param(s[1..s.len() - 1].to_owned()))
                }
                s if s.contains(['{', '}', '*']) => {
                    Err(format!("path segment '{s}' mixes text with a wildcard"))
                }
                s => Ok(Segment::Literal(s.to_owned())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PathPattern(segments))
    }

    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|s| match s {
            Segment::Param(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The captured `{name}` values when `path` matches.
    pub fn captures<'a>(&self, path: &'a str) -> Option<HashMap<&str, &'a str>> {
        let path = path.strip_prefix('/').unwrap_or(path);
        let path = path
            .strip_suffix('/')
            .filter(|p| !p.is_empty())
            .unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let mut captured = HashMap::new();
        segments_match(&self.0, &segments, &mut captured).then_some(captured)
    }

    /// Could this pattern match some path that `route` (a vendor route
    /// pattern such as `/api/user/{userId}`) matches? Used to reject rules
    /// that can never fire.
    pub fn overlaps(&self, route: &str) -> bool {
        match PathPattern::parse(route) {
            Ok(route) => overlap(&self.0, &route.0),
            Err(_) => false,
        }
    }
}

fn segments_match<'p, 'a>(
    pattern: &'p [Segment],
    path: &[&'a str],
    captured: &mut HashMap<&'p str, &'a str>,
) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(Segment::Any), _) => {
            (0..=path.len()).any(|skip| segments_match(&pattern[1..], &path[skip..], captured))
        }
        (Some(_), None) | (None, Some(_)) => false,
        (Some(Segment::Literal(l)), Some(p)) => {
            l == p && segments_match(&pattern[1..], &path[1..], captured)
        }
        (Some(Segment::Star), Some(p)) => {
            !p.is_empty() && segments_match(&pattern[1..], &path[1..], captured)
        }
        (Some(Segment::Param(name)), Some(p)) => {
            if p.is_empty() {
                return false;
            }
            captured.insert(name.as_str(), *p);
            segments_match(&pattern[1..], &path[1..], captured)
        }
    }
}

/// `route` holds only literals and params; `pattern` may hold wildcards.
fn overlap(pattern: &[Segment], route: &[Segment]) -> bool {
    match (pattern.first(), route.first()) {
        (None, None) => true,
        (Some(Segment::Any), _) => {
            (0..=route.len()).any(|skip| overlap(&pattern[1..], &route[skip..]))
        }
        (Some(_), None) | (None, Some(_)) => false,
        (Some(Segment::Literal(a)), Some(Segment::Literal(b))) => {
            a == b && overlap(&pattern[1..], &route[1..])
        }
        (Some(_), Some(_)) => overlap(&pattern[1..], &route[1..]),
    }
}

/// Everything a rule's `match` asks; all given conditions must hold.
#[derive(Debug, Default)]
pub(crate) struct Matcher {
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

impl Matcher {
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
            let pairs: Vec<(String, String)> = call
                .query
                .as_deref()
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default();
            if !self.query.iter().all(|want| pairs.contains(want)) {
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
    fn patterns_capture_params_and_honour_wildcards() {
        let p = PathPattern::parse("/v2/clients/{client}/users/{user}").expect("valid");
        let got = p.captures("/v2/clients/a/users/b").expect("match");
        assert_eq!((got["client"], got["user"]), ("a", "b"));
        assert!(p.captures("/v2/clients/a/users").is_none());
        let star = PathPattern::parse("/api/*/users/*").expect("valid");
        assert!(star.captures("/api/v1.3/users/x").is_some());
        assert!(star.captures("/api/v1.3/users/x/y").is_none());
        let any = PathPattern::parse("/**").expect("valid");
        assert!(any.captures("/anything/at/all").is_some());
        let tail = PathPattern::parse("/api/**/authorize").expect("valid");
        assert!(tail.captures("/api/authorize").is_some());
        assert!(tail.captures("/api/a/b/authorize").is_some());
        assert!(PathPattern::parse("users").is_err());
        assert!(PathPattern::parse("/us*ers").is_err());
    }

    #[test]
    fn overlap_tells_whether_a_rule_can_reach_a_route() {
        let route = "/api/user/{userId}";
        for ok in [
            "/api/user/{id}",
            "/api/user/*",
            "/**",
            "/api/**",
            "/api/user/3c90c3cc-0d44-4b50-8888-8dd25736052a",
        ] {
            assert!(
                PathPattern::parse(ok).expect("valid").overlaps(route),
                "{ok}"
            );
        }
        for bad in ["/api/users/{id}", "/api/user", "/api/user/{id}/x", "/v2/**"] {
            assert!(
                !PathPattern::parse(bad).expect("valid").overlaps(route),
                "{bad}"
            );
        }
    }

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
