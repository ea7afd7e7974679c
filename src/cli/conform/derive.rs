//! `usermock conform derive`: goldens whose expected answers are the
//! vendors' documented examples, so `verify` checks usermock against what
//! the vendor wrote down rather than against usermock's own past.
//!
//! A documented example is kept in `conformance/<vendor>/examples/<name>.json`
//! with its source and whether it is a verbatim copy or transcribed. A case
//! step names the example its answer should be (`"example"`); `derive` runs
//! the case against an embedded usermock (the default fixture) to learn the
//! values the flow links (the id created in step 0 and read in step 1, the
//! name the case sent), puts the example in place of that step's answer with
//! those values bound in, and normalises everything exactly as `record`
//! does. So an example's constants (status, error codes and texts, enum
//! values, member sets) stay literal in the golden and a drift in them
//! fails `verify`; its tenant data (ids, names, timestamps, listed under
//! `tenant`) is compared by shape. A step without an example keeps
//! usermock's answer, and the golden says so (`derivation`, `no_example`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::case::{self, Case};
use super::golden::Golden;
use super::run::{self, Context, Transcript};
use super::{http, normalise, Common};

/// One documented example: the answer a vendor's page shows for a route.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// The public page the example is on.
    pub source: String,
    /// `verbatim` (copied as the page prints it) or `transcribed` (written
    /// out from the page's text, e.g. a body quoted in prose).
    pub copy: String,
    /// What the example is and anything an auditor should know about it.
    pub note: String,
    /// `METHOD /path/{param}` as the page writes it (parameter names may
    /// differ from usermock's), or `*` for a page that documents one answer
    /// for every route.
    pub route: String,
    /// The status the page states for this answer; without one, the
    /// derived golden keeps usermock's and says so.
    #[serde(default)]
    pub status: Option<u16>,
    /// Response headers the page documents (names lower case).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The example body; `null` for an answer without one.
    pub body: Value,
    /// Pointers (`/body/...`) to the example's tenant data: values no other
    /// tenant shares, compared by shape (member names and kinds) only.
    #[serde(default)]
    pub tenant: Vec<String>,
    /// Pointers to tenant data whose very member names are the tenant's
    /// (a dictionary keyed by the tenant's custom fields): left out.
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// The examples of `vendor`, by name, from `dir/<vendor>/examples`.
pub fn load(dir: &Path, vendor: &str) -> Result<BTreeMap<String, Example>, String> {
    let folder = dir.join(vendor).join("examples");
    let mut examples = BTreeMap::new();
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(examples),
        Err(err) => return Err(format!("cannot read {}: {err}", folder.display())),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
            .map(str::to_owned)
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let example: Example =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if !matches!(example.copy.as_str(), "verbatim" | "transcribed") {
            return Err(format!(
                "{}: copy must be 'verbatim' or 'transcribed'",
                path.display()
            ));
        }
        // A mistyped pointer would leave tenant data literal (a false
        // failure) or compare what was meant to be left out.
        let answer = json!({"body": example.body});
        if let Some(missing) = example
            .tenant
            .iter()
            .chain(&example.ignore)
            .find(|p| answer.pointer(p).is_none())
        {
            return Err(format!(
                "{}: '{missing}' is no member of the example's answer",
                path.display()
            ));
        }
        examples.insert(name, example);
    }
    Ok(examples)
}

