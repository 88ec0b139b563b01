//! m365mon: a live monitor that shows why Microsoft 365 Apps cannot sign in or activate.
//!
//! The crate is an engine (catalog, probes, checks, findings, remediation, scheduler) and
//! several consumers of its snapshots (the terminal monitor, `check`, reports). The engine
//! never touches the terminal; the terminal code never touches the network.

#![deny(unsafe_code)]
// `unsafe` is allowed only in src/platform/ (Windows FFI, the PAC worker's rlimit), each file opting in with
// `#![allow(unsafe_code)]`.

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod diagnosis;
pub mod engine;
pub mod fix;
pub mod http;
pub mod lab;
pub mod model;
pub mod platform;
pub mod probe;
pub mod remote;
pub mod report;
pub mod route;
pub mod serve;
pub mod tui;

/// Version string with the build's commit, when known (set by build.rs).
pub fn version() -> &'static str {
    env!("M365MON_VERSION")
}

/// What `--version` prints: the version, the commit ("unknown commit" when built from a
/// tarball without `.git`) and the target, e.g. `0.1.0 (commit 261ff7c109,
/// x86_64-unknown-linux-musl)` — which of the downloads a technician carried matters.
pub fn long_version() -> &'static str {
    env!("M365MON_LONG_VERSION")
}

/// `print!` for command output: a closed pipe (`m365mon remediation list | head`) ends the
/// output quietly instead of panicking as `print!` does. Other write errors are ignored
/// the same way: there is nowhere left to report them.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::write!(::std::io::stdout().lock(), $($arg)*);
    }};
}

/// `println!` for command output; see [`out!`].
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stdout().lock(), $($arg)*);
    }};
}
