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
//!
//! Check ids are stable and documented: `network:<name>` and `host:<name>`.

pub mod clock;
pub mod host;
pub mod msoid;
pub mod ncsi;
pub mod pac;
pub mod proxy;
pub mod resolvers;
pub mod tls_handshake;
pub mod vpn;

use crate::catalog::Endpoint;
use crate::model::CheckResult;
use crate::probe::ProbeSettings;
use crate::route::RoutePlan;

pub use crate::catalog::Instance;

/// What the checks of one sweep see: its endpoints, the probes' settings, the routes the
/// engine decided for this sweep (the same the probes take), and the options.
#[derive(Debug, Clone, Copy)]
pub struct Sweep<'a> {
    pub endpoints: &'a [Endpoint],
    pub settings: &'a ProbeSettings,
    pub routes: &'a RoutePlan,
    pub checks: &'a CheckOptions,
}

/// What the network and host checks need beyond the probe settings.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The tenant's custom domain (`--domain`), for the MSOID lookup.
    pub domain: Option<String>,
    pub instance: Instance,
    /// Monitoring a lab: checks of this machine's own settings still run, but checks whose
    /// answer depends on the real network say what they compared with.
    pub lab: bool,
}

/// Checks that gather their own facts; they run concurrently with the endpoint probes.
pub async fn gather(plan: &Sweep<'_>) -> Vec<CheckResult> {
    // One join for all, so the sweep waits for the slowest check, not for the sum.
    let ((resolvers, tls12), (proxy, pac, msoid, ncsi), host) = tokio::join!(
        async { tokio::join!(resolvers::check(plan), tls_handshake::check(plan)) },
        async {
            tokio::join!(
                proxy::check(plan),
                pac::check(plan),
                msoid::check(plan),
                ncsi::check(plan)
            )
        },
        host::gather(plan),
    );
    [resolvers, tls12, proxy, pac, msoid, ncsi]
        .into_iter()
        .chain(host)
        .collect()
}

/// Checks computed from this sweep's endpoint results.
pub fn derive(endpoints: &[CheckResult]) -> Vec<CheckResult> {
    vec![clock::check(endpoints, chrono::Utc::now()), vpn::check(endpoints)]
}

/// Completes gathered checks that also show what the endpoint probes saw, once their
/// results are in (the TLS 1.2 check adds the versions the probes negotiated).
pub fn complete(gathered: &mut [CheckResult], endpoints: &[CheckResult]) {
    for c in gathered.iter_mut().filter(|c| c.id == tls_handshake::ID) {
        tls_handshake::annotate(c, endpoints);
    }
}
