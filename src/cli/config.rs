//! Command line and environment, parsed by clap. Every option has a
//! `USERMOCK_*` environment variable so a service container needs no flags.
//!
//! The server's options are global: every subcommand accepts them, so
//! `usermock healthcheck` and `usermock push` take the same `--listen`,
//! `--admin-token` and `--state-file` as the server they talk to.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// `usermock --version`: the crate version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("USERMOCK_GIT_REV"),
    ")"
);

/// The listen address without `--listen` or `USERMOCK_LISTEN`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Parser)]
#[command(
    name = "usermock",
    version = VERSION,
    about = "A faithful mock server for vendors' user APIs"
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
        default_value = DEFAULT_LISTEN,
        value_name = "ADDR",
        global = true
    )]
    pub listen: SocketAddr,

    /// Where the server records the address it bound, for `usermock
    /// healthcheck` [default: `usermock-<listen address>.state` in the
    /// temporary directory, so a server and a health check that share
    /// `USERMOCK_LISTEN` share the file].
    #[arg(long, env = "USERMOCK_STATE_FILE", value_name = "PATH", global = true)]
    pub state_file: Option<PathBuf>,

    /// Largest request body in bytes; larger ones get 413 in the vendor's format.
    #[arg(long, env = "USERMOCK_MAX_BODY", default_value_t = 1024 * 1024, value_name = "BYTES", global = true)]
    pub max_body: usize,

    /// Activate a scenario for every request from the start (repeatable, or
    /// comma-separated in the env var), e.g. `--scenario relesys-rate-limited`.
    #[arg(
        long,
        env = "USERMOCK_SCENARIO",
        value_delimiter = ',',
        value_name = "NAME",
        global = true
    )]
    pub scenario: Vec<String>,

    /// Turn on a vendor's documented rate limit (repeatable, or comma-separated
    /// in the env var), e.g. `--rate-limit relesys`.
    #[arg(
        long,
        env = "USERMOCK_RATE_LIMIT",
        value_delimiter = ',',
        value_name = "VENDOR",
        global = true
    )]
    pub rate_limit: Vec<String>,

    /// How many requests `GET /__admin/requests` keeps (0 turns the journal off).
    #[arg(
        long,
        env = "USERMOCK_JOURNAL_SIZE",
        default_value_t = 1000,
        value_name = "N",
        global = true
    )]
    pub journal_size: usize,

    /// Require this token on every admin call (`usermock healthcheck` and
    /// `usermock push` send it too), as
    /// `Authorization: Bearer <token>` or `X-Usermock-Admin-Token: <token>`.
    #[arg(
        long,
        env = "USERMOCK_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub admin_token: Option<String>,

    /// A `Host` name the admin API answers besides loopback names and
    /// addresses, the listening address and the vendors' hosts (repeatable,
    /// or comma-separated in the env var), e.g. a CI service alias
    /// `usermock`; `*` answers any. Other hosts get 403 (DNS rebinding).
    #[arg(
        long,
        env = "USERMOCK_ADMIN_HOST",
        value_delimiter = ',',
        value_name = "NAME",
        global = true
    )]
    pub admin_host: Vec<String>,

    /// How journal listings show credentials (vendor tokens, API keys,
    /// passwords, client secrets): as `sha256:` fingerprints, or as received.
    #[arg(long, env = "USERMOCK_JOURNAL_CREDENTIALS", value_enum, default_value_t = JournalCredentials::Fingerprint, value_name = "HOW", global = true)]
    pub journal_credentials: JournalCredentials,

    /// Seconds that SIGTERM/SIGINT waits for in-flight requests to finish.
    #[arg(
        long,
        env = "USERMOCK_DRAIN_TIMEOUT",
        default_value_t = 10,
        value_name = "SECONDS",
        global = true
    )]
    pub drain_timeout: u64,

    /// Bytes of request and response bodies the journal keeps in all (the
    /// oldest entries go first), besides `--journal-size` entries (32 MiB by default).
    #[arg(long, env = "USERMOCK_JOURNAL_BYTES", default_value_t = defaults().journal_bytes, value_name = "BYTES", global = true)]
    pub journal_bytes: usize,

    /// Largest request head (request line and headers) in bytes; a larger
    /// one gets 431 (32 KiB by default; at least 8192).
    #[arg(long, env = "USERMOCK_MAX_HEADER_BYTES", default_value_t = defaults().max_header_bytes, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(8192..), value_name = "BYTES", global = true)]
    pub max_header_bytes: usize,

    /// Seconds a client has to send a whole request head; a slower one is
    /// disconnected without an answer.
    #[arg(long, env = "USERMOCK_HEADER_READ_TIMEOUT", default_value_t = defaults().header_read_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..), value_name = "SECONDS", global = true)]
    pub header_read_timeout: u64,

    /// Seconds a client has to send a whole body once its head arrived; a
    /// slower one gets 408 in the vendor's format.
    #[arg(long, env = "USERMOCK_BODY_TIMEOUT", default_value_t = defaults().body_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..), value_name = "SECONDS", global = true)]
    pub body_timeout: u64,

    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, env = "USERMOCK_IDLE_TIMEOUT", default_value_t = defaults().idle_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..), value_name = "SECONDS", global = true)]
    pub idle_timeout: u64,

    /// Connections served at once; one more gets 503 `overloaded` (usermock's
    /// format) before any request is read, and is closed.
    #[arg(long, env = "USERMOCK_MAX_CONNECTIONS", default_value_t = defaults().max_connections, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), value_name = "N", global = true)]
    pub max_connections: usize,

    /// Sessions (`X-Usermock-Session`) alive at once; beyond it the least
    /// recently used is dropped, with a warning.
    #[arg(long, env = "USERMOCK_MAX_SESSIONS", default_value_t = defaults().max_sessions, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), value_name = "N", global = true)]
    pub max_sessions: usize,

    /// Seconds after which an unused session is dropped (15 minutes by default).
    #[arg(long, env = "USERMOCK_SESSION_IDLE", default_value_t = defaults().session_idle.as_secs(), value_parser = clap::value_parser!(u64).range(1..), value_name = "SECONDS", global = true)]
    pub session_idle: u64,

    /// Scenarios uploaded through the admin API at once; one more gets 409
    /// (0 refuses every upload).
    #[arg(long, env = "USERMOCK_MAX_UPLOADED_SCENARIOS", default_value_t = defaults().max_uploaded_scenarios, value_name = "N", global = true)]
    pub max_uploaded_scenarios: usize,

    /// Bytes of scenario files uploaded through the admin API at once, in
    /// all; an upload past it gets 507 `scenario_storage_full`.
    #[arg(long = "max-scenario-bytes", env = "USERMOCK_MAX_SCENARIO_BYTES", default_value_t = defaults().max_uploaded_scenario_bytes, value_name = "BYTES", global = true)]
    pub max_uploaded_scenario_bytes: usize,

    /// The largest a stored record may grow to by one write, in bytes of
    /// JSON (e.g. a Relesys JSON Patch of `copy` operations); beyond it the
    /// write is refused with the vendor's 400 (64 KiB by default).
    #[arg(long, env = "USERMOCK_MAX_RECORD_BYTES", default_value_t = defaults().max_record_bytes, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), value_name = "BYTES", global = true)]
    pub max_record_bytes: usize,

    /// Tokens issued by a token endpoint (Relesys) that are remembered at
    /// once; issuing one more drops the oldest, whose bearer then gets the
    /// vendor's 401 as for an expired token.
    #[arg(long, env = "USERMOCK_MAX_ISSUED_TOKENS", default_value_t = defaults().max_issued_tokens, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), value_name = "N", global = true)]
    pub max_issued_tokens: usize,

    /// Records one session (or the shared state, without
    /// `X-Usermock-Session`) may create, change or delete; one more write is
    /// refused with 507 in the vendor's format.
    #[arg(long, env = "USERMOCK_MAX_SESSION_RECORDS", default_value_t = defaults().max_session_records, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), value_name = "N", global = true)]
    pub max_session_records: usize,

    /// Bytes one session (or the shared state) may hold beyond the fixtures,
    /// counted as each record's compact JSON plus 128 bytes and its id; past
    /// it, 507 in the vendor's format (32 MiB by default).
    #[arg(long, env = "USERMOCK_MAX_SESSION_BYTES", default_value_t = defaults().max_session_bytes, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), value_name = "BYTES", global = true)]
    pub max_session_bytes: usize,

    /// Records all sessions and the shared state may hold together; past
    /// it, 507 in the vendor's format.
    #[arg(long, env = "USERMOCK_MAX_TOTAL_RECORDS", default_value_t = defaults().max_total_records, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), value_name = "N", global = true)]
    pub max_total_records: usize,

    /// Bytes all sessions and the shared state may hold together, counted
    /// as for `--max-session-bytes`; past it, 507 (256 MiB by default).
    #[arg(long, env = "USERMOCK_MAX_TOTAL_BYTES", default_value_t = defaults().max_total_bytes, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), value_name = "BYTES", global = true)]
    pub max_total_bytes: usize,

    /// Start with the clock frozen at this RFC 3339 instant, e.g.
    /// `2026-01-01T00:00:00Z` (the admin API moves or releases it) [default:
    /// the real time].
    #[arg(long, env = "USERMOCK_CLOCK", value_name = "RFC3339", global = true)]
    pub clock: Option<String>,
}

