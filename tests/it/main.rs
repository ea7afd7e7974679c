//! The integration tests: one crate, a module per vendor and area, sharing
//! one harness (`common`) and the vendors' typed helpers. One test binary
//! to link, so an edit to one vendor relinks once, not twenty times.
//! Run one area with `cargo test --test it relesys::`.
//!
//! A vendor's own test module may also live in `tests/it/vendors/<name>.rs`:
//! `build.rs` compiles every file there in (see below), so adding one needs
//! no line here.

mod activity;
mod activity_departments;
mod activity_lists;
mod activity_sources;
mod activity_support;
mod admin;
mod admin_bounds;
mod admin_docs;
mod admin_users;
mod awork;
mod awork_conformance;
mod awork_filters;
mod awork_invitations;
mod awork_routes;
mod awork_support;
mod binary;
mod check;
mod clients;
mod common;
mod conform;
mod control;
mod dashboard;
mod fuzz;
mod healthcheck;
mod limits;
mod mock_server;
mod notes;
mod races;
mod registry;
mod release;
mod relesys;
mod relesys_lists;
mod relesys_organisation;
mod replay;
mod replay_companies;
mod replay_invite_user;
mod replay_lifecycle;
mod replay_scenarios;
mod replay_sources;
mod replay_support;
mod replay_teams;
mod robustness;
mod rust_api;
mod scenario_docs;
mod scenarios;
mod snapshot_restore;
mod snapshots;
mod store_limits;
mod websafety;

// The modules of `tests/it/vendors/`, and `vendor_module_scenarios()`.
include!(concat!(env!("OUT_DIR"), "/vendor_test_modules.rs"));
