//! `usermock conform`: replays the conformance corpus (`conformance/`)
//! against a vendor or a usermock. `record` writes one golden per case from
//! two runs (whatever differed between them is volatile); `verify` runs the
//! cases against usermock and diffs with the goldens. docs/conformance.md
//! is the user's guide.

mod case;
mod creds;
mod derive;
mod golden;
mod http;
mod normalise;
mod openapi;
mod report;
mod run;
mod tls;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;

use case::Case;
use golden::Golden;
use normalise::{Blanks, StepRules};
use report::{CaseReport, Item, Outcome, Report};
use run::{Context, Transcript};

/// `usermock conform record|verify`.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Run the corpus against TARGET (the vendor's base URL, or a usermock's
    /// `http://HOST:PORT/<vendor>`), each case twice, and write one golden
    /// per case into `--out`.
    Record {
        #[command(flatten)]
        common: Common,
        /// The base URL the cases' paths are appended to, e.g.
        /// `https://api.awork.com` or `http://127.0.0.1:8080/awork`.
        #[arg(long, value_name = "URL")]
        target: String,
        /// Where the goldens go (one `<case>.json` each).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Derive goldens from the vendors' documented examples
    /// (`<EXAMPLES>/<vendor>/examples/*.json`): each case runs against a
    /// usermock started here with the embedded fixtures (or `--fixtures`),
    /// and every step that names an example gets the example as its
    /// expected answer; the other steps keep usermock's, labelled so.
    Derive {
        #[command(flatten)]
        common: Common,
        /// The folder holding `<vendor>/examples/`.
        #[arg(long, value_name = "DIR", default_value = "conformance")]
        examples: PathBuf,
        /// Where the goldens go (one `<case>.json` each).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Run the corpus against usermock (started here on 127.0.0.1 with the
    /// embedded fixtures or `--fixtures DIR`, or at `--target`) and diff
    /// with the goldens; exit 0 when all match, 1 otherwise.
    Verify {
        #[command(flatten)]
        common: Common,
        /// The goldens (and `known-divergences.json`) to compare with.
        #[arg(long, value_name = "DIR")]
        goldens: PathBuf,
        /// A running usermock's base URL for the vendor instead of an
        /// embedded one, e.g. `http://127.0.0.1:8080/awork`.
        #[arg(long, value_name = "URL")]
        target: Option<String>,
        /// How the report is written to stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Options both actions take.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The vendor key: activity, awork, relesys or replay.
    #[arg(long, value_name = "VENDOR")]
    vendor: String,
    /// `fixture` (the default fixture's, for a usermock target), `env`
    /// (`USERMOCK_CONFORM_<VENDOR>_<FIELD>` variables) or a JSON file
    /// `{"<vendor>": {"<field>": "…"}}` [default: `fixture` for an embedded
    /// usermock, else `env`].
    #[arg(long, value_name = "fixture|env|FILE")]
    credentials: Option<String>,
    /// Run the cases that write (each restores what it changed).
    #[arg(long)]
    allow_writes: bool,
    /// List what would be sent, send nothing.
    #[arg(long)]
    dry_run: bool,
    /// `documented`: space requests to the vendor's documented rate limit
    /// (Relesys 100/min, awork 1000/min); `none`: as fast as answered.
    #[arg(long, value_enum, default_value_t = Pace::Documented)]
    pace: Pace,
    /// A corpus folder (`<DIR>/<vendor>/cases/*.json`) instead of the
    /// embedded one.
    #[arg(long, value_name = "DIR")]
    cases: Option<PathBuf>,
    /// Only these cases (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "CASE")]
    only: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pace {
    Documented,
    None,
}

/// The documented rate limits, as the gap to leave between requests.
fn documented_interval(vendor: &str) -> Duration {
    match vendor {
        // 100 requests per minute per client id (throttling page).
        "relesys" => Duration::from_millis(610),
        // 1000 per minute and 50 per second on the smaller plans.
        "awork" => Duration::from_millis(61),
        // ScalePad and Replay document no rate limit.
        _ => Duration::ZERO,
    }
}

/// Runs `usermock conform …`.
pub fn run(action: Action, fixtures: Option<PathBuf>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("usermock conform: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match action {
        Action::Record {
            common,
            target,
            out,
        } => runtime.block_on(record(&common, &target, &out)),
        Action::Verify {
            common,
            goldens,
            target,
            format,
        } => runtime.block_on(verify(&common, &goldens, target, format, fixtures)),
        Action::Derive {
            common,
            examples,
            out,
        } => runtime.block_on(derive::derive(&common, &examples, &out, fixtures)),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("usermock conform: {message}");
            ExitCode::from(2)
        }
    }
}

/// What a run needs before the first request.
struct Prepared {
    cases: Vec<Case>,
    routes: Vec<(String, String)>,
    /// Served routes no case of the whole corpus reaches (`--only` aside).
    uncovered: Vec<String>,
    credentials: creds::Credentials,
}

fn prepare(common: &Common, embedded: bool) -> Result<Prepared, String> {
    let known = usermock::vendor_names();
    if !known.contains(&common.vendor.as_str()) {
        return Err(format!(
            "unknown vendor '{}' (known: {})",
            common.vendor,
            known.join(", ")
        ));
    }
    let mut cases = case::load(&common.vendor, common.cases.as_deref())?;
    let routes = served_routes(&common.vendor)?;
    let uncovered = uncovered(&cases, &routes);
    if !common.only.is_empty() {
        if let Some(unknown) = common
            .only
            .iter()
            .find(|name| !cases.iter().any(|c| &c.name == *name))
        {
            return Err(format!("no case '{unknown}' for {}", common.vendor));
        }
        cases.retain(|c| common.only.contains(&c.name));
    }
    let source = creds::Source::parse(common.credentials.as_deref().unwrap_or(if embedded {
        "fixture"
    } else {
        "env"
    }));
    let credentials = creds::Credentials::load(&common.vendor, &source)?;
    Ok(Prepared {
        cases,
        routes,
        uncovered,
        credentials,
    })
}

/// The vendor's routes, from usermock's own route tables.
fn served_routes(vendor: &str) -> Result<Vec<(String, String)>, String> {
    let server = usermock::Usermock::new(&usermock::Options::default())
        .map_err(|e| format!("the embedded fixtures do not load: {e}"))?;
    Ok(server
        .routes()
        .into_iter()
        .filter(|r| r.vendor == vendor)
        .map(|r| (r.method, r.pattern))
        .collect())
}

/// The served routes no case sends a request to (`GET /api/user`).
fn uncovered(cases: &[Case], routes: &[(String, String)]) -> Vec<String> {
    routes
        .iter()
        .filter(|route| {
            !cases.iter().any(|c| {
                c.steps
                    .iter()
                    .chain(&c.cleanup)
                    .any(|s| case::route_of(s, routes) == Some(*route))
            })
        })
        .map(|(m, p)| format!("{m} {p}"))
        .collect()
}

fn why_skipped(ctx: &Context, case: &Case, allow_writes: bool) -> Option<String> {
    if case.writes && !allow_writes {
        return Some("writes; run with --allow-writes".to_owned());
    }
    ctx.missing_credential(case)
}

/// `--dry-run`: what each case would send, credentials masked.
fn dry_run(ctx: &Context, cases: &[Case], allow_writes: bool) -> ExitCode {
    println!(
        "usermock conform: dry run for {} against {} ({} cases); nothing is sent",
        ctx.vendor,
        ctx.base,
        cases.len()
    );
    for case in cases {
        let skip = why_skipped(ctx, case, allow_writes)
            .map(|why| format!(" [skipped: {why}]"))
            .unwrap_or_default();
        let writes = if case.writes { " [writes]" } else { "" };
        println!("{}{writes}{skip}\n  rule: {}", case.name, case.rule);
        if let Some(leaves) = &case.leaves {
            println!("  leaves behind: {leaves}");
        }
        for (i, step) in case.steps.iter().chain(&case.cleanup).enumerate() {
            let role = step.auth.as_deref().unwrap_or(&case.auth);
            let cleanup = if i >= case.steps.len() {
                "cleanup "
            } else {
                ""
            };
            println!(
                "  {cleanup}{} {}{} (auth: {role})",
                step.method,
                ctx.base,
                run::label_with_query(step)
                    .split_once(' ')
                    .map(|(_, rest)| rest)
                    .unwrap_or_default()
            );
            if let Some(body) = step.body.as_ref() {
                println!("    body: {body}");
            }
            if let Some(form) = step.form.as_ref() {
                let fields: Vec<&str> = form.iter().map(|(n, _)| n.as_str()).collect();
                println!("    form fields: {}", fields.join(", "));
            }
        }
    }
    ExitCode::SUCCESS
}

/// A unique id for one run of a case: names it creates carry it.
fn run_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    id.chars().take(10).collect()
}

/// The normalised steps of a transcript.
fn normalised(case: &Case, transcript: &Transcript, ctx: &Context, run: &str) -> Vec<Value> {
    normalised_with(case, transcript, ctx, run, &[])
}

/// The normalised steps of a transcript, with `extra_shape[n]` compared by
/// shape in step `n` besides the case's own `shape` (a documented
/// example's tenant data, for `derive`).
fn normalised_with(
    case: &Case,
    transcript: &Transcript,
    ctx: &Context,
    run: &str,
    extra_shape: &[Vec<String>],
) -> Vec<Value> {
    let defs: Vec<&case::Step> = case.steps.iter().chain(&case.cleanup).collect();
    let shapes: Vec<Vec<String>> = transcript
        .defs
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let mut shape: Vec<String> = defs.get(*i).map(|s| s.shape.clone()).unwrap_or_default();
            shape.extend(extra_shape.get(n).into_iter().flatten().cloned());
            shape
        })
        .collect();
    let rules: Vec<StepRules<'_>> = transcript
        .defs
        .iter()
        .zip(&shapes)
        .map(|(i, shape)| StepRules {
            shape,
            ignore: defs.get(*i).map_or(&[][..], |s| &s.ignore),
        })
        .collect();
    let secrets = ctx.credentials.secrets();
    let blanks = Blanks {
        secrets: &secrets,
        run,
        base: &ctx.base,
    };
    let mut steps = transcript.steps.clone();
    normalise::normalise(&mut steps, &rules, &blanks);
    steps
}

