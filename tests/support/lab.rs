//! The lab in the test process (scenarios, starting it, a sweep plan against it), and
//! scenario files for the binary's `--lab`.

use m365mon::catalog::{Catalog, Endpoint};
use m365mon::engine::SweepPlan;
use m365mon::lab::{Fault, Lab, LabOptions, Scenario};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A scenario named `name` with these faults and this added latency.
pub fn scenario(name: &str, latency_ms: u64, faults: Vec<Fault>) -> Scenario {
    Scenario {
        name: name.into(),
        description: String::new(),
        latency_ms,
        faults,
        ..Default::default()
    }
}

/// Starts the lab for `scenario` with the built-in catalog.
pub async fn start(scenario: Scenario) -> Lab {
    Lab::start(scenario, &Catalog::builtin(), LabOptions::default())
        .await
        .expect("lab starts")
}

/// Starts the lab, and a sweep plan of `endpoints` against it (eight at a time, each probe
/// within `timeout`, the lab's own checks on).
pub async fn lab_plan(scenario: Scenario, endpoints: Vec<Endpoint>, timeout: Duration) -> (Lab, SweepPlan) {
    let lab = start(scenario).await;
    let settings = m365mon::engine::session::lab_settings(lab.state(), timeout, 8).expect("lab settings");
    let mut plan = SweepPlan::new(endpoints, settings);
    plan.routes = lab.state().routes().expect("the lab's routes");
    plan.checks.lab = true;
    (lab, plan)
}

/// Starts the lab for `scenario` with an IPv6 address for every endpoint too
/// (`lab serve --ipv6`), and a sweep plan of `endpoints` against it.
pub async fn dual_stack_plan(
    scenario: Scenario,
    endpoints: Vec<Endpoint>,
    timeout: Duration,
) -> (Lab, SweepPlan) {
    let opts = LabOptions {
        ipv6: true,
        ..Default::default()
    };
    let lab = Lab::start(scenario, &Catalog::builtin(), opts)
        .await
        .expect("lab starts with IPv6");
    let settings = m365mon::engine::session::lab_settings(lab.state(), timeout, 8).expect("lab settings");
    let mut plan = SweepPlan::new(endpoints, settings);
    plan.routes = lab.state().routes().expect("the lab's routes");
    plan.checks.lab = true;
    (lab, plan)
}

/// Writes `<dir>/<name>.toml`: a scenario named `name` (description "test") followed by
/// `body`.
pub fn write_scenario(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!("name = \"{name}\"\ndescription = \"test\"\n{body}"),
    )
    .unwrap();
    path
}
