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

/// Where servers record themselves and where `usermock healthcheck` looks.
#[derive(Debug, Clone)]
pub enum Place {
    /// `--state-file` / `USERMOCK_STATE_FILE`: one file, as named.
    Explicit(PathBuf),
    /// The default: one file per server process,
    /// `<temp dir>/usermock-<listen>-<pid>.state`, for the listen address
    /// the environment names (`USERMOCK_LISTEN`, else the built-in
    /// default). Servers sharing an environment never overwrite or remove
    /// each other's record.
    PerProcess { dir: PathBuf, prefix: String },
}

impl Place {
    /// `explicit` if given, else the per-process files for the listen
    /// address that `env_listen` (the `USERMOCK_LISTEN` value, if any) or
    /// the default gives.
    pub fn of(explicit: Option<&Path>, env_listen: Option<&str>, default_listen: &str) -> Place {
        if let Some(path) = explicit {
            return Place::Explicit(path.to_path_buf());
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
        Place::PerProcess {
            dir: std::env::temp_dir(),
            prefix: format!("usermock-{key}-"),
        }
    }

    /// The file this process records itself in.
    pub fn own_file(&self) -> PathBuf {
        match self {
            Place::Explicit(path) => path.clone(),
            Place::PerProcess { dir, prefix } => {
                dir.join(format!("{prefix}{}.state", std::process::id()))
            }
        }
    }

    /// Where records are looked for, for messages.
    pub fn describe(&self) -> String {
        match self {
            Place::Explicit(path) => path.display().to_string(),
            Place::PerProcess { dir, prefix } => {
                format!("{}/{prefix}<pid>.state", dir.display())
            }
        }
    }

    /// Every record present, newest first: (file, what it says).
    pub fn records(&self) -> Result<Vec<(PathBuf, State)>, String> {
        let files: Vec<PathBuf> = match self {
            Place::Explicit(path) => vec![path.clone()],
            Place::PerProcess { dir, prefix } => match std::fs::read_dir(dir) {
                Ok(entries) => entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter(|path| {
                        path.file_name()
                            .and_then(|name| name.to_str())
                            .and_then(|name| name.strip_prefix(prefix.as_str()))
                            .and_then(|rest| rest.strip_suffix(".state"))
                            .is_some_and(|pid| {
                                !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit())
                            })
                    })
                    .collect(),
                Err(err) => return Err(format!("cannot read {}: {err}", dir.display())),
            },
        };
        let mut found = Vec::new();
        for file in files {
            if let Some(state) = read(&file)? {
                let modified = std::fs::metadata(&file)
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                found.push((modified, file, state));
            }
        }
        found.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        Ok(found
            .into_iter()
            .map(|(_, file, state)| (file, state))
            .collect())
    }
}

/// Whether process `pid` still runs: `Some` where the system tells
/// (Linux's `/proc`; a zombie counts as gone), `None` elsewhere.
pub fn running(pid: u32) -> Option<bool> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return None;
    }
    match std::fs::read_to_string(proc.join(pid.to_string()).join("stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => Some(
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_none_or(|state| state != "Z" && state != "X"),
        ),
        Err(_) => Some(false),
    }
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
