//! Windows facts that need Win32 calls: the registry, Credential Manager, and whether this
//! "Windows" is really Wine.
//!
//! Each file that calls Win32 opts in to `unsafe` on its own and copies what it reads into
//! plain values at once, so the checks above work on ordinary Rust data and are tested
//! with fixtures on every OS. The value types live outside `#[cfg(windows)]` for that
//! reason; only the calls themselves are Windows-only.
//!
//! Everything here only reads. The few writers (test helpers that put a credential into
//! Credential Manager) are compiled for tests only.

pub mod credentials;
pub mod credentials_write;
pub mod registry;
pub mod registry_write;
pub mod wine;
pub mod winhttp_proxy;
