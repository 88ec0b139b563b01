//! PAC files in the shapes found on real networks, run by the monitor's PAC engine: the
//! route each endpoint gets, a PAC file that loops forever (stopped by the time limit),
//! one that throws, and name lookups answered by a real DNS server (the lab's).

mod support;

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use m365mon::catalog::{Endpoint, Scheme};
use m365mon::lab::Scenario;
use m365mon::probe::{Dns, DnsChoice};
use m365mon::route::pac::sandbox::{self as engine, Environment, PacError};
use m365mon::route::pac::{self, parse_answer, CALL_LIMIT};
use m365mon::route::{Network, Route};

/// Name lookups through a real resolver (the lab's DNS server), as the engine hands the
/// sweep's resolver to route planning.
struct Resolver(Dns);

impl Network for Resolver {
    async fn resolve(&self, name: &str) -> Result<Vec<IpAddr>, String> {
        self.0.resolve(name, self.timeout()).await.map_err(|f| f.detail)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(2)
    }

    fn my_ip(&self) -> IpAddr {
        "127.0.0.1".parse().unwrap()
    }
}

fn fixture(name: &str) -> String {
    support::files::read_fixture("fixtures/pac", name)
}

/// Thursday 26 November 2026, at `hour`:00 local time.
fn env_at(hour: u32, names: &[(&str, &str)]) -> Environment {
    let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
        .unwrap()
        .and_hms_opt(hour, 0, 0)
        .unwrap();
    Environment {
        names: names
            .iter()
            .map(|(n, ip)| (n.to_string(), ip.parse::<IpAddr>().ok()))
            .collect(),
        my_ip: "10.20.30.40".parse().unwrap(),
        now_local: at,
        now_utc: at,
    }
}

/// The route each URL gets.
fn routes(script: &str, urls: &[&str], env: &Environment) -> Vec<String> {
    let queries: Vec<(String, String)> = urls
        .iter()
        .map(|u| {
            let host = u
                .split("://")
                .nth(1)
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_string();
            (u.to_string(), host)
        })
        .collect();
    let run = engine::run(script, &queries, env, CALL_LIMIT);
    assert_eq!(run.load_error, None);
    run.answers
        .into_iter()
        .map(|a| match a {
            Ok(text) => parse_answer(&text)
                .map(|(r, _)| r.describe())
                .unwrap_or_else(|e| format!("unusable: {e}")),
            Err(e) => format!("error: {e}"),
        })
        .collect()
}

#[test]
fn microsoft_365_direct_everything_else_through_the_gateway() {
    let got = routes(
        &fixture("m365-direct.pac"),
        &[
            "https://login.microsoftonline.com/",
            "https://ols.officeapps.live.com/olsc/",
            "https://activation.sls.microsoft.com/",
            "https://login.windows.net/",
            "http://intranet/",
            "https://www.bing.com/",
            "http://crl.microsoft.com/pki/crl/products/MicrosoftRootAuthority.crl",
        ],
        &env_at(10, &[]),
    );
    assert_eq!(
        got,
        [
            "DIRECT",
            "DIRECT",
            "DIRECT",
            "DIRECT",
            "DIRECT",
            "PROXY gateway.contoso.com:8080",
            "PROXY gateway.contoso.com:8080",
        ]
    );
}

#[test]
fn internal_networks_by_isinnet_and_the_scheme_of_the_url() {
    let names = [
        ("wiki.fabrikam.com", "10.4.5.6"),
        ("hr.fabrikam.com", "172.20.1.1"),
        ("www.bing.com", "13.107.21.200"),
    ];
    let got = routes(
        &fixture("corporate-isinnet.pac"),
        &[
            "https://wiki.fabrikam.com/",
            "https://hr.fabrikam.com/",
            "https://intranet/",
            "https://login.microsoftonline.com/",
            "https://login.live.com/",
            "https://www.bing.com/",
            "http://www.bing.com/",
        ],
        &env_at(10, &names),
    );
    assert_eq!(
        got,
        [
            "DIRECT",
            "DIRECT",
            "DIRECT",
            "DIRECT",
            "DIRECT",
            "PROXY proxy.fabrikam.com:3128",
            "PROXY proxy-http.fabrikam.com:3128",
        ]
    );
}

#[test]
fn time_of_day_and_weekday_pick_the_proxy() {
    let script = fixture("office-hours.pac");
    let url = ["https://login.microsoftonline.com/"];
    assert_eq!(
        routes(&script, &url, &env_at(10, &[])),
        ["PROXY filter.woodgrove.com:8080"]
    );
    assert_eq!(
        routes(&script, &url, &env_at(20, &[])),
        ["DIRECT"],
        "after office hours, in November"
    );
    let mut sunday = env_at(10, &[]);
    sunday.now_local = chrono::NaiveDate::from_ymd_opt(2026, 12, 27)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    assert_eq!(
        routes(&script, &url, &sunday),
        ["PROXY holiday.woodgrove.com:8080"],
        "a Sunday in December"
    );
}

