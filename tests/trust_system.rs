//! The production trust path, outside the lab: the machine's trust store plus `--ca-file`.
//!
//! The test runs its own HTTPS server on loopback with a certificate from a CA it makes
//! (rcgen), and its own DNS server that knows the server's name; the binary probes it
//! through a custom endpoint file (`--endpoints`, `merge = "replace"`) with
//! `--dns-server` and `--proxy direct`, so every packet stays on loopback (the network
//! checks ask the same DNS server, which says "no such name" for anything else).
//!
//! Roots by identity: the real root certificates of Debian's `ca-certificates`
//! (`/usr/share/ca-certificates/mozilla/`) are classified against the Microsoft 365 list,
//! and a look-alike root made here with the exact subject of one of them is caught, both
//! on its own and end to end beside the genuine root in the machine's store.
//!
//! And `--ca-file` itself: a missing, garbage or empty file stops every command that
//! probes, in lab mode too, with status 3 and the file named.

mod support;

use hickory_proto::op::{Edns, Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};
use m365mon::probe::trust::{
    classify_root, ExpectedRoot, KnownRoot, RootVerdict, Trust, MICROSOFT_ROOTS, MICROSOFT_ROOTS_SOURCE,
};
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
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "m365mon e2e");
    ca_with(dn)
}

/// A private root CA (its own new key) with the subject `dn`.
fn ca_with(dn: DistinguishedName) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::default();
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

/// Where Debian's `ca-certificates` keeps Mozilla's roots, one `Name_With_Underscores.crt` each.
const MOZILLA: &str = "/usr/share/ca-certificates/mozilla";

/// The real root certificate called `name`, from [`MOZILLA`]; `None` (after a loud skip)
/// when the package is not installed.
fn real_root(test: &str, name: &str) -> Option<CertificateDer<'static>> {
    let path = Path::new(MOZILLA).join(format!("{}.crt", name.replace(' ', "_")));
    let Ok(pem) = std::fs::read(&path) else {
        support::skip::because(
            test,
            &format!("{} is missing: install Debian's ca-certificates", path.display()),
        );
        return None;
    };
    use rustls::pki_types::pem::PemObject;
    Some(CertificateDer::from_pem_slice(&pem).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The subject of `der`, attribute by attribute with the same string types, so that a
/// certificate made with it carries the very same subject bytes.
fn same_subject(der: &CertificateDer<'_>) -> DistinguishedName {
    use rcgen::DnValue;
    use x509_parser::der_parser::asn1_rs::Tag;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).unwrap();
    let mut dn = DistinguishedName::new();
    for rdn in cert.subject().iter() {
        let attr = rdn.iter().next().unwrap();
        let oid: Vec<u64> = attr.attr_type().iter().unwrap().collect();
        let text = std::str::from_utf8(attr.attr_value().data).unwrap().to_string();
        let value = match attr.attr_value().header.tag() {
            Tag::PrintableString => DnValue::PrintableString(text.try_into().unwrap()),
            Tag::Utf8String => DnValue::Utf8String(text),
            other => panic!("unexpected string type {other:?}"),
        };
        dn.push(DnType::from_oid(&oid), value);
    }
    dn
}

fn subject_bytes(der: &[u8]) -> Vec<u8> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    cert.subject().as_raw().to_vec()
}

fn microsoft() -> Vec<ExpectedRoot> {
    MICROSOFT_ROOTS.iter().map(ExpectedRoot::from).collect()
}

fn verdict_of(der: &CertificateDer<'static>) -> RootVerdict {
    let root = KnownRoot::from_der(der.clone()).expect("the root parses");
    classify_root(&microsoft(), &root.name, &root.cert_sha256, &root.spki_sha256)
}

#[test]
fn each_of_the_seven_microsoft_roots_is_recognised_by_fingerprint() {
    assert_eq!(MICROSOFT_ROOTS.len(), 7);
    for id in MICROSOFT_ROOTS {
        let Some(der) = real_root(
            "each_of_the_seven_microsoft_roots_is_recognised_by_fingerprint",
            id.name,
        ) else {
            return;
        };
        let root = KnownRoot::from_der(der.clone()).unwrap();
        assert_eq!(
            root.cert_sha256, id.cert_sha256,
            "{}: certificate fingerprint",
            id.name
        );
        assert_eq!(root.spki_sha256, id.spki_sha256, "{}: key fingerprint", id.name);
        assert_eq!(
            verdict_of(&der),
            RootVerdict::Microsoft { name: id.name.into() },
            "{}",
            id.name
        );
    }
}

