//! Probing an endpoint stage by stage — `dns`, `tcp`, `tls`, `http` — each timed and
//! classified on its own, in the spirit of the Prometheus blackbox exporter, so that a
//! failure points at one layer.
//!
//! The stages are driven by hand (not through an HTTP client library) because a client
//! library hides exactly what a technician needs: how long the name lookup took, whether
//! the connection was refused or silently dropped, which certificate was presented.

pub mod dns;
pub mod http;
pub mod route;
pub mod tcp;
pub mod tls;
pub mod trust;

use chrono::Utc;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

use crate::catalog::{Endpoint, Scheme};
use crate::model::{ms, Cause, CheckKind, CheckResult, StageName, StageResult, Status};
pub use dns::{Dns, DnsChoice};
pub use route::{ProxyAuth, ProxyServer, Route, RoutePlan};
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
    /// How many endpoints are probed at once.
    pub concurrency: usize,
    /// Direct or through which proxy; see [`route`].
    pub routes: RoutePlan,
}

impl ProbeSettings {
    pub fn port_for(&self, e: &Endpoint) -> u16 {
        self.port_overrides
            .get(&(e.host.clone(), e.scheme))
            .copied()
            .unwrap_or(e.port)
    }

    /// The route a probe of this endpoint takes: the discovered settings (environment,
    /// WinINet/WinHTTP, a PAC file's answer for this sweep), `--proxy`, or the lab's proxy.
    pub fn route_for(&self, e: &Endpoint) -> Route {
        self.routes.route_for(e)
    }
}

/// Builds stage results and the final check result of one probe.
struct Recorder {
    endpoint: Endpoint,
    started: Instant,
    stages: Vec<StageResult>,
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

    fn skip(&mut self, name: StageName, detail: impl Into<String>) {
        self.stages.push(StageResult {
            name,
            status: Status::Skip,
            ms: 0.0,
            detail: detail.into(),
            cause: None,
        });
    }

    /// Records a failed stage and returns the finished (failed) check.
    fn fail(
        mut self,
        name: StageName,
        took: Duration,
        cause: Cause,
        detail: String,
        raw: String,
    ) -> CheckResult {
        // "TLS untrusted: ...", but not "HTTP HTTP 403 ...".
        let summary = if detail.starts_with(name.label()) {
            detail.clone()
        } else {
            format!("{} {}", name.label(), detail)
        };
        self.stages.push(StageResult {
            name,
            status: Status::Fail,
            ms: ms(took),
            detail,
            cause: Some(cause),
        });
        let mut r = self.finish(Status::Fail, summary);
        r.cause = Some(cause);
        r.error = Some(raw);
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
        r.checked_at = Utc::now();
        r
    }
}

/// Probes one endpoint through every stage, along the route the settings give it; never
/// takes much longer than four stage timeouts, whatever the network does.
pub async fn probe_endpoint(endpoint: &Endpoint, resolver: &Dns, settings: &ProbeSettings) -> CheckResult {
    let route = settings.route_for(endpoint);
    let mut r = probe_route(endpoint, resolver, settings, &route).await;
    if settings.routes != RoutePlan::Direct && endpoint.probe {
        r.facts.push((
            "route".into(),
            format!("{} ({})", route.describe(), settings.routes.source()),
        ));
    }
    r
}

