//! From check results to what a technician does next.
//!
//! - [`findings`]: every result of a sweep read at once and turned into ranked findings,
//!   root causes before symptoms;
//! - [`remediation`]: the entries a finding (or a failing check) points at — steps,
//!   commands, the Microsoft page each draws on;
//! - [`explain`]: a bare sign-in or activation error code turned into what it means and
//!   which entry applies (`m365mon explain`, the TUI's `:`).
//!
//! Plain functions of [`crate::model`] values: no I/O, no terminal.

pub mod explain;
pub mod findings;
pub mod remediation;
