//! Probing an endpoint stage by stage — `dns`, `tcp`, `tls`, `http` — each timed and
//! classified on its own, in the spirit of the Prometheus blackbox exporter, so that a
//! failure points at one layer.
//!
//! The stages are driven by hand (not through an HTTP client library) because a client
//! library hides exactly what a technician needs: how long the name lookup took, whether
//! the connection was refused or silently dropped, which certificate was presented. One
//! function per stage (`stage_dns`, `stage_tcp` with the proxy tunnel, `stage_tls`,
//! `stage_http`), each recording its pass or returning a [`StageFailure`]; the stage
//! modules below do the network work and classify what went wrong.
//!
//! The route each endpoint takes (direct, or through which proxy) is decided before the
//! sweep by [`crate::route`]; a probe only follows it.

pub mod clock;
pub mod dns;
pub mod failure;
pub mod http;
pub mod tcp;
pub mod tls;
pub mod trust;
pub mod tunnel;

use chrono::Utc;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::catalog::{Endpoint, Scheme};
use crate::http as wire;
use crate::model::{
    ms, AddressResult, Cause, CheckKind, CheckResult, DnsInfo, HttpInfo, IpFamily, IpFamilyChoice, StageName,
    StageResult, Status, TlsInfo,
};
use crate::route::{ProxyAuth, ProxyServer, Route, RoutePlan};
use clock::Stopwatch;
pub use dns::{Dns, DnsChoice, Resolved};
pub use failure::StageFailure;
use trust::RootVerdict;
pub use trust::Trust;

/// Settings shared by every probe of a sweep.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// Cap for each stage.
    pub timeout: Duration,
    pub dns: DnsChoice,
    pub trust: Trust,
    /// Port to use instead of the catalog's for (host, scheme): how the lab's ports are
    /// mapped when it cannot bind 443 and 80.
    pub port_overrides: HashMap<(String, Scheme), u16>,
    /// Port to use for (host, scheme) on IPv6 addresses when it differs from the IPv4 one
    /// (the lab's `::1` fallback, where every host shares one address).
    pub port6_overrides: HashMap<(String, Scheme), u16>,
    /// How many endpoints are probed at once.
    pub concurrency: usize,
    /// Which address families are probed (`--ip-family`).
    pub families: IpFamilyChoice,
    /// Probe every address of each family, not only the first (`--all-addresses`).
    pub all_addresses: bool,
}

impl ProbeSettings {
    pub fn port_for(&self, e: &Endpoint) -> u16 {
        self.port_overrides
            .get(&(e.host.clone(), e.scheme))
            .copied()
            .unwrap_or(e.port)
    }

    /// The port for `e` on an address of `family`.
    pub fn port_for_family(&self, e: &Endpoint, family: IpFamily) -> u16 {
        match family {
            IpFamily::Ipv6 => self
                .port6_overrides
                .get(&(e.host.clone(), e.scheme))
                .copied()
                .unwrap_or_else(|| self.port_for(e)),
            IpFamily::Ipv4 => self.port_for(e),
        }
    }
}

/// Builds stage results and the final check result of one probe.
struct Recorder {
    endpoint: Endpoint,
    started: Instant,
    stages: Vec<StageResult>,
    /// The first stage that passed with a warning: its cause and the summary to show.
    warning: Option<(Cause, String)>,
    /// The local queueing during the probe, left out of the stage times.
    queue: Stopwatch,
}

impl Recorder {
    fn pass(&mut self, name: StageName, took: Duration, detail: impl Into<String>) {
        self.stages.push(StageResult {
            name,
            status: Status::Pass,
            ms: ms(took),
            detail: detail.into(),
            cause: None,
        });
    }

    /// A stage that worked, but not as it should (an unexpected CA, a server error): the
    /// probe goes on, and the check ends as a warning unless a later stage fails.
    fn warn(&mut self, name: StageName, took: Duration, cause: Cause, detail: String) {
        if self.warning.is_none() {
            // "TLS unexpected CA: ...", but not "HTTP HTTP 503 ...".
            let summary = if detail.starts_with(name.label()) {
                detail.clone()
            } else {
                format!("{} {detail}", name.label())
            };
            self.warning = Some((cause, summary));
        }
        self.stages.push(StageResult {
            name,
            status: Status::Warn,
            ms: ms(took),
            detail,
            cause: Some(cause),
        });
    }

