//! The lab seen from the wire: every fault mode observed with plain tokio/rustls clients,
//! as the monitor (or any client) would observe it. Loopback only.

mod support;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use m365mon::catalog::{Catalog, Scheme};
use m365mon::lab::pki;
use m365mon::lab::{Fault, FaultMode, Lab, LabOptions, LabState, Scenario};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

const LOGIN: &str = "login.microsoftonline.com";
const ACTIVATION: &str = "activation.sls.microsoft.com";
const CRL: &str = "crl.microsoft.com";

fn scenario(latency_ms: u64, faults: Vec<Fault>) -> Scenario {
    support::lab::scenario("test", latency_ms, faults)
}

fn fault(host: &str, mode: FaultMode) -> Fault {
    Fault::new(host, mode)
}

async fn lab(s: Scenario) -> Lab {
    support::lab::start(s).await
}

fn addr(lab: &Lab, host: &str, scheme: Scheme) -> SocketAddr {
    let e = lab
        .state()
        .endpoints
        .iter()
        .find(|e| e.host == host && e.scheme == scheme)
        .expect("endpoint in state");
    SocketAddr::new(e.addr, e.port)
}

fn roots(files: &[PathBuf]) -> Arc<ClientConfig> {
    let mut store = RootCertStore::empty();
    for file in files {
        for cert in CertificateDer::pem_file_iter(file).unwrap() {
            store.add(cert.unwrap()).unwrap();
        }
    }
    let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    Arc::new(config)
}

fn public_root(lab: &Lab) -> PathBuf {
    lab.state().ca_cert.clone()
}

fn inspection_root(lab: &Lab) -> PathBuf {
    lab.state().inspection_ca_cert.clone().unwrap()
}

async fn tls(lab: &Lab, host: &str, config: Arc<ClientConfig>) -> io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr(lab, host, Scheme::Https)).await?;
    let name = ServerName::try_from(host.to_string()).unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        TlsConnector::from(config).connect(name, tcp),
    )
    .await?
}

/// The certificate error a failed handshake carries.
fn cert_error(e: &io::Error) -> CertificateError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(c)) => c.clone(),
        other => panic!("expected a certificate error, got {other:?} ({e})"),
    }
}

fn issuer_of(stream: &TlsStream<TcpStream>) -> String {
    let chain = stream.get_ref().1.peer_certificates().unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    cert.issuer().to_string()
}

/// Sends a GET and reads the whole answer (the lab closes after it).
async fn get<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    path: &str,
) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: lab-test\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn dns_query(lab: &Lab, name: &str, qtype: RecordType, wait: Duration) -> Option<Message> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut q = Message::query();
    q.metadata.recursion_desired = true;
    q.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    socket
        .send_to(&q.to_vec().unwrap(), lab.state().dns)
        .await
        .unwrap();
    let mut buf = [0u8; 1500];
    let (len, _) = tokio::time::timeout(wait, socket.recv_from(&mut buf))
        .await
        .ok()?
        .unwrap();
    let m = Message::from_vec(&buf[..len]).unwrap();
    assert_eq!(m.metadata.id, q.metadata.id);
    Some(m)
}

