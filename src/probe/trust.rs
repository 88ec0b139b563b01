//! Which certificate roots the probes trust, and which roots Microsoft 365 is expected to
//! chain to.
//!
//! The two lists differ on purpose. A TLS-inspecting proxy works by installing its own
//! root on the machine, so its chains are *trusted*; what gives it away is that they end
//! in a root that Microsoft 365 does not use. In lab mode the lab's own root plays the
//! part of Microsoft's roots, and its "inspection appliance" root is trusted the way a
//! corporate root would be.
//!
//! Roots are recognised by identity, never by name: the SHA-256 of the certificate or of
//! its public key (SPKI, so a root re-issued with the same key still matches). Anyone can
//! make a root called "DigiCert Global Root G2"; only DigiCert holds its key.
//!
//! "Public root" means a root of Mozilla's CA programme as shipped in `webpki-roots` (the
//! list Debian's `ca-certificates` and most Linux distributions ship too), not the
//! machine's store: on a managed machine the machine's store is exactly where the
//! inspection root is installed, so it cannot tell a public root from a corporate one.

use rustls::crypto::CryptoProvider;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::model::error::InputError;

/// One root by identity: its name (for people) and its fingerprints (for matching).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootId {
    pub name: &'static str,
    /// SHA-256 of the certificate (DER), lower-case hex.
    pub cert_sha256: &'static str,
    /// SHA-256 of the SubjectPublicKeyInfo (DER), lower-case hex.
    pub spki_sha256: &'static str,
}

/// Where [`MICROSOFT_ROOTS`] comes from: the root CA table of Microsoft's "Azure
/// Certificate Authority details" page (which lists SHA-1 thumbprints); the SHA-256
/// values were computed from the same certificates in Debian's `ca-certificates`
/// (`/usr/share/ca-certificates/mozilla/`), whose SHA-1 match the page's.
pub const MICROSOFT_ROOTS_SOURCE: &str =
    "https://learn.microsoft.com/azure/security/fundamentals/azure-certificate-authority-details";

/// The roots Microsoft 365 and Entra ID endpoints chain to (see [`MICROSOFT_ROOTS_SOURCE`]).
/// Baltimore CyberTrust Root expired in May 2025 and is deliberately absent.
///
/// One list for every cloud: the source gives no separate list for GCC High, DoD or
/// 21Vianet (China), so none is invented here.
pub const MICROSOFT_ROOTS: &[RootId] = &[
    RootId {
        name: "DigiCert Global Root CA",
        cert_sha256: "4348a0e9444c78cb265e058d5e8944b4d84f9662bd26db257f8934a443c70161",
        spki_sha256: "aff988906dde12955d9bebbf928fdcc31cce328d5b9384f21c8941ca26e20391",
    },
    RootId {
        name: "DigiCert Global Root G2",
        cert_sha256: "cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f",
        spki_sha256: "8bb593a93be1d0e8a822bb887c547890c3e706aad2dab76254f97fb36b82fc26",
    },
    RootId {
        name: "DigiCert Global Root G3",
        cert_sha256: "31ad6648f8104138c738f39ea4320133393e3a18cc02296ef97c2ac9ef6731d0",
        spki_sha256: "b94c198300cec5c057ad0727b70bbe91816992256439a7b32f4598119dda9c97",
    },
    RootId {
        name: "DigiCert TLS ECC P384 Root G5",
        cert_sha256: "018e13f0772532cf809bd1b17281867283fc48c6e13be9c69812854a490c1b05",
        spki_sha256: "a02fafa192c8cb81cb1341554f9c05b71cca2a890b0d1298d683647c961efbdf",
    },
    RootId {
        name: "DigiCert TLS RSA4096 Root G5",
        cert_sha256: "371a00dc0533b3721a7eeb40e8419e70799d2b0a0f2c1d80693165f7cec4ad75",
        spki_sha256: "6a97b51c8219e93e5dec64bad5806cdeb0f8355be47e757010b702456e01aafd",
    },
    RootId {
        name: "Microsoft ECC Root Certificate Authority 2017",
        cert_sha256: "358df39d764af9e1b766e9c972df352ee15cfac227af6ad1d70e8e4a6edcba02",
        spki_sha256: "35f53ce1264611e03340fe37e1ec7d4cc986c5613dca70fd04aa44545f2daf28",
    },
    RootId {
        name: "Microsoft RSA Root Certificate Authority 2017",
        cert_sha256: "c741f70f4b2a8d88bf2e71c14122ef53ef10eba0cfa5e64cfa20f418853073e0",
        spki_sha256: "b2f7298b52bf2c3cac4ddfe72de4d682ac58957595982f2b62301af597c699c5",
    },
];

