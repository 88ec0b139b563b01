//! Both address families against the lab started with IPv6 (`lab serve --ipv6`): every
//! endpoint has an IPv4 and an IPv6 address, each probed on its own. Outside a network
//! namespace of its own the lab's IPv6 addresses are `::1` (ports of their own); the
//! faults below target one family through the lab's listeners, so no root is needed.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use m365mon::catalog::Catalog;
use m365mon::diagnosis::findings::diagnose;
use m365mon::engine::{run_sweep, SweepPlan};
use m365mon::lab::{Fault, FaultMode, Lab, Scenario};
use m365mon::model::{Cause, CheckKind, CheckResult, IpFamily, IpFamilyChoice, StageName, Status};
use m365mon::probe::{self, DnsChoice};
use support::results::find;

const TIMEOUT: Duration = Duration::from_secs(1);

fn scenario(faults: Vec<Fault>) -> Scenario {
    let mut s = Scenario::builtin("healthy").expect("the healthy scenario");
    s.faults = faults;
    s
}

async fn dual(faults: Vec<Fault>) -> (Lab, SweepPlan) {
    support::lab::dual_stack_plan(scenario(faults), Catalog::builtin().endpoints, TIMEOUT).await
}

fn endpoints(checks: &[CheckResult]) -> Vec<&CheckResult> {
    checks.iter().filter(|c| c.kind == CheckKind::Endpoint).collect()
}

#[tokio::test]
async fn every_endpoint_is_probed_over_both_families() {
    let (lab, plan) = dual(Vec::new()).await;
    assert!(
        lab.state()
            .endpoints
            .iter()
            .all(|e| e.addr6.is_some_and(|a| a.is_ipv6())),
        "every endpoint has an addr6 in the state: {:?}",
        lab.state().endpoints
    );
    let (checks, _) = run_sweep(&plan).await;
    let eps = endpoints(&checks);
    assert_eq!(eps.len(), 20);
    for c in &eps {
        assert_eq!(c.status, Status::Pass, "{}: {}", c.id, c.summary);
        let families: Vec<IpFamily> = c.addresses.iter().map(|a| a.family).collect();
        assert_eq!(families, [IpFamily::Ipv4, IpFamily::Ipv6], "{}", c.id);
        for a in &c.addresses {
            assert_eq!(a.status, Status::Pass);
            let names: Vec<StageName> = a.stages.iter().map(|s| s.name).collect();
            assert_eq!(
                names,
                [StageName::Tcp, StageName::Tls, StageName::Http],
                "{} {}",
                c.id,
                a.addr
            );
            // Each address has its own timings.
            assert!(a.stages.iter().all(|s| s.status != Status::Pass || s.ms >= 0.0));
        }
        // The top-level stages still read as before: dns, then the deciding address's.
        let top: Vec<StageName> = c.stages.iter().map(|s| s.name).collect();
        assert_eq!(top[0], StageName::Dns);
        let dns = c.dns.as_ref().expect("dns info");
        assert_eq!(
            dns.resolver,
            lab.state().dns.to_string(),
            "the lab's server answered"
        );
        assert_eq!(dns.ipv4.len(), 1);
        assert_eq!(dns.ipv6.len(), 1);
    }
    assert!(diagnose(&checks).is_empty(), "{:#?}", diagnose(&checks));
    lab.shutdown().await;
}

#[tokio::test]
async fn the_cname_chain_to_the_front_door_is_shown() {
    let (lab, plan) = dual(Vec::new()).await;
    let (checks, _) = run_sweep(&plan).await;
    let login = find(&checks, "endpoint:login.microsoftonline.com");
    let dns = login.dns.as_ref().unwrap();
    assert_eq!(
        dns.cname_chain,
        [
            "login.microsoftonline.com",
            "login.mso.msidentity.com",
            "ak.privatelink.msidentity.com",
            "www.tm.ak.prd.aadg.trafficmanager.net"
        ]
    );
    let detail = &login.stage(StageName::Dns).unwrap().detail;
    assert!(
        detail.contains("via login.mso.msidentity.com → ak.privatelink.msidentity.com → www.tm.ak.prd.aadg.trafficmanager.net"),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("resolver {}", lab.state().dns)),
        "{detail}"
    );
    // A name without CNAME has no chain.
    let other = find(&checks, "endpoint:login.microsoft.com");
    assert!(other.dns.as_ref().unwrap().cname_chain.is_empty());
    lab.shutdown().await;
}