/// `GET /a/{x}/b` and `GET /a/{y}/b` are one route.
fn same_route(a: &str, b: &str) -> bool {
    let canonical = |text: &str| -> String {
        text.split('/')
            .map(|seg| {
                if seg.starts_with('{') && seg.ends_with('}') {
                    "{}".to_owned()
                } else {
                    seg.to_ascii_lowercase()
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    canonical(a) == canonical(b)
}

/// The transcript's answers with every step that names an example replaced
/// by it; returns, per step, the example's tenant pointers and where the
/// step's expected answer comes from.
fn apply(
    case: &Case,
    transcript: &mut Transcript,
    examples: &BTreeMap<String, Example>,
    routes: &[(String, String)],
) -> Result<(Vec<Vec<String>>, Vec<Value>), String> {
    let defs: Vec<&case::Step> = case.steps.iter().chain(&case.cleanup).collect();
    let mut tenant = Vec::new();
    let mut derivation = Vec::new();
    for (n, (observed, def)) in transcript
        .steps
        .iter_mut()
        .zip(&transcript.defs)
        .enumerate()
    {
        let request = observed.get("request").cloned().unwrap_or(Value::Null);
        let Some(usage) = defs.get(*def).and_then(|s| s.example.as_ref()) else {
            tenant.push(Vec::new());
            derivation.push(json!({"step": n, "request": request, "from": "usermock"}));
            continue;
        };
        let example = examples
            .get(&usage.name)
            .ok_or_else(|| format!("step {n}: no example '{}'", usage.name))?;
        let reached = defs
            .get(*def)
            .and_then(|s| case::route_of(s, routes))
            .map(|(m, p)| format!("{m} {p}"))
            .unwrap_or_default();
        // `*`: a page that documents one answer for every route (awork's
        // error object).
        if example.route != "*" && !same_route(&reached, &example.route) {
            return Err(format!(
                "step {n}: example '{}' documents {}, the step reaches {reached}",
                usage.name, example.route
            ));
        }
        let mut headers = observed
            .get("headers")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (name, value) in &example.headers {
            headers.insert(name.to_ascii_lowercase(), Value::String(value.clone()));
        }
        let status = match example.status {
            Some(status) => json!(status),
            None => observed.get("status").cloned().unwrap_or(Value::Null),
        };
        let mut answer = json!({
            "request": request,
            "status": status,
            "headers": Value::Object(headers),
            "body": example.body.clone(),
        });
        for (pointer, template) in &usage.bind {
            let value = run::resolve_value(template, &transcript.vars)
                .map_err(|e| format!("step {n}: bind {pointer}: {e}"))?;
            let slot = answer.pointer_mut(pointer).ok_or_else(|| {
                format!(
                    "step {n}: bind {pointer}: example '{}' has no such member",
                    usage.name
                )
            })?;
            *slot = value;
        }
        for pointer in &example.ignore {
            if let Some(slot) = answer.pointer_mut(pointer) {
                *slot = Value::String(normalise::IGNORED.to_owned());
            }
        }
        *observed = answer;
        tenant.push(example.tenant.clone());
        let mut from = Map::new();
        from.insert("step".into(), json!(n));
        from.insert("request".into(), request);
        from.insert("from".into(), json!("example"));
        from.insert("example".into(), json!(usage.name));
        from.insert("source".into(), json!(example.source));
        from.insert("copy".into(), json!(example.copy));
        from.insert("note".into(), json!(example.note));
        if example.status.is_none() {
            from.insert(
                "status".into(),
                json!("usermock's: the page states no status"),
            );
        }
        from.insert(
            "headers".into(),
            json!(if example.headers.is_empty() {
                "usermock's: the page documents none"
            } else {
                "the example's, others usermock's"
            }),
        );
        derivation.push(Value::Object(from));
    }
    Ok((tenant, derivation))
}

/// Runs `usermock conform derive`.
pub(super) async fn derive(
    common: &Common,
    examples_dir: &Path,
    out: &Path,
    fixtures: Option<std::path::PathBuf>,
) -> Result<ExitCode, String> {
    let prepared = super::prepare(common, true)?;
    let examples = load(examples_dir, &common.vendor)?;
    let mut ctx = Context {
        vendor: common.vendor.clone(),
        base: format!("http://127.0.0.1:<port>/{}", common.vendor),
        credentials: prepared.credentials,
        client: http::Client::new(Duration::ZERO),
    };
    if common.dry_run {
        // derive runs every case on its own usermock: writes harm nobody.
        return Ok(super::dry_run(&ctx, &prepared.cases, true));
    }
    let server = super::embedded(&common.vendor, fixtures).await?;
    ctx.base = server.base.clone();
    ctx.fetch_tokens().await?;
    let mut used: BTreeSet<String> = BTreeSet::new();
    let (mut failed, mut from_examples, mut from_usermock) = (0usize, 0usize, 0usize);
    for case in &prepared.cases {
        let result = derive_case(case, &mut ctx, &examples, &prepared.routes).await;
        let golden = match result {
            Ok(golden) => golden,
            Err(err) => {
                println!("ERROR {}: {err}", case.name);
                failed = failed.saturating_add(1);
                continue;
            }
        };
        for step in &golden.derivation {
            if let Some(name) = step.get("example").and_then(Value::as_str) {
                used.insert(name.to_owned());
            }
        }
        if golden.derived_from.as_deref() == Some("examples") {
            from_examples = from_examples.saturating_add(1);
        } else {
            from_usermock = from_usermock.saturating_add(1);
        }
        golden.write(out)?;
        println!(
            "OK    {} ({})",
            case.name,
            golden.derived_from.as_deref().unwrap_or_default()
        );
    }
    drop(server);
    // An example no case uses is a typo or a forgotten case (judged on the
    // whole corpus only: `--only` leaves most examples out on purpose).
    let unused: Vec<&String> = examples
        .keys()
        .filter(|n| common.only.is_empty() && !used.contains(*n))
        .collect();
    for name in &unused {
        println!("UNUSED example {name}: no case step names it");
    }
    println!(
        "{} golden(s) written to {}: {from_examples} derived from documented examples, {from_usermock} from usermock; {failed} case(s) failed",
        from_examples.saturating_add(from_usermock),
        out.display()
    );
    Ok(if failed == 0 && unused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn derive_case(
    case: &Case,
    ctx: &mut Context,
    examples: &BTreeMap<String, Example>,
    routes: &[(String, String)],
) -> Result<Golden, String> {
    let first_id = super::run_id();
    let mut first = ctx.run(case, &first_id).await;
    let second_id = super::run_id();
    let mut second = ctx.run(case, &second_id).await;
    if let Some(err) = first.error.as_ref().or(second.error.as_ref()) {
        return Err(err.clone());
    }
    let (tenant, derivation) = apply(case, &mut first, examples, routes)?;
    let (tenant_b, _) = apply(case, &mut second, examples, routes)?;
    let from_usermock: Vec<u64> = derivation
        .iter()
        .filter(|d| d.get("from").and_then(Value::as_str) == Some("usermock"))
        .filter_map(|d| d.get("step").and_then(Value::as_u64))
        .collect();
    let any_example = from_usermock.len() < derivation.len();
    if !from_usermock.is_empty() && case.no_example.is_none() {
        return Err(format!(
            "steps {from_usermock:?} name no documented example: say why in the case's no_example"
        ));
    }
    let a = Value::Array(super::normalised_with(
        case, &first, ctx, &first_id, &tenant,
    ));
    let b = Value::Array(super::normalised_with(
        case, &second, ctx, &second_id, &tenant_b,
    ));
    let volatile = normalise::volatile_between(&a, &b);
    let mut steps = a;
    normalise::mark_volatile(&mut steps, &volatile);
    Ok(Golden {
        case: case.name.clone(),
        vendor: ctx.vendor.clone(),
        rule: case.rule.clone(),
        source: case.source.clone(),
        recorded_at: super::now_rfc3339(),
        target: "documented examples (conform derive; other steps from an embedded usermock)"
            .to_owned(),
        usermock_version: super::version(),
        volatile,
        schema_violations: Vec::new(),
        derived_from: Some(if any_example { "examples" } else { "usermock" }.to_owned()),
        no_example: if from_usermock.is_empty() {
            None
        } else {
            case.no_example.clone()
        },
        derivation,
        example_shape: if any_example { tenant } else { Vec::new() },
        steps: match steps {
            Value::Array(steps) => steps,
            _ => Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_is_the_same_whatever_its_parameters_are_called() {
        assert!(same_route(
            "PATCH /v2/clients/{client_id}/users/{user_id}",
            "PATCH /v2/clients/{c}/users/{u}"
        ));
        assert!(!same_route(
            "PATCH /v2/clients/{client_id}/users/{user_id}",
            "GET /v2/clients/{client_id}/users/{user_id}"
        ));
        assert!(!same_route(
            "GET /v2/clients/{client_id}/users/summary",
            "GET /v2/clients/{client_id}/users/{user_id}"
        ));
    }
}
