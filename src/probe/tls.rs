//! The `tls` stage: a handshake with the endpoint, recording what was negotiated and the
//! chain that was presented, whether or not it verified.
//!
//! The presented chain is captured by wrapping the standard WebPKI verifier, so even a
//! rejected certificate can be named in the result ("certificate issued by Contoso SSL
//! Inspection Root CA"): that name is what tells a technician where to look.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::trust::Trust;
use super::StageFailure;
use crate::model::{Cause, CertSummary, StageName, TlsInfo};

/// Which TLS versions a handshake may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versions {
    /// TLS 1.2 and 1.3, as Office does.
    Modern,
    /// TLS 1.2 only: proves TLS 1.2 works end to end.
    Tls12Only,
}

/// Wraps the WebPKI verifier to keep a copy of the presented chain.
#[derive(Debug)]
struct CapturingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Vec<CertificateDer<'static>>>,
    verified: Arc<crate::probe::trust::VerifiedChains>,
}

impl ServerCertVerifier for CapturingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.clear();
            seen.push(end_entity.clone().into_owned());
            seen.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        }
        let chain: Vec<&[u8]> = std::iter::once(end_entity.as_ref())
            .chain(intermediates.iter().map(|c| c.as_ref()))
            .collect();
        let key = crate::probe::trust::VerifiedChains::key(&server_name.to_str(), &chain);
        if self.verified.recently_verified(key) {
            return Ok(ServerCertVerified::assertion());
        }
        let verdict =
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)?;
        self.verified.remember(key);
        Ok(verdict)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Performs the handshake on an open connection.
pub async fn handshake(
    tcp: TcpStream,
    host: &str,
    trust: &Trust,
    versions: Versions,
    timeout: Duration,
) -> Result<(TlsStream<TcpStream>, TlsInfo), StageFailure> {
    let fail = |cause, detail: String, raw: String| {
        StageFailure::new(StageName::Tls, cause, detail)
            .with_raw(raw)
            .with_tls(TlsInfo::default())
    };
    let inner = WebPkiServerVerifier::builder_with_provider(trust.roots.clone(), trust.provider.clone())
        .build()
        .map_err(|e| {
            fail(
                Cause::Other,
                format!("cannot set up certificate verification: {e}"),
                e.to_string(),
            )
        })?;
    let verifier = Arc::new(CapturingVerifier {
        inner,
        seen: Mutex::new(Vec::new()),
        verified: trust.verified.clone(),
    });
    let protocol_versions: &[&rustls::SupportedProtocolVersion] = match versions {
        Versions::Modern => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Versions::Tls12Only => &[&rustls::version::TLS12],
    };
    let config = ClientConfig::builder_with_provider(trust.provider.clone())
        .with_protocol_versions(protocol_versions)
        .map_err(|e| {
            fail(
                Cause::Other,
                format!("TLS configuration error: {e}"),
                e.to_string(),
            )
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| {
        fail(
            Cause::Other,
            format!("{host:?} is not a valid server name"),
            e.to_string(),
        )
    })?;
    let connector = TlsConnector::from(Arc::new(config));
    let result = tokio::time::timeout(timeout, connector.connect(name, tcp)).await;
    let chain = verifier.seen.lock().map(|s| s.clone()).unwrap_or_default();
    let mut info = chain_info(&chain);
    match result {
        Err(_) => Err(StageFailure::new(
            StageName::Tls,
            Cause::TlsTimeout,
            format!("handshake did not finish within {:.1} s", timeout.as_secs_f64()),
        )
        .with_raw("TLS handshake timed out")
        .with_tls(info)),
        Ok(Err(e)) => {
            let (cause, detail) = classify(&e, &info);
            Err(StageFailure::new(StageName::Tls, cause, detail)
                .with_raw(e.to_string())
                .with_tls(info))
        }
        Ok(Ok(stream)) => {
            let (_, conn) = stream.get_ref();
            info.version = conn.protocol_version().map(version_name);
            info.cipher = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()));
            info.root_sha256 = trust.anchor_of(&chain).map(|r| r.cert_sha256.clone());
            Ok((stream, info))
        }
    }
}

fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".into(),
        other => format!("{other:?}"),
    }
}

/// Turns a handshake error into a cause and a plain sentence.
fn classify(e: &std::io::Error, info: &TlsInfo) -> (Cause, String) {
    let issued_by = info
        .chain
        .first()
        .map(|c| format!("certificate issued by {}", c.issuer))
        .unwrap_or_else(|| "certificate".into());
    if let Some(err) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return match err {
            rustls::Error::InvalidCertificate(ce) => match ce {
                CertificateError::UnknownIssuer | CertificateError::BadSignature => (
                    Cause::TlsUntrusted,
                    format!("untrusted: {issued_by}, a root this machine does not trust"),
                ),
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    let subject = info
                        .chain
                        .first()
                        .map(|c| c.subject.as_str())
                        .unwrap_or("another name");
                    (
                        Cause::TlsWrongName,
                        format!("wrong name: the certificate is for {subject}"),
                    )
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    let when = info.chain.first().map(|c| c.not_after.as_str()).unwrap_or("?");
                    (Cause::TlsExpired, format!("expired: {issued_by} expired {when}"))
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
                    Cause::TlsExpired,
                    "certificate not valid yet (is the clock right?)".into(),
                ),
                other => (
                    Cause::TlsUntrusted,
                    format!("certificate rejected ({other:?}): {issued_by}"),
                ),
            },
            rustls::Error::AlertReceived(alert) => (
                Cause::TlsHandshake,
                format!("the server ended the handshake with alert {alert:?}"),
            ),
            rustls::Error::PeerIncompatible(p) => (
                Cause::TlsHandshake,
                format!("no common protocol or cipher ({p:?})"),
            ),
            other => (Cause::TlsHandshake, format!("handshake failed: {other}")),
        };
    }
    match e.kind() {
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => (
            Cause::TcpReset,
            "connection reset during the TLS handshake".into(),
        ),
        std::io::ErrorKind::UnexpectedEof => (
            Cause::TlsHandshake,
            "the server closed the connection during the handshake".into(),
        ),
        _ => (Cause::TlsHandshake, format!("handshake failed: {e}")),
    }
}

/// Summarises a presented chain (leaf first).
fn chain_info(chain: &[CertificateDer<'_>]) -> TlsInfo {
    let certs: Vec<CertSummary> = chain.iter().filter_map(describe).collect();
    let root = certs.last().map(|c| c.issuer.clone());
    TlsInfo {
        version: None,
        cipher: None,
        chain: certs,
        root,
        root_sha256: None,
    }
}

/// Subject, issuer and expiry of one certificate.
pub fn describe(der: &CertificateDer<'_>) -> Option<CertSummary> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let name = |n: &x509_parser::x509::X509Name<'_>| {
        n.iter_common_name()
            .next()
            .or_else(|| n.iter_organization().next())
            .and_then(|a| a.as_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| n.to_string())
    };
    let not_after = chrono::DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    Some(CertSummary {
        subject: name(cert.subject()),
        issuer: name(cert.issuer()),
        not_after,
    })
}