#[tokio::test]
async fn a_dropped_ipv6_path_fails_the_endpoint_with_a_finding_of_its_own() {
    let host = "activation.sls.microsoft.com";
    let faults = vec![Fault::new(host, FaultMode::Blackhole).on_family(IpFamily::Ipv6)];
    let (lab, plan) = dual(faults).await;
    let addr6 = lab
        .state()
        .endpoints
        .iter()
        .find(|e| e.host == host)
        .and_then(|e| e.addr6)
        .unwrap();
    let (checks, _) = run_sweep(&plan).await;
    let failing: Vec<&CheckResult> = endpoints(&checks)
        .into_iter()
        .filter(|c| c.status != Status::Pass)
        .collect();
    assert_eq!(failing.len(), 1, "exactly one endpoint fails: {failing:#?}");
    let c = failing[0];
    assert_eq!(c.id, format!("endpoint:{host}"));
    assert_eq!(c.status, Status::Fail);
    assert_eq!(c.cause, Some(Cause::TcpTimeout));
    assert!(
        c.summary
            .starts_with(&format!("IPv6 path broken while IPv4 works: {addr6}")),
        "{}",
        c.summary
    );
    let v4 = c.addresses.iter().find(|a| a.family == IpFamily::Ipv4).unwrap();
    let v6 = c.addresses.iter().find(|a| a.family == IpFamily::Ipv6).unwrap();
    assert_eq!(v4.status, Status::Pass);
    assert_eq!(
        (v6.status, v6.cause, v6.addr.clone()),
        (Status::Fail, Some(Cause::TcpTimeout), addr6.to_string())
    );

    let findings = diagnose(&checks);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.id, "ipv6-path-broken");
    assert_eq!(f.title, "IPv6 path broken while IPv4 works");
    assert_eq!(f.checks, std::slice::from_ref(&c.id));
    assert_eq!(f.remediation_id, "ipv6-path-broken");
    assert!(f.detail.contains(&addr6.to_string()), "{}", f.detail);
    if cfg!(target_os = "linux") {
        // The cost comes from this machine's own setting, not a number in the code.
        let retries: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_syn_retries")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let secs = (1u64 << (retries + 1)) - 1;
        assert!(
            f.detail
                .contains(&format!("about {secs} s per unanswered address on this machine")),
            "{}",
            f.detail
        );
    }
    lab.shutdown().await;
}

#[tokio::test]
async fn a_refused_ipv4_path_names_the_ipv4_address() {
    let host = "login.microsoft.com";
    let faults = vec![Fault::new(host, FaultMode::Refuse).on_family(IpFamily::Ipv4)];
    let (lab, plan) = dual(faults).await;
    let addr = lab
        .state()
        .endpoints
        .iter()
        .find(|e| e.host == host)
        .unwrap()
        .addr;
    let (checks, _) = run_sweep(&plan).await;
    let failing: Vec<&CheckResult> = endpoints(&checks)
        .into_iter()
        .filter(|c| c.status != Status::Pass)
        .collect();
    assert_eq!(failing.len(), 1, "{failing:#?}");
    assert_eq!(failing[0].id, format!("endpoint:{host}"));
    assert!(
        failing[0]
            .summary
            .starts_with(&format!("IPv4 path broken while IPv6 works: {addr}")),
        "{}",
        failing[0].summary
    );
    let findings = diagnose(&checks);
    assert_eq!(findings[0].id, "ipv4-path-broken", "{findings:#?}");
    lab.shutdown().await;
}