#[test]
fn a_root_with_the_exact_subject_of_a_microsoft_root_but_its_own_key_is_an_impostor() {
    let test = "a_root_with_the_exact_subject_of_a_microsoft_root_but_its_own_key_is_an_impostor";
    for name in [
        "DigiCert Global Root G2",
        "Microsoft RSA Root Certificate Authority 2017",
    ] {
        let Some(real) = real_root(test, name) else {
            return;
        };
        let fake = ca_with(same_subject(&real));
        assert_eq!(
            subject_bytes(fake.der()),
            subject_bytes(&real),
            "the look-alike's subject is byte for byte the real one's"
        );
        assert_eq!(
            verdict_of(&fake.der().clone()),
            RootVerdict::Impostor { name: name.into() }
        );

        // Beside the genuine root in one store, a chain signed by the look-alike is traced
        // to the look-alike (its key signed it), not to the root it copies.
        let leaf_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![HOST.to_string()]).unwrap();
        params.use_authority_key_identifier_extension = true;
        let leaf = params.signed_by(&leaf_key, &fake).unwrap();
        let trust = Trust::custom(
            vec![real.clone(), fake.der().clone()],
            std::slice::from_ref(&real),
            "genuine and look-alike",
        );
        assert_eq!(
            trust.verdict(&[leaf.der().clone()]),
            Some(RootVerdict::Impostor { name: name.into() })
        );
    }
}

#[test]
fn the_anchor_is_found_walking_up_from_the_leaf_whatever_the_server_sends_above_it() {
    // leaf <- intermediate <- root (in the store), and above them a certificate of a root
    // the store does not have (an old cross-signer a server still sends). The verifier
    // stops at the trusted root; so does the verdict.
    let root = ca("Contoso Issuing Root (m365mon e2e)");
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Contoso Intermediate (m365mon e2e)");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    params.use_authority_key_identifier_extension = true;
    let intermediate = CertifiedIssuer::signed_by(params, KeyPair::generate().unwrap(), &root).unwrap();
    let leaf = CertificateParams::new(vec![HOST.to_string()])
        .unwrap()
        .signed_by(&KeyPair::generate().unwrap(), &intermediate)
        .unwrap();
    let stranger = ca("Old Cross Signer (m365mon e2e)");
    let trust = Trust::custom(
        vec![root.der().clone()],
        std::slice::from_ref(root.der()),
        "one root",
    );
    let chain = [
        leaf.der().clone(),
        intermediate.der().clone(),
        stranger.der().clone(),
    ];
    let anchor = trust.anchor_of(&chain).expect("the chain's root is in the store");
    assert_eq!(anchor.name, "Contoso Issuing Root (m365mon e2e)");
    assert_eq!(
        trust.verdict(&chain),
        Some(RootVerdict::Microsoft {
            name: "Contoso Issuing Root (m365mon e2e)".into()
        }),
        "expected here, as the one root of this trust"
    );
    assert!(trust.anchor_of(&[stranger.der().clone()]).is_none());
}

#[test]
fn a_test_root_with_another_name_is_interception_and_isrg_root_x1_is_an_unexpected_public_ca() {
    let private = ca("Contoso SSL Inspection Root (m365mon e2e)");
    assert_eq!(
        verdict_of(&private.der().clone()),
        RootVerdict::Interception {
            name: "Contoso SSL Inspection Root (m365mon e2e)".into()
        }
    );
    let test = "a_test_root_with_another_name_is_interception_and_isrg_root_x1_is_an_unexpected_public_ca";
    let Some(isrg) = real_root(test, "ISRG Root X1") else {
        return;
    };
    assert_eq!(
        verdict_of(&isrg),
        RootVerdict::UnexpectedPublic {
            name: "ISRG Root X1".into()
        }
    );
}

