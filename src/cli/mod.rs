//! The `usermock` binary: parse the command line, set up logging, load the
//! fixtures, bind, announce the address on stdout, serve until a signal;
//! and the client subcommands (`check`, `push`, `healthcheck`, `conform`,
//! `completions`) with the HTTP client and state file they share.

mod client;
mod config;
mod conform;
mod healthcheck;
mod push;
mod state;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use config::{Cli, Command, LogFormat};

/// Exit code for a configuration, fixture or scenario mistake.
const EXIT_BAD_INPUT: u8 = 2;

/// The whole binary: parse, set up logging, then serve or run a client
/// subcommand. `main.rs` only calls this.
pub fn run() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    // `--listen` typed on this command line (not from the environment or
    // the default), before or after the subcommand.
    let listen_typed = std::iter::once(&matches)
        .chain(matches.subcommand().map(|(_, sub)| sub))
        .any(|m| m.value_source("listen") == Some(ValueSource::CommandLine));
    let env_listen = std::env::var("USERMOCK_LISTEN")
        .ok()
        .filter(|value| !value.trim().is_empty());
    let state_place = state::Place::of(
        cli.serve.state_file.as_deref(),
        env_listen.as_deref(),
        config::DEFAULT_LISTEN,
    );
    if let Some(Command::Completions { shell }) = &cli.command {
        return completions(*shell);
    }
    // Client subcommands print their own findings; the loading lines a
    // server logs at info would only bury them (a `--log` filter or
    // RUST_LOG still shows them).
    let default_filter = match cli.command {
        None => "info",
        Some(_) => "warn",
    };
    let filter = cli
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| default_filter.to_owned());
    let _log_guard = match init_logging(&filter, cli.log_format) {
        Ok(guard) => guard,
        Err(message) => {
            eprintln!("usermock: {message}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let options = options(&cli);
    match cli.command {
        None => serve(&options, cli.serve.listen, &state_place.own_file()),
        Some(Command::Check) => check(&options),
        Some(Command::Healthcheck { url, timeout }) => {
            let (url, found) = match url {
                Some(url) => (url, "--url".to_owned()),
                None => match health_target(
                    cli.serve.listen,
                    listen_typed || env_listen.is_some(),
                    listen_typed,
                    &state_place,
                ) {
                    Ok(target) => target,
                    Err(message) => {
                        eprintln!("usermock healthcheck: {message}");
                        return ExitCode::FAILURE;
                    }
                },
            };
            healthcheck::run(
                &url,
                &found,
                cli.serve.admin_token.as_deref(),
                Duration::from_secs(timeout),
            )
        }
        Some(Command::Push {
            url,
            activate,
            session,
            timeout,
        }) => push::run(&push::Push {
            url,
            fixtures: cli.fixtures,
            scenarios: cli.scenarios,
            activate,
            session,
            admin_token: cli.serve.admin_token,
            timeout: Duration::from_secs(timeout),
        }),
        Some(Command::Schema { of }) => schema(&of),
        Some(Command::Conform { action }) => conform::run(action, cli.fixtures),
        // Answered above, before logging was set up.
        Some(Command::Completions { .. }) => ExitCode::SUCCESS,
    }
}

/// The library's options from the command line and environment.
fn options(cli: &Cli) -> usermock::Options {
    usermock::Options {
        fixtures: cli.fixtures.clone(),
        max_body: cli.serve.max_body,
        drain_timeout: Duration::from_secs(cli.serve.drain_timeout),
        rate_limit: cli.serve.rate_limit.clone(),
        scenarios: cli.scenarios.clone(),
        active_scenarios: cli.serve.scenario.clone(),
        journal_size: cli.serve.journal_size,
        journal_bytes: cli.serve.journal_bytes,
        admin_token: cli.serve.admin_token.clone(),
        admin_hosts: cli.serve.admin_host.clone(),
        show_journal_credentials: cli.serve.journal_credentials == config::JournalCredentials::Show,
        max_header_bytes: cli.serve.max_header_bytes,
        header_read_timeout: Duration::from_secs(cli.serve.header_read_timeout),
        body_timeout: Duration::from_secs(cli.serve.body_timeout),
        idle_timeout: Duration::from_secs(cli.serve.idle_timeout),
        max_connections: cli.serve.max_connections,
        max_sessions: cli.serve.max_sessions,
        session_idle: Duration::from_secs(cli.serve.session_idle),
        max_uploaded_scenarios: cli.serve.max_uploaded_scenarios,
        max_uploaded_scenario_bytes: cli.serve.max_uploaded_scenario_bytes,
        clock: cli.serve.clock.clone(),
        max_record_bytes: cli.serve.max_record_bytes,
        max_session_records: cli.serve.max_session_records,
        max_session_bytes: cli.serve.max_session_bytes,
        max_total_records: cli.serve.max_total_records,
        max_total_bytes: cli.serve.max_total_bytes,
        max_issued_tokens: cli.serve.max_issued_tokens,
    }
}

/// The liveness URL to probe, and which server it is. `--listen` typed on
/// the command line is probed as given. Otherwise the servers recorded in
/// the state files: the newest that still runs; a record whose process is
/// gone is reported as such, never replaced by whatever else answers on a
/// default port. Only when nothing is recorded is the configured address
/// (`listen`, when `configured`: typed or `USERMOCK_LISTEN`) probed; the
/// built-in default alone is never assumed.
fn health_target(
    listen: std::net::SocketAddr,
    configured: bool,
    listen_typed: bool,
    place: &state::Place,
) -> Result<(String, String), String> {
    if listen_typed {
        return Ok((health_url(listen), "--listen".to_owned()));
    }
    let records = place.records()?;
    let mut stopped = Vec::new();
    let mut live = Vec::new();
    for (file, record) in records {
        match state::running(record.pid) {
            Some(false) => stopped.push((file, record)),
            _ => live.push((file, record)),
        }
    }
    if let Some((file, record)) = live.first() {
        let others = match live.len() {
            1 => String::new(),
            n => format!("; the newest of {n} servers recorded there"),
        };
        return Ok((
            health_url(record.listen),
            format!(
                "the server recorded by process {} in {}{others}",
                record.pid,
                file.display()
            ),
        ));
    }
    if let Some((file, record)) = stopped.first() {
        return Err(format!(
            "the server recorded by process {} in {} ({}) is not running",
            record.pid,
            file.display(),
            record.listen
        ));
    }
    if configured {
        return Ok((
            health_url(listen),
            format!(
                "the configured address; no server is recorded in {}",
                place.describe()
            ),
        ));
    }
    Err(format!(
        "no running usermock is recorded in {} (a server records itself when it starts); name one with --listen ADDR or --url URL",
        place.describe()
    ))
}

/// Lines the log writer queues for stderr before it drops new ones.
/// tracing-appender's default, 128,000, allocates and touches its whole
/// queue at startup: about 5 MB of RSS and a third of the start-up time
/// (docs/performance.md). Requests log at `debug`; `info` logs a handful of
/// lifecycle lines, so a few thousand is ample even at `debug` unless
/// stderr stops being drained.
const LOG_QUEUE_LINES: usize = 8192;

/// Logs go to stderr through a non-blocking, lossy writer: when nobody
/// drains stderr, lines are dropped rather than stalling requests.
fn init_logging(filter: &str, format: LogFormat) -> Result<WorkerGuard, String> {
    let filter =
        EnvFilter::try_new(filter).map_err(|e| format!("invalid --log filter '{filter}': {e}"))?;
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.with_ansi(false).init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(guard)
}

fn serve(
    options: &usermock::Options,
    listen: std::net::SocketAddr,
    state_file: &std::path::Path,
) -> ExitCode {
    let server = match usermock::Usermock::new(options) {
        Ok(server) => server,
        Err(err) => {
            // Printed directly as well as logged: a startup failure must be
            // readable even with logging filtered off.
            eprintln!("usermock: {err}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    release_load_memory();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("usermock: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("usermock: cannot listen on {listen}: {err}");
                return ExitCode::FAILURE;
            }
        };
        let addr = match listener.local_addr() {
            Ok(addr) => addr,
            Err(err) => {
                eprintln!("usermock: cannot read the bound address: {err}");
                return ExitCode::FAILURE;
            }
        };
        let shutdown = shutdown_signal();
        tracing::info!(%addr, vendors = ?usermock::vendor_names(), "serving");
        // Recorded before the listening line, so `usermock healthcheck`
        // finds the server as soon as a harness sees that line. A read-only
        // file system only costs the health check its lookup.
        let recorded = match state::write(state_file, addr) {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(
                    path = %state_file.display(),
                    error = %err,
                    "cannot write the state file; `usermock healthcheck` will probe the configured address"
                );
                false
            }
        };
        // The one line stdout carries, for harnesses to read the address.
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "usermock listening on http://{addr}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            tracing::warn!("stdout is closed; the listening line was not printed");
        }
        drop(stdout);
        server.run(listener, shutdown).await;
        if recorded {
            state::remove_own(state_file);
        }
        ExitCode::SUCCESS
    })
}

