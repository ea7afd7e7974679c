//! Build-time facts for the binary.
//!
//! Each job is its own function, called from `main`; add new ones beside
//! them rather than inside them.

use std::path::Path;
use std::process::Command;

fn main() {
    git_revision();
    shipped_scenarios();
}

/// Writes `$OUT_DIR/shipped_scenarios.rs`: one `(name, text)` entry per
/// `scenarios/*.json`, in name order, so the binary embeds the repo's
/// scenarios without a hand-kept list. Cargo reruns this whenever a file in
/// the folder is added, removed or changed.
fn shipped_scenarios() {
    println!("cargo:rerun-if-changed=scenarios");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut code = String::from("pub(crate) const SHIPPED: &[(&str, &str)] = &[\n");
    for name in names {
        let path = dir.join(format!("{name}.json"));
        code.push_str(&format!(
            "    ({name:?}, include_str!({path:?})),\n",
            path = path.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("shipped_scenarios.rs");
    if let Err(err) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {err}", out.display());
    }
}

/// Sets `USERMOCK_GIT_REV` for `usermock --version`: the commit being built,
/// from `git rev-parse` in a checkout, else from the `USERMOCK_GIT_REV`
/// environment variable (a container build has no `.git`; the Dockerfile
/// passes it as a build argument), else `unknown`.
fn git_revision() {
    println!("cargo:rerun-if-env-changed=USERMOCK_GIT_REV");
    // A new commit moves HEAD or the branch it names. Git says where they
    // are: `.git/…` in a checkout, the main repository's in a worktree
    // (whose `.git` is a file).
    let git_path = |name: &str| {
        Command::new("git")
            .args(["rev-parse", "--git-path", name])
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|path| std::path::PathBuf::from(path.trim()))
            .filter(|path| path.exists())
    };
    if let Some(head) = git_path("HEAD") {
        println!("cargo:rerun-if-changed={}", head.display());
        if let Ok(text) = std::fs::read_to_string(&head) {
            if let Some(reference) = text.trim().strip_prefix("ref: ") {
                if let Some(path) = git_path(reference) {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
        if let Some(packed) = git_path("packed-refs") {
            println!("cargo:rerun-if-changed={}", packed.display());
        }
    }
    let from_git = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|rev| rev.trim().to_owned())
        .filter(|rev| !rev.is_empty());
    let revision = from_git
        .or_else(|| std::env::var("USERMOCK_GIT_REV").ok())
        .map(|rev| rev.trim().to_owned())
        .filter(|rev| !rev.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=USERMOCK_GIT_REV={revision}");
}
