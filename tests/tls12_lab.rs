//! The TLS 1.2 check against real TLS servers on loopback: the lab (whose rustls servers
//! speak TLS 1.2 and 1.3), and a server started here that speaks TLS 1.3 only — the case
//! this check exists for: the normal probe passes with TLS 1.3 while TLS 1.2 fails.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use m365mon::catalog::{Catalog, Endpoint, Scheme};
use m365mon::checks::tls_handshake;
use m365mon::engine::{run_sweep, SweepPlan};
use m365mon::lab::{Lab, Scenario};
use m365mon::model::Status;
use m365mon::probe::trust::{self, Trust};
use support::results::{fact, find};

const TIMEOUT: Duration = Duration::from_secs(2);
const HOST: &str = "login.microsoftonline.com";

async fn lab_plan(endpoints: Vec<Endpoint>) -> (Lab, SweepPlan) {
    let scenario = Scenario::builtin("healthy").expect("the healthy scenario");
    support::lab::lab_plan(scenario, endpoints, TIMEOUT).await
}

#[tokio::test]
async fn healthy_lab_agrees_tls12_with_every_sign_in_host() {
    let (lab, plan) = lab_plan(Catalog::builtin().endpoints).await;
    let r = tls_handshake::check(&plan.check_inputs(&plan.decide_routes().await)).await;
    assert_eq!(r.status, Status::Pass, "{} {:#?}", r.summary, r.facts);
    assert_eq!(fact(&r, "tls12"), "works");
    for host in [
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
    ] {
        let v = fact(&r, &format!("tls12 {host}"));
        assert!(
            v.starts_with("works (TLS_ECDHE_"),
            "a TLS 1.2 suite for {host}: {v}"
        );
    }
    // Through the whole sweep, the versions of the normal probes are added.
    let (checks, _) = run_sweep(&plan).await;
    let r = find(&checks, tls_handshake::ID);
    assert_eq!(r.status, Status::Pass);
    assert_eq!(fact(r, "negotiated login.windows.net"), "TLS 1.3");
    lab.shutdown().await;
}

/// A CA, and a TLS 1.3-only server configuration for `HOST` signed by it.
fn tls13_only() -> (ServerConfig, CertificateDer<'static>) {
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "TLS13 Only Test Root");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec![HOST.to_string()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, HOST);
    let leaf = leaf.signed_by(&key, &ca).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = ServerConfig::builder_with_provider(trust::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    (config, ca.der().clone())
}

/// Serves TLS 1.3 only on `listener`, answering each request with an empty 200.
async fn serve(listener: TcpListener, config: ServerConfig) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            let mut buf = vec![0u8; 4096];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
            let answer =
                format!("HTTP/1.1 200 OK\r\nDate: {date}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = tls.write_all(answer.as_bytes()).await;
            let _ = tls.shutdown().await;
        });
    }
}

#[tokio::test]
async fn a_tls13_only_server_fails_tls12_while_the_normal_probe_passes() {
    let endpoint = Endpoint::new(HOST, Scheme::Https, "/");
    let (lab, mut plan) = lab_plan(vec![endpoint]).await;
    // Listen on the lab's address for the host, so the lab's DNS leads here.
    let ip = lab
        .state()
        .endpoints
        .iter()
        .find(|e| e.host == HOST)
        .expect("lab serves the host")
        .addr;
    let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (config, ca) = tls13_only();
    let server = tokio::spawn(serve(listener, config));
    plan.settings.trust = Trust::custom(vec![ca.clone()], &[ca], "test root");
    plan.settings
        .port_overrides
        .insert((HOST.to_string(), Scheme::Https), port);

    let (checks, _) = run_sweep(&plan).await;
    let probe = find(&checks, &format!("endpoint:{HOST}"));
    assert_eq!(
        probe.status,
        Status::Pass,
        "the normal probe uses TLS 1.3: {}",
        probe.summary
    );
    let r = find(&checks, tls_handshake::ID);
    assert_eq!(r.status, Status::Fail, "{} {:#?}", r.summary, r.facts);
    assert_eq!(fact(r, "tls12"), "fails");
    let detail = fact(r, &format!("tls12 {HOST}"));
    assert!(
        detail.starts_with("fails:") && detail.contains("ProtocolVersion"),
        "{detail}"
    );
    assert_eq!(fact(r, &format!("negotiated {HOST}")), "TLS 1.3");
    let expected = if cfg!(windows) {
        ["tls-handshake", "tls12-old-windows"].as_slice()
    } else {
        &["tls-handshake"]
    };
    assert!(
        expected.contains(&r.remediation.as_deref().unwrap_or("")),
        "{:?}",
        r.remediation
    );
    server.abort();
    lab.shutdown().await;
}