/// The library's defaults, which the flags' defaults show.
fn defaults() -> usermock::Options {
    usermock::Options::default()
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate fixture and scenario files without serving; lists every problem found.
    Check,
    /// Exit 0 when the server answers its health check (for HEALTHCHECK).
    ///
    /// Which server: `--url` if given; else `--listen` if given on this
    /// command line; else the address the server recorded in its state file
    /// (see `--state-file`); else `USERMOCK_LISTEN` or 127.0.0.1:8080.
    /// 0.0.0.0 and :: are reached through loopback.
    Healthcheck {
        /// Health endpoint to probe, e.g. `http://127.0.0.1:8080/__admin/health`.
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
    /// Upload fixtures and scenarios to a running usermock and activate
    /// scenarios, over its admin API (for CI: after the checkout).
    ///
    /// Files are validated locally first; nothing is sent if one is broken.
    /// `--fixtures DIR` replaces the users of each vendor that has a
    /// `<vendor>.json` there (`PUT /__admin/snapshot`); `--scenarios PATH`
    /// uploads each scenario file (`POST /__admin/scenarios`); `--activate`
    /// activates scenarios by name, uploaded or shipped.
    Push {
        /// Base URL of the running usermock, e.g. `http://localhost:8080`.
        #[arg(long, env = "USERMOCK_URL", value_name = "URL")]
        url: String,
        /// Scenarios to activate after the upload (repeatable, several
        /// names after one flag, or comma-separated).
        #[arg(
            long,
            env = "USERMOCK_ACTIVATE",
            value_delimiter = ',',
            num_args = 1..,
            value_name = "NAME"
        )]
        activate: Vec<String>,
        /// Activate only for this session (`X-Usermock-Session`) instead of
        /// for everyone.
        #[arg(long, env = "USERMOCK_SESSION", value_name = "ID")]
        session: Option<String>,
        /// Seconds to wait for each answer.
        #[arg(
            long,
            env = "USERMOCK_PUSH_TIMEOUT",
            default_value_t = 10,
            value_name = "SECONDS"
        )]
        timeout: u64,
    },
    /// Print the JSON Schema of a vendor's fixture file, or of a scenario file.
    Schema {
        /// A vendor key (e.g. `activity`) or `scenario`.
        of: String,
    },
    /// Check usermock against a vendor: record golden answers from a
    /// vendor sandbox (or a usermock), verify usermock against them
    /// (docs/conformance.md).
    Conform {
        #[command(subcommand)]
        action: super::conform::Action,
    },
    /// Print a shell completion script, e.g.
    /// `usermock completions bash > /etc/bash_completion.d/usermock`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JournalCredentials {
    // `sha256:` and the first 8 hex digits of the credential's hash. (Plain
    // comments: a doc comment here would turn `--help` into its long form.)
    Fingerprint,
    // As received.
    Show,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