#[tokio::test]
async fn healthy_lab_answers_dns_tls_and_http() {
    let lab = lab(scenario(0, vec![])).await;

    // DNS over UDP: the lab's address for the host, no IPv6, NXDOMAIN for strangers.
    let m = dns_query(
        &lab,
        "Login.MicrosoftOnline.com.",
        RecordType::A,
        Duration::from_secs(2),
    )
    .await
    .unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    // The sign-in name comes through the lab's CNAME chain to its front door, as the real
    // one does: the address record is the last answer.
    assert!(matches!(m.answers[0].data, RData::CNAME(_)), "{m:?}");
    let Some(RData::A(a)) = m.answers.last().map(|r| &r.data) else {
        panic!("{m:?}")
    };
    assert_eq!(std::net::IpAddr::V4(a.0), addr(&lab, LOGIN, Scheme::Https).ip());
    let m = dns_query(
        &lab,
        "login.microsoftonline.com",
        RecordType::AAAA,
        Duration::from_secs(2),
    )
    .await
    .unwrap();
    // No IPv6 without `--ipv6`: the chain's CNAMEs and no AAAA record (NODATA).
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(
        m.answers.iter().all(|r| matches!(r.data, RData::CNAME(_))),
        "{m:?}"
    );
    let m = dns_query(&lab, "www.example.org.", RecordType::A, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);

    // DNS over TCP, same port.
    let mut tcp = TcpStream::connect(lab.state().dns).await.unwrap();
    let mut q = Message::query();
    q.add_query(Query::query(
        Name::from_ascii("crl.microsoft.com.").unwrap(),
        RecordType::A,
    ));
    let bytes = q.to_vec().unwrap();
    tcp.write_all(&(bytes.len() as u16).to_be_bytes()).await.unwrap();
    tcp.write_all(&bytes).await.unwrap();
    let mut len = [0u8; 2];
    tcp.read_exact(&mut len).await.unwrap();
    let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
    tcp.read_exact(&mut body).await.unwrap();
    assert_eq!(Message::from_vec(&body).unwrap().answers.len(), 1);

    // TLS chains to the public root through the issuing intermediate.
    let mut stream = tls(&lab, LOGIN, roots(&[public_root(&lab)]))
        .await
        .expect("healthy handshake");
    assert!(
        issuer_of(&stream).contains(pki::ISSUING_CA_CN),
        "{}",
        issuer_of(&stream)
    );
    assert_eq!(
        stream.get_ref().1.peer_certificates().unwrap().len(),
        2,
        "leaf + intermediate"
    );
    let answer = get(&mut stream, LOGIN, "/").await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("\r\nServer: m365mon-lab\r\n") && answer.contains("\r\nConnection: close\r\n"));
    let date = answer.lines().find_map(|l| l.strip_prefix("Date: ")).unwrap();
    let date = chrono::DateTime::parse_from_rfc2822(date).unwrap();
    assert!(
        (chrono::Utc::now() - date.to_utc()).num_seconds().abs() < 5,
        "real clock"
    );

    // Plain HTTP CRL.
    let mut plain = TcpStream::connect(addr(&lab, CRL, Scheme::Http)).await.unwrap();
    let answer = get(&mut plain, CRL, "/pki/crl/products/MicrosoftRootAuthority.crl").await;
    assert!(answer.contains("Content-Type: application/pkix-crl"), "{answer}");
    lab.shutdown().await;
}

#[tokio::test]
async fn refuse_gives_connection_refused() {
    let lab = lab(scenario(0, vec![fault(ACTIVATION, FaultMode::Refuse)])).await;
    let err = TcpStream::connect(addr(&lab, ACTIVATION, Scheme::Https))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    assert!(
        TcpStream::connect(addr(&lab, LOGIN, Scheme::Https)).await.is_ok(),
        "other hosts unaffected"
    );
}

#[tokio::test]
async fn blackhole_makes_connect_hang() {
    let lab = lab(scenario(0, vec![fault(ACTIVATION, FaultMode::Blackhole)])).await;
    let started = Instant::now();
    let attempt = tokio::time::timeout(
        Duration::from_millis(1500),
        TcpStream::connect(addr(&lab, ACTIVATION, Scheme::Https)),
    )
    .await;
    assert!(attempt.is_err(), "connect must not complete: {attempt:?}");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let ok = tokio::time::timeout(
        Duration::from_secs(1),
        TcpStream::connect(addr(&lab, LOGIN, Scheme::Https)),
    )
    .await;
    assert!(matches!(ok, Ok(Ok(_))), "other hosts unaffected");
}

