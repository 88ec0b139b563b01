//! Shared by the serve/attach/watch/Prometheus tests: a lab with one endpoint's fault on a
//! timeline and a monitor sweeping it (the HTTP client is in `http`). Loopback only.

use super::lab;
use m365mon::catalog::Catalog;
use m365mon::engine::monitor::{self, Monitor};
use m365mon::engine::SweepPlan;
use m365mon::engine::{HostInfo, Snapshot};
use m365mon::lab::{Fault, FaultMode, Lab, Scenario};
use m365mon::model::{CheckResult, Status};
use std::time::Duration;

pub const ACTIVATION: &str = "activation.sls.microsoft.com";
pub const ACTIVATION_CHECK: &str = "endpoint:activation.sls.microsoft.com";

/// A lab where `host` suffers `mode` from `after` to `until` seconds after the start.
pub fn scenario(host: &str, mode: FaultMode, after: f64, until: Option<f64>) -> Scenario {
    let mut fault = Fault::new(host, mode);
    fault.after_secs = Some(after);
    fault.until_secs = until;
    lab::scenario("serve-test", 0, vec![fault])
}

/// Starts the lab and a monitor sweeping it every `interval`.
pub async fn lab_monitor(scenario: Scenario, interval: Duration, timeout: Duration) -> (Lab, Monitor) {
    let lab = lab::start(scenario).await;
    let settings = m365mon::engine::session::lab_settings(lab.state(), timeout, 32).expect("lab settings");
    let mut plan = SweepPlan::new(Catalog::builtin().endpoints, settings);
    plan.routes = lab.state().routes().expect("the lab's routes");
    let host = HostInfo {
        hostname: "lab-pc".into(),
        lab: Some("serve-test".into()),
        instance: plan.checks.instance.as_str().into(),
        ..Default::default()
    };
    let mon = monitor::start(plan, host, interval);
    (lab, mon)
}

pub fn check<'a>(s: &'a Snapshot, id: &str) -> Option<&'a CheckResult> {
    s.checks.iter().find(|c| c.id == id)
}

pub fn status_of(s: &Snapshot, id: &str) -> Option<Status> {
    check(s, id).map(|c| c.status)
}
