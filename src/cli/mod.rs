//! Binary-only helpers: the HTTP client that `healthcheck` and `push` share,
//! `usermock push`, and the state file that tells `healthcheck` where the
//! server listens.

pub mod client;
pub mod push;
pub mod state;