/// Returns the memory that loading freed (the fixtures' text and parse
/// trees) to the OS now. mimalloc does so lazily, on later allocation
/// activity: without this, a server loaded from a large fixture keeps the
/// parse's memory resident until traffic arrives (1M generated users: RSS
/// 1.8 GB at the listening line, 0.8 GB once collected).
fn release_load_memory() {
    // SAFETY: `mi_collect` has no preconditions: it only walks mimalloc's
    // own heaps and may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// The health URL of a server listening on `listen`: an unspecified
/// address (0.0.0.0, ::) is reached through loopback.
fn health_url(listen: std::net::SocketAddr) -> String {
    let host = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}/__admin/live", listen.port())
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: called before the
/// listening line is printed, a signal sent right after that line is never
/// missed (it would otherwise kill the process with the default action).
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        let interrupt = async {
            match interrupt {
                Ok(mut sig) => {
                    sig.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        let terminate = async {
            match terminate {
                Ok(mut sig) => {
                    sig.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = interrupt => tracing::info!("SIGINT received"),
            () = terminate => tracing::info!("SIGTERM received"),
        }
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("SIGINT received");
        } else {
            std::future::pending::<()>().await;
        }
    }
}

/// `usermock check`: which files were checked (stdout), every problem
/// found (stderr), and a count.
fn check(options: &usermock::Options) -> ExitCode {
    let report = usermock::Usermock::check(options);
    println!("checked fixtures: {}", report.fixtures.join(", "));
    let mut scenarios = vec![format!("{} shipped", report.shipped_scenarios)];
    scenarios.extend(report.scenarios.iter().cloned());
    println!("checked scenarios: {}", scenarios.join(", "));
    match report.error {
        None => {
            println!("ok: no problems");
            ExitCode::SUCCESS
        }
        Some(usermock::StartupError::Files(problems)) => {
            let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
            eprintln!(
                "usermock check: {} problem(s):\n{}",
                problems.len(),
                list.join("\n")
            );
            println!("{} problem(s)", problems.len());
            ExitCode::from(EXIT_BAD_INPUT)
        }
        Some(err) => {
            eprintln!("usermock check: {err}");
            println!("1 problem");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// Prints the completion script. Generated into memory first: clap_complete
/// panics when it cannot write (e.g. `usermock completions bash | head`).
fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "usermock", &mut script);
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&script).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("usermock completions: cannot write the script: {err}");
            ExitCode::FAILURE
        }
    }
}

fn schema(of: &str) -> ExitCode {
    if of == "scenario" {
        println!("{}", usermock::scenario_schema());
        return ExitCode::SUCCESS;
    }
    match usermock::fixture_schema(of) {
        Some(schema) => {
            println!("{schema}");
            ExitCode::SUCCESS
        }
        None => {
            eprintln!(
                "usermock schema: unknown vendor '{of}' (known: {})",
                usermock::vendor_names().join(", ")
            );
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}