/// awork: every recorded answer against the published OpenAPI document.
fn schema_violations(
    spec: Option<&openapi::Spec>,
    case: &Case,
    transcript: &Transcript,
    routes: &[(String, String)],
) -> Vec<(usize, String)> {
    let Some(spec) = spec else {
        return Vec::new();
    };
    let defs: Vec<&case::Step> = case.steps.iter().chain(&case.cleanup).collect();
    let mut found = Vec::new();
    for (n, (observed, def)) in transcript.steps.iter().zip(&transcript.defs).enumerate() {
        let Some(step) = defs.get(*def) else { continue };
        let Some((method, pattern)) = case::route_of(step, routes) else {
            continue;
        };
        let status = observed
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0);
        let body = observed.get("body").cloned().unwrap_or(Value::Null);
        for problem in spec.check(method, pattern, status, &body) {
            found.push((n, problem));
        }
    }
    found
}

fn spec_for(vendor: &str) -> Result<Option<openapi::Spec>, String> {
    if vendor == "awork" {
        openapi::Spec::awork().map(Some)
    } else {
        Ok(None)
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn version() -> String {
    crate::cli::config::VERSION.to_owned()
}

async fn record(common: &Common, target: &str, out: &Path) -> Result<ExitCode, String> {
    let prepared = prepare(common, false)?;
    let interval = match common.pace {
        Pace::Documented => documented_interval(&common.vendor),
        Pace::None => Duration::ZERO,
    };
    let mut ctx = Context {
        vendor: common.vendor.clone(),
        base: target.trim_end_matches('/').to_owned(),
        credentials: prepared.credentials,
        client: http::Client::new(interval),
    };
    if common.dry_run {
        return Ok(dry_run(&ctx, &prepared.cases, common.allow_writes));
    }
    ctx.fetch_tokens().await?;
    let spec = spec_for(&common.vendor)?;
    let mut failed = 0usize;
    let mut written = 0usize;
    for case in &prepared.cases {
        if let Some(why) = why_skipped(&ctx, case, common.allow_writes) {
            println!("SKIP  {}: {why}", case.name);
            continue;
        }
        let first_id = run_id();
        let first = ctx.run(case, &first_id).await;
        let second_id = run_id();
        let second = ctx.run(case, &second_id).await;
        if let Some(err) = first.error.as_ref().or(second.error.as_ref()) {
            println!("ERROR {}: {err}", case.name);
            failed = failed.saturating_add(1);
            continue;
        }
        let a = Value::Array(normalised(case, &first, &ctx, &first_id));
        let b = Value::Array(normalised(case, &second, &ctx, &second_id));
        let volatile = normalise::volatile_between(&a, &b);
        let mut steps = a;
        normalise::mark_volatile(&mut steps, &volatile);
        let violations: Vec<String> =
            schema_violations(spec.as_ref(), case, &first, &prepared.routes)
                .into_iter()
                .map(|(n, problem)| format!("step {n}: {problem}"))
                .collect();
        for problem in &violations {
            println!("SCHEMA {}: {problem}", case.name);
        }
        let golden = Golden {
            case: case.name.clone(),
            vendor: common.vendor.clone(),
            rule: case.rule.clone(),
            source: case.source.clone(),
            recorded_at: now_rfc3339(),
            target: ctx.base.clone(),
            usermock_version: version(),
            volatile,
            schema_violations: violations,
            derived_from: None,
            no_example: None,
            derivation: Vec::new(),
            example_shape: Vec::new(),
            steps: match steps {
                Value::Array(steps) => steps,
                _ => Vec::new(),
            },
        };
        golden.write(out)?;
        written = written.saturating_add(1);
        println!("OK    {}", case.name);
    }
    for route in &prepared.uncovered {
        println!("UNCOVERED {route}: no case sends a request to this route");
    }
    println!(
        "{written} golden(s) written to {}, {failed} case(s) failed",
        out.display()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A usermock started here, on 127.0.0.1 and a free port, stopped on drop.
struct Embedded {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Embedded {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn embedded(vendor: &str, fixtures: Option<PathBuf>) -> Result<Embedded, String> {
    let options = usermock::Options {
        fixtures,
        ..usermock::Options::default()
    };
    let server = usermock::Usermock::new(&options).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(listener, async move {
        let _ = stopped.await;
    }));
    Ok(Embedded {
        base: format!("http://{addr}/{vendor}"),
        stop: Some(stop),
    })
}

async fn verify(
    common: &Common,
    goldens: &Path,
    target: Option<String>,
    format: Format,
    fixtures: Option<PathBuf>,
) -> Result<ExitCode, String> {
    let prepared = prepare(common, target.is_none())?;
    let known = golden::known_divergences(goldens)?;
    let interval = match (common.pace, &target) {
        (Pace::Documented, Some(_)) => documented_interval(&common.vendor),
        _ => Duration::ZERO,
    };
    let mut ctx = Context {
        vendor: common.vendor.clone(),
        base: target
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:<port>/{}", common.vendor)),
        credentials: prepared.credentials,
        client: http::Client::new(interval),
    };
    if common.dry_run {
        return Ok(dry_run(&ctx, &prepared.cases, common.allow_writes));
    }
    let server = match &target {
        Some(_) => None,
        None => {
            let server = embedded(&common.vendor, fixtures).await?;
            ctx.base = server.base.clone();
            Some(server)
        }
    };
    ctx.base = ctx.base.trim_end_matches('/').to_owned();
    ctx.fetch_tokens().await?;
    let spec = spec_for(&common.vendor)?;
    let mut report = Report {
        vendor: common.vendor.clone(),
        target: match &server {
            Some(server) => format!("{} (embedded)", server.base),
            None => ctx.base.clone(),
        },
        usermock_version: version(),
        cases: Vec::new(),
        uncovered_routes: prepared.uncovered.clone(),
        summary: Default::default(),
    };
    for case in &prepared.cases {
        let golden = Golden::read(goldens, &case.name)?;
        let mut entry = CaseReport {
            case: case.name.clone(),
            outcome: Outcome::Pass,
            rule: case.rule.clone(),
            source: case.source.clone(),
            last_validated: golden.as_ref().map(|g| g.recorded_at.clone()),
            recorded_against: golden.as_ref().map(|g| g.target.clone()),
            derived_from: golden.as_ref().and_then(|g| g.derived_from.clone()),
            note: None,
            differences: Vec::new(),
        };
        if let Some(why) = why_skipped(&ctx, case, common.allow_writes) {
            entry.outcome = Outcome::Skip;
            entry.note = Some(why);
            report.cases.push(entry);
            continue;
        }
        let Some(golden) = golden else {
            entry.outcome = Outcome::Fail;
            entry.note = Some(format!(
                "no golden {}/{}.json: record one",
                goldens.display(),
                case.name
            ));
            report.cases.push(entry);
            continue;
        };
        let id = run_id();
        let transcript = ctx.run(case, &id).await;
        let mut got = Value::Array(normalised_with(
            case,
            &transcript,
            &ctx,
            &id,
            &golden.example_shape,
        ));
        normalise::mark_volatile(&mut got, &golden.volatile);
        let expected = Value::Array(golden.steps.clone());
        let mut found = Vec::new();
        normalise::diff("", &expected, &got, &mut found);
        let labels: Vec<String> = golden
            .steps
            .iter()
            .map(|s| {
                s.get("request")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect();
        let step_label = |pointer: &str| -> (String, String) {
            let rest = pointer.trim_start_matches('/');
            let (index, tail) = rest.split_once('/').unwrap_or((rest, ""));
            let label = index
                .parse::<usize>()
                .ok()
                .and_then(|i| labels.get(i).map(|l| format!("step {i} ({l})")))
                .unwrap_or_else(|| format!("step {index}"));
            (
                label,
                format!("/steps/{index}/{tail}")
                    .trim_end_matches('/')
                    .to_owned(),
            )
        };
        for difference in found {
            let (step, pointer) = step_label(&difference.pointer);
            let known = known
                .iter()
                .find(|k| k.covers(&case.name, &pointer))
                .map(|k| k.reason.clone());
            entry.differences.push(Item {
                step,
                pointer,
                expected: difference.expected,
                got: difference.got,
                known,
            });
        }
        for (n, problem) in schema_violations(spec.as_ref(), case, &transcript, &prepared.routes) {
            let pointer = format!("/steps/{n}/body");
            let known = known
                .iter()
                .find(|k| k.covers(&case.name, &pointer))
                .map(|k| k.reason.clone());
            entry.differences.push(Item {
                step: labels
                    .get(n)
                    .map(|l| format!("step {n} ({l})"))
                    .unwrap_or_else(|| format!("step {n}")),
                pointer,
                expected: Value::String("an answer awork's OpenAPI document allows".into()),
                got: Value::String(problem),
                known,
            });
        }
        if let Some(err) = transcript.error {
            entry.note = Some(format!("the run stopped: {err}"));
        }
        let unaccepted = entry.differences.iter().any(|d| d.known.is_none());
        entry.outcome = if unaccepted || entry.note.is_some() {
            Outcome::Fail
        } else if entry.differences.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Known
        };
        report.cases.push(entry);
    }
    drop(server);
    report.summarise();
    let text = match format {
        Format::Text => report.text(),
        Format::Json => report.json(),
        Format::Junit => report.junit(),
    };
    print!("{text}");
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_rate_limits_are_never_exceeded() {
        // Relesys: 100 requests per minute per client id (concepts/throttling).
        assert!(documented_interval("relesys") * 100 >= Duration::from_secs(60));
        // awork: 1000 per minute and 50 per second on the smaller plans
        // (rate-limits.mdx).
        assert!(documented_interval("awork") * 1000 >= Duration::from_secs(60));
        assert!(documented_interval("awork") * 50 >= Duration::from_secs(1));
    }
}
