//! The helpers for other languages (clients/) use only the admin API: every
//! admin path they name is in the admin OpenAPI document. (The Python and
//! Node helpers also run their own suites against the binary in
//! `.ci/clients`; the JVM and Go recipes need Docker, which CI here lacks.)

use std::path::{Path, PathBuf};

fn files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("clients/").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "node_modules" || name == "__pycache__" {
            continue;
        }
        if path.is_dir() {
            files(&path, into);
        } else if path
            .extension()
            .is_some_and(|e| ["py", "ts", "java", "go"].iter().any(|x| e == *x))
        {
            into.push(path);
        }
    }
}

/// `/__admin/scenarios/{name}/activate` from a path written with a
/// language's interpolation (`${…}`, `{…}`, `" + x + "`).
fn templated(path: &str, openapi: &[String]) -> bool {
    openapi.iter().any(|pattern| {
        let a: Vec<&str> = pattern.split('/').collect();
        let b: Vec<&str> = path.split('/').collect();
        a.len() == b.len()
            && a.iter().zip(&b).all(|(p, s)| {
                p == s || (p.starts_with('{') && !s.is_empty() && !s.starts_with("__admin"))
            })
    })
}

#[test]
fn the_client_helpers_name_only_admin_paths_the_openapi_document_has() {
    let openapi = crate::common::admin_openapi();
    let paths: Vec<String> = openapi["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients");
    let mut sources = Vec::new();
    files(&root, &mut sources);
    assert!(sources.len() >= 4, "{sources:?}");
    let mut named = 0;
    for file in sources {
        let text = std::fs::read_to_string(&file).expect("source");
        for (at, _) in text.match_indices("/__admin/") {
            let path: String = text[at..]
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | '`' | ' ' | ',' | ')'))
                .collect();
            // Interpolations become one segment each.
            let path = path
                .replace("${encodeURIComponent(scenario)}", "x")
                .replace("{urllib.parse.quote(scenario, safe='')}", "x");
            let path = path.trim_end_matches('/');
            named += 1;
            assert!(
                paths.iter().any(|p| p == path)
                    || templated(path, &paths)
                    || path.ends_with("/scenarios"),
                "{}: {path} is not in the admin OpenAPI document",
                file.display()
            );
        }
    }
    assert!(named >= 10, "only {named} admin paths found");
}

#[test]
fn the_readme_links_every_client_helper() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    for helper in [
        "clients/python",
        "clients/node",
        "clients/jvm",
        "clients/go",
    ] {
        assert!(
            readme.contains(&format!("({helper}")),
            "README does not link {helper}"
        );
    }
}