#[test]
fn a_socks_entry_is_skipped_for_the_next_usable_one() {
    let run = engine::run(
        &fixture("socks-fallback.pac"),
        &[("https://a.example/".into(), "a.example".into())],
        &env_at(10, &[]),
        CALL_LIMIT,
    );
    let (route, note) = parse_answer(run.answers[0].as_ref().unwrap()).unwrap();
    assert_eq!(route.describe(), "PROXY http-proxy.contoso.com:8080");
    assert!(note.unwrap().contains("SOCKS5"));
}

#[test]
fn a_pac_file_that_loops_forever_is_stopped_by_the_time_limit() {
    let queries = [
        (
            "https://activation.sls.microsoft.com/".to_string(),
            "activation.sls.microsoft.com".to_string(),
        ),
        ("https://www.bing.com/".to_string(), "www.bing.com".to_string()),
    ];
    let started = Instant::now();
    let run = engine::run(
        &fixture("loops-forever.pac"),
        &queries,
        &env_at(10, &[]),
        CALL_LIMIT,
    );
    let took = started.elapsed();
    assert_eq!(run.answers[0], Err(PacError::TimeLimit(CALL_LIMIT)));
    assert_eq!(
        run.answers[1],
        Ok("PROXY proxy.contoso.com:8080".to_string()),
        "other hosts still get answers"
    );
    // The limit is 200 ms per call: one stopped call, the reload and one quick call.
    assert!(took >= CALL_LIMIT && took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn a_pac_file_that_throws_names_the_error() {
    let queries = [
        (
            "https://ols.officeapps.live.com/".to_string(),
            "ols.officeapps.live.com".to_string(),
        ),
        (
            "https://login.microsoftonline.com/".to_string(),
            "login.microsoftonline.com".to_string(),
        ),
    ];
    let run = engine::run(&fixture("throws.pac"), &queries, &env_at(10, &[]), CALL_LIMIT);
    match &run.answers[0] {
        Err(PacError::Script(msg)) => assert!(msg.contains("browserSpecificRoute"), "{msg}"),
        other => panic!("expected a script error, got {other:?}"),
    }
    assert_eq!(run.answers[1], Ok("DIRECT".to_string()));
}

/// `evaluate` resolves the names the script asks for with the sweep's resolver (here the
/// lab's DNS server, which answers 127.77.0.x on Linux and 127.0.0.1 elsewhere) and runs
/// the script again with the answers.
#[tokio::test]
async fn names_are_resolved_by_the_sweeps_resolver() {
    // In the monitor's worker process, as the binary runs it: the misses come back from it.
    pac::worker::install(support::bin::BIN.into());
    let lab = support::lab::start(Scenario::builtin("healthy").unwrap()).await;
    let resolver = Dns::new(&DnsChoice::Server(lab.state().dns), Duration::from_secs(2)).unwrap();
    let script = r#"
        function FindProxyForURL(url, host) {
          if (!isResolvable(host)) return "PROXY unresolved.example:1";
          if (isInNet(dnsResolve(host), "127.0.0.0", "255.0.0.0")) return "DIRECT";
          return "PROXY elsewhere.example:1";
        }"#;
    let endpoints = vec![
        Endpoint::new("login.microsoftonline.com", Scheme::Https, "/"),
        Endpoint::new("not-in-the-lab.example", Scheme::Https, "/"),
    ];
    let decisions = pac::evaluate(script, &endpoints, &Resolver(resolver))
        .await
        .unwrap();
    let got: Vec<(String, Route)> = decisions.into_iter().map(|d| (d.url, d.route)).collect();
    assert_eq!(
        got[0],
        ("https://login.microsoftonline.com/".to_string(), Route::Direct)
    );
    assert_eq!(got[1].1.describe(), "PROXY unresolved.example:1");
    lab.shutdown().await;
}

#[test]
fn every_fixture_loads() {
    let dir = support::files::repo("tests/fixtures/pac");
    let mut seen = HashMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let run = engine::run(
            &std::fs::read_to_string(&path).unwrap(),
            &[],
            &env_at(10, &[]),
            CALL_LIMIT,
        );
        seen.insert(
            path.file_name().unwrap().to_string_lossy().into_owned(),
            run.load_error,
        );
    }
    assert!(seen.len() >= 6, "{seen:?}");
    assert!(seen.values().all(Option::is_none), "{seen:?}");
}
