//! Helpers shared by the integration tests. Every `tests/*.rs` file is a crate of its own
//! and takes these in with `mod support;`.

// Each test crate compiles the whole module but uses only its own part of it; what one
// crate leaves unused is used by another, so it is not dead code.
#![allow(dead_code)]

pub mod bin;
pub mod files;
pub mod http;
pub mod lab;
pub mod netns;
pub mod report;
pub mod results;
pub mod serve;
pub mod served;
pub mod skip;
pub mod tmux;
