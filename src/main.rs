//! The `usermock` binary: parse the command line, set up logging, load the
//! fixtures, bind, announce the address on stdout, serve until a signal.

mod config;
mod healthcheck;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use config::{Cli, Command, LogFormat};

/// Exit code for a configuration, fixture or scenario mistake.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = cli
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".to_owned());
    let _log_guard = match init_logging(&filter, cli.log_format) {
        Ok(guard) => guard,
        Err(message) => {
            eprintln!("usermock: {message}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let options = usermock::Options {
        fixtures: cli.fixtures.clone(),
        max_body: cli.serve.max_body,
        drain_timeout: Duration::from_secs(cli.serve.drain_timeout),
        rate_limit: cli.serve.rate_limit.clone(),
        scenarios: cli.scenarios.clone(),
        active_scenarios: cli.serve.scenario.clone(),
        journal_size: cli.serve.journal_size,
        admin_token: cli.serve.admin_token.clone(),
        ..usermock::Options::default()
    };
    match cli.command {
        None => serve(&options, cli.serve.listen),
        Some(Command::Check) => check(&options),
        Some(Command::Healthcheck { url, timeout }) => {
            let url = url.unwrap_or_else(|| health_url(cli.serve.listen));
            healthcheck::run(
                &url,
                cli.serve.admin_token.as_deref(),
                Duration::from_secs(timeout),
            )
        }
        Some(Command::Schema { of }) => schema(&of),
    }
}

/// Logs go to stderr through a non-blocking, lossy writer: when nobody
/// drains stderr, lines are dropped rather than stalling requests.
fn init_logging(filter: &str, format: LogFormat) -> Result<WorkerGuard, String> {
    let filter =
        EnvFilter::try_new(filter).map_err(|e| format!("invalid --log filter '{filter}': {e}"))?;
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
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

fn serve(options: &usermock::Options, listen: std::net::SocketAddr) -> ExitCode {
    let server = match usermock::Usermock::new(options) {
        Ok(server) => server,
        Err(err) => {
            // Printed directly as well as logged: a startup failure must be
            // readable even with logging filtered off.
            eprintln!("usermock: {err}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
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
        tracing::info!(%addr, vendors = ?server.vendor_names(), "serving");
        // The one line stdout carries, for harnesses to read the address.
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "usermock listening on http://{addr}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            tracing::warn!("stdout is closed; the listening line was not printed");
        }
        drop(stdout);
        server.run(listener, shutdown_signal()).await;
        ExitCode::SUCCESS
    })
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
    format!("http://{host}:{}/__admin/health", listen.port())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

fn check(options: &usermock::Options) -> ExitCode {
    match usermock::Usermock::new(options) {
        Ok(server) => {
            let source = options.fixtures.as_ref().map_or_else(
                || "embedded fixtures".to_owned(),
                |d| d.display().to_string(),
            );
            println!(
                "ok: {source} ({} vendors: {})",
                server.vendor_names().len(),
                server.vendor_names().join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("usermock check: {err}");
            ExitCode::from(EXIT_BAD_INPUT)
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
