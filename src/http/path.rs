//! Path patterns, the one kind used by vendor route tables, scenario rules
//! and journal filters: literal segments, `{name}` (one segment, captured),
//! `*` (one segment) and `**` (any number of segments, also none).
//!
//! Matching never backtracks: a pattern with `**` is matched by filling a
//! table of "pattern suffix `i` matches path suffix `j`" once, so the cost is
//! at most segments(pattern) × segments(path), whatever the input. A hostile
//! pattern such as `/**/**/**/**/x` against a 300-segment path costs a few
//! thousand steps, not 300⁴.

use std::fmt;

/// The most segments a pattern may have. Patterns come from scenario files
/// and admin filters; real vendor paths have fewer than ten segments.
pub(crate) const MAX_PATTERN_SEGMENTS: usize = 32;

/// A parsed path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathPattern {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Star,
    Any,
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PatternError {
    NoLeadingSlash(String),
    MixedSegment(String),
    TooLong(String),
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::NoLeadingSlash(p) => write!(f, "path '{p}' must start with '/'"),
            PatternError::MixedSegment(s) => {
                write!(f, "path segment '{s}' mixes text with a wildcard")
            }
            PatternError::TooLong(p) => {
                write!(
                    f,
                    "path '{p}' has more than {MAX_PATTERN_SEGMENTS} segments"
                )
            }
        }
    }
}

/// A path without its leading slash and one trailing slash (tolerated).
fn trim_slashes(path: &str) -> &str {
    let path = path.strip_prefix('/').unwrap_or(path);
    path.strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path)
}

/// Captures kept without a heap allocation; vendor routes have at most
/// three `{params}`.
const INLINE_CAPTURES: usize = 4;

/// The `{name}` values a match captured, in pattern order. Every vendor
/// request is matched, so the first few are held inline, not in a `Vec`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Captures<'p, 'a> {
    inline: [(&'p str, &'a str); INLINE_CAPTURES],
    len: usize,
    more: Vec<(&'p str, &'a str)>,
}

impl<'p, 'a> Captures<'p, 'a> {
    fn push(&mut self, name: &'p str, value: &'a str) {
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                *slot = (name, value);
                self.len += 1;
            }
            None => self.more.push((name, value)),
        }
    }

    fn all(&self) -> impl Iterator<Item = &(&'p str, &'a str)> + '_ {
        self.inline.iter().take(self.len).chain(self.more.iter())
    }

    /// The value captured for `{name}`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.all().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The captured values in pattern order.
    pub fn values(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.all().map(|(_, v)| *v)
    }
}

