//! The vendor registry (`vendors::ALL`) is the one list of vendors: every
//! file that enumerates vendors by hand is checked against it here, and
//! each failure names the file to update.
//!
//! `USERMOCK_EXAMPLE_VENDORS` (comma-separated keys) names registered
//! vendors that are examples, not shipped: the README and the CI examples
//! need not list them. Only `.ci/fifth-vendor` sets it, for the example
//! vendor it adds in a scratch copy of the tree.

use crate::common::repo_file;
use std::collections::BTreeSet;

/// The registered vendors that users are told about.
fn shipped_vendors() -> Vec<usermock::VendorInfo> {
    let examples = crate::common::example_vendors();
    let server = usermock::Usermock::new(&usermock::Options::default()).expect("default server");
    server
        .vendors()
        .into_iter()
        .filter(|v| !examples.iter().any(|e| e == v.name))
        .collect()
}

/// The first cells of every row of every Markdown table in `text` whose
/// header's first cell is `vendor` or `vendor key`, per table.
fn vendor_tables(text: &str) -> Vec<BTreeSet<String>> {
    let mut tables = Vec::new();
    let mut current: Option<BTreeSet<String>> = None;
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let first = if line.starts_with('|') {
            cells.get(1).copied()
        } else {
            None
        };
        match (first, &mut current) {
            (Some("vendor" | "vendor key"), _) => {
                if let Some(done) = current.take() {
                    tables.push(done);
                }
                current = Some(BTreeSet::new());
            }
            (Some(cell), Some(rows)) if !cell.starts_with("---") => {
                rows.insert(cell.trim_matches('`').to_owned());
            }
            (Some(_), _) => {}
            (None, _) => {
                if let Some(done) = current.take() {
                    tables.push(done);
                }
            }
        }
    }
    tables.extend(current);
    tables
}

#[test]
fn every_vendor_table_in_the_readme_lists_exactly_the_registered_vendors() {
    let names: BTreeSet<String> = shipped_vendors()
        .iter()
        .map(|v| v.name.to_owned())
        .collect();
    let tables = vendor_tables(&repo_file("README.md"));
    assert!(
        tables.len() >= 3,
        "README.md: the status, base URL and routes tables"
    );
    for table in tables {
        assert_eq!(
            table, names,
            "README.md: a table whose first column is the vendor must have one row or more per registered vendor, and no other"
        );
    }
}

#[test]
fn the_readme_names_every_registered_vendor_s_real_host() {
    let readme = repo_file("README.md");
    for vendor in shipped_vendors() {
        assert!(
            readme.contains(&format!("`{}`", vendor.real_host)),
            "README.md: the sentence on Host routing must name `{}` ({})",
            vendor.real_host,
            vendor.name
        );
    }
}

#[test]
fn the_ci_examples_alias_every_registered_vendor_s_real_host() {
    let compose = repo_file("examples/ci/docker-compose.yml");
    let gitlab = repo_file("examples/ci/gitlab-ci.yml");
    let gitlab_aliases: Vec<&str> = gitlab
        .lines()
        .filter_map(|l| l.trim().strip_prefix("alias:"))
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .collect();
    for vendor in shipped_vendors() {
        assert!(
            compose
                .lines()
                .any(|l| l.trim() == format!("- {}", vendor.real_host)),
            "examples/ci/docker-compose.yml: the network aliases must include {} ({})",
            vendor.real_host,
            vendor.name
        );
        assert!(
            gitlab_aliases.contains(&vendor.real_host),
            "examples/ci/gitlab-ci.yml: the service alias must include {} ({})",
            vendor.real_host,
            vendor.name
        );
    }
}

#[test]
fn the_dashboard_s_column_table_names_only_registered_vendors() {
    // A vendor without a row gets generic columns; a row for a vendor that
    // is gone is dead weight.
    let page = repo_file("src/admin/ui.html");
    let start = page.find("var IDENTITY = {").expect("IDENTITY in ui.html");
    let end = start + page[start..].find("\n  };").expect("end of IDENTITY");
    let names = usermock::vendor_names();
    for line in page[start..end].lines().skip(1) {
        let key = line.trim().split(':').next().unwrap_or_default();
        if key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && !key.is_empty()
        {
            assert!(
                names.contains(&key),
                "src/admin/ui.html: IDENTITY has columns for '{key}', which is not a registered vendor"
            );
        }
    }
}

#[test]
fn the_dashboard_takes_the_vendor_list_from_the_server() {
    let page = repo_file("src/admin/ui.html");
    assert!(
        page.contains("S.vendors = (health && health.vendors) || [];"),
        "src/admin/ui.html: the vendor list comes from GET /__admin/health, with no list of its own"
    );
}
