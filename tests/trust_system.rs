//! The production trust path, outside the lab: the machine's trust store plus `--ca-file`.
//!
//! The test runs its own HTTPS server on loopback with a certificate from a CA it makes
//! (rcgen), and its own DNS server that knows the server's name; the binary probes it
//! through a custom endpoint file (`--endpoints`, `merge = "replace"`) with
//! `--dns-server` and `--proxy direct`, so every packet stays on loopback (the network
//! checks ask the same DNS server, which says "no such name" for anything else).
//!
//! And `--ca-file` itself: a missing, garbage or empty file stops every command that
//! probes, in lab mode too, with status 3 and the file named.

mod support;

use hickory_proto::op::{Edns, Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use support::bin::{code, command, output, text};
use support::report::{by_id, parse};

/// The endpoint's name; `.test` is reserved, so nothing real answers for it.
const HOST: &str = "portal.contoso-e2e.test";

/// A DNS server on 127.0.0.1 that answers `HOST` with 127.0.0.1 and "no such name" for
/// everything else. Runs until the test process ends.
fn dns_server() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let Ok(request) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            if request.metadata.message_type != MessageType::Query {
                continue;
            }
            let mut response = Message::response(request.metadata.id, request.metadata.op_code);
            response.metadata.recursion_desired = request.metadata.recursion_desired;
            response.metadata.recursion_available = true;
            response.metadata.authoritative = true;
            if request.edns.is_some() {
                let mut edns = Edns::new();
                edns.set_max_payload(1232);
                response.set_edns(edns);
            }
            if let Some(q) = request.queries.first().cloned() {
                let name = q.name().clone();
                let known = name.to_ascii().trim_end_matches('.').eq_ignore_ascii_case(HOST);
                let qtype = q.query_type();
                response.add_query(q);
                if !known {
                    response.metadata.response_code = ResponseCode::NXDomain;
                } else if qtype == RecordType::A {
                    response.add_answer(Record::from_rdata(name, 1, RData::A(A(Ipv4Addr::LOCALHOST))));
                }
            }
            if let Ok(bytes) = response.to_vec() {
                let _ = socket.send_to(&bytes, from);
            }
        }
    });
    addr
}

/// A private root CA named `cn`.
fn ca(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "m365mon e2e");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// An HTTPS server on 127.0.0.1 presenting a certificate for `HOST` issued by `issuer`;
/// answers every request `200 ok`. Runs until the test process ends.
fn https_server(issuer: &CertifiedIssuer<'static, KeyPair>) -> u16 {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![HOST.to_string()]).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, HOST);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let leaf = params.signed_by(&key, issuer).unwrap();
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().map_while(Result::ok) {
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)));
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                // A client that refuses the certificate ends here, with an error.
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

/// The machine's trust store is the one in use: no lab, nothing from the user's setup.
struct Setup {
    dir: tempfile::TempDir,
    endpoints: PathBuf,
    dns: SocketAddr,
    /// The endpoint's check id (with the port, as it is not 443).
    check: String,
}

impl Setup {
    fn new(port: u16) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let endpoints = dir.path().join("endpoints.toml");
        std::fs::write(
            &endpoints,
            format!("merge = \"replace\"\n\n[[endpoint]]\nhost = \"{HOST}\"\nport = {port}\n"),
        )
        .unwrap();
        Setup {
            dir,
            endpoints,
            dns: dns_server(),
            check: format!("endpoint:{HOST}:{port}"),
        }
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// `check --format json` against the test's server, with `extra` arguments.
    fn check(&self, extra: &[&str]) -> (i32, Value) {
        let mut cmd = self.command(&["check", "--format", "json"]);
        cmd.args(extra);
        let out = output(&mut cmd);
        (code(&out), parse(&out, &format!("check {extra:?}")))
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = command(args);
        cmd.args(["--endpoints", self.endpoints.to_str().unwrap()])
            .args(["--dns-server", &self.dns.to_string()])
            .args(["--proxy", "direct", "--timeout", "3"]);
        isolate(&mut cmd, self.dir.path());
        cmd
    }
}

/// No configuration file or `M365MON_*` setting of the machine running the tests.
fn isolate(cmd: &mut Command, dir: &Path) {
    cmd.env("XDG_CONFIG_HOME", dir)
        .env_remove("M365MON_CONFIG")
        .env_remove("M365MON_CA_FILE")
        .env_remove("M365MON_LAB");
}

fn stage<'a>(check: &'a Value, name: &str) -> &'a Value {
    check["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} stage in {check}"))
}

