//! A real proxy in front of the lab: Debian's squid, started by each test on loopback with
//! its own configuration, logs and PID file in a temporary folder (a free port, `-N`: no
//! daemon). The lab runs as `m365mon lab serve`; squid finds the lab's hosts through a
//! hosts file written from the lab's state file (host -> its 127.77.0.N address) and asks
//! no DNS server but 127.0.0.1, so nothing leaves the machine. As root, squid drops to
//! the `proxy` user (or `nobody`), who is given the folder.
//!
//! Each test runs the real binary, `check --lab-connect STATE --proxy URL`, in text and
//! in JSON, and reads squid's access log to see the traffic really went through squid.
//! The password is checked by squid's own `basic_ncsa_auth` against an htpasswd file
//! made by `openssl passwd`, so a client encoder that got Basic wrong would fail here;
//! the Negotiate and NTLM challenges come from squid's Kerberos and fake-NTLM helpers
//! (never started: the client never answers the challenge).
//!
//! Without squid (or openssl, or the helpers) the tests skip, saying why. Unix only:
//! squid and its helpers are Debian's.

#![cfg(unix)]

mod support;

use serde_json::Value;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::bin;
use support::report::{by_id, endpoints, fact, finding_ids};

const USER: &str = "m365tester";
/// The host squid denies in the block test.
const DENIED: &str = "activation.sls.microsoft.com";

/// Skips the calling test loudly (listed; a failure under CI, which installs squid).
fn skip(test: &str, reason: &str) {
    support::skip::because(test, reason);
}

/// The first of `names` that is a file under one of `dirs`.
fn find_file(dirs: &[&str], name: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

/// squid's binary (root's PATH has /usr/sbin, a user's may not).
fn squid_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .iter()
        .map(|d| d.join("squid"))
        .find(|p| p.is_file())
        .or_else(|| find_file(&["/usr/sbin", "/usr/local/sbin"], "squid"))
}

/// One of squid's authentication helpers (Debian: /usr/lib/squid).
fn helper(name: &str) -> Option<PathBuf> {
    find_file(
        &[
            "/usr/lib/squid",
            "/usr/lib64/squid",
            "/usr/libexec/squid",
            "/usr/local/libexec/squid",
        ],
        name,
    )
}

/// What a test needs before it starts anything: squid and these helpers (and openssl
/// for the htpasswd file when `basic`). `None` after a skip.
fn prerequisites(test: &str, helpers: &[&str], basic: bool) -> Option<(PathBuf, Vec<PathBuf>)> {
    let Some(squid) = squid_binary() else {
        skip(test, "squid is not installed (apt-get install squid)");
        return None;
    };
    let mut found = Vec::new();
    for h in helpers {
        match helper(h) {
            Some(p) => found.push(p),
            None => {
                skip(test, &format!("squid's helper {h} is not installed"));
                return None;
            }
        }
    }
    if basic && !support::netns::have("openssl") {
        skip(test, "openssl is not installed (apt-get install openssl)");
        return None;
    }
    Some((squid, found))
}

/// A password for this run: never written by m365mon, only by openssl into htpasswd.
fn password() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("Sq{}x{nanos:x}Pw", std::process::id())
}

