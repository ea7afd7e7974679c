//! The `usermock` binary: a thin entry point; everything it does lives in
//! `cli/` (command line, logging, serving, the client subcommands).

mod cli;

use std::process::ExitCode;

// mimalloc, not the system allocator: every request allocates and frees
// many small objects (headers, bodies, records, journal entries); see
// docs/performance.md for what this buys.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::run()
}
