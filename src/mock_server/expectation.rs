//! Expectations: "this many requests like that", checked against the
//! journal when the server is dropped (or on [`verify`](super::MockServer::verify)).

use std::fmt::Write as _;
use std::sync::Mutex;

use hyper::Method;
use serde_json::Value;

use super::client::{AdminCall, AdminClient};
use super::{Matcher, RecordedRequest};

/// An expectation registered by [`MockServer::expect`](super::MockServer::expect)
/// or [`SessionView::expect`](super::SessionView::expect). It is already
/// registered: these methods only refine it. Without any of them, at least
/// one matching request is expected.
#[derive(Debug)]
pub struct Expectation<'a> {
    registered: &'a Mutex<Vec<Spec>>,
    index: usize,
}

/// What an expectation wants, as registered.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    matcher: Matcher,
    session: Option<String>,
    /// `None`: 1, or 0 when an upper bound is given.
    min: Option<usize>,
    max: Option<usize>,
    name: Option<String>,
    /// The test's line that registered it, for the failure message.
    registered_at: &'static std::panic::Location<'static>,
}

impl<'a> Expectation<'a> {
    #[track_caller]
    pub(crate) fn register(
        registered: &'a Mutex<Vec<Spec>>,
        matcher: Matcher,
        session: Option<&str>,
    ) -> Expectation<'a> {
        let mut specs = registered.lock().unwrap_or_else(|e| e.into_inner());
        specs.push(Spec {
            matcher,
            session: session.map(str::to_owned),
            min: None,
            max: None,
            name: None,
            registered_at: std::panic::Location::caller(),
        });
        let index = specs.len() - 1;
        Expectation { registered, index }
    }

    /// Exactly `n` matching requests (`times(0)`: none at all).
    pub fn times(self, n: usize) -> Self {
        self.update(|spec| {
            spec.min = Some(n);
            spec.max = Some(n);
        })
    }

    /// At least `n` matching requests.
    pub fn at_least(self, n: usize) -> Self {
        self.update(|spec| spec.min = Some(n))
    }

    /// At most `n` matching requests (and no lower bound unless
    /// [`at_least`](Self::at_least) sets one).
    pub fn at_most(self, n: usize) -> Self {
        self.update(|spec| spec.max = Some(n))
    }

    /// A name shown in the failure message instead of the matcher alone.
    pub fn named(self, name: &str) -> Self {
        self.update(|spec| spec.name = Some(name.to_owned()))
    }

    fn update(self, change: impl FnOnce(&mut Spec)) -> Self {
        let mut specs = self.registered.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(spec) = specs.get_mut(self.index) {
            change(spec);
        }
        drop(specs);
        self
    }
}

impl Spec {
    fn min(&self) -> usize {
        self.min.unwrap_or(if self.max.is_some() { 0 } else { 1 })
    }

    fn wanted(&self) -> String {
        let plural = |n: usize| if n == 1 { "request" } else { "requests" };
        match (self.min(), self.max) {
            (min, Some(max)) if min == max => format!("exactly {min} {}", plural(min)),
            (0, Some(max)) => format!("at most {max} {}", plural(max)),
            (min, Some(max)) => format!("between {min} and {max} requests"),
            (min, None) => format!("at least {min} {}", plural(min)),
        }
    }

    fn met_by(&self, count: usize) -> bool {
        count >= self.min() && self.max.is_none_or(|max| count <= max)
    }
}

