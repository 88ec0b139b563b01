//! The lab's certificates: every certificate a client can meet in the field, minted once
//! at start.
//!
//! - a "public" root and its issuing intermediate, standing in for the public roots
//!   Microsoft's endpoints chain to (healthy endpoints present leaf + intermediate);
//! - a "corporate inspection" root, named like a secure web gateway's, that the machine
//!   trusts but that is not an expected root: what a TLS-intercepting proxy presents;
//! - a "rogue" root that nobody trusts (bad-cert);
//! - an expired leaf and a leaf for another name, both from the public intermediate.
//!
//! ECDSA P-256 keeps generation to a few milliseconds for the whole set.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::LabError;

/// Subject of the lab's public root.
pub const PUBLIC_ROOT_CN: &str = "m365mon Lab Root CA";
/// Subject of the intermediate that signs healthy leaves, named like Microsoft's issuers.
pub const ISSUING_CA_CN: &str = "m365mon Lab TLS Issuing CA 01";
/// Subject of the inspection root, named like a corporate appliance's.
pub const INSPECTION_ROOT_CN: &str = "Contoso SSL Inspection Root CA";
pub const INSPECTION_ROOT_ORG: &str = "Contoso Secure Web Gateway";
/// Subject of the root nobody trusts.
pub const ROGUE_ROOT_CN: &str = "Untrusted Lab Root CA";
/// The name on the wrong-name certificate.
pub const WRONG_NAME: &str = "wrong.lab.invalid";

/// File names inside the lab directory.
pub const PUBLIC_ROOT_FILE: &str = "lab-root-ca.pem";
pub const ISSUING_CA_FILE: &str = "lab-issuing-ca.pem";
pub const INSPECTION_ROOT_FILE: &str = "inspection-root-ca.pem";
pub const ROGUE_ROOT_FILE: &str = "rogue-root-ca.pem";
/// Public root + inspection root: what the lab "machine" trusts (for curl --cacert).
pub const TRUSTED_BUNDLE_FILE: &str = "trusted-roots.pem";
/// Every file the lab writes into its directory.
pub const FILE_NAMES: [&str; 5] = [
    PUBLIC_ROOT_FILE,
    ISSUING_CA_FILE,
    INSPECTION_ROOT_FILE,
    ROGUE_ROOT_FILE,
    TRUSTED_BUNDLE_FILE,
];

const DAY: Duration = Duration::from_secs(86_400);

/// Which certificate a TLS endpoint presents on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsFace {
    Healthy,
    Intercept,
    BadCert,
    Expired,
    WrongName,
}

/// The lab's certificate set and a TLS server configuration per (host, face).
pub struct Pki {
    pub public_root_pem: String,
    pub issuing_ca_pem: String,
    pub inspection_root_pem: String,
    pub rogue_root_pem: String,
    faces: HashMap<String, HostFaces>,
    wrong_name: Arc<ServerConfig>,
}

struct HostFaces {
    healthy: Arc<ServerConfig>,
    intercept: Arc<ServerConfig>,
    bad_cert: Arc<ServerConfig>,
    expired: Arc<ServerConfig>,
}

/// Where the PEM files were written.
#[derive(Debug, Clone)]
pub struct PemFiles {
    pub public_root: PathBuf,
    pub inspection_root: PathBuf,
}

impl Pki {
    /// Mints the CAs and, for every TLS host, one leaf per face.
    pub fn generate(tls_hosts: &[String]) -> Result<Pki, LabError> {
        let public_root = root(PUBLIC_ROOT_CN, "m365mon Lab")?;
        let issuing = {
            let mut params = ca_params(ISSUING_CA_CN, "m365mon Lab");
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            CertifiedIssuer::signed_by(params, KeyPair::generate().map_err(cert_err)?, &public_root)
                .map_err(cert_err)?
        };
        let inspection = root(INSPECTION_ROOT_CN, INSPECTION_ROOT_ORG)?;
        let rogue = root(ROGUE_ROOT_CN, "Unknown Issuer")?;

        let healthy_validity = Validity::around_now(DAY, 90 * DAY);
        let mut faces = HashMap::new();
        for host in tls_hosts {
            let healthy = leaf(host, &issuing, healthy_validity, Some(issuing.der()))?;
            let intercept = leaf(host, &inspection, healthy_validity, None)?;
            let bad_cert = leaf(host, &rogue, healthy_validity, None)?;
            let expired = leaf(
                host,
                &issuing,
                Validity::in_the_past(400 * DAY, 2 * DAY),
                Some(issuing.der()),
            )?;
            faces.insert(
                host.clone(),
                HostFaces {
                    healthy,
                    intercept,
                    bad_cert,
                    expired,
                },
            );
        }
        let wrong_name = leaf(WRONG_NAME, &issuing, healthy_validity, Some(issuing.der()))?;
        Ok(Pki {
            public_root_pem: public_root.pem(),
            issuing_ca_pem: issuing.pem(),
            inspection_root_pem: inspection.pem(),
            rogue_root_pem: rogue.pem(),
            faces,
            wrong_name,
        })
    }

