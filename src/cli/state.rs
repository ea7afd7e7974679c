//! The state file: where a running server records the address it bound, so
//! that `usermock healthcheck` finds it however the address was configured
//! (`--listen` on the server's command line, `USERMOCK_LISTEN`, port 0).
//!
//! Its default place is derived from what the environment says about the
//! listen address (`USERMOCK_LISTEN`, else the built-in default), not from
//! the server's own arguments: a server and a health check that share an
//! environment (a container and its `HEALTHCHECK`) agree on it, while
//! servers configured apart (parallel tests with their own `USERMOCK_LISTEN`)
//! do not overwrite each other's. `--state-file` / `USERMOCK_STATE_FILE`
//! names it explicitly.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What a running server writes.
#[derive(Debug, Serialize, Deserialize)]
pub struct State {
    /// The server's process id: only the writer removes the file.
    pub pid: u32,
    /// The bound address (the real port when `--listen` asked for port 0).
    pub listen: SocketAddr,
}

/// The state file's place: `explicit` if given, else
/// `<temp dir>/usermock-<listen>.state` for the listen address that
/// `env_listen` (the `USERMOCK_LISTEN` value, if any) or the default gives.
pub fn path(explicit: Option<&Path>, env_listen: Option<&str>, default_listen: &str) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    let listen = env_listen
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse::<SocketAddr>().ok())
        .map_or_else(|| default_listen.to_owned(), |addr| addr.to_string());
    let key: String = listen
        .chars()
        .filter_map(|c| match c {
            '[' | ']' => None,
            c if c.is_ascii_alphanumeric() || c == '.' => Some(c),
            _ => Some('-'),
        })
        .collect();
    std::env::temp_dir().join(format!("usermock-{key}.state"))
}

/// Records `listen` for this process, atomically (written aside, then
/// renamed), so a reader never sees half a file.
pub fn write(path: &Path, listen: SocketAddr) -> std::io::Result<()> {
    let state = State {
        pid: std::process::id(),
        listen,
    };
    let text = serde_json::to_string(&state).map_err(std::io::Error::other)?;
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".{}.tmp", state.pid));
    let aside = PathBuf::from(aside);
    std::fs::write(&aside, text + "\n")?;
    std::fs::rename(&aside, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&aside);
    })
}

/// Reads a state file; `Ok(None)` when there is none.
pub fn read(path: &Path) -> Result<Option<State>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: not a usermock state file: {e}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(format!("cannot read {}: {err}", path.display())),
    }
}

/// Removes the state file if this process wrote it (another server may have
/// taken the same file over since).
pub fn remove_own(path: &Path) {
    if let Ok(Some(state)) = read(path) {
        if state.pid == std::process::id() {
            let _ = std::fs::remove_file(path);
        }
    }
}