impl PathPattern {
    pub fn parse(pattern: &str) -> Result<PathPattern, PatternError> {
        let rest = pattern
            .strip_prefix('/')
            .ok_or_else(|| PatternError::NoLeadingSlash(pattern.to_owned()))?;
        let segments = rest
            .split('/')
            .map(|s| match s {
                "*" => Ok(Segment::Star),
                "**" => Ok(Segment::Any),
                s if s.starts_with('{') && s.ends_with('}') && s.len() > 2 => {
                    Ok(Segment::Param(s[1..s.len() - 1].to_owned()))
                }
                s if s.contains(['{', '}', '*']) => Err(PatternError::MixedSegment(s.to_owned())),
                s => Ok(Segment::Literal(s.to_owned())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if segments.len() > MAX_PATTERN_SEGMENTS {
            return Err(PatternError::TooLong(pattern.to_owned()));
        }
        Ok(PathPattern {
            text: pattern.to_owned(),
            segments,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The names of its `{param}` segments, in order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// How many literal segments it has: routes with more are more specific
    /// (`/users/summary` before `/users/{id}`).
    pub fn literal_count(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    /// True when `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        if self.segments.contains(&Segment::Any) {
            self.captures(path).is_some()
        } else {
            self.fits_in_one_pass(trim_slashes(path))
        }
    }

    /// The captured `{name}` values when `path` matches. A trailing slash
    /// on the path is tolerated.
    pub fn captures<'a>(&self, path: &'a str) -> Option<Captures<'_, 'a>> {
        let path = trim_slashes(path);
        if !self.segments.contains(&Segment::Any) {
            return self.captures_in_one_pass(path);
        }
        let have: Vec<&str> = path.split('/').collect();
        let fits = |i: usize, j: usize| match (&self.segments[i], have[j]) {
            (Segment::Literal(want), got) => want == got,
            (_, got) => !got.is_empty(),
        };
        let table = Table::fill(&self.segments, have.len(), fits)?;
        let mut captured = Captures::default();
        let (mut i, mut j) = (0, 0);
        while i < self.segments.len() {
            match &self.segments[i] {
                // The shortest stretch after which the rest still matches.
                Segment::Any => j = (j..=have.len()).find(|&k| table.get(i + 1, k))?,
                Segment::Param(name) => {
                    captured.push(name.as_str(), have[j]);
                    j += 1;
                }
                _ => j += 1,
            }
            i += 1;
        }
        Some(captured)
    }

    /// Without `**` every segment lines up with one path segment: a single
    /// walk, no table (the common case: every route and most rules).
    /// The match is checked before anything is captured: a request is
    /// tried against most routes of its vendor's table in vain, and a failed
    /// attempt then allocates nothing.
    fn captures_in_one_pass<'a>(&self, path: &'a str) -> Option<Captures<'_, 'a>> {
        if !self.fits_in_one_pass(path) {
            return None;
        }
        let mut captured = Captures::default();
        for (segment, got) in self.segments.iter().zip(path.split('/')) {
            if let Segment::Param(name) = segment {
                captured.push(name.as_str(), got);
            }
        }
        Some(captured)
    }

    /// Whether `path` (slashes trimmed) matches a pattern without `**`.
    fn fits_in_one_pass(&self, path: &str) -> bool {
        let mut have = path.split('/');
        for segment in &self.segments {
            let Some(got) = have.next() else {
                return false;
            };
            let fits = match segment {
                Segment::Literal(want) => want == got,
                Segment::Param(_) | Segment::Star => !got.is_empty(),
                Segment::Any => true,
            };
            if !fits {
                return false;
            }
        }
        have.next().is_none()
    }

    /// Could this pattern match some path that `route` (a route pattern of
    /// literals and `{params}`) matches? Used to reject rules that can
    /// never fire.
    pub fn overlaps(&self, route: &PathPattern) -> bool {
        let fits = |i: usize, j: usize| match (&self.segments[i], &route.segments[j]) {
            (Segment::Literal(a), Segment::Literal(b)) => a == b,
            _ => true,
        };
        Table::fill(&self.segments, route.segments.len(), fits).is_some()
    }
}

/// Whether `path` matches the pattern written `pattern`, exactly as
/// `PathPattern::parse(pattern)` then `matches(path)` would answer (false
/// for a pattern that does not parse), without building the parsed form:
/// for code that asks about a constant pattern on every request.
pub(crate) fn pattern_matches(pattern: &str, path: &str) -> bool {
    if pattern.contains("**") {
        return PathPattern::parse(pattern).is_ok_and(|p| p.matches(path));
    }
    let Some(rest) = pattern.strip_prefix('/') else {
        return false;
    };
    if rest.split('/').count() > MAX_PATTERN_SEGMENTS {
        return false;
    }
    let mut have = trim_slashes(path).split('/');
    for segment in rest.split('/') {
        let fits = |got: &str| match segment {
            "*" => Some(!got.is_empty()),
            s if s.starts_with('{') && s.ends_with('}') && s.len() > 2 => Some(!got.is_empty()),
            s if s.contains(['{', '}', '*']) => None,
            s => Some(s == got),
        };
        match have.next().map(fits) {
            Some(Some(true)) => {}
            // A mixed segment is a pattern that does not parse: no match.
            _ => return false,
        }
    }
    have.next().is_none()
}

/// `get(i, j)`: pattern segments `i..` match path segments `j..`.
struct Table {
    width: usize,
    cells: Vec<bool>,
}

impl Table {
    /// `None` when the whole pattern does not match the whole path.
    fn fill(
        pattern: &[Segment],
        path_len: usize,
        fits: impl Fn(usize, usize) -> bool,
    ) -> Option<Table> {
        let width = path_len + 1;
        let mut cells = vec![false; (pattern.len() + 1) * width];
        cells[pattern.len() * width + path_len] = true;
        for i in (0..pattern.len()).rev() {
            for j in (0..=path_len).rev() {
                let next = |di: usize, dj: usize| cells[(i + di) * width + j + dj];
                cells[i * width + j] = match pattern[i] {
                    Segment::Any => next(1, 0) || (j < path_len && cells[i * width + j + 1]),
                    _ => j < path_len && fits(i, j) && next(1, 1),
                };
            }
        }
        let table = Table { width, cells };
        table.get(0, 0).then_some(table)
    }

    fn get(&self, i: usize, j: usize) -> bool {
        self.cells[i * self.width + j]
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> PathPattern {
        PathPattern::parse(text).expect("valid pattern")
    }

    #[test]
    fn captures_beyond_the_inline_ones_keep_their_order() {
        let pattern = p("/{a}/{b}/{c}/{d}/{e}/{f}");
        let got = pattern.captures("/1/2/3/4/5/6").expect("matches");
        assert_eq!(
            got.values().collect::<Vec<_>>(),
            ["1", "2", "3", "4", "5", "6"]
        );
        assert_eq!(
            (got.get("d"), got.get("e"), got.get("f")),
            (Some("4"), Some("5"), Some("6"))
        );
        assert_eq!(got.get("g"), None);
        let any = p("/{a}/**/{b}/{c}/{d}/{e}");
        let got = any.captures("/1/x/y/2/3/4/5").expect("matches");
        assert_eq!(got.values().collect::<Vec<_>>(), ["1", "2", "3", "4", "5"]);
    }

    #[test]
    fn pattern_matches_answers_as_the_parsed_pattern_does() {
        let patterns = [
            "/users/{userId}/deactivate",
            "/users/{userId}",
            "/users",
            "/users/*",
            "/users/*/x",
            "/",
            "/users/me",
            "/users/a{b}",
            "/users/{}",
            "users/{id}",
            "/a/**/b",
            "/**",
            "/users//x",
            "/users/",
        ];
        let paths = [
            "/users/abc/deactivate",
            "/users/abc/deactivate/",
            "/users/abc",
            "/users/abc/",
            "/users",
            "/users/",
            "/users//deactivate",
            "/users/me",
            "/",
            "",
            "/users/a{b}",
            "/users/{}",
            "/a/x/y/b",
            "/users//x",
            "users/abc",
        ];
        for pattern in patterns {
            for path in paths {
                let parsed = PathPattern::parse(pattern).is_ok_and(|p| p.matches(path));
                assert_eq!(
                    pattern_matches(pattern, path),
                    parsed,
                    "{pattern} against {path}"
                );
            }
        }
    }

    #[test]
    fn patterns_capture_params_and_honour_wildcards() {
        let pattern = p("/v2/clients/{client}/users/{user}");
        let got = pattern.captures("/v2/clients/a/users/b").expect("match");
        assert_eq!((got.get("client"), got.get("user")), (Some("a"), Some("b")));
        assert!(pattern.captures("/v2/clients/a/users/b/").is_some());
        assert!(pattern.captures("/v2/clients/a/users").is_none());
        assert!(pattern.captures("/v2/clients//users/b").is_none());
        assert!(pattern.captures("/v2/clients/a/users/b/x").is_none());
        let star = p("/api/*/users/*");
        assert!(star.matches("/api/v1.3/users/x"));
        assert!(!star.matches("/api/v1.3/users/x/y"));
        assert!(p("/**").matches("/anything/at/all"));
        let tail = p("/api/**/authorize");
        assert!(tail.matches("/api/authorize"));
        assert!(tail.matches("/api/a/b/authorize"));
        let around = p("/**/users/{id}/**");
        let got = around.captures("/a/users/u1/users/u2/x").expect("match");
        assert_eq!(got.get("id"), Some("u1"));
        assert!(matches!(
            PathPattern::parse("users"),
            Err(PatternError::NoLeadingSlash(_))
        ));
        assert!(matches!(
            PathPattern::parse("/us*ers"),
            Err(PatternError::MixedSegment(_))
        ));
        let long = "/a".repeat(MAX_PATTERN_SEGMENTS + 1);
        assert_eq!(
            PathPattern::parse(&long),
            Err(PatternError::TooLong(long.clone()))
        );
    }

    #[test]
    fn many_double_stars_against_a_long_path_cost_a_bounded_table() {
        // Backtracking would try about 300^5 splits here before failing.
        let pattern = p("/**/**/**/**/**/never");
        let path = "/x".repeat(300);
        let started = std::time::Instant::now();
        assert!(!pattern.matches(&path));
        assert!(p("/**/**/**/**/**/x").matches(&path));
        // Generous: the table has 7 × 301 cells.
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn overlap_tells_whether_a_rule_can_reach_a_route() {
        let route = p("/api/user/{userId}");
        for ok in [
            "/api/user/{id}",
            "/api/user/*",
            "/**",
            "/api/**",
            "/api/user/3c90c3cc-0d44-4b50-8888-8dd25736052a",
        ] {
            assert!(p(ok).overlaps(&route), "{ok}");
        }
        for bad in ["/api/users/{id}", "/api/user", "/api/user/{id}/x", "/v2/**"] {
            assert!(!p(bad).overlaps(&route), "{bad}");
        }
    }

    #[test]
    fn specificity_counts_literal_segments() {
        assert!(
            p("/clients/{c}/users/summary").literal_count()
                > p("/clients/{c}/users/{u}").literal_count()
        );
    }
}
