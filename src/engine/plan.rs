//! What one sweep runs, and running it: the routes decided first (once, PAC file and
//! all), then the endpoint probes and the gathered checks side by side on those routes,
//! then the checks derived from the probes' results.

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::catalog::Endpoint;
use crate::checks::{self, CheckOptions};
use crate::model::{ms, CheckResult};
use crate::probe::{self, Dns, DnsChoice, ProbeSettings};
use crate::route::{self, RoutePlan, RouteSettings};

/// What one sweep runs.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    pub endpoints: Vec<Endpoint>,
    pub settings: ProbeSettings,
    /// How routes are chosen; turned into this sweep's [`RoutePlan`] at its start.
    pub routes: RouteSettings,
    /// What the network and host checks need to know (tenant domain, cloud, lab).
    pub checks: CheckOptions,
}

impl SweepPlan {
    /// A plan with every endpoint direct and default check options.
    pub fn new(endpoints: Vec<Endpoint>, settings: ProbeSettings) -> Self {
        Self {
            endpoints,
            settings,
            routes: RouteSettings::Direct,
            checks: CheckOptions::default(),
        }
    }

    /// Decides this sweep's routes: the machine's proxy sources read, a PAC file
    /// downloaded and run — once, for the probes and the checks alike.
    pub async fn decide_routes(&self) -> RoutePlan {
        let net = SweepNetwork {
            dns: OnceLock::new(),
            dns_choice: &self.settings.dns,
            timeout: self.settings.timeout,
            my_ip: OnceLock::new(),
        };
        route::plan(&self.routes, &self.endpoints, &net).await
    }

    /// What the checks of a sweep on `routes` see.
    pub fn check_inputs<'a>(&'a self, routes: &'a RoutePlan) -> checks::Sweep<'a> {
        checks::Sweep {
            endpoints: &self.endpoints,
            settings: &self.settings,
            routes,
            checks: &self.checks,
        }
    }
}

/// Runs every check once; returns the results and the sweep's wall time in ms.
pub async fn run_sweep(plan: &SweepPlan) -> (Vec<CheckResult>, f64) {
    let started = Instant::now();
    let routes = plan.decide_routes().await;
    let inputs = plan.check_inputs(&routes);
    let (mut checks, mut gathered) = tokio::join!(
        probe::sweep(&plan.endpoints, &plan.settings, &routes),
        checks::gather(&inputs)
    );
    // Each endpoint's group travels with its result, for the screen (and `attach`).
    let groups: std::collections::HashMap<String, String> =
        plan.endpoints.iter().map(|e| (e.check_id(), e.group())).collect();
    for c in checks.iter_mut() {
        if let Some(g) = groups.get(&c.id) {
            c.group = Some(g.clone());
        }
    }
    checks::complete(&mut gathered, &checks);
    let derived = checks::derive(&checks);
    checks.extend(gathered);
    checks.extend(derived);
    (checks, ms(started.elapsed()))
}

/// The network as route planning needs it: the probes' resolver, built only when a PAC
/// file asks for a name (most sweeps have no PAC file and need none).
struct SweepNetwork<'a> {
    dns: OnceLock<Result<Dns, String>>,
    dns_choice: &'a DnsChoice,
    timeout: Duration,
    my_ip: OnceLock<IpAddr>,
}

impl route::Network for SweepNetwork<'_> {
    async fn resolve(&self, name: &str) -> Result<Vec<IpAddr>, String> {
        let dns = self.dns.get_or_init(|| Dns::new(self.dns_choice, self.timeout));
        match dns {
            Ok(dns) => dns.resolve(name, self.timeout).await.map_err(|f| f.detail),
            Err(why) => Err(why.clone()),
        }
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn my_ip(&self) -> IpAddr {
        *self.my_ip.get_or_init(|| {
            let server = match self.dns_choice {
                DnsChoice::Server(addr) => Some(*addr),
                DnsChoice::System => None,
            };
            route::pac::my_ip_toward(server)
        })
    }
}
