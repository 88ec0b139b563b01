//! End to end: the real binary monitors the lab with its network scenarios (a proxy that
//! works, wants credentials, blocks, is down; PAC files; the msoid record; a server clock
//! that is off; a captive portal). Each finding must appear in its scenario and be absent
//! in the healthy one, and proxy credentials must never reach any output.

mod support;

use serde_json::Value;
use std::process::{Command, Output};
use support::bin;
use support::lab::write_scenario;
use support::report::{self, by_id, endpoints, fact, finding_ids};

/// The binary with `NO_COLOR=1` and none of the machine's proxy variables.
fn command(args: &[&str]) -> Command {
    let mut c = bin::command(args);
    // The machine's own proxy variables must not leak into these runs' expectations.
    c.env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy");
    c
}

fn m365mon(args: &[&str]) -> Output {
    bin::output(&mut command(args))
}

/// `check --lab <scenario> --format json`: exit code and report.
fn check(scenario: &str) -> (i32, Value) {
    report::run_check(
        &mut command(&["check", "--lab", scenario, "--format", "json", "--timeout", "2"]),
        scenario,
    )
}

const NETWORK_CHECKS: [&str; 5] = [
    "network:proxy",
    "network:pac",
    "network:msoid",
    "network:ncsi",
    "network:clock",
];

