//! Through a proxy the endpoint's name is resolved by the proxy, never here: the `dns`
//! stage must say so rather than show a green light for a lookup that did not run.

mod support;

use std::time::Duration;

use m365mon::catalog::Catalog;
use m365mon::engine::run_sweep;
use m365mon::lab::Scenario;
use m365mon::model::{CheckKind, StageName, Status};

#[tokio::test]
async fn through_a_proxy_given_as_an_address_dns_is_not_run_here() {
    let scenario = Scenario::builtin("proxy").expect("the proxy scenario");
    let (lab, plan) =
        support::lab::lab_plan(scenario, Catalog::builtin().endpoints, Duration::from_secs(2)).await;
    let proxy = lab.state().proxy.clone().expect("the scenario has a proxy");
    assert!(
        proxy.starts_with("http://127.0.0.1:"),
        "given as an address: {proxy}"
    );
    let (checks, _) = run_sweep(&plan).await;
    let endpoints: Vec<_> = checks.iter().filter(|c| c.kind == CheckKind::Endpoint).collect();
    assert_eq!(endpoints.len(), 20);
    for c in endpoints {
        assert_eq!(c.status, Status::Pass, "{}: {}", c.id, c.summary);
        let dns = c.stage(StageName::Dns).expect("a dns stage");
        assert_eq!(dns.status, Status::Skip, "{}: {dns:?}", c.id);
        assert_eq!(dns.ms, 0.0);
        let host = c.target.split('/').nth(2).unwrap();
        assert!(
            dns.detail
                .starts_with(&format!("not run here: the proxy resolves {host}")),
            "{}",
            dns.detail
        );
        assert!(c.dns.is_none(), "no resolver answered for it here");
        assert!(
            c.addresses.is_empty(),
            "the proxy's address is not the endpoint's"
        );
    }
    lab.shutdown().await;
}