    /// The server configuration presenting `face` for `host`; `None` for a host that has no
    /// TLS listener.
    pub fn server_config(&self, host: &str, face: TlsFace) -> Option<Arc<ServerConfig>> {
        let f = self.faces.get(host)?;
        Some(Arc::clone(match face {
            TlsFace::Healthy => &f.healthy,
            TlsFace::Intercept => &f.intercept,
            TlsFace::BadCert => &f.bad_cert,
            TlsFace::Expired => &f.expired,
            TlsFace::WrongName => &self.wrong_name,
        }))
    }

    /// Writes the CA certificates into `dir` (overwriting the lab's own file names only).
    pub fn write_pems(&self, dir: &Path) -> Result<PemFiles, LabError> {
        let write = |name: &str, text: &str| -> Result<PathBuf, LabError> {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|error| LabError::Write {
                path: path.clone(),
                error,
            })?;
            Ok(path)
        };
        let public_root = write(PUBLIC_ROOT_FILE, &self.public_root_pem)?;
        write(ISSUING_CA_FILE, &self.issuing_ca_pem)?;
        let inspection_root = write(INSPECTION_ROOT_FILE, &self.inspection_root_pem)?;
        write(ROGUE_ROOT_FILE, &self.rogue_root_pem)?;
        write(
            TRUSTED_BUNDLE_FILE,
            &format!("{}{}", self.public_root_pem, self.inspection_root_pem),
        )?;
        Ok(PemFiles {
            public_root,
            inspection_root,
        })
    }
}

/// A validity period in seconds since the Unix epoch. rcgen takes the `time` crate's date
/// type, which this crate does not name; [`Validity::apply`] converts at the last moment.
#[derive(Debug, Clone, Copy)]
struct Validity {
    not_before: u64,
    not_after: u64,
}

impl Validity {
    /// From `before` ago to `after` from now.
    fn around_now(before: Duration, after: Duration) -> Self {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self {
            not_before: now.saturating_sub(before).as_secs(),
            not_after: (now + after).as_secs(),
        }
    }

    /// Ended `ended` ago, after having started `started` ago.
    fn in_the_past(started: Duration, ended: Duration) -> Self {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self {
            not_before: now.saturating_sub(started).as_secs(),
            not_after: now.saturating_sub(ended).as_secs(),
        }
    }

    fn apply(self, params: &mut CertificateParams) {
        let epoch = date_time_ymd(1970, 1, 1);
        params.not_before = epoch + Duration::from_secs(self.not_before);
        params.not_after = epoch + Duration::from_secs(self.not_after);
    }
}

fn cert_err(e: rcgen::Error) -> LabError {
    LabError::Certificates(e.to_string())
}

fn ca_params(cn: &str, org: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, org);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Validity::around_now(30 * DAY, 3650 * DAY).apply(&mut params);
    params
}

fn root(cn: &str, org: &str) -> Result<CertifiedIssuer<'static, KeyPair>, LabError> {
    CertifiedIssuer::self_signed(ca_params(cn, org), KeyPair::generate().map_err(cert_err)?).map_err(cert_err)
}

/// A server certificate for `host` signed by `issuer`, as a ready TLS configuration whose
/// chain is the leaf plus `intermediate` when given.
fn leaf(
    host: &str,
    issuer: &CertifiedIssuer<'static, KeyPair>,
    validity: Validity,
    intermediate: Option<&CertificateDer<'static>>,
) -> Result<Arc<ServerConfig>, LabError> {
    let key = KeyPair::generate().map_err(cert_err)?;
    let mut params = CertificateParams::new(vec![host.to_string()]).map_err(cert_err)?;
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, host);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    validity.apply(&mut params);
    let cert = params.signed_by(&key, issuer).map_err(cert_err)?;
    let mut chain = vec![cert.der().clone()];
    chain.extend(intermediate.cloned());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| LabError::Certificates(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
