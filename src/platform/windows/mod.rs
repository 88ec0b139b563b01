//! Windows facts that need Win32 calls: the registry, Credential Manager, and whether this
//! "Windows" is really Wine.
//!
//! Each file that calls Win32 opts in to `unsafe` on its own and copies what it reads into
//! plain values at once, so the checks above work on ordinary Rust data and are tested
//! with fixtures on every OS. The value types live outside `#[cfg(windows)]` for that
//! reason; only the calls themselves are Windows-only.
//!
//! The checks only read; the opt-in fixes (`src/fix`) write through `registry_write`,
//! `credentials_write`, `winhttp_proxy` and `file_security` (access lists of restored
//! files), always after a verified backup.

pub mod credentials;
pub mod credentials_write;
pub mod elevation;
#[cfg(windows)]
pub mod file_security;
pub mod registry;
pub mod registry_write;
pub mod wine;
pub mod winhttp_proxy;