#[test]
fn with_ca_file_a_look_alike_of_a_microsoft_root_is_named_as_an_impostor() {
    // The machine's store holds the genuine DigiCert Global Root G2; --ca-file adds a
    // root made here with its exact subject and another key, the way an inspection
    // device's root would be pushed to a managed machine. The chain verifies (the
    // machine trusts the look-alike), and the probe says what it is.
    const ROOT: &str = "DigiCert Global Root G2";
    let test = "with_ca_file_a_look_alike_of_a_microsoft_root_is_named_as_an_impostor";
    let Some(real) = real_root(test, ROOT) else {
        return;
    };
    let root = ca_with(same_subject(&real));
    let setup = Setup::new(https_server(&root));
    let ca_file = setup.write("ca.pem", &root.pem());

    let (_, report) = setup.check(&[]);
    let c = by_id(&report, &setup.check);
    assert_eq!(stage(c, "tls")["cause"], "tls-untrusted", "{c}");

    let (status, report) = setup.check(&["--ca-file", ca_file.to_str().unwrap()]);
    assert_eq!(status, 2, "{report}");
    let c = by_id(&report, &setup.check);
    assert_eq!(c["status"], "fail", "{c}");
    let tls = stage(c, "tls");
    assert_eq!(tls["cause"], "tls-intercepted", "{c}");
    assert!(
        tls["detail"]
            .as_str()
            .unwrap()
            .contains("a root named like DigiCert Global Root G2 but not it"),
        "{c}"
    );
    assert_eq!(
        c["summary"],
        "TLS intercepted: a root named like DigiCert Global Root G2 but not it"
    );
    let fake_sha = KnownRoot::from_der(root.der().clone()).unwrap().cert_sha256;
    assert_eq!(c["tls"]["root_sha256"], fake_sha.as_str(), "{c}");
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "tls-interception")
        .unwrap_or_else(|| panic!("an interception finding: {report}"));
    assert_eq!(
        finding["title"],
        "TLS is intercepted by a root named like DigiCert Global Root G2 but not it"
    );
}

#[test]
fn trust_lists_the_microsoft_roots_and_the_store_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let corp = dir.path().join("corp.pem");
    std::fs::write(&corp, ca("Contoso Corporate Root (m365mon e2e)").pem()).unwrap();
    let (status, text) = run(&["trust", "--ca-file", corp.to_str().unwrap()], dir.path());
    assert_eq!(status, 0, "{text}");
    for id in MICROSOFT_ROOTS {
        assert!(
            text.contains(id.name) && text.contains(id.cert_sha256),
            "{}: {text}",
            id.name
        );
    }
    assert!(text.contains(MICROSOFT_ROOTS_SOURCE), "{text}");
    assert!(text.contains("system store ("), "{text}");
    assert!(text.contains(&format!("+ 1 from {}", corp.display())), "{text}");

    let (status, json) = run(&["trust", "--format", "json"], dir.path());
    assert_eq!(status, 0, "{json}");
    let v: Value = serde_json::from_str(&json).unwrap();
    let roots = v["microsoft_roots"].as_array().unwrap();
    assert_eq!(roots.len(), 7, "{v}");
    for (row, id) in roots.iter().zip(MICROSOFT_ROOTS) {
        assert_eq!(row["name"], id.name);
        assert_eq!(row["sha256"], id.cert_sha256);
        assert_eq!(row["spki_sha256"], id.spki_sha256);
    }
    assert_eq!(v["source"], MICROSOFT_ROOTS_SOURCE);
    // The store as the probes load it: every root it counts is in the description.
    let trust = Trust::system(&[]).unwrap();
    assert_eq!(v["store"]["roots"], trust.roots.len(), "{v}");
    assert!(v["store"]["roots"].as_u64().unwrap() > 0, "{v}");
    assert!(
        v["store"]["description"]
            .as_str()
            .unwrap()
            .starts_with("system store ("),
        "{v}"
    );

    // A bad --ca-file is bad input: exit 3, the file named.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no PEM here\n").unwrap();
    let (status, all) = run(&["trust", "--ca-file", empty.to_str().unwrap()], dir.path());
    assert_eq!(status, 3, "{all}");
    assert!(
        all.contains(empty.to_str().unwrap()) && all.contains("no certificate in the file"),
        "{all}"
    );
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