#[test]
fn healthy_lab_has_none_of_the_network_findings() {
    let (code, v) = check("healthy");
    assert_eq!(code, 0, "{v}");
    let statuses: Vec<(&str, &str)> = NETWORK_CHECKS
        .iter()
        .map(|id| (*id, by_id(&v, id)["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("network:proxy", "pass"),
            ("network:pac", "skip"),
            ("network:msoid", "pass"),
            ("network:ncsi", "pass"),
            ("network:clock", "pass"),
        ]
    );
    for id in NETWORK_CHECKS {
        assert!(by_id(&v, id)["remediation"].is_null(), "{id}");
    }
    assert!(finding_ids(&v).is_empty(), "{:?}", finding_ids(&v));
    assert!(by_id(&v, "network:proxy")["summary"]
        .as_str()
        .unwrap()
        .contains("direct"));
    assert_eq!(fact(by_id(&v, "network:msoid"), "record"), Some("no CNAME"));
}

#[test]
fn a_working_proxy_carries_every_endpoint_end_to_end() {
    let (code, v) = check("proxy");
    assert_eq!(code, 0, "{v}");
    let proxy = by_id(&v, "network:proxy");
    assert_eq!(proxy["status"], "pass", "{proxy}");
    assert!(
        proxy["summary"]
            .as_str()
            .unwrap()
            .contains("tunnels to Microsoft 365"),
        "{proxy}"
    );
    for e in endpoints(&v) {
        assert_eq!(e["status"], "pass", "{e}");
        let route = fact(e, "route").unwrap_or_else(|| panic!("no route fact: {e}"));
        assert!(route.starts_with("PROXY 127.0.0.1:"), "{route}");
        let tcp = &e["stages"][1];
        assert!(
            tcp["detail"].as_str().unwrap().contains("connected to proxy"),
            "{tcp}"
        );
    }
    // TLS still ends at the endpoint: the lab's public root, not anything of the proxy's.
    let login = by_id(&v, "endpoint:login.microsoftonline.com");
    assert_eq!(login["tls"]["root"], "m365mon Lab Root CA");
}

#[test]
fn proxy_asking_for_credentials() {
    let (code, v) = check("proxy-auth");
    assert_eq!(code, 2);
    let proxy = by_id(&v, "network:proxy");
    assert_eq!(
        (proxy["status"].as_str(), proxy["remediation"].as_str()),
        (Some("fail"), Some("proxy-auth")),
        "{proxy}"
    );
    for e in endpoints(&v) {
        assert_eq!(e["cause"], "http-proxy-auth", "{e}");
    }
    let tls = &by_id(&v, "endpoint:login.microsoftonline.com")["stages"][2];
    assert_eq!(tls["status"], "skip", "no TLS before the tunnel is open: {tls}");
    one_proxy_root_cause(&v, "proxy-auth");
}

/// The proxy's one answer is one root cause over every endpoint and the network checks
/// that went through the proxy (its own check, and NCSI, which is no captive portal).
fn one_proxy_root_cause(v: &Value, id: &str) {
    assert_eq!(finding_ids(v), [id], "{v}");
    let f = &v["findings"][0];
    assert_eq!(f["root_cause"], true, "{f}");
    let checks: Vec<&str> = f["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for e in endpoints(v) {
        assert!(checks.contains(&e["id"].as_str().unwrap()), "{f}");
    }
    assert!(
        checks.contains(&"network:proxy") && checks.contains(&"network:ncsi"),
        "{f}"
    );
    let ncsi = by_id(v, "network:ncsi");
    assert!(
        !ncsi["summary"].as_str().unwrap().contains("captive portal"),
        "a proxy's answer is not a captive portal: {ncsi}"
    );
}

#[test]
fn proxy_answering_with_a_block_page() {
    let (code, v) = check("proxy-block");
    assert_eq!(code, 2);
    let proxy = by_id(&v, "network:proxy");
    assert_eq!(
        (proxy["status"].as_str(), proxy["remediation"].as_str()),
        (Some("fail"), Some("proxy-block")),
        "{proxy}"
    );
    for e in endpoints(&v) {
        assert_eq!(e["cause"], "http-blocked", "{e}");
    }
    // Plain-HTTP endpoints asked with an absolute-form GET get the block page too.
    let crl = endpoints(&v)
        .into_iter()
        .find(|e| e["target"].as_str().unwrap().starts_with("http://"))
        .unwrap();
    assert_eq!(crl["http"]["status"], 403, "{crl}");
    one_proxy_root_cause(&v, "proxy-block");
}

#[test]
fn unreachable_proxy_is_a_tcp_failure_naming_the_proxy() {
    let (code, v) = check("proxy-down");
    assert_eq!(code, 2);
    let proxy = by_id(&v, "network:proxy");
    assert_eq!(
        (proxy["status"].as_str(), proxy["remediation"].as_str()),
        (Some("fail"), Some("proxy")),
        "{proxy}"
    );
    assert!(
        proxy["summary"].as_str().unwrap().contains("unreachable"),
        "{proxy}"
    );
    for e in endpoints(&v) {
        assert_eq!(e["cause"], "tcp-refused", "{e}");
        let detail = e["stages"][1]["detail"].as_str().unwrap();
        assert!(detail.contains("(proxy 127.0.0.1:"), "{detail}");
    }
    // One root cause, the proxy, that explains every endpoint and the proxy check.
    let top = &v["findings"][0];
    assert_eq!(
        (top["id"].as_str(), top["root_cause"].as_bool()),
        (Some("proxy-timeout"), Some(true)),
        "{top}"
    );
    let listed = top["checks"].as_array().unwrap();
    assert_eq!(listed.len(), endpoints(&v).len() + 1, "{top}");
    assert!(top["title"].as_str().unwrap().contains("127.0.0.1:"), "{top}");
}

#[test]
fn pac_file_routes_per_endpoint() {
    let (code, v) = check("pac");
    assert_eq!(code, 0, "{v}");
    let pac = by_id(&v, "network:pac");
    assert_eq!(pac["status"], "pass", "{pac}");
    assert_eq!(fact(pac, "https://login.microsoftonline.com/"), Some("DIRECT"));
    let activation = fact(pac, "https://activation.sls.microsoft.com/").unwrap();
    assert!(activation.starts_with("PROXY 127.0.0.1:"), "{activation}");
    // The probes took the same routes.
    let route = |id: &str| fact(by_id(&v, id), "route").unwrap().to_string();
    assert!(route("endpoint:login.microsoftonline.com").starts_with("DIRECT"));
    assert!(route("endpoint:activation.sls.microsoft.com").starts_with("PROXY 127.0.0.1:"));
    assert!(endpoints(&v).iter().all(|e| e["status"] == "pass"));
}

#[test]
fn broken_pac_file_fails_its_check_and_the_probes_go_direct() {
    let (code, v) = check("pac-broken");
    assert_eq!(code, 2);
    let pac = by_id(&v, "network:pac");
    assert_eq!(
        (pac["status"].as_str(), pac["remediation"].as_str()),
        (Some("fail"), Some("proxy")),
        "{pac}"
    );
    assert!(
        pac["summary"].as_str().unwrap().contains("corporateRoute"),
        "{pac}"
    );
    for e in endpoints(&v) {
        assert_eq!(e["status"], "pass", "{e}");
    }
    assert!(finding_ids(&v).contains(&"network:pac".to_string()));
}

#[test]
fn pac_scenarios_from_files_loop_forever_or_cannot_be_downloaded() {
    let dir = tempfile::tempdir().unwrap();
    let loops = write_scenario(
        dir.path(),
        "pac-loops",
        "[proxy]\npac = true\npac_script = \"function FindProxyForURL(url, host) { for (;;) {} }\"\n",
    );
    let (code, v) = check(loops.to_str().unwrap());
    assert_eq!(code, 2);
    let pac = by_id(&v, "network:pac");
    assert!(
        pac["summary"]
            .as_str()
            .unwrap()
            .contains("PAC evaluation exceeded 200 ms"),
        "{pac}"
    );
    let down = write_scenario(
        dir.path(),
        "pac-down",
        "[proxy]\npac = true\nunreachable = true\n",
    );
    let (_, v) = check(down.to_str().unwrap());
    let pac = by_id(&v, "network:pac");
    assert_eq!(pac["status"], "fail");
    assert!(
        pac["summary"]
            .as_str()
            .unwrap()
            .contains("cannot download the PAC file"),
        "{pac}"
    );
}

#[test]
fn msoid_cname_for_china_fails_outside_china() {
    let (code, v) = check("msoid-china");
    assert_eq!(code, 2);
    let msoid = by_id(&v, "network:msoid");
    assert_eq!(
        (msoid["status"].as_str(), msoid["remediation"].as_str()),
        (Some("fail"), Some("msoid-cname")),
        "{msoid}"
    );
    assert_eq!(
        fact(msoid, "record"),
        Some("CNAME clientconfig.partner.microsoftonline-p.net.cn")
    );
    assert!(finding_ids(&v).contains(&"network:msoid".to_string()));
}

#[test]
fn server_clocks_ten_minutes_behind() {
    let (code, v) = check("clock-skew");
    assert_eq!(code, 2);
    let clock = by_id(&v, "network:clock");
    assert_eq!(
        (clock["status"].as_str(), clock["remediation"].as_str()),
        (Some("fail"), Some("clock-skew")),
        "{clock}"
    );
    assert!(clock["summary"].as_str().unwrap().contains("ahead of"), "{clock}");
    let skew = fact(clock, "skew").unwrap();
    let secs: i64 = skew
        .split_whitespace()
        .next()
        .unwrap()
        .trim_start_matches('+')
        .parse()
        .unwrap();
    assert!((595..=605).contains(&secs), "{skew}");
}

#[test]
fn captive_portal_fails_the_connectivity_indicator() {
    let (code, v) = check("captive-portal");
    assert_eq!(code, 2);
    let ncsi = by_id(&v, "network:ncsi");
    assert_eq!(
        (ncsi["status"].as_str(), ncsi["remediation"].as_str()),
        (Some("fail"), Some("ncsi")),
        "{ncsi}"
    );
    assert!(
        ncsi["summary"]
            .as_str()
            .unwrap()
            .contains("redirects to http://portal.contoso.lab/login"),
        "{ncsi}"
    );
    let dir = tempfile::tempdir().unwrap();
    let page = write_scenario(dir.path(), "portal-page", "captive_portal = \"login-page\"\n");
    let (_, v) = check(page.to_str().unwrap());
    let ncsi = by_id(&v, "network:ncsi");
    assert_eq!(ncsi["status"], "fail");
    assert!(
        ncsi["summary"].as_str().unwrap().contains("other content"),
        "{ncsi}"
    );
}

/// A proxy that needs credentials, and a state file that carries them: the probes log in
/// and pass, and the password shows in no report format, on stdout or stderr.
#[test]
fn proxy_credentials_never_reach_any_output() {
    const SECRET: &str = "Sup3r-S3cret-Pa55";
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        "proxy-login",
        &format!("[proxy]\ncredentials = \"labuser:{SECRET}\"\npublish_credentials = true\n"),
    );
    let (code, v) = check(path.to_str().unwrap());
    assert_eq!(code, 0, "the credentials work: {v}");
    let route = fact(by_id(&v, "endpoint:login.microsoftonline.com"), "route").unwrap();
    assert!(route.contains("with credentials"), "{route}");
    for format in ["json", "text", "markdown"] {
        let out = m365mon(&[
            "check",
            "--lab",
            path.to_str().unwrap(),
            "--format",
            format,
            "--timeout",
            "2",
        ]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !all.contains(SECRET),
            "{format} output shows the password:\n{all}"
        );
        assert!(
            !all.contains("labuser"),
            "{format} output shows the user name:\n{all}"
        );
    }
}

