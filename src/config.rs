//! Command line and environment, parsed by clap. Every option has a
//! `USERMOCK_*` environment variable so a service container needs no flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "usermock",
    version,
    about = "A faithful mock server for four vendors' user APIs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeArgs,

    /// Fixture folder holding `<vendor>.json` files; vendors without a file
    /// keep their embedded default. Without it, all fixtures are embedded.
    #[arg(long, env = "USERMOCK_FIXTURES", global = true, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,

    /// A scenario file, or a folder of them, loaded besides the shipped
    /// scenarios (a file replaces a shipped scenario of the same name).
    #[arg(long, env = "USERMOCK_SCENARIOS", global = true, value_name = "PATH")]
    pub scenarios: Option<PathBuf>,

    /// Log filter in `RUST_LOG` syntax, e.g. `info` or `usermock=debug`
    /// [default: `RUST_LOG` if set, else `info`].
    #[arg(long, env = "USERMOCK_LOG", global = true, value_name = "FILTER")]
    pub log: Option<String>,

    /// Log line format on stderr.
    #[arg(long, env = "USERMOCK_LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. The first stdout line
    /// is `usermock listening on http://HOST:PORT` once it accepts.
    #[arg(
        long,
        env = "USERMOCK_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: SocketAddr,

    /// Largest request body in bytes; larger ones get 413 in the vendor's format.
    #[arg(long, env = "USERMOCK_MAX_BODY", default_value_t = 1024 * 1024, value_name = "BYTES")]
    pub max_body: usize,

    /// Activate a scenario for every request from the start (repeatable, or
    /// comma-separated in the env var), e.g. `--scenario relesys-rate-limited`.
    #[arg(
        long,
        env = "USERMOCK_SCENARIO",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    pub scenario: Vec<String>,

    /// Turn on a vendor's documented rate limit (repeatable, or comma-separated
    /// in the env var), e.g. `--rate-limit relesys`.
    #[arg(
        long,
        env = "USERMOCK_RATE_LIMIT",
        value_delimiter = ',',
        value_name = "VENDOR"
    )]
    pub rate_limit: Vec<String>,

    /// How many requests `GET /__admin/requests` keeps (0 turns the journal off).
    #[arg(
        long,
        env = "USERMOCK_JOURNAL_SIZE",
        default_value_t = 1000,
        value_name = "N"
    )]
    pub journal_size: usize,

    /// Require this token on every admin call (`usermock healthcheck` sends
    /// it too), as
    /// `Authorization: Bearer <token>` or `X-Usermock-Admin-Token: <token>`.
    #[arg(
        long,
        env = "USERMOCK_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,

    /// Seconds that SIGTERM/SIGINT waits for in-flight requests to finish.
    #[arg(
        long,
        env = "USERMOCK_DRAIN_TIMEOUT",
        default_value_t = 10,
        value_name = "SECONDS"
    )]
    pub drain_timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate fixture and scenario files without serving; lists every problem found.
    Check,
    /// Exit 0 when the server at URL answers its health check (for HEALTHCHECK).
    Healthcheck {
        /// Health endpoint to probe. Default: `/__admin/health` on the
        /// `--listen` address (`USERMOCK_LISTEN`), with 0.0.0.0 read as 127.0.0.1.
        #[arg(long, env = "USERMOCK_HEALTHCHECK_URL", value_name = "URL")]
        url: Option<String>,
        /// Seconds to wait for the answer.
        #[arg(
            long,
            env = "USERMOCK_HEALTHCHECK_TIMEOUT",
            default_value_t = 3,
            value_name = "SECONDS"
        )]
        timeout: u64,
    },
    /// Print the JSON Schema of a vendor's fixture file, or of a scenario file.
    Schema {
        /// A vendor key (e.g. `activity`) or `scenario`.
        of: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
