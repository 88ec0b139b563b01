//! Which certificate roots the probes trust, and which roots Microsoft 365 is expected to
//! chain to.
//!
//! The two lists differ on purpose. A TLS-inspecting proxy works by installing its own
//! root on the machine, so its chains are *trusted*; what gives it away is that they end
//! in a root that Microsoft 365 does not use. In lab mode the lab's own root plays the
//! part of Microsoft's roots, and its "inspection appliance" root is trusted the way a
//! corporate root would be.

use rustls::crypto::CryptoProvider;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::Path;
use std::sync::Arc;

use crate::model::error::InputError;

/// Roots Microsoft 365 endpoints chain to ("Microsoft 365 encryption chains",
/// <https://learn.microsoft.com/purview/microsoft-365-encryption-chains>). Baltimore
/// CyberTrust Root expired in May 2025 and is deliberately absent.
pub const MICROSOFT_ROOTS: &[&str] = &[
    "DigiCert Global Root G2",
    "DigiCert Global Root CA",
    "Microsoft RSA Root Certificate Authority 2017",
    "Microsoft ECC Root Certificate Authority 2017",
];

/// Trust settings shared by every probe of a sweep.
#[derive(Debug, Clone)]
pub struct Trust {
    pub roots: Arc<RootCertStore>,
    /// Names (CN) of the roots a healthy chain ends in.
    pub expected_roots: Vec<String>,
    /// Where the roots came from, for the detail view ("system store (142 roots)").
    pub description: String,
    pub provider: Arc<CryptoProvider>,
    /// Chains this trust has verified lately (see [`VerifiedChains`]).
    pub verified: Arc<VerifiedChains>,
}

/// Chains verified in the last [`VerifiedChains::TTL`], so the same chain from the same
/// host is not checked again at every sweep.
///
/// Chain verification (signature checks up to a root) was the largest single cost of a
/// steady-state sweep (profiled: P-256 arithmetic led). The handshake itself still runs in
/// full every sweep — key exchange, the server's signature over this handshake, the
/// presented chain captured and compared — so interception or a new certificate shows at
/// once: the key is the exact chain bytes and the host name. Only successes are kept;
/// a failing chain is verified again each time, for an exact error.
#[derive(Debug, Default)]
pub struct VerifiedChains {
    entries: std::sync::Mutex<std::collections::HashMap<u64, std::time::Instant>>,
}

impl VerifiedChains {
    /// How long a verification is reused: short enough that expiry cannot go unseen for
    /// long, long enough to cover many sweeps at the default 5 s interval.
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(60);
    const MAX: usize = 1024;

    /// The key of a chain presented by `host`.
    pub fn key(host: &str, chain: &[&[u8]]) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        host.hash(&mut h);
        for c in chain {
            c.hash(&mut h);
        }
        h.finish()
    }

    pub fn recently_verified(&self, key: u64) -> bool {
        let Ok(map) = self.entries.lock() else {
            return false;
        };
        map.get(&key).is_some_and(|at| at.elapsed() < Self::TTL)
    }

    pub fn remember(&self, key: u64) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= Self::MAX {
                map.retain(|_, at| at.elapsed() < Self::TTL);
                if map.len() >= Self::MAX {
                    map.clear();
                }
            }
            map.insert(key, std::time::Instant::now());
        }
    }
}