    fn skip(&mut self, name: StageName, detail: impl Into<String>) {
        self.stages.push(StageResult {
            name,
            status: Status::Skip,
            ms: 0.0,
            detail: detail.into(),
            cause: None,
        });
    }

    /// Records the failed stage and returns the finished (failed) check; `summary`
    /// replaces the one made from the stage's detail.
    fn fail(mut self, f: StageFailure, took: Duration, summary: Option<String>) -> CheckResult {
        // "TLS untrusted: ...", but not "HTTP HTTP 403 ...".
        let summary = summary.unwrap_or_else(|| {
            if f.detail.starts_with(f.stage.label()) {
                f.detail.clone()
            } else {
                format!("{} {}", f.stage.label(), f.detail)
            }
        });
        self.stages.push(StageResult {
            name: f.stage,
            status: Status::Fail,
            ms: ms(took),
            detail: f.detail,
            cause: Some(f.cause),
        });
        let mut r = self.finish(Status::Fail, summary);
        r.cause = Some(f.cause);
        r.error = Some(f.raw);
        r.http = f.http.map(|h| *h);
        r.tls = f.tls.map(|t| *t);
        r
    }

    fn finish(self, status: Status, summary: String) -> CheckResult {
        let mut r = CheckResult::simple(
            self.endpoint.check_id(),
            CheckKind::Endpoint,
            self.endpoint.url(),
            status,
            summary,
        );
        r.duration_ms = ms(self.started.elapsed());
        r.stages = self.stages;
        // Shown when large enough to matter beside loopback stage times.
        let queued = self.queue.queued();
        if queued >= Duration::from_millis(1) {
            r.facts.push((
                "local wait".into(),
                format!(
                    "{:.1} ms waiting for this machine's CPU among the probes in flight (left out of the stage times)",
                    ms(queued)
                ),
            ));
        }
        r.checked_at = Utc::now();
        r
    }
}

/// Probes one endpoint through every stage, along the route this sweep's plan gives it;
/// never takes much longer than four stage timeouts, whatever the network does.
pub async fn probe_endpoint(
    endpoint: &Endpoint,
    routes: &RoutePlan,
    resolver: &Dns,
    settings: &ProbeSettings,
) -> CheckResult {
    let route = routes.route_for(endpoint);
    let mut r = probe_route(endpoint, resolver, settings, &route).await;
    if !routes.is_direct() && endpoint.probe {
        r.facts.push((
            "route".into(),
            format!("{} ({})", route.describe(), routes.source()),
        ));
    }
    r
}

/// Where the probe's connection goes: to the endpoint, or to the proxy on its route.
struct Target<'a> {
    endpoint: &'a Endpoint,
    /// The endpoint's port (the lab may map it).
    port: u16,
    proxy: Option<(&'a ProxyServer, Option<&'a ProxyAuth>)>,
}

impl Target<'_> {
    /// The name looked up and the port connected to: the proxy's when there is one (the
    /// proxy resolves and reaches the endpoint).
    fn first_hop(&self) -> (&str, u16) {
        match self.proxy {
            None => (self.endpoint.host.as_str(), self.port),
            Some((p, _)) => (p.host.as_str(), p.port),
        }
    }

    /// `detail`, with the proxy named when the stage ran against it.
    fn via(&self, detail: String) -> String {
        match self.proxy {
            Some((p, _)) => format!("{detail} (proxy {p})"),
            None => detail,
        }
    }
}

