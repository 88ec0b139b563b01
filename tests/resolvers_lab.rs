//! The resolvers check against real DNS servers on loopback: the lab's (healthy, and with
//! its DNS fault modes) and a socket that takes queries and never answers.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use m365mon::catalog::Catalog;
use m365mon::checks::resolvers::{self, Answer, Resolver, ResolverList};
use m365mon::engine::SweepPlan;
use m365mon::lab::{Fault, FaultMode, Lab, Scenario};
use m365mon::model::Status;
use support::results::fact;

const TIMEOUT: Duration = Duration::from_millis(800);

fn scenario(faults: Vec<Fault>) -> Scenario {
    let mut s = Scenario::builtin("healthy").expect("the healthy scenario");
    s.faults = faults;
    s
}

async fn lab_plan(faults: Vec<Fault>) -> (Lab, SweepPlan) {
    support::lab::lab_plan(scenario(faults), Catalog::builtin().endpoints, TIMEOUT).await
}

#[tokio::test]
async fn healthy_lab_dns_answers() {
    let (lab, plan) = lab_plan(Vec::new()).await;
    let r = resolvers::check(&plan.check_inputs(&plan.decide_routes().await)).await;
    assert_eq!(r.status, Status::Pass, "{} {:?}", r.summary, r.facts);
    assert_eq!(fact(&r, "resolvers"), lab.state().dns.to_string());
    assert_eq!(fact(&r, "answering"), "1 of 1");
    let name = fact(&r, "queried_name");
    assert!(name.starts_with("login."), "{name}");
    let answer = fact(&r, &format!("resolver {}", lab.state().dns));
    assert!(
        answer.starts_with("answers in") && answer.ends_with("(the lab's DNS server)"),
        "{answer}"
    );
    // The address it gave is the lab's address for that host.
    let served = lab
        .state()
        .endpoints
        .iter()
        .find(|e| e.host == name)
        .unwrap()
        .addr
        .to_string();
    assert!(answer.contains(&served), "{answer} lacks {served}");
    lab.shutdown().await;
}

#[tokio::test]
async fn lab_dns_that_never_answers_fails() {
    let faults = vec![Fault::new("*", FaultMode::DnsTimeout)];
    let (lab, plan) = lab_plan(faults).await;
    let started = Instant::now();
    let r = resolvers::check(&plan.check_inputs(&plan.decide_routes().await)).await;
    assert_eq!(r.status, Status::Fail, "{}", r.summary);
    assert!(r.summary.contains("no DNS server answers"), "{}", r.summary);
    assert_eq!(r.remediation.as_deref(), Some("dns-failure"));
    assert!(
        started.elapsed() < TIMEOUT * 3,
        "one short query, not a retry storm: {:?}",
        started.elapsed()
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn lab_dns_saying_nxdomain_answers_but_gives_no_address() {
    let (lab, plan) = lab_plan(vec![Fault::new("*", FaultMode::DnsNxdomain)]).await;
    let r = resolvers::check(&plan.check_inputs(&plan.decide_routes().await)).await;
    assert_eq!(r.status, Status::Fail);
    assert!(r.summary.contains("give no address"), "{}", r.summary);
    assert!(
        fact(&r, &format!("resolver {}", lab.state().dns)).contains("NXDOMAIN"),
        "{:?}",
        r.facts
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn one_dead_server_beside_a_working_one_is_a_warning() {
    let (lab, plan) = lab_plan(Vec::new()).await;
    // Takes queries, never answers: what a resolver left behind by a VPN looks like.
    let dead = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let dead_addr: SocketAddr = dead.local_addr().unwrap();
    let list = ResolverList {
        resolvers: vec![
            Resolver {
                addr: lab.state().dns,
                origin: "test line 1".into(),
            },
            Resolver {
                addr: dead_addr,
                origin: "test line 2".into(),
            },
        ],
        source: "test".into(),
        ..Default::default()
    };
    let name = resolvers::query_name(&plan.endpoints);
    let mut answers = Vec::new();
    for r in &list.resolvers {
        answers.push(resolvers::ask(r, &name, TIMEOUT).await);
    }
    assert!(matches!(answers[0], Answer::Resolved { .. }), "{:?}", answers[0]);
    assert!(matches!(answers[1], Answer::Silent { .. }), "{:?}", answers[1]);
    let r = resolvers::evaluate(&list, &name, &answers);
    assert_eq!(r.status, Status::Warn, "{}", r.summary);
    assert_eq!(fact(&r, "answering"), "1 of 2");
    assert!(
        fact(&r, &format!("resolver {dead_addr}")).starts_with("no answer"),
        "{:?}",
        r.facts
    );
    drop(dead);
    lab.shutdown().await;
}