/// A root a healthy chain ends in, by identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedRoot {
    pub name: String,
    pub cert_sha256: String,
    pub spki_sha256: String,
}

impl From<&RootId> for ExpectedRoot {
    fn from(r: &RootId) -> Self {
        Self {
            name: r.name.into(),
            cert_sha256: r.cert_sha256.into(),
            spki_sha256: r.spki_sha256.into(),
        }
    }
}

/// A root in the store the probes trust, kept whole so a verified chain can be traced to
/// the very root that anchors it.
#[derive(Debug, Clone)]
pub struct KnownRoot {
    pub name: String,
    pub cert_sha256: String,
    pub spki_sha256: String,
    /// Raw DER of the subject name, to match a chain's top issuer byte for byte.
    subject: Vec<u8>,
    der: CertificateDer<'static>,
}

impl KnownRoot {
    /// Reads what identifies a root; `None` when the certificate does not parse.
    pub fn from_der(der: CertificateDer<'static>) -> Option<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
        let name = cert_name(cert.subject());
        let subject = cert.subject().as_raw().to_vec();
        let spki_sha256 = sha256_hex(cert.public_key().raw);
        let cert_sha256 = sha256_hex(der.as_ref());
        Some(Self {
            name,
            cert_sha256,
            spki_sha256,
            subject,
            der,
        })
    }
}

/// What the root a verified chain ends in means for Microsoft 365.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootVerdict {
    /// One of the expected roots, by fingerprint.
    Microsoft { name: String },
    /// Carries an expected root's name, but another key: someone made a look-alike.
    Impostor { name: String },
    /// A root that is not public (installed on this machine): something decrypts the traffic.
    Interception { name: String },
    /// Another public root: unexpected, but not necessarily inspection.
    UnexpectedPublic { name: String },
}

/// SHA-256 as lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The SPKI fingerprints of the public roots (`webpki-roots`), computed once.
fn public_spkis() -> &'static std::collections::HashSet<String> {
    static SET: OnceLock<std::collections::HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|a| sha256_hex(&der_sequence(&a.subject_public_key_info)))
            .collect()
    })
}

/// How many public roots the classification knows (for `m365mon trust`).
pub fn public_root_count() -> usize {
    webpki_roots::TLS_SERVER_ROOTS.len()
}

/// Whether a root's key is one of the public roots'.
pub fn is_public(spki_sha256: &str) -> bool {
    public_spkis().contains(spki_sha256)
}

/// Puts the outer SEQUENCE back on DER contents (trust anchors keep the SPKI without it).
fn der_sequence(contents: &[u8]) -> Vec<u8> {
    let n = contents.len();
    let mut out = vec![0x30];
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(contents);
    out
}

fn cert_name(n: &x509_parser::x509::X509Name<'_>) -> String {
    n.iter_common_name()
        .next()
        .or_else(|| n.iter_organization().next())
        .and_then(|a| a.as_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| n.to_string())
}

/// Classifies a root against the expected roots: by fingerprint first, then by name (a
/// look-alike), then public or not.
pub fn classify_root(
    expected: &[ExpectedRoot],
    name: &str,
    cert_sha256: &str,
    spki_sha256: &str,
) -> RootVerdict {
    if let Some(e) = expected
        .iter()
        .find(|e| e.cert_sha256 == cert_sha256 || e.spki_sha256 == spki_sha256)
    {
        return RootVerdict::Microsoft { name: e.name.clone() };
    }
    let name = name.to_string();
    if expected.iter().any(|e| e.name.eq_ignore_ascii_case(&name)) {
        RootVerdict::Impostor { name }
    } else if is_public(spki_sha256) {
        RootVerdict::UnexpectedPublic { name }
    } else {
        RootVerdict::Interception { name }
    }
}