async fn probe_route(
    endpoint: &Endpoint,
    resolver: &Dns,
    settings: &ProbeSettings,
    route: &Route,
) -> CheckResult {
    let mut rec = Recorder {
        endpoint: endpoint.clone(),
        started: Instant::now(),
        stages: Vec::new(),
        warning: None,
        queue: Stopwatch::start(),
    };
    if !endpoint.probe {
        let reason = endpoint
            .skip_reason
            .clone()
            .unwrap_or_else(|| "not probed".into());
        return rec.finish(Status::Skip, reason);
    }
    let target = Target {
        endpoint,
        port: settings.port_for(endpoint),
        proxy: match route {
            Route::Direct => None,
            Route::HttpProxy { addr, auth } => Some((addr, auth.as_ref())),
        },
    };
    if target.proxy.is_some() {
        let outcome = match stage_dns_proxy(&mut rec, &target, resolver, settings.timeout).await {
            Ok(addrs) => run_connection(&mut rec, &target, &addrs, settings).await,
            Err(failed) => Err(failed),
        };
        return conclude(rec, outcome);
    }
    let resolved = match stage_dns(&mut rec, &target, resolver, settings).await {
        Ok(r) => r,
        Err((failure, took, summary)) => {
            let mut r = rec.fail(failure, took, summary);
            r.dns = Some(DnsInfo {
                resolver: resolver_names(resolver),
                ..Default::default()
            });
            return r;
        }
    };
    let dns_stage = rec.stages.pop();
    let picked = pick_addresses(&resolved, settings.families, settings.all_addresses, |f| {
        settings.port_for_family(endpoint, f)
    });
    let probes = picked.iter().map(|&ip| {
        let target = Target {
            endpoint,
            port: settings.port_for_family(endpoint, IpFamily::of(&ip)),
            proxy: None,
        };
        async move {
            let mut sub = Recorder {
                endpoint: endpoint.clone(),
                started: Instant::now(),
                stages: Vec::new(),
                warning: None,
                queue: Stopwatch::start(),
            };
            let outcome = run_connection(&mut sub, &target, &[ip], settings).await;
            (ip, conclude(sub, outcome))
        }
    });
    let per_address = join_all(probes.collect()).await;
    merge(rec, dns_stage, resolved.info, per_address)
}

/// The finished check of one path: pass with the HTTP summary, or the failed stage.
fn conclude(mut rec: Recorder, outcome: Result<(HttpInfo, Option<TlsInfo>), Failed>) -> CheckResult {
    match outcome {
        Ok((http_info, tls_info)) => {
            let total = ms(rec.started.elapsed());
            let version = tls_info
                .as_ref()
                .and_then(|t| t.version.clone())
                .map(|v| format!(", {v}"))
                .unwrap_or_default();
            let summary = format!("HTTP {} in {:.0} ms{}", http_info.status, total, version);
            let warning = rec.warning.take();
            let mut r = match warning {
                Some((cause, why)) => {
                    let mut r = rec.finish(Status::Warn, why);
                    r.cause = Some(cause);
                    r
                }
                None => rec.finish(Status::Pass, summary),
            };
            r.http = Some(http_info);
            r.tls = tls_info;
            r
        }
        Err((failure, took, summary)) => rec.fail(failure, took, summary),
    }
}

/// The resolvers a failed lookup asked, for the detail view.
fn resolver_names(resolver: &Dns) -> String {
    let names: Vec<String> = resolver.servers().iter().map(|s| s.to_string()).collect();
    format!("asked {} (no address came back)", names.join(", "))
}

/// The addresses to probe: the first of each family the settings ask for (every one with
/// `--all-addresses`). An address this machine has no route to is left out when another
/// family has one, as Windows leaves out a family it has no address for; with no route at
/// all, every address is tried so that the failure shows.
fn pick_addresses(
    resolved: &Resolved,
    families: IpFamilyChoice,
    all_addresses: bool,
    port: impl Fn(IpFamily) -> u16,
) -> Vec<std::net::IpAddr> {
    let mut out = Vec::new();
    for (family, list) in [(IpFamily::Ipv4, &resolved.ipv4), (IpFamily::Ipv6, &resolved.ipv6)] {
        if !families.includes(family) {
            continue;
        }
        let take = if all_addresses { list.len() } else { 1 };
        out.extend(list.iter().take(take).copied());
    }
    let routable: Vec<std::net::IpAddr> = out
        .iter()
        .copied()
        .filter(|ip| has_route(*ip, port(IpFamily::of(ip))))
        .collect();
    if routable.is_empty() {
        out
    } else {
        routable
    }
}