#[tokio::test]
async fn reset_closes_with_rst() {
    let lab = lab(scenario(0, vec![fault(LOGIN, FaultMode::Reset)])).await;
    let mut stream = TcpStream::connect(addr(&lab, LOGIN, Scheme::Https))
        .await
        .expect("accepted first");
    let mut buf = [0u8; 16];
    let err = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn tls_intercept_presents_the_inspection_root() {
    let lab = lab(scenario(0, vec![fault("*", FaultMode::TlsIntercept)])).await;
    // The machine trusts the inspection root: the handshake works...
    let stream = tls(&lab, LOGIN, roots(&[inspection_root(&lab)]))
        .await
        .expect("trusted by the machine");
    let issuer = issuer_of(&stream);
    assert!(
        issuer.contains("Contoso SSL Inspection Root CA") && issuer.contains("Contoso Secure Web Gateway"),
        "{issuer}"
    );
    // ... but it is not the expected root.
    let err = tls(&lab, LOGIN, roots(&[public_root(&lab)])).await.unwrap_err();
    assert_eq!(cert_error(&err), CertificateError::UnknownIssuer);
}

#[tokio::test]
async fn certificate_faults() {
    let lab = lab(scenario(
        0,
        vec![
            fault(LOGIN, FaultMode::BadCert),
            fault("login.microsoft.com", FaultMode::ExpiredCert),
            fault("login.windows.net", FaultMode::WrongName),
        ],
    ))
    .await;
    let trusted = roots(&[public_root(&lab), inspection_root(&lab)]);
    let err = tls(&lab, LOGIN, Arc::clone(&trusted)).await.unwrap_err();
    assert_eq!(cert_error(&err), CertificateError::UnknownIssuer);
    // The rogue root really is what signed it.
    let rogue = lab.dir().join(pki::ROGUE_ROOT_FILE);
    assert!(tls(&lab, LOGIN, roots(&[rogue])).await.is_ok());

    let err = tls(&lab, "login.microsoft.com", Arc::clone(&trusted))
        .await
        .unwrap_err();
    let c = cert_error(&err);
    assert!(
        matches!(
            c,
            CertificateError::Expired | CertificateError::ExpiredContext { .. }
        ),
        "{c:?}"
    );

    let err = tls(&lab, "login.windows.net", Arc::clone(&trusted))
        .await
        .unwrap_err();
    let c = cert_error(&err);
    assert!(
        matches!(
            c,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        ),
        "{c:?}"
    );

    assert!(
        tls(&lab, "go.microsoft.com", trusted).await.is_ok(),
        "other hosts healthy"
    );
}

#[tokio::test]
async fn http_status_block_page_and_proxy_auth() {
    let mut blocked = fault("ols.officeapps.live.com", FaultMode::HttpStatus);
    blocked.status = Some(403);
    let mut auth = fault("www.microsoft.com", FaultMode::HttpStatus);
    auth.status = Some(407);
    let lab = lab(scenario(0, vec![blocked, auth])).await;
    let mut stream = tls(&lab, "ols.officeapps.live.com", roots(&[public_root(&lab)]))
        .await
        .unwrap();
    let answer = get(&mut stream, "ols.officeapps.live.com", "/olsc").await;
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    assert!(
        answer.contains("\r\nVia: 1.1 contoso-swg (Secure Web Gateway)\r\n"),
        "{answer}"
    );
    assert!(answer.contains("Access Denied") && answer.contains("blocked by your organization's policy"));

    let mut plain = TcpStream::connect(addr(&lab, "www.microsoft.com", Scheme::Http))
        .await
        .unwrap();
    let answer = get(&mut plain, "www.microsoft.com", "/pki/crl/products/x.crl").await;
    assert!(answer.starts_with("HTTP/1.1 407 "), "{answer}");
    assert!(
        answer.contains("\r\nProxy-Authenticate: Basic realm=\"lab\"\r\n"),
        "{answer}"
    );
}

#[tokio::test]
async fn slow_and_latency_hold_the_answer_back() {
    let mut slow = fault(CRL, FaultMode::Slow);
    slow.delay_ms = Some(500);
    let lab = lab(scenario(150, vec![slow])).await;
    let timed = |host: &'static str, path: &'static str| {
        let a = addr(&lab, host, Scheme::Http);
        async move {
            let started = Instant::now();
            let mut s = TcpStream::connect(a).await.unwrap();
            let answer = get(&mut s, host, path).await;
            assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
            started.elapsed()
        }
    };
    let (slow, normal) = tokio::join!(
        timed(CRL, "/pki/crl/products/MicrosoftRootAuthority.crl"),
        timed(
            "www.microsoft.com",
            "/pki/crl/products/MicrosoftProductSecureCommunicationsPCA.crl"
        )
    );
    assert!(slow >= Duration::from_millis(650), "latency + delay: {slow:?}");
    assert!(
        normal >= Duration::from_millis(150) && normal < Duration::from_millis(600),
        "latency only: {normal:?}"
    );
}

#[tokio::test]
async fn dns_faults_on_the_wire() {
    let lab = lab(scenario(
        0,
        vec![
            fault(LOGIN, FaultMode::DnsNxdomain),
            fault("*.officeapps.live.com", FaultMode::DnsServfail),
            fault(ACTIVATION, FaultMode::DnsTimeout),
        ],
    ))
    .await;
    let wait = Duration::from_secs(2);
    let code = |m: Option<Message>| m.map(|m| m.metadata.response_code);
    assert_eq!(
        code(dns_query(&lab, LOGIN, RecordType::A, wait).await),
        Some(ResponseCode::NXDomain)
    );
    assert_eq!(
        code(dns_query(&lab, "ols.officeapps.live.com.", RecordType::A, wait).await),
        Some(ResponseCode::ServFail)
    );
    assert_eq!(
        code(dns_query(&lab, ACTIVATION, RecordType::A, Duration::from_millis(700)).await),
        None,
        "no answer at all"
    );
    assert_eq!(
        code(dns_query(&lab, "go.microsoft.com", RecordType::A, wait).await),
        Some(ResponseCode::NoError)
    );
}

/// Polls `probe` every 5 ms until it returns true; the lab time when it did.
async fn lab_time_when(lab: &Lab, deadline: Duration, mut probe: impl AsyncFnMut() -> bool) -> Duration {
    while lab.elapsed() < deadline {
        if probe().await {
            return lab.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("not observed before {deadline:?}");
}

#[tokio::test]
async fn timeline_switches_faults_on_and_off_on_time() {
    const SLACK: Duration = Duration::from_millis(400);
    let mut refuse = fault(ACTIVATION, FaultMode::Refuse);
    refuse.after_secs = Some(0.5);
    refuse.until_secs = Some(1.5);
    let mut blackhole = fault(LOGIN, FaultMode::Blackhole);
    blackhole.after_secs = Some(0.5);
    blackhole.until_secs = Some(1.5);
    let mut servfail = fault(LOGIN, FaultMode::DnsServfail);
    servfail.after_secs = Some(0.5);
    servfail.until_secs = Some(1.5);
    let lab = lab(scenario(0, vec![refuse, blackhole, servfail])).await;
    let activation = addr(&lab, ACTIVATION, Scheme::Https);
    let login = addr(&lab, LOGIN, Scheme::Https);
    let connects = |a: SocketAddr, within: Duration| async move {
        matches!(
            tokio::time::timeout(within, TcpStream::connect(a)).await,
            Ok(Ok(_))
        )
    };

    assert!(
        connects(activation, Duration::from_secs(1)).await,
        "healthy before 0.5 s"
    );
    assert!(
        connects(login, Duration::from_secs(1)).await,
        "healthy before 0.5 s"
    );

    // Never before its time; "on time" allows for a loaded machine (2 cores running the
    // other tests), and each poll gives up after 100 ms so a SYN dropped by a momentarily
    // full accept queue cannot stall it past the window.
    let on_time = |at: Duration, due: Duration| at >= due && at < due + SLACK;
    let refused_at = lab_time_when(&lab, Duration::from_secs(3), async || {
        matches!(
            tokio::time::timeout(Duration::from_millis(100), TcpStream::connect(activation)).await,
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused
        )
    })
    .await;
    assert!(on_time(refused_at, Duration::from_millis(500)), "{refused_at:?}");
    assert!(
        !connects(login, Duration::from_millis(300)).await,
        "blackholed during the fault"
    );
    let m = dns_query(&lab, LOGIN, RecordType::A, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);

    let back_at = lab_time_when(&lab, Duration::from_secs(4), async || {
        connects(activation, Duration::from_millis(200)).await
    })
    .await;
    assert!(on_time(back_at, Duration::from_millis(1500)), "{back_at:?}");
    assert!(
        connects(login, Duration::from_secs(1)).await,
        "blackhole lifted at 1.5 s"
    );
    let m = dns_query(&lab, LOGIN, RecordType::A, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
}

#[tokio::test]
async fn state_file_round_trips_and_temp_dir_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("lab.json");
    let opts = LabOptions {
        dir: None,
        state_file: Some(state_file.clone()),
        privileged_ports: false,
        ipv6: false,
    };
    let lab = Lab::start(Scenario::builtin("firewall").unwrap(), &Catalog::builtin(), opts)
        .await
        .unwrap();
    let loaded = LabState::load(&state_file).unwrap();
    assert_eq!(&loaded, lab.state());
    assert_eq!(loaded.scenario, "firewall");
    assert!(loaded.ca_cert.exists() && loaded.inspection_ca_cert.as_ref().unwrap().exists());
    for e in Catalog::builtin().probed() {
        assert!(
            loaded.port_for(&e.host, e.scheme).is_some(),
            "{} missing",
            e.url()
        );
    }
    let lab_dir = lab.dir().to_path_buf();
    lab.shutdown().await;
    assert!(!lab_dir.exists(), "temporary lab directory removed");
    assert!(state_file.exists(), "the state file is the user's");
}

#[tokio::test]
async fn given_dir_keeps_other_files_and_sockets_close_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let opts = LabOptions {
        dir: Some(dir.path().to_path_buf()),
        state_file: None,
        privileged_ports: false,
        ipv6: false,
    };
    let lab = Lab::start(scenario(0, vec![]), &Catalog::builtin(), opts)
        .await
        .unwrap();
    assert_eq!(lab.state().ca_cert, dir.path().join(pki::PUBLIC_ROOT_FILE));
    let login = addr(&lab, LOGIN, Scheme::Https);
    assert!(TcpStream::connect(login).await.is_ok());
    lab.shutdown().await;
    assert!(dir.path().join("notes.txt").exists());
    assert!(
        dir.path().join(pki::PUBLIC_ROOT_FILE).exists(),
        "certificates stay for the user"
    );
    let err = TcpStream::connect(login).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "listener closed");
}

#[test]
fn invalid_scenario_files_name_file_line_and_problem() {
    // (file, line, words the message must contain)
    let cases: [(&str, usize, &[&str]); 8] = [
        (
            "unknown_mode.toml",
            6,
            &["blackhol", "valid modes", "tls-intercept"],
        ),
        ("status_missing.toml", 5, &["http-status", "needs `status`"]),
        ("delay_missing.toml", 5, &["slow", "needs `delay_ms`"]),
        ("until_before_after.toml", 7, &["until_secs", "later than"]),
        ("bad_host.toml", 4, &["host", "characters"]),
        ("unknown_key.toml", 3, &["latncy_ms"]),
        ("status_on_wrong_mode.toml", 6, &["`status` only applies"]),
        ("bad_toml.toml", 2, &["string"]),
    ];
    let dir = support::files::repo("tests/invalid_scenarios");
    for (file, line, words) in cases {
        let path = dir.join(file);
        let err = Scenario::load(&path).unwrap_err();
        assert_eq!(err.file.as_deref(), Some(path.as_path()), "{file}: {err}");
        assert_eq!(err.line, Some(line), "{file}: {err}");
        for w in words {
            assert!(err.message.contains(w), "{file}: {err} lacks {w:?}");
        }
    }
    let count = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(count, cases.len(), "every fixture is covered");
}

#[test]
fn demo_story_loads_and_resolve_accepts_a_path() {
    let path = support::files::repo("demo/story.toml");
    let s = Scenario::resolve(path.to_str().unwrap()).unwrap();
    assert!(s.faults.iter().any(|f| f.after_secs.is_some()), "a timeline");
}

/// The resolver the monitor uses must see lab answers and a fault that starts mid-run
/// (one-second TTLs keep its cache from hiding it).
#[tokio::test]
async fn hickory_resolver_sees_answers_and_faults() {
    use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use hickory_resolver::Resolver;

    let mut nxdomain = fault(LOGIN, FaultMode::DnsNxdomain);
    nxdomain.after_secs = Some(0.3);
    let lab = lab(scenario(
        0,
        vec![nxdomain, fault(ACTIVATION, FaultMode::DnsServfail)],
    ))
    .await;
    let dns = lab.state().dns;
    let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
        .into_iter()
        .map(|mut c| {
            c.port = dns.port();
            c
        })
        .collect();
    let server = NameServerConfig::new(dns.ip(), true, connections);
    let config = ResolverConfig::from_parts(None, vec![], vec![server]);
    let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
    builder.options_mut().timeout = Duration::from_secs(1);
    let resolver = builder.build().unwrap();

    let ips: Vec<_> = resolver
        .lookup_ip(format!("{LOGIN}."))
        .await
        .unwrap()
        .iter()
        .collect();
    assert_eq!(ips, vec![addr(&lab, LOGIN, Scheme::Https).ip()]);
    assert!(
        resolver.lookup_ip(format!("{ACTIVATION}.")).await.is_err(),
        "SERVFAIL is an error"
    );

    tokio::time::sleep(Duration::from_millis(1300)).await;
    let after = resolver.lookup_ip(format!("{LOGIN}.")).await;
    assert!(
        after.is_err(),
        "the NXDOMAIN that started at 0.3 s is seen despite the cache: {after:?}"
    );
}