/// Trust settings shared by every probe of a sweep.
#[derive(Debug, Clone)]
pub struct Trust {
    pub roots: Arc<RootCertStore>,
    /// The roots a healthy chain ends in, by fingerprint.
    pub expected_roots: Vec<ExpectedRoot>,
    /// Every root in `roots`, whole, to find which one anchors a verified chain.
    pub anchors: Arc<Vec<KnownRoot>>,
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
        let mut anchors = Vec::new();
        let native = rustls_native_certs::load_native_certs();
        anchors.extend(native.certs.iter().cloned().filter_map(KnownRoot::from_der));
        let (added, _ignored) = roots.add_parsable_certificates(native.certs);
        let mut description = format!("system store ({added} roots)");
        for path in extra_pem_files {
            let n = add_pem_file(&mut roots, &mut anchors, path)?;
            description.push_str(&format!(" + {} from {}", n, path.display()));
        }
        Ok(Self {
            roots: Arc::new(roots),
            expected_roots: MICROSOFT_ROOTS.iter().map(ExpectedRoot::from).collect(),
            anchors: Arc::new(anchors),
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
        let mut anchors = Vec::new();
        add_pem_file(&mut roots, &mut anchors, ca_cert)?;
        let expected = first_cert(ca_cert)?;
        if let Some(inspection) = inspection_ca_cert {
            add_pem_file(&mut roots, &mut anchors, inspection)?;
        }
        Ok(Self {
            roots: Arc::new(roots),
            description: format!("lab roots (expected: {})", expected.name),
            expected_roots: vec![ExpectedRoot {
                name: expected.name,
                cert_sha256: expected.cert_sha256,
                spki_sha256: expected.spki_sha256,
            }],
            anchors: Arc::new(anchors),
            provider: provider(),
            verified: Arc::default(),
        })
    }

    /// Trust in exactly `roots`, expecting the ones also in `expected` (for tests and
    /// tools that bring their own CA).
    pub fn custom(
        roots: Vec<CertificateDer<'static>>,
        expected: &[CertificateDer<'static>],
        description: impl Into<String>,
    ) -> Self {
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(roots.iter().cloned());
        let expected_roots = expected
            .iter()
            .filter_map(|c| KnownRoot::from_der(c.clone()))
            .map(|k| ExpectedRoot {
                name: k.name,
                cert_sha256: k.cert_sha256,
                spki_sha256: k.spki_sha256,
            })
            .collect();
        Self {
            roots: Arc::new(store),
            expected_roots,
            anchors: Arc::new(roots.into_iter().filter_map(KnownRoot::from_der).collect()),
            description: description.into(),
            provider: provider(),
            verified: Arc::default(),
        }
    }

    /// Also trusts the roots in `files` (`--ca-file`), as [`Trust::system`] does; they are
    /// trusted, not expected. In lab mode they sit beside the lab's inspection root.
    pub fn add_pem_files(&mut self, files: &[&Path]) -> Result<(), InputError> {
        if files.is_empty() {
            return Ok(());
        }
        let mut roots = (*self.roots).clone();
        let mut anchors = (*self.anchors).clone();
        for path in files {
            let n = add_pem_file(&mut roots, &mut anchors, path)?;
            self.description
                .push_str(&format!(" + {} from {}", n, path.display()));
        }
        self.roots = Arc::new(roots);
        self.anchors = Arc::new(anchors);
        self.verified = Arc::default();
        Ok(())
    }

    /// Reads and checks `--ca-file` PEM files without keeping them, so a missing or
    /// unusable file is an error before anything starts, whatever the mode.
    pub fn check_pem_files(files: &[&Path]) -> Result<(), InputError> {
        let mut scratch = RootCertStore::empty();
        let mut anchors = Vec::new();
        files
            .iter()
            .try_for_each(|path| add_pem_file(&mut scratch, &mut anchors, path).map(drop))
    }

    /// The root in this trust's store that anchors a chain the handshake verified
    /// (leaf first, as presented). Walks up from the leaf as the verifier does, which
    /// looks for a trusted root before another presented certificate at each step: the
    /// first certificate whose issuer is a root in the store, matched byte for byte by
    /// name, gives the anchor. So extra certificates a server sends above that point
    /// (cross-signatures, an expired old root) do not change the answer. When two roots
    /// share that name (a look-alike installed beside the real one), the one whose key
    /// verifies the certificate's signature.
    pub fn anchor_of(&self, chain: &[CertificateDer<'_>]) -> Option<&KnownRoot> {
        chain.iter().find_map(|der| self.issuer_in_store(der))
    }

    /// The root in the store that signed `der`, if any.
    fn issuer_in_store(&self, der: &CertificateDer<'_>) -> Option<&KnownRoot> {
        let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
        let issuer = cert.issuer().as_raw();
        let candidates: Vec<&KnownRoot> = self.anchors.iter().filter(|a| a.subject == issuer).collect();
        match candidates.as_slice() {
            [] => None,
            [only] => Some(*only),
            several => several.iter().copied().find(|a| {
                x509_parser::parse_x509_certificate(a.der.as_ref())
                    .is_ok_and(|(_, root)| cert.verify_signature(Some(root.public_key())).is_ok())
            }),
        }
    }

    /// What the root a verified chain ends in means: Microsoft's, a look-alike, a local
    /// (inspection) root or another public CA. `None` when the root is not in the store.
    pub fn verdict(&self, chain: &[CertificateDer<'_>]) -> Option<RootVerdict> {
        let root = self.anchor_of(chain)?;
        self.verdict_of_root(&root.cert_sha256)
    }

    /// [`Trust::verdict`] for the root a handshake recorded (`TlsInfo::root_sha256`).
    pub fn verdict_of_root(&self, cert_sha256: &str) -> Option<RootVerdict> {
        let root = self.anchors.iter().find(|a| a.cert_sha256 == cert_sha256)?;
        Some(classify_root(
            &self.expected_roots,
            &root.name,
            &root.cert_sha256,
            &root.spki_sha256,
        ))
    }
}

/// What `m365mon trust` shows: the roots Microsoft 365 chains to and the store in use.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrustReport {
    pub microsoft_roots: Vec<RootRow>,
    /// Where the list of Microsoft roots comes from.
    pub source: &'static str,
    pub store: StoreRow,
}

/// One expected root, and whether the store in use has it (by fingerprint).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RootRow {
    pub name: String,
    pub sha256: String,
    pub spki_sha256: String,
    pub in_store: bool,
}

/// The store the probes trust.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoreRow {
    /// Where the roots come from ("system store (146 roots) + 1 from corp.pem").
    pub description: String,
    pub roots: usize,
    /// How many public roots tell "another public CA" from a local root (webpki-roots).
    pub public_roots: usize,
}

impl Trust {
    /// The roots in effect, for `m365mon trust`.
    pub fn report(&self) -> TrustReport {
        let microsoft_roots = self
            .expected_roots
            .iter()
            .map(|e| RootRow {
                name: e.name.clone(),
                sha256: e.cert_sha256.clone(),
                spki_sha256: e.spki_sha256.clone(),
                in_store: self
                    .anchors
                    .iter()
                    .any(|a| a.cert_sha256 == e.cert_sha256 || a.spki_sha256 == e.spki_sha256),
            })
            .collect();
        TrustReport {
            microsoft_roots,
            source: MICROSOFT_ROOTS_SOURCE,
            store: StoreRow {
                description: self.description.clone(),
                roots: self.roots.len(),
                public_roots: public_root_count(),
            },
        }
    }
}

impl TrustReport {
    /// The report as text: one line per Microsoft root, then the store.
    pub fn text(&self) -> String {
        let mut out =
            String::from("Microsoft 365 roots (matched by SHA-256 of the certificate or its key):\n");
        for r in &self.microsoft_roots {
            let mark = if r.in_store { "in store" } else { "NOT in store" };
            out.push_str(&format!("  {:<46} {}  {mark}\n", r.name, r.sha256));
        }
        out.push_str(&format!("  source: {}\n\n", self.source));
        out.push_str(&format!(
            "Trusted store in use: {}; {} roots in all\n",
            self.store.description, self.store.roots
        ));
        out.push_str(&format!(
            "Public roots known (Mozilla, webpki-roots): {}; a chain to any other trusted root is treated as \
             a locally installed (inspection) root\n",
            self.store.public_roots
        ));
        out
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

fn add_pem_file(
    roots: &mut RootCertStore,
    anchors: &mut Vec<KnownRoot>,
    path: &Path,
) -> Result<usize, InputError> {
    let certs = read_pem_certs(path)?;
    let n = certs.len();
    for c in certs {
        anchors.extend(KnownRoot::from_der(c.clone()));
        roots
            .add(c)
            .map_err(|e| InputError::file(path, format!("unusable root certificate: {e}")))?;
    }
    Ok(n)
}

fn first_cert(path: &Path) -> Result<KnownRoot, InputError> {
    let certs = read_pem_certs(path)?;
    KnownRoot::from_der(certs[0].clone())
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
