//! Startup diagnostics: a fixture or scenario file's text, the problems
//! found in it with their places, and why usermock could not start.
//!
//! Every loader reports through these types, so a mistake always names the
//! file, the place in it (line and column, or a JSON pointer) and what is
//! wrong, and `usermock check` can list them all.

use std::fmt;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why usermock could not start (or `usermock check` failed), including a
/// [`crate::MockServer`] that could not.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    /// Fixture or scenario files have problems; every one is listed.
    #[error("{} problem(s) in fixture or scenario files:\n{}", .0.len(), list(.0))]
    Files(Vec<FileProblem>),
    /// An option names a vendor usermock does not emulate.
    #[error("{option}: unknown vendor '{name}' (known: {known})")]
    UnknownVendor {
        /// The option, e.g. `--rate-limit`.
        option: &'static str,
        /// The name given.
        name: String,
        /// The vendor keys that exist, comma-separated.
        known: String,
    },
    /// `--admin-token` was given but empty (it would turn admin auth off).
    #[error("--admin-token is empty: give a token, or leave the option out to run without one")]
    EmptyAdminToken,
    /// `--clock` is not an RFC 3339 timestamp.
    #[error("--clock: '{value}' is not an RFC 3339 timestamp (e.g. 2026-01-01T00:00:00Z)")]
    BadClock {
        /// The value given.
        value: String,
    },
    /// A scenario to activate at startup does not exist.
    #[error("--scenario: no scenario is named '{name}' (see GET /__admin/scenarios or the scenarios folder)")]
    UnknownScenario {
        /// The name given.
        name: String,
    },
    /// The fixture folder cannot be read.
    #[error("cannot read fixtures from {path}: {source}")]
    FixtureDir {
        /// The folder.
        path: PathBuf,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// The port, the runtime or the server's thread could not be set up
    /// (a [`crate::MockServer`] starting).
    #[error("cannot start usermock: {0}")]
    Io(#[from] std::io::Error),
}

impl StartupError {
    /// Problems of fixture or scenario files, listed in file order.
    pub(crate) fn files(mut problems: Vec<FileProblem>) -> StartupError {
        in_file_order(&mut problems);
        StartupError::Files(problems)
    }
}

fn list(problems: &[FileProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One mistake in one fixture or scenario file, with the place it is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// The file's path, or a label naming an embedded file.
    pub file: String,
    /// Line and column (1-based) of syntax and type errors.
    pub line_column: Option<(usize, usize)>,
    /// JSON pointer (RFC 6901) of the offending value; empty for the root.
    pub pointer: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.line_column {
            write!(f, ":{line}:{column}")?;
        }
        if let Some(pointer) = &self.pointer {
            write!(f, " at {}", if pointer.is_empty() { "/" } else { pointer })?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A fixture or scenario file's text and the name to report it under.
#[derive(Debug)]
pub(crate) struct SourceFile<'a> {
    pub label: String,
    /// Borrowed where the text already sits in memory (a snapshot's vendor
    /// document inside the request body), so a large one is not copied.
    pub text: std::borrow::Cow<'a, str>,
}

impl SourceFile<'_> {
    /// A problem at `pointer`, with the line and column of that place in
    /// the file (of the member's name, for a member).
    pub fn problem(&self, pointer: impl Into<String>, message: impl Into<String>) -> FileProblem {
        let pointer = pointer.into();
        FileProblem {
            file: self.label.clone(),
            line_column: locate(&self.text, &pointer),
            pointer: Some(pointer),
            message: message.into(),
        }
    }

    /// Parses the whole file into `T`. Syntax and type errors carry the line,
    /// column and JSON pointer at which serde gave up.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, FileProblem> {
        let mut de = serde_json::Deserializer::from_str(&self.text);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let pointer = pointer_of(err.path());
            self.serde_problem(Some(pointer), &err.into_inner())
        })?;
        // Trailing garbage after the document is a mistake too.
        de.end().map_err(|err| self.serde_problem(None, &err))?;
        Ok(value)
    }

    /// Parses a fixture or scenario file record by record: when an element
    /// of a top-level array (a user, a credential, a rule) does not read,
    /// its problem is noted, the element is set aside and the rest is read
    /// again, so one run reports every bad record, not only the first. What
    /// parsed comes back with those problems, for the semantic checks to run
    /// on; the caller must still refuse the file when any problem is listed.
    /// A problem outside such an element (a syntax error, a missing member,
    /// a wrong type of a whole member) ends the parse: it is the only one.
    pub fn parse_records<T: DeserializeOwned>(&self) -> Result<Parsed<T>, Vec<FileProblem>> {
        let first = match self.parse::<T>() {
            Ok(value) => {
                return Ok(Parsed {
                    value,
                    problems: Vec::new(),
                    places: Places::default(),
                })
            }
            Err(first) => first,
        };
        // Not JSON at all: the syntax error is all there is to say.
        let Ok(mut doc) = serde_json::from_str::<Value>(&self.text) else {
            return Err(vec![first]);
        };
        let mut problems = Vec::new();
        let mut places = Places::default();
        // Each round sets one element aside, so this ends.
        loop {
            let err = match serde_path_to_error::deserialize::<_, T>(&doc) {
                Ok(value) => {
                    return Ok(Parsed {
                        value,
                        problems,
                        places,
                    })
                }
                Err(err) => err,
            };
            let pointer = pointer_of(err.path());
            let original = places.original(&pointer);
            let unknown_member = err.inner().to_string().starts_with("unknown field");
            problems.push(if first.pointer.as_deref() == Some(original.as_str()) {
                // The first problem, with the line and column serde saw.
                first.clone()
            } else {
                FileProblem {
                    file: self.label.clone(),
                    line_column: locate(&self.text, &original),
                    pointer: Some(original),
                    message: inner_message(err.inner()),
                }
            });
            // An unknown member is dropped and its element read again, so
            // the element's own checks (duplicates, references) still run
            // in this same pass; any other problem sets the element aside.
            if unknown_member && remove_member(&mut doc, &pointer) {
                continue;
            }
            if !places.set_aside(&mut doc, &pointer) {
                return Err(problems);
            }
        }
    }

    /// [`Self::parse_records`] for a fixture file: a top-level `$schema`
    /// (a string naming the JSON Schema the file follows, for editors) is
    /// accepted and skipped here, once for every vendor, so no vendor's
    /// fixture type declares it.
    pub fn parse_fixture<T: DeserializeOwned>(&self) -> Result<Parsed<T>, Vec<FileProblem>> {
        let parsed = self.parse_records::<WithoutSchema<T>>()?;
        Ok(Parsed {
            value: parsed.value.0,
            problems: parsed.problems,
            places: parsed.places,
        })
    }

    fn serde_problem(&self, pointer: Option<String>, err: &serde_json::Error) -> FileProblem {
        // The place the pointer names (a member's name, an element's start)
        // where the text has it, as for every other problem; else where
        // serde stopped reading (syntax errors have no pointer).
        let located = pointer
            .as_deref()
            .filter(|_| err.is_data())
            .and_then(|p| locate(&self.text, p));
        FileProblem {
            file: self.label.clone(),
            line_column: located.or((err.line() > 0).then(|| (err.line(), err.column()))),
            pointer,
            message: inner_message(err),
        }
    }
}

