//! A scenario ready to run: its rules with compiled matchers and answers.

use bytes::Bytes;
use hyper::header::HeaderName;
use hyper::StatusCode;

use super::spec::{FaultKind, ScenarioFile};
use crate::matcher::RequestPattern;
use crate::vendors::ErrorRequest;

/// A scenario ready to run.
#[derive(Debug)]
pub(crate) struct Scenario {
    pub name: String,
    pub description: String,
    /// Where it came from: `embedded`, a file path, or `uploaded`.
    pub source: String,
    pub rules: Vec<Rule>,
    /// The file as loaded, for `GET /__admin/scenarios/{name}`.
    pub spec: ScenarioFile,
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub matcher: RequestPattern,
    pub answers: RuleReplies,
    pub limit: Limit,
}

#[derive(Debug)]
pub(crate) enum RuleReplies {
    Always(RuleReply),
    Sequence(Vec<RuleReply>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    Always,
    FirstN(u64),
    Nth(u64),
}

impl Rule {
    /// The answer for the `count`-th matching call, if the rule fires then.
    pub fn answer_for(&self, count: u64) -> Option<&RuleReply> {
        let fires = match self.limit {
            Limit::Always => true,
            Limit::FirstN(n) => count <= n,
            Limit::Nth(n) => count == n,
        };
        if !fires {
            return None;
        }
        match &self.answers {
            RuleReplies::Always(answer) => Some(answer),
            RuleReplies::Sequence(list) => {
                usize::try_from(count - 1).ok().and_then(|i| list.get(i))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RuleReply {
    pub delay_ms: u64,
    pub jitter_ms: u64,
    pub action: Action,
}

impl RuleReply {
    /// The fault this answer applies, by its scenario-file name.
    pub fn fault_name(&self) -> Option<&'static str> {
        match &self.action {
            Action::Fault { kind, .. } => Some(match kind {
                FaultKind::ConnectionReset => "connection_reset",
                FaultKind::Timeout => "timeout",
                FaultKind::CloseAfterHeaders => "close_after_headers",
                FaultKind::TruncatedBody => "truncated_body",
                FaultKind::MalformedJson => "malformed_json",
                FaultKind::WrongContentType => "wrong_content_type",
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Action {
    Respond {
        status: StatusCode,
        headers: Vec<(HeaderName, hyper::header::HeaderValue)>,
        body: Bytes,
    },
    VendorError(ErrorRequest),
    Emulate,
    Fault {
        kind: FaultKind,
        hold_ms: u64,
        content_type: String,
    },
}

impl Action {
    /// How long a `timeout` fault holds the request (0 for other answers).
    pub(super) fn hold_ms(&self) -> u64 {
        match self {
            Action::Fault { hold_ms, .. } => *hold_ms,
            _ => 0,
        }
    }
}