/// Counts each expectation's matches; `Err` is the whole failure message,
/// with every request the server received.
pub(crate) async fn check(client: AdminClient, specs: Vec<Spec>) -> Result<(), String> {
    let mut unmet = Vec::new();
    for spec in &specs {
        let call = AdminCall::new(
            Method::POST,
            "/__admin/requests/count",
            spec.session.as_deref(),
        )
        .with_body(spec.matcher.to_json());
        let shown = call.to_string();
        let answer = client.send(call).await.map_err(|err| {
            format!("usermock: could not check the expectations: {shown} failed: {err}")
        })?;
        let count = answer["count"].as_u64().ok_or_else(|| {
            format!("usermock: could not check the expectations: {shown} answered {answer}")
        })?;
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        if !spec.met_by(count) {
            unmet.push((spec, count));
        }
    }
    if unmet.is_empty() {
        return Ok(());
    }

    let mut message = format!(
        "usermock: {} of {} expectation(s) not met:\n",
        unmet.len(),
        specs.len()
    );
    for (spec, count) in &unmet {
        let _ = write!(message, "  - ");
        if let Some(name) = &spec.name {
            let _ = write!(message, "{name}: ");
        }
        if let Some(session) = &spec.session {
            let _ = write!(message, "[session {session}] ");
        }
        let _ = writeln!(
            message,
            "expected {} matching {}, received {count} (expectation set at {})",
            spec.wanted(),
            spec.matcher,
            spec.registered_at
        );
    }
    let listed = client
        .send(AdminCall::new(Method::GET, "/__admin/requests", None))
        .await;
    // The first page (100, oldest first) is plenty for a failure message.
    let total = listed
        .as_ref()
        .ok()
        .and_then(|answer| answer["total"].as_u64());
    match listed.map(|answer| parse_list(&answer)) {
        Ok(Ok(requests)) if requests.is_empty() => message.push_str("no requests were received\n"),
        Ok(Ok(requests)) => {
            let shown = requests.len();
            let _ = match total {
                Some(total) if total > shown as u64 => writeln!(
                    message,
                    "requests received ({total}, the oldest {shown} shown):"
                ),
                _ => writeln!(message, "requests received ({shown}, oldest first):"),
            };
            for request in requests {
                let _ = writeln!(message, "  {request}{}", shown_body(&request));
            }
        }
        Ok(Err(err)) => {
            let _ = writeln!(message, "(the journal could not be read: {err})");
        }
        Err(err) => {
            let _ = writeln!(message, "(the journal could not be read: {err})");
        }
    }
    Err(message)
}

/// ` body: …` for a request that had one, so a failed expectation shows
/// what was sent (cut to a line's worth; the journal keeps the rest).
fn shown_body(request: &RecordedRequest) -> String {
    const SHOWN: usize = 300;
    if request.body.is_empty() {
        return String::new();
    }
    let cut = request
        .body
        .char_indices()
        .nth(SHOWN)
        .map_or(request.body.len(), |(at, _)| at);
    let more = if cut < request.body.len() || request.body_truncated {
        format!(" … ({} bytes)", request.body_size)
    } else {
        String::new()
    };
    format!(" body: {}{more}", request.body[..cut].replace('\n', " "))
}

/// The `requests` of a journal listing (`GET /__admin/requests`, `find`).
pub(crate) fn parse_list(answer: &Value) -> Result<Vec<RecordedRequest>, String> {
    let requests = answer
        .get("requests")
        .cloned()
        .ok_or_else(|| format!("no `requests` in {answer}"))?;
    serde_json::from_value(requests).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(min: usize, max: Option<usize>) -> Spec {
        Spec {
            matcher: Matcher::new(),
            session: None,
            min: Some(min),
            max,
            name: None,
            registered_at: std::panic::Location::caller(),
        }
    }

    #[test]
    fn bounds_read_as_english_and_are_checked_inclusively() {
        assert_eq!(spec(1, Some(1)).wanted(), "exactly 1 request");
        assert_eq!(spec(0, Some(0)).wanted(), "exactly 0 requests");
        assert_eq!(spec(2, None).wanted(), "at least 2 requests");
        assert_eq!(spec(0, Some(3)).wanted(), "at most 3 requests");
        assert_eq!(spec(1, Some(3)).wanted(), "between 1 and 3 requests");
        assert!(spec(1, Some(3)).met_by(3));
        assert!(!spec(1, Some(3)).met_by(0));
        assert!(!spec(1, Some(3)).met_by(4));
        assert!(spec(2, None).met_by(9));
    }

    #[test]
    fn without_bounds_at_least_one_request_is_expected() {
        let registered = Mutex::new(Vec::new());
        Expectation::register(&registered, Matcher::new(), None);
        let specs = registered.into_inner().expect("lock");
        assert_eq!(specs[0].wanted(), "at least 1 request");
    }

    #[test]
    fn at_most_alone_drops_the_default_lower_bound() {
        let registered = Mutex::new(Vec::new());
        Expectation::register(&registered, Matcher::new(), None).at_most(2);
        Expectation::register(&registered, Matcher::new(), None)
            .at_least(1)
            .at_most(2);
        Expectation::register(&registered, Matcher::new(), Some("s")).times(0);
        let specs = registered.into_inner().expect("lock");
        assert_eq!((specs[0].min(), specs[0].max), (0, Some(2)));
        assert_eq!((specs[1].min(), specs[1].max), (1, Some(2)));
        assert_eq!((specs[2].min(), specs[2].max), (0, Some(0)));
        assert_eq!(specs[2].session.as_deref(), Some("s"));
    }
}
