//! Build-time facts for the binary.
//!
//! Each job is its own function, called from `main`; add new ones beside
//! them rather than inside them.

use std::path::Path;
use std::process::Command;

fn main() {
    git_revision();
    shipped_scenarios();
    vendor_test_modules();
    conformance_cases();
}

/// Writes `$OUT_DIR/conformance_cases.rs`: one `(vendor, name, text)` entry
/// per `conformance/<vendor>/cases/*.json`, sorted, so `usermock conform`
/// carries the corpus without a hand-kept list.
fn conformance_cases() {
    println!("cargo:rerun-if-changed=conformance");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance");
    let names_in = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let mut code = String::from("pub(crate) const CASES: &[(&str, &str, &str)] = &[\n");
    for vendor in names_in(&root) {
        let cases = root.join(&vendor).join("cases");
        println!("cargo:rerun-if-changed={}", cases.display());
        for file in names_in(&cases) {
            if let Some(name) = file.strip_suffix(".json") {
                let path = cases.join(&file);
                code.push_str(&format!(
                    "    ({vendor:?}, {name:?}, include_str!({path:?})),\n",
                    path = path.display().to_string()
                ));
            }
        }
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("conformance_cases.rs");
    if let Err(err) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {err}", out.display());
    }
}

/// Writes `$OUT_DIR/vendor_test_modules.rs` for the integration tests
/// (`tests/it/main.rs` includes it): one module per `tests/it/vendors/*.rs`,
/// and `tested_scenarios()`, the shipped scenarios those modules test (each
/// module defines its own `tested_scenarios()`). A vendor's test module is
/// then one file dropped in, with no line to add anywhere.
fn vendor_test_modules() {
    println!("cargo:rerun-if-changed=tests/it/vendors");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/vendors");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter_map(|n| n.strip_suffix(".rs").map(str::to_owned))
                .filter(|n| {
                    n.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut code = String::new();
    for name in &names {
        let path = dir.join(format!("{name}.rs"));
        code.push_str(&format!(
            "#[path = {path:?}]\nmod {name};\n",
            path = path.display().to_string()
        ));
    }
    code.push_str("\n/// The shipped scenarios the modules of `tests/it/vendors/` test.\n");
    code.push_str("pub(crate) fn vendor_module_scenarios() -> Vec<&'static str> {\n");
    code.push_str("    #[allow(unused_mut)]\n    let mut all: Vec<&'static str> = Vec::new();\n");
    for name in &names {
        code.push_str(&format!("    all.extend({name}::tested_scenarios());\n"));
    }
    code.push_str("    all\n}\n");
    let out =
        Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("vendor_test_modules.rs");
    if let Err(err) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {err}", out.display());
    }
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
    // Rebuild when HEAD moves: watch HEAD and the branch it names, wherever
    // git keeps them (a worktree's `.git` is a file pointing elsewhere).
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty())
    };
    if let Some(head) = git(&["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={head}");
    }
    if let Some(branch) = git(&["rev-parse", "--symbolic-full-name", "HEAD"]) {
        if let Some(path) = git(&["rev-parse", "--git-path", &branch]) {
            if Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    if let Some(packed) = git(&["rev-parse", "--git-path", "packed-refs"]) {
        if Path::new(&packed).exists() {
            println!("cargo:rerun-if-changed={packed}");
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