#[tokio::test]
async fn ip_family_4_leaves_the_ipv6_path_alone() {
    let host = "activation.sls.microsoft.com";
    let faults = vec![Fault::new(host, FaultMode::Blackhole).on_family(IpFamily::Ipv6)];
    let (lab, mut plan) = dual(faults).await;
    plan.settings.families = IpFamilyChoice::Only4;
    let (checks, _) = run_sweep(&plan).await;
    for c in endpoints(&checks) {
        assert_eq!(c.status, Status::Pass, "{}: {}", c.id, c.summary);
        assert!(
            c.addresses.iter().all(|a| a.family == IpFamily::Ipv4),
            "{:?}",
            c.addresses
        );
        assert!(c.dns.as_ref().unwrap().ipv6.is_empty(), "AAAA not even asked");
    }
    plan.settings.families = IpFamilyChoice::Only6;
    let (checks, _) = run_sweep(&plan).await;
    let c = find(&checks, &format!("endpoint:{host}"));
    assert_eq!(c.status, Status::Fail);
    assert!(c.addresses.iter().all(|a| a.family == IpFamily::Ipv6));
    lab.shutdown().await;
}

#[tokio::test]
async fn a_dns_fault_on_aaaa_only_leaves_the_endpoint_on_ipv4() {
    let host = "login.windows.net";
    let faults = vec![Fault::new(host, FaultMode::DnsNxdomain).on_family(IpFamily::Ipv6)];
    let (lab, plan) = dual(faults).await;
    let (checks, _) = run_sweep(&plan).await;
    let c = find(&checks, &format!("endpoint:{host}"));
    assert_eq!(c.status, Status::Pass, "{}", c.summary);
    let dns = c.dns.as_ref().unwrap();
    assert_eq!((dns.ipv4.len(), dns.ipv6.len()), (1, 0));
    assert_eq!(c.addresses.len(), 1);
    lab.shutdown().await;
}

#[tokio::test]
async fn a_resolver_that_drops_aaaa_queries_is_noted_and_ipv4_still_works() {
    let host = "login.windows.net";
    let faults = vec![Fault::new(host, FaultMode::DnsTimeout).on_family(IpFamily::Ipv6)];
    let (lab, plan) = dual(faults).await;
    let (checks, _) = run_sweep(&plan).await;
    let c = find(&checks, &format!("endpoint:{host}"));
    assert_eq!(c.status, Status::Pass, "{}", c.summary);
    let dns = c.dns.as_ref().unwrap();
    assert_eq!((dns.ipv4.len(), dns.ipv6.len()), (1, 0));
    assert_eq!(dns.notes, ["AAAA: no answer from the DNS server within 1.0 s"]);
    let stage = c.stage(StageName::Dns).unwrap();
    assert!(stage.detail.contains("AAAA: no answer"), "{}", stage.detail);
    // The wait is the cap: what a client of such a resolver waits too.
    assert!(stage.ms >= 800.0, "{}", stage.ms);
    lab.shutdown().await;
}

/// The `dns` stage ends within its cap whatever hickory's own timeouts do: a DNS server
/// that takes every query and never answers (a bound UDP socket that reads and drops).
#[tokio::test]
async fn a_dns_server_that_never_answers_ends_the_stage_at_its_cap() {
    let (lab, mut plan) = dual(Vec::new()).await;
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let silent_addr: SocketAddr = silent.local_addr().unwrap();
    let reader = tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while silent.recv_from(&mut buf).await.is_ok() {}
    });
    plan.settings.dns = DnsChoice::Server(silent_addr);
    let cap = Duration::from_millis(600);
    plan.settings.timeout = cap;
    let routes = plan.decide_routes().await;
    let started = Instant::now();
    let results = probe::sweep(&plan.endpoints[..4], &plan.settings, &routes).await;
    let wall = started.elapsed();
    // A correctness bound, not a benchmark: 60 ms of slack for scheduling on a busy machine.
    let bound = cap.as_secs_f64() * 1000.0 + 60.0;
    for r in &results {
        assert_eq!(r.cause, Some(Cause::DnsTimeout), "{}: {}", r.id, r.summary);
        let dns = r.stage(StageName::Dns).unwrap();
        assert!(
            dns.ms <= bound,
            "{}: dns stage took {} ms, cap {cap:?}",
            r.id,
            dns.ms
        );
        assert!(
            r.duration_ms <= bound,
            "{}: probe took {} ms",
            r.id,
            r.duration_ms
        );
        assert!(dns.detail.contains("within 0.6 s"), "{}", dns.detail);
    }
    assert!(
        wall.as_secs_f64() * 1000.0 <= bound + 100.0,
        "sweep took {wall:?}"
    );
    reader.abort();
    lab.shutdown().await;
}