/// The crypto provider used everywhere (ring), chosen explicitly so nothing depends on a
/// process-wide default.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Trust {
    /// The machine's trust store plus any extra roots (PEM files).
    pub fn system(extra_pem_files: &[&Path]) -> Result<Self, InputError> {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let (added, _ignored) = roots.add_parsable_certificates(native.certs);
        let mut description = format!("system store ({added} roots)");
        for path in extra_pem_files {
            let n = add_pem_file(&mut roots, path)?;
            description.push_str(&format!(" + {} from {}", n, path.display()));
        }
        Ok(Self {
            roots: Arc::new(roots),
            expected_roots: MICROSOFT_ROOTS.iter().map(|s| s.to_string()).collect(),
            description,
            provider: provider(),
            verified: Arc::default(),
        })
    }

    /// Trust for monitoring a lab: its public root `ca_cert` (expected) and its
    /// inspection root (trusted, not expected). The system store is left out so results
    /// do not depend on the machine.
    pub fn lab(ca_cert: &Path, inspection_ca_cert: Option<&Path>) -> Result<Self, InputError> {
        let mut roots = RootCertStore::empty();
        add_pem_file(&mut roots, ca_cert)?;
        let expected = first_cert_name(ca_cert)?;
        if let Some(inspection) = inspection_ca_cert {
            add_pem_file(&mut roots, inspection)?;
        }
        Ok(Self {
            roots: Arc::new(roots),
            expected_roots: vec![expected.clone()],
            description: format!("lab roots (expected: {expected})"),
            provider: provider(),
            verified: Arc::default(),
        })
    }

    /// Also trusts the roots in `files` (`--ca-file`), as [`Trust::system`] does; they are
    /// trusted, not expected. In lab mode they sit beside the lab's inspection root.
    pub fn add_pem_files(&mut self, files: &[&Path]) -> Result<(), InputError> {
        if files.is_empty() {
            return Ok(());
        }
        let mut roots = (*self.roots).clone();
        for path in files {
            let n = add_pem_file(&mut roots, path)?;
            self.description
                .push_str(&format!(" + {} from {}", n, path.display()));
        }
        self.roots = Arc::new(roots);
        self.verified = Arc::default();
        Ok(())
    }

    /// Reads and checks `--ca-file` PEM files without keeping them, so a missing or
    /// unusable file is an error before anything starts, whatever the mode.
    pub fn check_pem_files(files: &[&Path]) -> Result<(), InputError> {
        let mut scratch = RootCertStore::empty();
        files
            .iter()
            .try_for_each(|path| add_pem_file(&mut scratch, path).map(drop))
    }

    /// Whether a root name is one of the expected ones.
    pub fn is_expected_root(&self, name: &str) -> bool {
        self.expected_roots.iter().any(|r| r.eq_ignore_ascii_case(name))
    }
}

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, InputError> {
    let data = std::fs::read(path)
        .map_err(|e| InputError::file(path, format!("cannot read certificate file: {e}")))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<_, _>>()
        .map_err(|e| InputError::file(path, format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(InputError::file(path, "no certificate in the file"));
    }
    Ok(certs)
}

fn add_pem_file(roots: &mut RootCertStore, path: &Path) -> Result<usize, InputError> {
    let certs = read_pem_certs(path)?;
    let n = certs.len();
    for c in certs {
        roots
            .add(c)
            .map_err(|e| InputError::file(path, format!("unusable root certificate: {e}")))?;
    }
    Ok(n)
}

fn first_cert_name(path: &Path) -> Result<String, InputError> {
    let certs = read_pem_certs(path)?;
    super::tls::describe(&certs[0])
        .map(|c| c.subject)
        .ok_or_else(|| InputError::file(path, "cannot parse the certificate"))
}

#[cfg(test)]
mod verified_chain_tests {
    use super::VerifiedChains;

    #[test]
    fn a_chain_is_reused_only_for_the_same_host_and_the_same_bytes() {
        let v = VerifiedChains::default();
        let leaf: &[u8] = b"leaf";
        let ca: &[u8] = b"intermediate";
        let key = VerifiedChains::key("login.microsoftonline.com", &[leaf, ca]);
        assert!(!v.recently_verified(key));
        v.remember(key);
        assert!(v.recently_verified(key));
        // Another host, another chain (an inspecting proxy's), or one byte changed: new keys.
        assert!(!v.recently_verified(VerifiedChains::key("login.microsoft.com", &[leaf, ca])));
        assert!(!v.recently_verified(VerifiedChains::key(
            "login.microsoftonline.com",
            &[leaf, b"proxy ca"]
        )));
        assert!(!v.recently_verified(VerifiedChains::key("login.microsoftonline.com", &[b"leag", ca])));
        assert!(!v.recently_verified(VerifiedChains::key("login.microsoftonline.com", &[leaf])));
    }
}