/// `lab serve` writes the proxy and PAC URL into its state file; `--lab-connect` follows
/// the PAC file like the embedded lab does.
#[test]
fn state_file_carries_the_proxy_and_pac_url() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut serve = Command::new(bin::BIN)
        .args([
            "lab",
            "serve",
            "--scenario",
            "pac",
            "--state-file",
            state.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !state.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&state).unwrap_or_default();
    let out = m365mon(&[
        "check",
        "--lab-connect",
        state.to_str().unwrap(),
        "--format",
        "json",
        "--timeout",
        "2",
    ]);
    let _ = serve.kill();
    let _ = serve.wait();
    let s: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(
        s["proxy"].as_str().unwrap().starts_with("http://127.0.0.1:"),
        "{s}"
    );
    assert!(s["pac_url"].as_str().unwrap().ends_with("/proxy.pac"), "{s}");
    assert_eq!(s["domain"], "contoso.lab");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(by_id(&v, "network:pac")["status"], "pass", "{v}");
    let route = fact(by_id(&v, "endpoint:activation.sls.microsoft.com"), "route").unwrap();
    assert!(route.starts_with("PROXY 127.0.0.1:"), "{route}");
}

/// Through the library: the same CNAME is expected for a tenant in the cloud operated by
/// 21Vianet, and without a tenant domain the check is skipped with its reason.
#[tokio::test]
async fn msoid_depends_on_the_cloud_and_needs_a_domain() {
    use m365mon::checks::{msoid, Instance};
    use m365mon::engine::session::lab_settings;
    use m365mon::lab::{Lab, LabOptions, Scenario};

    let catalog = m365mon::catalog::Catalog::builtin();
    let lab = Lab::start(
        Scenario::builtin("msoid-china").unwrap(),
        &catalog,
        LabOptions::default(),
    )
    .await
    .unwrap();
    let settings = lab_settings(lab.state(), std::time::Duration::from_secs(2), 8).unwrap();
    let mut plan = m365mon::engine::plan::SweepPlan::new(catalog.endpoints.clone(), settings);
    let routes = plan.decide_routes().await;
    plan.checks.domain = Some("contoso.lab".into());
    plan.checks.instance = Instance::China;
    let r = msoid::check(&plan.check_inputs(&routes)).await;
    assert_eq!(
        (r.status.as_str(), r.remediation.as_deref()),
        ("pass", None),
        "{r:?}"
    );
    plan.checks.instance = Instance::Worldwide;
    assert_eq!(
        msoid::check(&plan.check_inputs(&routes)).await.status.as_str(),
        "fail"
    );
    plan.checks.domain = None;
    let r = msoid::check(&plan.check_inputs(&routes)).await;
    assert_eq!(r.status.as_str(), "skip");
    assert!(
        r.facts.iter().any(|(k, v)| k == "why" && v.contains("--domain")),
        "{r:?}"
    );
    lab.shutdown().await;
}

/// When DNS itself is down, the connectivity-indicator check fails with a DNS cause, so a
/// DNS root cause can explain it; the msoid check says it could not look (a skip).
#[test]
fn dns_outage_marks_the_network_checks_as_dns_symptoms() {
    let (_, v) = check("dns-outage");
    let ncsi = by_id(&v, "network:ncsi");
    assert_eq!(
        (ncsi["status"].as_str(), ncsi["cause"].as_str()),
        (Some("fail"), Some("dns-servfail")),
        "{ncsi}"
    );
    let msoid = by_id(&v, "network:msoid");
    assert_eq!(msoid["status"], "skip", "{msoid}");
    assert!(
        msoid["summary"]
            .as_str()
            .unwrap()
            .contains("cannot look up msoid.contoso.lab"),
        "{msoid}"
    );
}
