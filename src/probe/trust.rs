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

use crate::error::InputError;
use crate::lab::LabState;

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
        })
    }

    /// Trust for monitoring a lab: its public root (expected) and its inspection root
    /// (trusted, not expected). The system store is left out so results do not depend on
    /// the machine.
    pub fn lab(state: &LabState) -> Result<Self, InputError> {
        let mut roots = RootCertStore::empty();
        add_pem_file(&mut roots, &state.ca_cert)?;
        let expected = first_cert_name(&state.ca_cert)?;
        if let Some(inspection) = &state.inspection_ca_cert {
            add_pem_file(&mut roots, inspection)?;
        }
        Ok(Self {
            roots: Arc::new(roots),
            expected_roots: vec![expected.clone()],
            description: format!("lab roots (expected: {expected})"),
            provider: provider(),
        })
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