async fn probe_route(
    endpoint: &Endpoint,
    resolver: &Dns,
    settings: &ProbeSettings,
    route: &Route,
) -> CheckResult {
    let timeout = settings.timeout;
    let mut rec = Recorder {
        endpoint: endpoint.clone(),
        started: Instant::now(),
        stages: Vec::new(),
    };
    if !endpoint.probe {
        let reason = endpoint
            .skip_reason
            .clone()
            .unwrap_or_else(|| "not probed".into());
        return rec.finish(Status::Skip, reason);
    }
    let port = settings.port_for(endpoint);
    // Through a proxy the client looks up and connects to the proxy; the proxy resolves
    // and reaches the endpoint.
    let (proxy, proxy_auth) = match route {
        Route::Direct => (None, None),
        Route::HttpProxy { addr, auth } => (Some(addr), auth.as_ref()),
    };
    let (lookup, connect_port) = match proxy {
        None => (endpoint.host.as_str(), port),
        Some(p) => (p.host.as_str(), p.port),
    };
    let via = |detail: String| match proxy {
        Some(p) => format!("{detail} (proxy {p})"),
        None => detail,
    };

    // dns
    let t = Instant::now();
    let addrs = match resolver.resolve(lookup, timeout).await {
        Ok(a) => a,
        Err(f) => {
            return rec.fail(
                StageName::Dns,
                t.elapsed(),
                f.cause,
                via(f.detail.clone()),
                via(f.detail),
            )
        }
    };
    let shown: Vec<String> = addrs.iter().take(3).map(|a| a.to_string()).collect();
    rec.pass(StageName::Dns, t.elapsed(), via(shown.join(", ")));

    // tcp (and, through a proxy, the CONNECT tunnel)
    let t = Instant::now();
    let (mut tcp, addr) = match tcp::connect(&addrs, connect_port, timeout).await {
        Ok(c) => c,
        Err(f) => {
            let detail = match f.cause {
                Cause::TcpTimeout => "timed out".to_string(),
                Cause::TcpRefused => "connection refused".to_string(),
                Cause::TcpReset => "connection reset".to_string(),
                _ => f.detail.clone(),
            };
            let raw = format!("{} ({})", f.detail, f.raw);
            let mut r = rec.fail(StageName::Tcp, t.elapsed(), f.cause, via(detail), via(raw));
            if f.cause == Cause::TcpTimeout {
                r.summary = via(format!(
                    "TCP connect timed out after {:.1} s",
                    timeout.as_secs_f64()
                ));
            }
            return r;
        }
    };
    let connected = match proxy {
        None => format!("connected to {addr}"),
        Some(p) => format!("connected to proxy {p} ({addr})"),
    };
    if let (Some(p), Scheme::Https) = (proxy, endpoint.scheme) {
        let connect_took = t.elapsed();
        let tunnel = Instant::now();
        if let Err(f) = route::connect_tunnel(&mut tcp, p, proxy_auth, &endpoint.host, port, timeout).await {
            if f.cause.stage() == Some(StageName::Tcp) {
                return rec.fail(StageName::Tcp, t.elapsed(), f.cause, f.detail.clone(), f.detail);
            }
            // The proxy answered the CONNECT: the failure is in its HTTP answer.
            rec.pass(StageName::Tcp, connect_took, connected);
            rec.skip(StageName::Tls, "not reached: the proxy did not open the tunnel");
            let mut r = rec.fail(
                StageName::Http,
                tunnel.elapsed(),
                f.cause,
                f.detail.clone(),
                f.detail,
            );
            r.http = f.info;
            return r;
        }
        rec.pass(
            StageName::Tcp,
            t.elapsed(),
            format!("{connected}, tunnel to {}:{port}", endpoint.host),
        );
    } else {
        rec.pass(StageName::Tcp, t.elapsed(), connected);
    }

    let (info, tls_info) = match endpoint.scheme {
        Scheme::Http => {
            rec.skip(StageName::Tls, "plain HTTP (no TLS)");
            let t = Instant::now();
            // Through a proxy: absolute-form request, credentials for the proxy.
            let (target, extra) = match proxy {
                None => (endpoint.path.clone(), String::new()),
                Some(_) => {
                    let authority = if port == 80 {
                        endpoint.host.clone()
                    } else {
                        format!("{}:{port}", endpoint.host)
                    };
                    let auth = proxy_auth.map(|a| format!("Proxy-Authorization: {}\r\n", a.header_value()));
                    (
                        format!("http://{authority}{}", endpoint.path),
                        auth.unwrap_or_default(),
                    )
                }
            };
            match http::request_with(&mut tcp, &endpoint.host, &target, &extra, timeout).await {
                Ok(info) => (info_with_time(info, t.elapsed()), None),
                Err(f) => {
                    let mut r = rec.fail(StageName::Http, t.elapsed(), f.cause, f.detail.clone(), f.detail);
                    r.http = f.info;
                    return r;
                }
            }
        }
        Scheme::Https => {
            let t = Instant::now();
            let (mut stream, tls_info) = match tls::handshake(
                tcp,
                &endpoint.host,
                &settings.trust,
                tls::Versions::Modern,
                timeout,
            )
            .await
            {
                Ok(s) => s,
                Err(f) => {
                    let mut r = rec.fail(StageName::Tls, t.elapsed(), f.cause, f.detail, f.raw);
                    r.tls = Some(f.info);
                    return r;
                }
            };
            let tls_took = t.elapsed();
            let root = tls_info.root.clone().unwrap_or_else(|| "?".into());
            if !settings.trust.is_expected_root(&root) {
                let detail = format!("intercepted: certificate issued by {root}, not a Microsoft 365 root");
                let raw = format!(
                    "presented chain ends in {root}; expected one of: {}",
                    settings.trust.expected_roots.join(", ")
                );
                let mut r = rec.fail(StageName::Tls, tls_took, Cause::TlsIntercepted, detail, raw);
                r.summary = format!("TLS intercepted: certificate issued by {root}");
                r.tls = Some(tls_info);
                return r;
            }
            let version = tls_info.version.clone().unwrap_or_default();
            rec.pass(StageName::Tls, tls_took, format!("{version}, chain to {root}"));
            let t = Instant::now();
            match http::request(&mut stream, &endpoint.host, &endpoint.path, timeout).await {
                Ok(info) => (info_with_time(info, t.elapsed()), Some(tls_info)),
                Err(f) => {
                    let mut r = rec.fail(StageName::Http, t.elapsed(), f.cause, f.detail.clone(), f.detail);
                    r.http = f.info;
                    r.tls = Some(tls_info);
                    return r;
                }
            }
        }
    };
    let (http_info, http_took) = info;
    rec.pass(
        StageName::Http,
        http_took,
        format!("HTTP {} from origin", http_info.status),
    );
    let total = ms(rec.started.elapsed());
    let version = tls_info
        .as_ref()
        .and_then(|t| t.version.clone())
        .map(|v| format!(", {v}"))
        .unwrap_or_default();
    let summary = format!("HTTP {} in {:.0} ms{}", http_info.status, total, version);
    let mut r = rec.finish(Status::Pass, summary);
    r.http = Some(http_info);
    r.tls = tls_info;
    r
}

fn info_with_time(info: crate::model::HttpInfo, took: Duration) -> (crate::model::HttpInfo, Duration) {
    (info, took)
}

/// Probes every endpoint concurrently (at most `settings.concurrency` at once) and returns
/// the results in catalog order. A sweep takes about as long as its slowest endpoint.
pub async fn sweep(endpoints: &[Endpoint], settings: &ProbeSettings) -> Vec<CheckResult> {
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
    let mut settings = settings.clone();
    if let RoutePlan::Pac { url, source } = &settings.routes {
        settings.routes =
            crate::checks::pac::plan_for_sweep(url, source, endpoints, &resolver, &settings).await;
    }
    let settings = Arc::new(settings);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, e) in endpoints.iter().cloned().enumerate() {
        let permits = permits.clone();
        let settings = settings.clone();
        let resolver = resolver.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.ok();
            // Belt and braces: four stages, each capped, plus slack.
            let cap = settings.timeout * 4 + Duration::from_secs(1);
            let r = match tokio::time::timeout(cap, probe_endpoint(&e, &resolver, &settings)).await {
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