/// serde_json appends " at line L column C" to its messages; the place is
/// already reported separately.
fn inner_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    };
    with_suggestion(text)
}

/// serde's "unknown field `nmae`, expected one of `id`, `name`" (or
/// "unknown variant …") gets "; did you mean `name`?" when one expected
/// name is close to the one written.
fn with_suggestion(message: String) -> String {
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return message;
    };
    let Some((written, expected)) = rest.split_once('`') else {
        return message;
    };
    match closest(written, expected.split('`').skip(1).step_by(2)) {
        Some(name) => format!("{message}; did you mean `{name}`?"),
        None => message,
    }
}

/// The name among `names` that `written` most likely meant: the nearest by
/// edit distance, when at most a third of its letters differ (and it is not
/// `written` itself). Shared by every "did you mean".
pub(crate) fn closest<'a>(
    written: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    names
        .into_iter()
        .map(|name| (strsim::damerau_levenshtein(written, name), name))
        .min()
        .filter(|(distance, name)| *distance > 0 && distance * 3 <= name.len().max(3))
        .map(|(_, name)| name)
}

/// The line and column (1-based) where the value at `pointer` starts in the
/// JSON `text`, or its member's name when the pointer ends at a member that
/// is not there or names one (an unknown member is reported at its name).
/// `None` when the text does not reach that place.
pub(crate) fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let tokens: Vec<String> = if pointer.is_empty() {
        Vec::new()
    } else {
        pointer
            .strip_prefix('/')?
            .split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect()
    };
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    for (depth, token) in tokens.iter().enumerate() {
        let last = depth + 1 == tokens.len();
        match bytes.get(at)? {
            b'{' => {
                at = skip_space(bytes, at + 1);
                loop {
                    if *bytes.get(at)? != b'"' {
                        return None;
                    }
                    let key_at = at;
                    let key_end = skip_string(bytes, at)?;
                    let key: String = serde_json::from_slice(&bytes[key_at..key_end]).ok()?;
                    at = skip_space(bytes, key_end);
                    if *bytes.get(at)? != b':' {
                        return None;
                    }
                    at = skip_space(bytes, at + 1);
                    if key == *token {
                        if last && depth > 0 && pointer_names_member(bytes, at) {
                            return Some(line_column(text, key_at));
                        }
                        break;
                    }
                    at = skip_space(bytes, skip_value(bytes, at)?);
                    match bytes.get(at)? {
                        b',' => at = skip_space(bytes, at + 1),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                let index: usize = token.parse().ok()?;
                at = skip_space(bytes, at + 1);
                for _ in 0..index {
                    at = skip_space(bytes, skip_value(bytes, at)?);
                    match bytes.get(at)? {
                        b',' => at = skip_space(bytes, at + 1),
                        _ => return None,
                    }
                }
                if *bytes.get(at)? == b']' {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(line_column(text, at))
}

/// Whether a problem at a member is better shown at its name: always, but
/// for containers, whose first line is where the reader looks anyway.
fn pointer_names_member(bytes: &[u8], value_at: usize) -> bool {
    !matches!(bytes.get(value_at), Some(b'{' | b'['))
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The end (exclusive) of the string starting at `at` (a `"`).
fn skip_string(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at.checked_add(1)?;
    loop {
        match bytes.get(i)? {
            b'\\' => i = i.checked_add(2)?,
            b'"' => return i.checked_add(1),
            _ => i += 1,
        }
    }
}

/// The end (exclusive) of the JSON value starting at `at`. Iterative, so a
/// deeply nested file cannot overflow the stack.
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => skip_string(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return i.checked_add(1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = at;
            while let Some(c) = bytes.get(i) {
                if matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace() {
                    break;
                }
                i += 1;
            }
            Some(i)
        }
    }
}

fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Removes the member `pointer` names from its object in `doc`; false when
/// there is no such member.
fn remove_member(doc: &mut Value, pointer: &str) -> bool {
    let Some((parent, member)) = pointer.rsplit_once('/') else {
        return false;
    };
    let member = member.replace("~1", "/").replace("~0", "~");
    doc.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|object| object.remove(&member))
        .is_some()
}

/// Sorts problems into file order: by file (in the order the files were
/// first named), then line and column; problems without a place last.
pub(crate) fn in_file_order(problems: &mut [FileProblem]) {
    let mut files: Vec<String> = Vec::new();
    for problem in problems.iter() {
        if !files.contains(&problem.file) {
            files.push(problem.file.clone());
        }
    }
    problems.sort_by_key(|p| {
        (
            files.iter().position(|f| *f == p.file),
            p.line_column.unwrap_or((usize::MAX, usize::MAX)),
        )
    });
}

/// A serde path as an RFC 6901 JSON pointer.
pub(crate) fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"))
            }
            Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}

/// A file read by [`SourceFile::parse_records`]: what parsed, the problems
/// of the elements set aside, and where the remaining elements were.
#[derive(Debug)]
pub(crate) struct Parsed<T> {
    pub value: T,
    pub problems: Vec<FileProblem>,
    pub places: Places,
}

/// For each top-level array that lost elements, the original index of each
/// element kept, so that a pointer into what parsed names the file's place.
#[derive(Debug, Default)]
pub(crate) struct Places {
    kept: Vec<(String, Vec<usize>)>,
}

impl Places {
    /// `pointer` (into what parsed) as a pointer into the file.
    pub fn original(&self, pointer: &str) -> String {
        let Some((member, index, rest)) = split_element(pointer) else {
            return pointer.to_owned();
        };
        match self
            .kept
            .iter()
            .find(|(m, _)| *m == member)
            .and_then(|(_, kept)| kept.get(index))
        {
            Some(original) => format!("/{}/{original}{rest}", escape(&member)),
            None => pointer.to_owned(),
        }
    }

    /// Removes the top-level array element that `pointer` (into `doc`, as it
    /// is now) lies in; false when it lies in none.
    fn set_aside(&mut self, doc: &mut Value, pointer: &str) -> bool {
        let Some((member, index, _)) = split_element(pointer) else {
            return false;
        };
        let Some(items) = doc.get_mut(&member).and_then(Value::as_array_mut) else {
            return false;
        };
        if index >= items.len() {
            return false;
        }
        items.remove(index);
        let slot = match self.kept.iter().position(|(m, _)| *m == member) {
            Some(slot) => slot,
            None => {
                self.kept
                    .push((member, (0..=items.len()).collect::<Vec<usize>>()));
                self.kept.len() - 1
            }
        };
        let kept = &mut self.kept[slot].1;
        if index < kept.len() {
            kept.remove(index);
        }
        true
    }
}

/// `/member/index/rest…` → (member unescaped, index, `/rest…`).
fn split_element(pointer: &str) -> Option<(String, usize, &str)> {
    let rest = pointer.strip_prefix('/')?;
    let (member, rest) = rest.split_once('/')?;
    let (index, rest) = match rest.find('/') {
        Some(cut) => (&rest[..cut], &rest[cut..]),
        None => (rest, ""),
    };
    let index = index.parse().ok()?;
    Some((member.replace("~1", "/").replace("~0", "~"), index, rest))
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A fixture document without its top-level `$schema` member. Its keys are
/// filtered while the document is read, so error paths, lines and columns
/// stay those of the file.
struct WithoutSchema<T>(T);

/// The member every fixture may carry for editors.
const SCHEMA_MEMBER: &str = "$schema";

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for WithoutSchema<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Members<T> {
            type Value = WithoutSchema<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a fixture object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<WithoutSchema<T>, A::Error> {
                let rest = serde::de::value::MapAccessDeserializer::new(SkipSchema(map));
                T::deserialize(rest).map(WithoutSchema)
            }
        }
        deserializer.deserialize_map(Members(std::marker::PhantomData))
    }
}

/// The members of a map, `$schema` (checked to be a string) left out.
struct SkipSchema<A>(A);

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for SkipSchema<A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.0.next_key::<String>()? else {
                return Ok(None);
            };
            if key == SCHEMA_MEMBER {
                self.0.next_value::<String>()?;
                continue;
            }
            let key = serde::de::value::StringDeserializer::<A::Error>::new(key);
            return seed.deserialize(key).map(Some);
        }
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[allow(dead_code)]
        name: String,
        users: Vec<User>,
        tokens: Vec<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct User {
        id: u32,
    }

    fn file(text: &str) -> SourceFile<'static> {
        SourceFile {
            label: "f.json".to_owned(),
            text: text.to_owned().into(),
        }
    }

    #[test]
    fn every_bad_element_of_every_array_is_reported_and_the_rest_parses() {
        let text = "{\n\"name\": \"x\",\n\"users\": [{\"id\": 1}, {\"id\": \"two\"}, {\"id\": 3}, {\"id\": 4, \"x\": 0}, {\"id\": 5}],\n\"tokens\": [\"a\", 7]\n}";
        let parsed = file(text).parse_records::<Doc>().expect("what parsed");
        let places: Vec<_> = parsed
            .problems
            .iter()
            .map(|p| p.pointer.clone().unwrap_or_default())
            .collect();
        assert_eq!(places, ["/users/1/id", "/users/3/x", "/tokens/1"]);
        // Every problem has its place; an unknown member is reported at its
        // name.
        let at: Vec<_> = parsed.problems.iter().map(|p| p.line_column).collect();
        assert_eq!(at, [Some((3, 23)), Some((3, 58)), Some((4, 17))]);
        // An unknown member is dropped, not its element: the element still
        // takes part in the file's own checks.
        let ids: Vec<u32> = parsed.value.users.iter().map(|u| u.id).collect();
        assert_eq!(ids, [1, 3, 4, 5]);
        assert_eq!(parsed.value.tokens, ["a"]);
        // Pointers into what parsed name the file's places.
        assert_eq!(parsed.places.original("/users/1/id"), "/users/2/id");
        assert_eq!(parsed.places.original("/users/3"), "/users/4");
        assert_eq!(parsed.places.original("/tokens/0"), "/tokens/0");
        assert_eq!(parsed.places.original("/name"), "/name");
    }

    #[test]
    fn locate_finds_values_members_and_elements_by_pointer() {
        let text = "{\n  \"a\": {\"b/c\": [1, {\"d\": \"x\\\"y\"}]},\n  \"e\": [ ]\n}";
        assert_eq!(locate(text, ""), Some((1, 1)));
        assert_eq!(locate(text, "/a"), Some((2, 8)));
        assert_eq!(locate(text, "/a/b~1c/0"), Some((2, 17)));
        assert_eq!(locate(text, "/a/b~1c/1/d"), Some((2, 21)));
        assert_eq!(locate(text, "/e"), Some((3, 8)));
        assert_eq!(locate(text, "/e/0"), None);
        assert_eq!(locate(text, "/zz"), None);
        assert_eq!(locate("[1,", "/5"), None);
        // It walks to the place without reading the rest (a deep file
        // costs no stack).
        assert_eq!(locate(&"[".repeat(100_000), "/0"), Some((1, 2)));
        assert_eq!(locate(&"[".repeat(100_000), "/1"), None);
    }

    #[test]
    fn an_unknown_member_close_to_a_known_one_gets_a_suggestion() {
        let problems = file(r#"{"nmae": "x", "users": [], "tokens": []}"#)
            .parse_records::<Doc>()
            .expect_err("unknown member");
        assert_eq!(
            problems[0].message,
            "unknown field `nmae`, expected one of `name`, `users`, `tokens`; did you mean `name`?"
        );
        assert_eq!(
            with_suggestion("unknown field `zzzzzz`, expected one of `name`".to_owned()),
            "unknown field `zzzzzz`, expected one of `name`"
        );
    }

    #[test]
    fn a_problem_outside_the_arrays_is_the_only_one() {
        let problems = file(r#"{"users": [{"id": "x"}], "tokens": []}"#)
            .parse_records::<Doc>()
            .expect_err("missing name");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].pointer.as_deref(), Some("/users/0/id"));
        assert!(problems[1].message.contains("missing field `name`"));
        let problems = file("{ nope").parse_records::<Doc>().expect_err("syntax");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].line_column.is_some());
    }

    #[test]
    fn a_fixture_s_schema_member_is_skipped_and_problems_keep_their_places() {
        let parsed =
            file(r#"{"$schema": "x.json", "name": "n", "users": [{"id": 1}], "tokens": []}"#)
                .parse_fixture::<Doc>()
                .expect("parses");
        assert_eq!(parsed.value.users.len(), 1);
        assert!(parsed.problems.is_empty());
        let problems = file("{\"$schema\": \"x.json\",\n \"name\": \"n\", \"users\": [{\"id\": \"no\"}], \"tokens\": []}")
            .parse_fixture::<Doc>()
            .map(|p| p.problems)
            .unwrap_or_else(|problems| problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer.as_deref(), Some("/users/0/id"));
        assert_eq!(problems[0].line_column, Some((2, 26)));
        let problems = file(r#"{"$schema": 7, "name": "n", "users": [], "tokens": []}"#)
            .parse_fixture::<Doc>()
            .map(|p| p.problems)
            .unwrap_or_else(|problems| problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer.as_deref(), Some("/$schema"));
        // Only fixtures skip it: a plain record parse still refuses it.
        let problems = file(r#"{"$schema": "x", "name": "n", "users": [], "tokens": []}"#)
            .parse_records::<Doc>()
            .map(|p| p.problems)
            .unwrap_or_else(|problems| problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }
}