/// Whether this machine has a route to `ip`: a UDP socket "connects" without sending
/// anything and fails at once when there is none (no IPv6 on this machine).
fn has_route(ip: std::net::IpAddr, port: u16) -> bool {
    let local: std::net::SocketAddr = match ip {
        std::net::IpAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        std::net::IpAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    std::net::UdpSocket::bind(local)
        .and_then(|s| s.connect((ip, port.max(1))))
        .is_ok()
}

/// Polls every future to completion, side by side; results in the given order.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// One check from the probes of each address: the address that decides the status (the
/// first failing one, else the first) gives the top-level stages, cause and summary, so
/// the report reads as before for a name with one address; every address is listed.
fn merge(
    rec: Recorder,
    dns_stage: Option<StageResult>,
    info: DnsInfo,
    per_address: Vec<(std::net::IpAddr, CheckResult)>,
) -> CheckResult {
    let started = rec.started;
    // The address that decides the endpoint's light: a failure before a warning before
    // a pass, so a warned (working) path never hides a broken one.
    let decisive = [Status::Fail, Status::Warn]
        .iter()
        .find_map(|s| per_address.iter().position(|(_, r)| r.status == *s))
        .unwrap_or(0);
    let Some((decisive_addr, first)) = per_address.get(decisive).cloned() else {
        return rec.finish(Status::Fail, "no address to probe".into());
    };
    let mut r = first;
    r.stages.splice(0..0, dns_stage);
    r.duration_ms = ms(started.elapsed());
    r.addresses = per_address
        .iter()
        .map(|(addr, a)| AddressResult {
            addr: addr.to_string(),
            family: IpFamily::of(addr),
            status: a.status,
            summary: a.summary.clone(),
            duration_ms: a.duration_ms,
            stages: a.stages.clone(),
            cause: a.cause,
        })
        .collect();
    let broken = IpFamily::of(&decisive_addr);
    let other_works = r
        .addresses
        .iter()
        .any(|a| a.family != broken && matches!(a.status, Status::Pass | Status::Warn));
    let broken_everywhere = r
        .addresses
        .iter()
        .filter(|a| a.family == broken)
        .all(|a| a.status == Status::Fail);
    if r.status == Status::Fail && other_works && broken_everywhere {
        let works = match broken {
            IpFamily::Ipv4 => IpFamily::Ipv6,
            IpFamily::Ipv6 => IpFamily::Ipv4,
        };
        r.summary = format!(
            "{} path broken while {} works: {} {}",
            broken.label(),
            works.label(),
            decisive_addr,
            r.summary
        );
        if let Some(cost) = crate::platform::tcp_settings::syn_settings() {
            r.facts.push(("blackhole_cost".into(), cost.describe()));
        }
    }
    r.dns = Some(info);
    r
}

/// A failed stage, how long it ran, and a summary to use instead of the stage's detail.
type Failed = (StageFailure, Duration, Option<String>);

/// The stages after `dns`, in order, on one connection; each passes (recorded in `rec`)
/// or ends the probe.
async fn run_connection(
    rec: &mut Recorder,
    target: &Target<'_>,
    addrs: &[std::net::IpAddr],
    settings: &ProbeSettings,
) -> Result<(HttpInfo, Option<TlsInfo>), Failed> {
    let timeout = settings.timeout;
    let mut tcp = stage_tcp(rec, target, addrs, timeout).await?;
    match target.endpoint.scheme {
        Scheme::Http => {
            rec.skip(StageName::Tls, "plain HTTP (no TLS)");
            let info = stage_http(rec, target, &mut tcp, timeout).await?;
            Ok((info, None))
        }
        Scheme::Https => {
            let (mut stream, tls_info) = stage_tls(rec, target, tcp, &settings.trust, timeout).await?;
            let info = stage_http(rec, target, &mut stream, timeout)
                .await
                .map_err(|(f, took, s)| (f.with_tls(tls_info.clone()), took, s))?;
            Ok((info, Some(tls_info)))
        }
    }
}

/// `dns`: the endpoint's A and AAAA records, from the sweep's resolver, within the cap.
async fn stage_dns(
    rec: &mut Recorder,
    target: &Target<'_>,
    resolver: &Dns,
    settings: &ProbeSettings,
) -> Result<Resolved, Failed> {
    let t = Stopwatch::start();
    match resolver
        .resolve_families(&target.endpoint.host, settings.families, settings.timeout)
        .await
    {
        Ok(resolved) => {
            let info = &resolved.info;
            let mut shown: Vec<String> = resolved.all().iter().take(4).map(|a| a.to_string()).collect();
            if info.cname_chain.len() > 1 {
                shown.push(format!("via {}", info.cname_chain[1..].join(" → ")));
            }
            shown.push(format!("resolver {}", info.resolver));
            shown.extend(info.notes.iter().cloned());
            rec.pass(StageName::Dns, t.elapsed(), shown.join(", "));
            Ok(resolved)
        }
        Err(f) => Err((f, t.elapsed(), None)),
    }
}

/// `dns` through a proxy: the proxy resolves the endpoint's name, so it is not looked up
/// here (saying so, rather than a green light for a lookup that never ran); a proxy given
/// by name is looked up instead.
async fn stage_dns_proxy(
    rec: &mut Recorder,
    target: &Target<'_>,
    resolver: &Dns,
    timeout: Duration,
) -> Result<Vec<std::net::IpAddr>, Failed> {
    let Some((proxy, _)) = target.proxy else {
        return Ok(Vec::new());
    };
    let host = target.endpoint.host.as_str();
    if let Ok(ip) = proxy
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
    {
        rec.skip(
            StageName::Dns,
            format!("not run here: the proxy resolves {host} (proxy {proxy})"),
        );
        return Ok(vec![ip]);
    }
    let t = Stopwatch::start();
    match resolver.resolve(&proxy.host, timeout).await {
        Ok(addrs) => {
            let shown: Vec<String> = addrs.iter().take(3).map(|a| a.to_string()).collect();
            rec.pass(
                StageName::Dns,
                t.elapsed(),
                format!(
                    "proxy {} is {}; the proxy resolves {host}",
                    proxy.host,
                    shown.join(", ")
                ),
            );
            Ok(addrs)
        }
        Err(mut f) => {
            f.detail = target.via(f.detail);
            f.raw = f.detail.clone();
            Err((f, t.elapsed(), None))
        }
    }
}

/// `tcp`: the connection, and through a proxy the CONNECT tunnel for HTTPS (its time
/// counts here; a proxy that answers but will not tunnel fails the `http` stage).
async fn stage_tcp(
    rec: &mut Recorder,
    target: &Target<'_>,
    addrs: &[std::net::IpAddr],
    timeout: Duration,
) -> Result<TcpStream, Failed> {
    let t = Stopwatch::start();
    let (mut tcp, addr) = match tcp::connect(addrs, target.first_hop().1, timeout).await {
        Ok(c) => c,
        // A reset is only possible once the handshake completed (an RST to the SYN is a
        // refusal), so the connection was made: the reset hit the next exchange, however
        // fast it came. blackbox_exporter reports it there; curl reports whichever call
        // saw the errno, so it says "connect" when the reset beats connect()'s return.
        Err(f) if f.cause == Cause::TcpReset && target.proxy.is_none() => {
            rec.pass(
                StageName::Tcp,
                t.elapsed(),
                format!("connected to {}, then reset", f.raw_addr()),
            );
            let next = match target.endpoint.scheme {
                Scheme::Https => StageName::Tls,
                Scheme::Http => StageName::Http,
            };
            let detail = format!(
                "connection reset by {} right after the TCP handshake",
                f.raw_addr()
            );
            let f = StageFailure::new(next, Cause::TcpReset, detail).with_raw(f.raw);
            return Err((f, Duration::ZERO, None));
        }
        Err(mut f) => {
            let detail = match f.cause {
                Cause::TcpTimeout => "timed out".to_string(),
                Cause::TcpRefused => "connection refused".to_string(),
                Cause::TcpReset => "connection reset".to_string(),
                _ => f.detail.clone(),
            };
            f.raw = target.via(format!("{} ({})", f.detail, f.raw));
            f.detail = target.via(detail);
            let summary = (f.cause == Cause::TcpTimeout).then(|| {
                target.via(format!(
                    "TCP connect timed out after {:.1} s",
                    timeout.as_secs_f64()
                ))
            });
            return Err((f, t.elapsed(), summary));
        }
    };
    let endpoint = target.endpoint;
    let connected = match target.proxy {
        None => format!("connected to {addr}"),
        Some((p, _)) => format!("connected to proxy {p} ({addr})"),
    };
    let (Some((proxy, auth)), Scheme::Https) = (target.proxy, endpoint.scheme) else {
        rec.pass(StageName::Tcp, t.elapsed(), connected);
        return Ok(tcp);
    };
    let connect_took = t.elapsed();
    let tunnel_started = Stopwatch::start();
    match tunnel::connect(&mut tcp, proxy, auth, &endpoint.host, target.port, timeout).await {
        Ok(()) => {
            rec.pass(
                StageName::Tcp,
                t.elapsed(),
                format!("{connected}, tunnel to {}:{}", endpoint.host, target.port),
            );
            Ok(tcp)
        }
        Err(f) if f.stage == StageName::Tcp => Err((f, t.elapsed(), None)),
        Err(f) => {
            // The proxy answered the CONNECT: the failure is in its HTTP answer.
            rec.pass(StageName::Tcp, connect_took, connected);
            rec.skip(StageName::Tls, "not reached: the proxy did not open the tunnel");
            Err((f, tunnel_started.elapsed(), None))
        }
    }
}

/// `tls`: the handshake, and whether its chain ends in a Microsoft 365 root.
async fn stage_tls(
    rec: &mut Recorder,
    target: &Target<'_>,
    tcp: TcpStream,
    trust: &Trust,
    timeout: Duration,
) -> Result<(tokio_rustls::client::TlsStream<TcpStream>, TlsInfo), Failed> {
    let t = Stopwatch::start();
    let (stream, tls_info) =
        tls::handshake(tcp, &target.endpoint.host, trust, tls::Versions::Modern, timeout)
            .await
            .map_err(|f| (f, t.elapsed(), None))?;
    let took = t.elapsed();
    let version = tls_info.version.clone().unwrap_or_default();
    let shown_root = tls_info.root.clone().unwrap_or_else(|| "?".into());
    let verdict = tls_info
        .root_sha256
        .as_deref()
        .and_then(|sha| trust.verdict_of_root(sha));
    let expected = || {
        trust
            .expected_roots
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sha = tls_info.root_sha256.clone().unwrap_or_default();
    let (detail, summary) = match verdict {
        Some(RootVerdict::Microsoft { name }) => {
            rec.pass(StageName::Tls, took, format!("{version}, chain to {name}"));
            return Ok((stream, tls_info));
        }
        Some(RootVerdict::UnexpectedPublic { name }) => {
            let detail = format!(
                "unexpected CA: {version}, chain to {name}, a public root Microsoft 365 does not use"
            );
            rec.warn(StageName::Tls, took, Cause::TlsUnexpectedCa, detail);
            return Ok((stream, tls_info));
        }
        Some(RootVerdict::Impostor { name }) => (
            format!("intercepted: a root named like {name} but not it (SHA-256 {sha})"),
            format!("TLS intercepted: a root named like {name} but not it"),
        ),
        Some(RootVerdict::Interception { name }) => (
            format!("intercepted: certificate issued by {name}, not a Microsoft 365 root"),
            format!("TLS intercepted: certificate issued by {name}"),
        ),
        None => (
            format!("intercepted: certificate issued by {shown_root}, not a Microsoft 365 root"),
            format!("TLS intercepted: certificate issued by {shown_root}"),
        ),
    };
    let f = StageFailure::new(StageName::Tls, Cause::TlsIntercepted, detail)
        .with_raw(format!(
            "presented chain ends in {shown_root} (root SHA-256 {sha}); expected one of: {}",
            expected()
        ))
        .with_tls(tls_info);
    Err((f, took, Some(summary)))
}

/// `http`: one request. Through a proxy, plain HTTP goes as an absolute-form request with
/// the proxy's credentials; HTTPS already runs through the tunnel.
async fn stage_http<S: AsyncRead + AsyncWrite + Unpin>(
    rec: &mut Recorder,
    target: &Target<'_>,
    stream: &mut S,
    timeout: Duration,
) -> Result<HttpInfo, Failed> {
    let endpoint = target.endpoint;
    let request = match (target.proxy, endpoint.scheme) {
        (Some((_, auth)), Scheme::Http) => {
            let authority = if target.port == 80 {
                endpoint.host.clone()
            } else {
                format!("{}:{}", endpoint.host, target.port)
            };
            let mut request =
                wire::Request::get(format!("http://{authority}{}", endpoint.path), &endpoint.host);
            if let Some(a) = auth {
                request = request.header("Proxy-Authorization", a.header_value());
            }
            request
        }
        _ => wire::Request::get(&endpoint.path, &endpoint.host),
    };
    let t = Stopwatch::start();
    match http::request(stream, &request, timeout).await {
        Ok(http::Answer { info, warning: None }) => {
            rec.pass(
                StageName::Http,
                t.elapsed(),
                format!("HTTP {} from origin", info.status),
            );
            Ok(info)
        }
        Ok(http::Answer {
            info,
            warning: Some((cause, why)),
        }) => {
            rec.warn(StageName::Http, t.elapsed(), cause, why);
            Ok(info)
        }
        Err(f) => Err((f, t.elapsed(), None)),
    }
}

/// Probes every endpoint concurrently (at most `settings.concurrency` at once), each along
/// the route `routes` gives it, and returns the results in catalog order. A sweep takes
/// about as long as its slowest endpoint.
pub async fn sweep(endpoints: &[Endpoint], settings: &ProbeSettings, routes: &RoutePlan) -> Vec<CheckResult> {
    let resolver = match Dns::new(&settings.dns, settings.timeout) {
        Ok(r) => Arc::new(r),
        Err(why) => {
            return endpoints
                .iter()
                .map(|e| {
                    let mut r = CheckResult::simple(
                        e.check_id(),
                        CheckKind::Endpoint,
                        e.url(),
                        Status::Fail,
                        why.clone(),
                    );
                    r.cause = Some(Cause::DnsServfail);
                    r
                })
                .collect()
        }
    };
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let settings = Arc::new(settings.clone());
    let routes = Arc::new(routes.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for (i, e) in endpoints.iter().cloned().enumerate() {
        let permits = permits.clone();
        let settings = settings.clone();
        let resolver = resolver.clone();
        let routes = routes.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.ok();
            // Belt and braces: four stages, each capped, plus slack.
            let cap = settings.timeout * 4 + Duration::from_secs(1);
            let probe = clock::measured(probe_endpoint(&e, &routes, &resolver, &settings));
            let r = match tokio::time::timeout(cap, probe).await {
                Ok(r) => r,
                Err(_) => {
                    let mut r = CheckResult::simple(
                        e.check_id(),
                        CheckKind::Endpoint,
                        e.url(),
                        Status::Fail,
                        "probe did not finish in time",
                    );
                    r.cause = Some(Cause::Other);
                    r
                }
            };
            (i, r)
        });
    }
    let mut out: Vec<Option<CheckResult>> = vec![None; endpoints.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, r)) = joined {
            out[i] = Some(r);
        }
    }
    out.into_iter()
        .zip(endpoints)
        .map(|(r, e)| {
            r.unwrap_or_else(|| {
                CheckResult::simple(
                    e.check_id(),
                    CheckKind::Endpoint,
                    e.url(),
                    Status::Fail,
                    "probe task failed",
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(v4: &[&str], v6: &[&str]) -> Resolved {
        Resolved {
            ipv4: v4.iter().map(|a| a.parse().unwrap()).collect(),
            ipv6: v6.iter().map(|a| a.parse().unwrap()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn one_address_per_family_or_all_of_them() {
        // Loopback addresses: this machine always has a route to them.
        let i = info(&["127.0.0.2", "127.0.0.3"], &["::1"]);
        let port = |_| 443;
        let ips = |f, all| -> Vec<String> {
            pick_addresses(&i, f, all, port)
                .iter()
                .map(|a| a.to_string())
                .collect()
        };
        assert_eq!(ips(IpFamilyChoice::Both, false), ["127.0.0.2", "::1"]);
        assert_eq!(ips(IpFamilyChoice::Both, true), ["127.0.0.2", "127.0.0.3", "::1"]);
        assert_eq!(ips(IpFamilyChoice::Only4, true), ["127.0.0.2", "127.0.0.3"]);
        assert_eq!(ips(IpFamilyChoice::Only6, false), ["::1"]);
    }

    #[tokio::test]
    async fn join_all_keeps_the_order_and_runs_side_by_side() {
        // Each waits for all three: one run after another would never finish.
        let barrier = Arc::new(tokio::sync::Barrier::new(3));
        let futures: Vec<_> = [3u8, 1, 2]
            .into_iter()
            .map(|n| {
                let barrier = barrier.clone();
                async move {
                    barrier.wait().await;
                    n
                }
            })
            .collect();
        let joined = tokio::time::timeout(Duration::from_secs(10), join_all(futures)).await;
        assert_eq!(joined.expect("side by side"), [3, 1, 2]);
    }
}