#[test]
fn a_private_ca_is_untrusted_by_the_system_store_and_trusted_with_ca_file() {
    const ROOT: &str = "Contoso Private Root CA (m365mon e2e)";
    let root = ca(ROOT);
    let setup = Setup::new(https_server(&root));
    let ca_file = setup.write("ca.pem", &root.pem());

    // The system store alone: DNS and TCP reach the server, the chain is refused.
    let (_, report) = setup.check(&[]);
    let c = by_id(&report, &setup.check);
    assert_eq!(c["status"], "fail", "{c}");
    assert_eq!(stage(c, "dns")["status"], "pass", "{c}");
    assert_eq!(stage(c, "tcp")["status"], "pass", "{c}");
    let tls = stage(c, "tls");
    assert_eq!(tls["status"], "fail", "{c}");
    assert_eq!(tls["cause"], "tls-untrusted", "{c}");
    assert!(
        tls["detail"].as_str().unwrap().contains(ROOT),
        "the untrusted issuer is named: {c}"
    );

    // With --ca-file the chain verifies: the handshake completes and the root it ends in
    // is named. It is not a Microsoft 365 root, so the probe reports it as what it is
    // (an inspecting device's root trusted on purpose), not as untrusted.
    let (_, report) = setup.check(&["--ca-file", ca_file.to_str().unwrap()]);
    let c = by_id(&report, &setup.check);
    let tls = stage(c, "tls");
    assert_eq!(tls["cause"], "tls-intercepted", "{c}");
    assert_eq!(c["tls"]["root"], ROOT, "{c}");
    assert!(c["tls"]["version"].as_str().unwrap().starts_with("TLS 1."), "{c}");
}

#[test]
fn with_ca_file_a_chain_to_an_expected_root_passes_tls_and_http() {
    // A private CA that carries the name of one of the roots Microsoft 365 chains to
    // (trust::MICROSOFT_ROOTS): it stands in for the real root, which the test cannot
    // sign with. Without --ca-file the system store refuses it (it is not the real one);
    // with it, every stage passes along the production path.
    const ROOT: &str = "DigiCert Global Root G2";
    let root = ca(ROOT);
    let setup = Setup::new(https_server(&root));
    let ca_file = setup.write("ca.pem", &root.pem());

    let (_, report) = setup.check(&[]);
    let c = by_id(&report, &setup.check);
    assert_eq!(stage(c, "tls")["cause"], "tls-untrusted", "{c}");

    let (_, report) = setup.check(&["--ca-file", ca_file.to_str().unwrap()]);
    let c = by_id(&report, &setup.check);
    assert_eq!(c["status"], "pass", "{c}");
    for s in ["dns", "tcp", "tls", "http"] {
        assert_eq!(stage(c, s)["status"], "pass", "{s}: {c}");
    }
    assert!(
        stage(c, "http")["detail"].as_str().unwrap().contains("HTTP 200"),
        "{c}"
    );
    assert_eq!(c["tls"]["root"], ROOT, "{c}");
}

/// Runs m365mon to the end: (exit code, all its output).
fn run(args: &[&str], dir: &Path) -> (i32, String) {
    let mut cmd = command(args);
    isolate(&mut cmd, dir);
    let out = output(&mut cmd);
    (code(&out), text(&out))
}

#[test]
fn a_missing_garbage_or_empty_ca_file_stops_every_mode_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-ca.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "just some text, no PEM block\n").unwrap();
    let cases = [
        (&missing, "cannot read certificate file"),
        (&garbage, "not a PEM certificate file"),
        (&empty, "no certificate in the file"),
    ];
    for (file, why) in cases {
        let f = file.to_str().unwrap();
        // Outside the lab (the production trust), and in lab mode for each command that
        // probes. The error comes before anything is probed or served.
        let runs: [Vec<&str>; 4] = [
            vec!["check", "--timeout", "1", "--ca-file", f],
            vec!["check", "--lab", "healthy", "--ca-file", f],
            vec![
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--lab",
                "healthy",
                "--ca-file",
                f,
            ],
            vec!["watch", "--lab", "healthy", "--ca-file", f],
        ];
        for args in runs {
            let (status, all) = run(&args, dir.path());
            assert_eq!(status, 3, "{args:?}: {all}");
            assert!(all.contains(f), "{args:?}: the file is named: {all}");
            assert!(all.contains(why), "{args:?}: {all}");
        }
    }
}

#[test]
fn a_good_ca_file_is_accepted_in_lab_mode() {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("corp.pem");
    std::fs::write(&ca_file, ca("Contoso Corporate Root (m365mon e2e)").pem()).unwrap();
    let (status, all) = run(
        &[
            "check",
            "--lab",
            "healthy",
            "--ca-file",
            ca_file.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(status, 0, "{all}");
}
