//! Release readiness: what the release workflow would publish exists, the
//! image follows the release, CI never lends a local build the public name,
//! and the examples pin a tag the release creates.

use crate::common::repo_file;
use std::path::Path;

fn version() -> String {
    let manifest = repo_file("Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.starts_with("version = "))
        .expect("a version line");
    line.trim_start_matches("version = ")
        .trim_matches('"')
        .to_owned()
}

/// The lines of one top-level job of a workflow (`  name:` up to the next).
fn job<'a>(workflow: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("  {name}:");
    workflow
        .lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with("    ") || l.starts_with("   #"))
        .collect()
}

#[test]
fn the_changelog_has_a_section_for_the_version_the_release_workflow_publishes() {
    let version = version();
    let changelog = repo_file("CHANGELOG.md");
    let heading = format!("## [{version}]");
    let sections = changelog
        .lines()
        .filter(|l| l.starts_with(&heading))
        .count();
    assert_eq!(
        sections, 1,
        "CHANGELOG.md needs exactly one `{heading}` section: release.yml publishes it as the notes"
    );
    // Entries under [Unreleased] would never be published by a tag of the
    // version Cargo.toml names.
    let unreleased: Vec<&str> = changelog
        .lines()
        .skip_while(|l| !l.starts_with("## [Unreleased]"))
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("- "))
        .collect();
    assert!(
        unreleased.is_empty(),
        "CHANGELOG.md has [Unreleased] entries that a v{version} tag would not publish: {unreleased:?}"
    );
}

#[test]
fn the_image_job_waits_for_the_release_job() {
    let release = repo_file(".github/workflows/release.yml");
    let image = job(&release, "image");
    assert!(!image.is_empty(), "release.yml has an `image` job");
    assert!(
        image
            .iter()
            .any(|l| l.trim() == "needs: release" || l.trim().starts_with("needs: [release")),
        "the image job must need the release job: {image:#?}"
    );
}

#[test]
fn ci_never_tags_a_local_build_with_the_public_image_name() {
    let ci = repo_file(".github/workflows/ci.yml");
    for line in job(&ci, "container") {
        let tag_line =
            line.trim_start().starts_with("tags:") || line.trim_start().starts_with("ghcr.io");
        assert!(
            !(tag_line && line.contains("ghcr.io/usermock/usermock")),
            "ci.yml tags a local build as the public image: {line}"
        );
    }
}

#[test]
fn the_compose_example_says_the_command_ci_runs() {
    let ci = repo_file(".github/workflows/ci.yml");
    let command = ci
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("run: docker compose "))
        .map(|rest| format!("docker compose {rest}"))
        .expect("ci.yml runs the compose example");
    let compose = repo_file("examples/ci/docker-compose.yml");
    assert!(
        compose
            .lines()
            .any(|l| l.trim_start_matches('#').trim() == command),
        "examples/ci/docker-compose.yml's comment should show `{command}`"
    );
}

#[test]
fn examples_pin_an_image_tag_the_release_workflow_creates() {
    let version = version();
    let minor = version.rsplit_once('.').expect("X.Y.Z").0.to_owned();
    let created = ["latest".to_owned(), minor, version.clone()];
    let release = repo_file(".github/workflows/release.yml");
    for pattern in [
        "type=semver,pattern={{version}}",
        "type=semver,pattern={{major}}.{{minor}}",
        "type=raw,value=latest",
    ] {
        assert!(release.contains(pattern), "release.yml tags with {pattern}");
    }
    let files = [
        "README.md",
        "examples/ci/github-actions.yml",
        "examples/ci/gitlab-ci.yml",
        "examples/ci/docker-compose.yml",
        "examples/ci/README.md",
        "docs/conformance.md",
        "clients/jvm/UsermockContainer.java",
        "clients/jvm/README.md",
        "clients/go/usermock_test.go",
        "clients/go/README.md",
    ];
    let mut seen = 0;
    for file in files {
        let Ok(text) = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        else {
            continue;
        };
        for (at, _) in text.match_indices("ghcr.io/usermock/usermock:") {
            let tag: String = text[at + "ghcr.io/usermock/usermock:".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                .collect();
            if tag.is_empty() || tag.starts_with("X.Y") || tag == "TAG" {
                continue;
            }
            seen += 1;
            assert!(
                created.contains(&tag),
                "{file} pins ghcr.io/usermock/usermock:{tag}; the release creates {created:?}"
            );
        }
    }
    let testcontainers = repo_file("examples/ci/testcontainers/tests/usermock.rs");
    let tag = testcontainers
        .lines()
        .find_map(|l| l.strip_prefix("const TAG: &str = \""))
        .map(|rest| rest.trim_end_matches("\";").to_owned())
        .expect("the Testcontainers example names its tag");
    assert!(created.contains(&tag), "testcontainers pins {tag}");
    assert!(seen > 0, "the examples name the image with a tag");
}
