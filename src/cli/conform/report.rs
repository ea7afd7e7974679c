//! `verify`'s report: text for people, JSON for tools, JUnit for CI.

use serde::Serialize;
use serde_json::Value;

/// How a case came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every answer matches its golden.
    Pass,
    /// Only differences listed in the known-divergences file.
    Known,
    /// A difference nobody accepted, or no golden, or a broken run.
    Fail,
    /// Not run (writes without `--allow-writes`, a missing credential).
    Skip,
}

/// One difference, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// `step 1 (GET /api/v1/users/${user_id})`.
    pub step: String,
    pub pointer: String,
    pub expected: Value,
    pub got: Value,
    /// The accepted reason, when the difference is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub case: String,
    pub outcome: Outcome,
    pub rule: String,
    pub source: String,
    /// When the golden was recorded, and against what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_validated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_against: Option<String>,
    /// For a derived golden: `examples` (at least one expected answer is a
    /// vendor's documented example) or `usermock` (none has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<String>,
    /// Why it failed or was skipped, beyond its differences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub differences: Vec<Item>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub vendor: String,
    pub target: String,
    pub usermock_version: String,
    pub cases: Vec<CaseReport>,
    /// Served routes no case reaches (`GET /api/v1/users`): each fails.
    pub uncovered_routes: Vec<String>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub known: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Report {
    pub fn summarise(&mut self) {
        let mut s = Summary::default();
        for case in &self.cases {
            match case.outcome {
                Outcome::Pass => s.passed += 1,
                Outcome::Known => s.known += 1,
                Outcome::Fail => s.failed += 1,
                Outcome::Skip => s.skipped += 1,
            }
        }
        self.summary = s;
    }

    pub fn ok(&self) -> bool {
        self.summary.failed == 0 && self.uncovered_routes.is_empty()
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "usermock conform verify: {} against {} (usermock {})\n",
            self.vendor, self.target, self.usermock_version
        );
        for case in &self.cases {
            let label = match case.outcome {
                Outcome::Pass => "PASS ",
                Outcome::Known => "KNOWN",
                Outcome::Fail => "FAIL ",
                Outcome::Skip => "SKIP ",
            };
            let validated = match (&case.last_validated, &case.recorded_against) {
                (Some(at), Some(target)) => format!(" (golden of {at}, from {target})"),
                (Some(at), None) => format!(" (golden of {at})"),
                _ => String::new(),
            };
            out.push_str(&format!("{label} {}{validated}\n", case.case));
            if case.outcome == Outcome::Pass {
                continue;
            }
            if case.outcome == Outcome::Fail || case.outcome == Outcome::Known {
                out.push_str(&format!(
                    "      rule: {}\n      source: {}\n",
                    case.rule, case.source
                ));
            }
            if let Some(note) = &case.note {
                out.push_str(&format!("      {note}\n"));
            }
            for item in &case.differences {
                out.push_str(&format!(
                    "      {} {}\n        expected: {}\n        got:      {}\n",
                    item.step,
                    item.pointer,
                    compact(&item.expected),
                    compact(&item.got)
                ));
                if let Some(reason) = &item.known {
                    out.push_str(&format!("        known: {reason}\n"));
                }
            }
        }
        for route in &self.uncovered_routes {
            out.push_str(&format!(
                "UNCOVERED {route}: no case sends a request to this route\n"
            ));
        }
        let s = &self.summary;
        out.push_str(&format!(
            "{} passed, {} known, {} failed, {} skipped, {} routes without a case\n",
            s.passed,
            s.known,
            s.failed,
            s.skipped,
            self.uncovered_routes.len()
        ));
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    pub fn junit(&self) -> String {
        let s = &self.summary;
        let tests = self.cases.len().saturating_add(self.uncovered_routes.len());
        let failures = s.failed.saturating_add(self.uncovered_routes.len());
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<testsuites>\n<testsuite name=\"usermock-conform-{}\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{}\">\n",
            xml(&self.vendor),
            s.skipped
        ));
        for case in &self.cases {
            out.push_str(&format!(
                "  <testcase classname=\"conform.{}\" name=\"{}\">\n",
                xml(&self.vendor),
                xml(&case.case)
            ));
            let details: Vec<String> = case
                .differences
                .iter()
                .map(|i| {
                    format!(
                        "{} {}: expected {}, got {}{}",
                        i.step,
                        i.pointer,
                        compact(&i.expected),
                        compact(&i.got),
                        i.known
                            .as_ref()
                            .map(|r| format!(" (known: {r})"))
                            .unwrap_or_default()
                    )
                })
                .chain(case.note.clone())
                .collect();
            match case.outcome {
                Outcome::Fail => out.push_str(&format!(
                    "    <failure message=\"{}\">{}</failure>\n",
                    xml(&format!(
                        "{} difference(s); rule: {}",
                        case.differences.len(),
                        case.rule
                    )),
                    xml(&details.join("\n"))
                )),
                Outcome::Skip => out.push_str(&format!(
                    "    <skipped message=\"{}\"/>\n",
                    xml(case.note.as_deref().unwrap_or("skipped"))
                )),
                Outcome::Known => out.push_str(&format!(
                    "    <system-out>{}</system-out>\n",
                    xml(&details.join("\n"))
                )),
                Outcome::Pass => {}
            }
            out.push_str("  </testcase>\n");
        }
        for route in &self.uncovered_routes {
            out.push_str(&format!(
                "  <testcase classname=\"conform.{}.coverage\" name=\"{}\">\n    <failure message=\"no case sends a request to this route\"/>\n  </testcase>\n",
                xml(&self.vendor),
                xml(route)
            ));
        }
        out.push_str("</testsuite>\n</testsuites>\n");
        out
    }
}

/// A value on one line, cut at 200 characters.
fn compact(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
