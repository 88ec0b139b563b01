//! Checks beyond the endpoint probes: the network around the machine (proxy, VPN, DNS,
//! TLS, clock) and the machine itself (BrokerPlugin, registry, credentials).
//!
//! Each check is a plain function of facts, so it is tested with fixtures on any OS; the
//! facts come from the platform layer or from the endpoint results of the same sweep.
//! A check that does not apply here returns `skip` with the reason — never a pass.
//!
//! Two kinds:
//! - *gathered* checks run beside the endpoint probes ([`gather`]);
//! - *derived* checks read the endpoint results once they are in ([`derive`]).

pub mod clock;

use crate::engine::monitor::SweepPlan;
use crate::model::CheckResult;

/// Checks that gather their own facts; they run concurrently with the endpoint probes.
pub async fn gather(_plan: &SweepPlan) -> Vec<CheckResult> {
    Vec::new()
}

/// Checks computed from this sweep's endpoint results.
pub fn derive(endpoints: &[CheckResult]) -> Vec<CheckResult> {
    vec![clock::check(endpoints, chrono::Utc::now())]
}