/// `m365mon lab serve` with its state file and certificates in a temporary folder;
/// stopped on drop.
struct LabServe {
    child: Child,
    state: PathBuf,
    endpoints: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

impl LabServe {
    fn start() -> LabServe {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let mut child = Command::new(bin::BIN)
            .args(["lab", "serve", "--state-file"])
            .arg(&state)
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start m365mon lab serve");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !state.exists() {
            if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                let _ = child.kill();
                let _ = child.wait();
                panic!("m365mon lab serve wrote no state file");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
        let endpoints = v["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["host"].as_str().unwrap().to_string(),
                    e["addr"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        LabServe {
            child,
            state,
            endpoints,
            _dir: dir,
        }
    }

    /// `/etc/hosts` lines for squid: each lab host at its loopback address.
    fn hosts_file(&self) -> String {
        let mut lines: Vec<String> = self
            .endpoints
            .iter()
            .map(|(host, addr)| format!("{addr} {host}\n"))
            .collect();
        lines.dedup();
        lines.concat()
    }
}

impl Drop for LabServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A squid on 127.0.0.1 with its own configuration; stopped on drop.
struct Squid {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Squid {
    /// Starts squid in front of `lab` with `rules` (auth_param, acl and http_access
    /// lines, `{dir}` standing for its folder) and waits until it accepts connections.
    fn start(squid: &Path, lab: &LabServe, rules: &str, files: &[(&str, String)]) -> Squid {
        let dir = tempfile::Builder::new()
            .prefix("m365mon-squid-")
            .tempdir()
            .unwrap();
        let d = dir.path().display().to_string();
        let port = support::http::free_port();
        std::fs::write(dir.path().join("hosts"), lab.hosts_file()).unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        // As root, squid will not keep root: it switches to cache_effective_user, who
        // must be able to read the configuration and write the logs.
        let drop_to = support::netns::is_root().then(unprivileged_user).flatten();
        let user_line = drop_to
            .as_ref()
            .map(|(name, _, _)| format!("cache_effective_user {name}\n"))
            .unwrap_or_default();
        let conf = format!(
            "http_port 127.0.0.1:{port}\n\
             pid_filename {d}/squid.pid\n\
             access_log stdio:{d}/access.log\n\
             cache_log {d}/cache.log\n\
             cache_store_log none\n\
             coredump_dir {d}\n\
             cache deny all\n\
             cache_mem 8 MB\n\
             max_filedescriptors 1024\n\
             hosts_file {d}/hosts\n\
             dns_nameservers 127.0.0.1\n\
             icp_port 0\n\
             htcp_port 0\n\
             netdb_filename none\n\
             pinger_enable off\n\
             shutdown_lifetime 0 seconds\n\
             visible_hostname m365mon-test-squid\n\
             {user_line}\
             {rules}\n",
            rules = rules.replace("{dir}", &d),
        );
        std::fs::write(dir.path().join("squid.conf"), conf).unwrap();
        if let Some((_, uid, gid)) = drop_to {
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                std::os::unix::fs::chown(entry.unwrap().path(), Some(uid), Some(gid)).unwrap();
            }
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        // A service name of its own: squid names its shared-memory segments after it, and
        // the tests start several squids at once (with the default name one of them
        // sometimes found another's segments and exited). Removed again on drop.
        let child = Command::new(squid)
            .arg("-N")
            .arg("-n")
            .arg(Self::service(port))
            .arg("-f")
            .arg(dir.path().join("squid.conf"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr.txt")).unwrap())
            .spawn()
            .expect("start squid");
        let mut s = Squid { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return s;
            }
            if let Some(status) = s.child.try_wait().unwrap() {
                panic!("squid exited ({status}) before listening:\n{}", s.logs());
            }
            if Instant::now() > deadline {
                panic!("squid does not listen on {port} after 30 s:\n{}", s.logs());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The squid service name of the instance on `port`.
    fn service(port: u16) -> String {
        format!("m365mon{port}")
    }

    /// `http://[user:password@]127.0.0.1:port`.
    fn url(&self, credentials: Option<(&str, &str)>) -> String {
        match credentials {
            Some((u, p)) => format!("http://{u}:{p}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// squid's access log: one line per request it handled.
    fn access_log(&self) -> String {
        self.read("access.log")
    }

    /// Everything squid said, for a failure message.
    fn logs(&self) -> String {
        format!(
            "--- stderr\n{}--- cache.log\n{}--- access.log\n{}",
            self.read("stderr.txt"),
            self.read("cache.log"),
            self.access_log()
        )
    }
}

impl Drop for Squid {
    fn drop(&mut self) {
        // Its helpers read from squid; they end when it does.
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Killed, squid leaves its shared-memory segments behind (/dev/shm/NAME-*.shm).
        let prefix = format!("{}-", Self::service(self.port));
        if let Ok(entries) = std::fs::read_dir("/dev/shm") {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

/// The user squid drops to when started as root: `proxy` (Debian's), else `nobody`.
fn unprivileged_user() -> Option<(String, u32, u32)> {
    let id = |flag: &str, name: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, name]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    ["proxy", "nobody"]
        .iter()
        .find_map(|name| Some((name.to_string(), id("-u", name)?, id("-g", name)?)))
}

/// An htpasswd line for `user`, hashed by openssl (MD5-crypt, which basic_ncsa_auth reads).
fn htpasswd(user: &str, password: &str) -> String {
    let mut child = Command::new("openssl")
        .args(["passwd", "-1", "-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run openssl passwd");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl passwd failed");
    let hash = String::from_utf8(out.stdout).unwrap();
    assert!(hash.starts_with("$1$"), "{hash}");
    format!("{user}:{}", hash.trim())
}

/// Basic authentication against `{dir}/htpasswd`, every lab client allowed once
/// authenticated, and `extra` rules first.
fn basic_rules(helper: &Path, extra: &str) -> String {
    format!(
        "auth_param basic program {} {{dir}}/htpasswd\n\
         auth_param basic realm m365mon-test\n\
         acl lab src 127.0.0.0/8\n\
         acl authenticated proxy_auth REQUIRED\n\
         {extra}\
         http_access allow lab authenticated\n\
         http_access deny all",
        helper.display()
    )
}

/// One `check --lab-connect` through `proxy_url`, in JSON and in text: (exit code, report,
/// text). Fails the test when `secrets` show in either.
fn check(lab: &LabServe, proxy_url: &str, secrets: &[&str]) -> (i32, Value, String) {
    let args = |format: &str| {
        let mut c = bin::command(&[
            "check",
            "--lab-connect",
            lab.state.to_str().unwrap(),
            "--proxy",
            proxy_url,
            "--timeout",
            "3",
            "--format",
            format,
        ]);
        c.env_remove("HTTPS_PROXY").env_remove("https_proxy");
        c
    };
    let (code, json, json_err) = bin::run(&mut args("json"));
    let report: Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("not JSON ({e}): {json}\nstderr: {json_err}"));
    let (text_code, text, text_err) = bin::run(&mut args("text"));
    assert_eq!(code, text_code, "text and JSON runs disagree:\n{text}");
    for secret in secrets {
        for (what, out) in [
            ("JSON", &json),
            ("JSON stderr", &json_err),
            ("text", &text),
            ("text stderr", &text_err),
        ] {
            assert!(
                !out.contains(secret),
                "the {what} output shows the secret {secret:?}:\n{out}"
            );
        }
    }
    (code, report, text)
}

/// The id of a finding's remediation entry.
fn remediation_of<'a>(report: &'a Value, finding: &str) -> &'a str {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == finding)
        .unwrap_or_else(|| panic!("no finding {finding} in {report}"))["remediation"]["id"]
        .as_str()
        .unwrap()
}

/// The right password: squid checks it against openssl's hash and lets every endpoint
/// through, HTTPS endpoints by CONNECT and the CRL files by plain GET; the report says so
/// and its access log shows each request as the user's.
#[test]
fn good_credentials_pass_every_endpoint_through_squid() {
    let test = "good_credentials_pass_every_endpoint_through_squid";
    let Some((squid, helpers)) = prerequisites(test, &["basic_ncsa_auth"], true) else {
        return;
    };
    let lab = LabServe::start();
    let pw = password();
    let proxy = Squid::start(
        &squid,
        &lab,
        &basic_rules(&helpers[0], ""),
        &[("htpasswd", htpasswd(USER, &pw))],
    );
    let (code, v, text) = check(&lab, &proxy.url(Some((USER, &pw))), &[&pw, USER]);
    let eps = endpoints(&v);
    assert!(eps.len() >= 10, "{v}");
    for e in &eps {
        assert_eq!(e["status"], "pass", "{e}\n{}", proxy.logs());
        let route = fact(e, "route").unwrap_or_default();
        assert!(
            route.contains(&format!("PROXY 127.0.0.1:{}", proxy.port)),
            "{route}"
        );
    }
    let p = by_id(&v, "network:proxy");
    assert_eq!(p["status"], "pass", "{p}");
    assert!(finding_ids(&v).is_empty(), "{:?}", finding_ids(&v));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("tunnels to Microsoft 365"), "{text}");
    let log = proxy.access_log();
    for e in &eps {
        let target = e["target"].as_str().unwrap();
        let host = target.split('/').nth(2).unwrap();
        let method = if target.starts_with("https:") {
            "CONNECT"
        } else {
            "GET"
        };
        assert!(
            log.lines()
                .any(|l| l.contains(method) && l.contains(host) && l.contains(USER) && l.contains("/200 ")),
            "squid did not pass {method} {host} for {USER}:\n{log}"
        );
    }
}

/// A wrong password: squid answers 407 to everything; each endpoint and the proxy check
/// say the proxy wants (Basic) credentials, and the finding leads to the proxy-auth entry.
#[test]
fn bad_credentials_are_the_proxy_auth_finding() {
    let test = "bad_credentials_are_the_proxy_auth_finding";
    let Some((squid, helpers)) = prerequisites(test, &["basic_ncsa_auth"], true) else {
        return;
    };
    let lab = LabServe::start();
    let (good, bad) = (password(), format!("{}-wrong", password()));
    let proxy = Squid::start(
        &squid,
        &lab,
        &basic_rules(&helpers[0], ""),
        &[("htpasswd", htpasswd(USER, &good))],
    );
    let (code, v, text) = check(&lab, &proxy.url(Some((USER, &bad))), &[&bad, &good, USER]);
    assert_eq!(code, 2, "{text}");
    for e in endpoints(&v) {
        assert_eq!(e["cause"], "http-proxy-auth", "{e}\n{}", proxy.logs());
        assert_eq!(e["http"]["status"], 407, "{e}");
        assert_eq!(e["http"]["proxy_authenticate"][0], "Basic", "{e}");
    }
    let p = by_id(&v, "network:proxy");
    assert_eq!(p["status"], "fail", "{p}");
    assert_eq!(p["remediation"], "proxy-auth", "{p}");
    assert_eq!(fact(p, "proxy_auth_schemes"), Some("Basic"), "{p}");
    assert_eq!(remediation_of(&v, "proxy-auth"), "proxy-auth");
    assert!(
        !finding_ids(&v).iter().any(|f| f == "proxy-auth-windows"),
        "{:?}",
        finding_ids(&v)
    );
    assert!(
        text.contains("asks for Basic (name and password) credentials"),
        "{text}"
    );
    assert!(proxy.access_log().contains("TCP_DENIED/407"), "{}", proxy.logs());
}

/// squid denies one lab host: its own 403 error page is a block on that endpoint only,
/// named after squid, and every other endpoint still passes through it.
#[test]
fn a_host_squid_denies_is_blocked_and_only_that_one() {
    let test = "a_host_squid_denies_is_blocked_and_only_that_one";
    let Some((squid, helpers)) = prerequisites(test, &["basic_ncsa_auth"], true) else {
        return;
    };
    let lab = LabServe::start();
    let pw = password();
    let deny = format!("acl denied dstdomain {DENIED}\nhttp_access deny denied\n");
    let proxy = Squid::start(
        &squid,
        &lab,
        &basic_rules(&helpers[0], &deny),
        &[("htpasswd", htpasswd(USER, &pw))],
    );
    let (code, v, text) = check(&lab, &proxy.url(Some((USER, &pw))), &[&pw, USER]);
    assert_eq!(code, 2, "{text}");
    let id = format!("endpoint:{DENIED}");
    for e in endpoints(&v) {
        if e["id"] == id.as_str() {
            assert_eq!(e["cause"], "http-blocked", "{e}\n{}", proxy.logs());
            assert_eq!(e["http"]["status"], 403, "{e}");
            let summary = e["summary"].as_str().unwrap();
            assert!(
                summary.contains("squid") && summary.contains("blocks the tunnel"),
                "{summary}"
            );
        } else {
            assert_eq!(e["status"], "pass", "{e}\n{}", proxy.logs());
        }
    }
    assert_eq!(by_id(&v, "network:proxy")["status"], "pass");
    assert_eq!(finding_ids(&v), ["proxy-block"], "{v}");
    assert_eq!(v["findings"][0]["checks"], serde_json::json!([id]));
    assert_eq!(remediation_of(&v, "proxy-block"), "proxy-block");
    let log = proxy.access_log();
    assert!(
        log.lines()
            .any(|l| l.contains("TCP_DENIED/403") && l.contains(DENIED)),
        "{log}"
    );
}

/// squid offering only `scheme` (through `helper`): every endpoint, HTTPS (CONNECT) and
/// HTTP (GET), names the scheme; the proxy check keeps it and, with the finding, leads
/// to the Windows sign-in entry rather than the password one.
fn windows_sign_in_is_named(test: &str, scheme: &str, helper_name: &str, words: &str) {
    let Some((squid, helpers)) = prerequisites(test, &[helper_name], false) else {
        return;
    };
    let lab = LabServe::start();
    let pw = password();
    // The helper would only start when a client answered the challenge; none does.
    let rules = format!(
        "auth_param {kind} program {helper}\n\
         auth_param {kind} children 1 startup=0 idle=1\n\
         acl lab src 127.0.0.0/8\n\
         acl authenticated proxy_auth REQUIRED\n\
         http_access allow lab authenticated\n\
         http_access deny all",
        kind = scheme.to_ascii_lowercase(),
        helper = helpers[0].display(),
    );
    let proxy = Squid::start(&squid, &lab, &rules, &[]);
    // Credentials a user put in the proxy URL are no answer to the challenge, and never shown.
    let (code, v, text) = check(&lab, &proxy.url(Some((USER, &pw))), &[&pw, USER]);
    assert_eq!(code, 2, "{text}");
    for e in endpoints(&v) {
        assert_eq!(e["cause"], "http-proxy-auth", "{e}\n{}", proxy.logs());
        assert_eq!(
            e["http"]["proxy_authenticate"],
            serde_json::json!([scheme]),
            "{e}"
        );
        let summary = e["summary"].as_str().unwrap();
        assert!(summary.contains(&format!("asks for {words}")), "{summary}");
    }
    let p = by_id(&v, "network:proxy");
    assert_eq!(p["status"], "fail", "{p}");
    assert_eq!(p["remediation"], "proxy-auth-windows", "{p}");
    assert_eq!(fact(p, "proxy_auth_schemes"), Some(scheme), "{p}");
    assert!(p["summary"].as_str().unwrap().contains(words), "{p}");
    assert!(finding_ids(&v).iter().any(|f| f == "proxy-auth-windows"), "{v}");
    assert!(!finding_ids(&v).iter().any(|f| f == "proxy-auth"), "{v}");
    assert_eq!(remediation_of(&v, "proxy-auth-windows"), "proxy-auth-windows");
    assert!(
        text.contains(&format!(
            "HTTP 407 from proxy 127.0.0.1:{}: it asks for {words}",
            proxy.port
        )),
        "{text}"
    );
    assert!(text.contains("A proxy demands Windows sign-in"), "{text}");
    let headers = proxy.access_log();
    assert!(headers.contains("TCP_DENIED/407"), "{}", proxy.logs());
}

#[test]
fn a_negotiate_challenge_is_named_as_windows_sign_in() {
    windows_sign_in_is_named(
        "a_negotiate_challenge_is_named_as_windows_sign_in",
        "Negotiate",
        "negotiate_kerberos_auth",
        "Negotiate (Kerberos/Windows) credentials",
    );
}

#[test]
fn an_ntlm_challenge_is_named_as_windows_sign_in() {
    windows_sign_in_is_named(
        "an_ntlm_challenge_is_named_as_windows_sign_in",
        "NTLM",
        "ntlm_fake_auth",
        "NTLM (Windows) credentials",
    );
}
