//! Which fault is in effect for a host right now, and when that can next change.
//!
//! Every part of the lab (DNS server, listeners, origin) asks the same [`Timeline`], so a
//! fault that starts at 10 s starts at 10 s on every layer.

use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use super::scenario::{Fault, Layer, Scenario};
use crate::model::IpFamily;

/// A scenario anchored at the lab's start time.
#[derive(Debug, Clone)]
pub struct Timeline {
    start: Instant,
    scenario: Arc<Scenario>,
}

impl Timeline {
    pub fn new(scenario: Scenario, start: Instant) -> Self {
        Self {
            start,
            scenario: Arc::new(scenario),
        }
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Time since the lab started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// The instant `offset` after the lab's start.
    pub fn instant_at(&self, offset: Duration) -> Instant {
        self.start + offset
    }

    /// The fault acting on `layer` for `host` now, on traffic of `family`.
    pub fn fault(&self, host: &str, layer: Layer, family: Option<IpFamily>) -> Option<&Fault> {
        self.fault_at(host, layer, family, self.elapsed())
    }

    /// The fault acting on `layer` for `host` (traffic of `family`) `at` this time after the
    /// start: the first one of the scenario that matches and is active.
    pub fn fault_at(
        &self,
        host: &str,
        layer: Layer,
        family: Option<IpFamily>,
        at: Duration,
    ) -> Option<&Fault> {
        self.scenario.faults.iter().find(|f| {
            f.mode.layer() == layer && f.matches(host) && f.covers_family(family) && f.active_at(at)
        })
    }

    /// The next moment strictly after `after` when a fault on `layer` for `host` starts or
    /// ends; `None` when nothing changes any more.
    pub fn next_change(
        &self,
        host: &str,
        layer: Layer,
        family: Option<IpFamily>,
        after: Duration,
    ) -> Option<Duration> {
        self.scenario
            .faults
            .iter()
            .filter(|f| f.mode.layer() == layer && f.matches(host) && f.covers_family(family))
            .flat_map(|f| [Some(f.starts()), f.ends()])
            .flatten()
            .filter(|&t| t > after)
            .min()
    }

    /// The scenario's latency added to every answer.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.scenario.latency_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::scenario::FaultMode;

    fn timeline() -> Timeline {
        let mut first = Fault::new("a.example", FaultMode::Refuse);
        first.after_secs = Some(1.0);
        first.until_secs = Some(2.0);
        let mut second = Fault::new("*.example", FaultMode::Blackhole);
        second.until_secs = Some(3.0);
        let intercept = Fault::new("*", FaultMode::TlsIntercept);
        let scenario = Scenario {
            name: "t".into(),
            faults: vec![first, second, intercept],
            ..Default::default()
        };
        Timeline::new(scenario, Instant::now())
    }

    #[test]
    fn first_active_fault_of_the_layer_wins() {
        let t = timeline();
        let at = |s: f64| Duration::from_secs_f64(s);
        let mode = |host: &str, s: f64| {
            t.fault_at(host, Layer::Socket, Some(IpFamily::Ipv4), at(s))
                .map(|f| f.mode)
        };
        assert_eq!(mode("a.example", 0.0), Some(FaultMode::Blackhole));
        assert_eq!(mode("a.example", 1.5), Some(FaultMode::Refuse));
        assert_eq!(mode("a.example", 2.5), Some(FaultMode::Blackhole));
        assert_eq!(mode("a.example", 3.0), None);
        assert_eq!(mode("other.test", 0.0), None);
        assert_eq!(
            t.fault_at("other.test", Layer::Tls, None, at(99.0))
                .map(|f| f.mode),
            Some(FaultMode::TlsIntercept)
        );
    }

    #[test]
    fn next_change_walks_the_boundaries() {
        let t = timeline();
        let next = |s: f64| t.next_change("a.example", Layer::Socket, None, Duration::from_secs_f64(s));
        assert_eq!(next(0.0), Some(Duration::from_secs(1)));
        assert_eq!(next(1.0), Some(Duration::from_secs(2)));
        assert_eq!(next(2.0), Some(Duration::from_secs(3)));
        assert_eq!(next(3.0), None);
        assert_eq!(
            t.next_change("other.test", Layer::Socket, None, Duration::ZERO),
            None
        );
    }
}
