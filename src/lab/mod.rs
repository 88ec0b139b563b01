//! The lab: an imitation of the Microsoft 365 endpoints on loopback, with faults that
//! happen on the wire.
//!
//! The lab exists so that the monitor can be tested, benchmarked and demonstrated against
//! the real failure modes of the field (a dropping firewall, a TLS-inspecting proxy, a
//! broken DNS server...) without the internet and without root. The monitor is pointed at
//! the lab through its state file ([`LabState`]): the lab's DNS server, its CA, and the
//! port of each endpoint. It never reads the scenario: it learns of faults as any client
//! would, from what comes back on the wire.
//!
//! Parts:
//! - [`scenario`]: what goes wrong, for which hosts, and when;
//! - `timeline`: which fault is in effect now;
//! - [`pki`]: the certificates (public, inspection and rogue roots, expired and
//!   wrong-name leaves);
//! - `dns`: the DNS server;
//! - `listener`: each endpoint's socket, swapped for refused and dropped connections;
//! - `origin`: the TLS and HTTP answer of an accepted connection;
//! - `proxy`: an HTTP proxy in front of the endpoints (CONNECT, absolute-form requests,
//!   a PAC file), when the scenario has one.
//!
//! On Linux every host gets its own loopback address (127.77.0.N), so a real packet filter
//! rule can block one endpoint and nothing else; elsewhere all share 127.0.0.1. With
//! `ipv6` each host also gets an IPv6 address ([`ipv6`]), answered in AAAA records, and
//! faults can target one family.

mod builtins;
mod dns_server;
pub mod ipv6;
mod listener;
mod origin;
pub mod pki;
mod proxy_server;
pub mod scenario;
pub mod state;
mod timeline;

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::catalog::{Catalog, Scheme};
use crate::model::IpFamily;
use listener::{Live, Want};
use origin::EndpointContext;
use pki::Pki;
use scenario::Layer;
use timeline::Timeline;

pub use scenario::{Fault, FaultMode, Scenario};

/// The lab DNS server's reply to one query message (`None`: it stays silent), for a
/// zone of one name and no faults: what `fuzz/` drives with arbitrary bytes, since the
/// server answers whatever arrives on its UDP and TCP sockets.
pub fn answer_dns_query(query: &[u8]) -> Option<Vec<u8>> {
    let zone = dns_server::Zone::new([(
        "login.microsoftonline.com".to_string(),
        std::net::IpAddr::from([127, 77, 0, 3]),
    )])
    .with_cnames([(
        "www.office.com".to_string(),
        "login.microsoftonline.com".to_string(),
    )]);
    let timeline = timeline::Timeline::new(Scenario::default(), tokio::time::Instant::now());
    match dns_server::answer(query, &zone, &timeline) {
        dns_server::Reply::Send(bytes) => Some(bytes),
        dns_server::Reply::Silent => None,
    }
}
pub use state::{LabEndpoint, LabState};

/// Windows' connectivity indicator fetches `http://www.msftconnecttest.com/connecttest.txt`;
/// the lab serves it so that a monitor that checks it sees a working network.
pub const NCSI_HTTP_HOST: &str = "www.msftconnecttest.com";
/// The tenant domain the lab plays: scenarios give it records such as `msoid.contoso.lab`.
pub const LAB_DOMAIN: &str = "contoso.lab";
/// How long [`Lab::shutdown`] waits for its tasks before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Why the lab could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("lab: cannot listen for {what} on {addr}: {error}")]
    Bind {
        what: String,
        addr: String,
        error: io::Error,
    },
    #[error("lab: cannot create the lab directory {}: {error}", path.display())]
    Dir { path: PathBuf, error: io::Error },
    #[error("lab: cannot write {}: {error}", path.display())]
    Write { path: PathBuf, error: io::Error },
    #[error("lab: cannot create the lab's certificates: {0}")]
    Certificates(String),
    #[error("lab: cannot watch for Ctrl-C or SIGTERM: {0}")]
    Signal(io::Error),
}

/// How the lab runs.
#[derive(Debug, Clone, Default)]
pub struct LabOptions {
    /// Where the CA certificates are written; default a temporary directory removed when
    /// the lab stops. A given directory is never emptied: the lab only (over)writes its own
    /// file names there.
    pub dir: Option<PathBuf>,
    /// Where the state file is written.
    pub state_file: Option<PathBuf>,
    /// Try the catalog's ports (443/80) before ephemeral ones (Linux, one address per
    /// host; needs root or CAP_NET_BIND_SERVICE).
    pub privileged_ports: bool,
    /// Give every endpoint an IPv6 address too, answered in AAAA records (see [`ipv6`]).
    pub ipv6: bool,
}

/// CNAME chains the lab's DNS serves for some names, shaped like the chains Microsoft's
/// names take to their front doors, so that the monitor's CNAME view is tested against a
/// real DNS answer. Lab data: the names hold no promise about today's real chains.
const FRONT_DOORS: &[(&str, &[&str])] = &[(
    "login.microsoftonline.com",
    &[
        "login.mso.msidentity.com",
        "ak.privatelink.msidentity.com",
        "www.tm.ak.prd.aadg.trafficmanager.net",
    ],
)];

/// A running lab. Dropping it stops every task; [`Lab::shutdown`] also waits for them.
pub struct Lab {
    state: LabState,
    dir: LabDir,
    timeline: Timeline,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The proxy's port, bound but not listening, when the scenario makes it unreachable.
    _proxy_socket: Option<socket2::Socket>,
}

/// A started lab proxy: its URL for the state file, and its task (or, when it must be
/// unreachable, the bound socket that keeps its port refusing).
struct StartedProxy {
    url: String,
    pac_url: Option<String>,
    running: Result<JoinHandle<()>, socket2::Socket>,
}

async fn start_proxy(
    settings: &scenario::LabProxy,
    plan: &[Planned],
    clock_offset_secs: i64,
    stop: &watch::Sender<bool>,
) -> Result<StartedProxy, LabError> {
    let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
    let bind_err = |error| LabError::Bind {
        what: "the proxy".into(),
        addr: any.to_string(),
        error,
    };
    let socket = listener::bound_socket(any).map_err(bind_err)?;
    let addr = socket
        .local_addr()
        .map_err(bind_err)?
        .as_socket()
        .ok_or_else(|| bind_err(io::Error::other("not an IP socket")))?;
    let credentials = match (&settings.credentials, settings.publish_credentials) {
        (Some(c), true) => format!("{c}@"),
        _ => String::new(),
    };
    let url = format!("http://{credentials}{addr}");
    let pac_url = settings
        .pac
        .then(|| format!("http://{addr}{}", proxy_server::PAC_PATH));
    if settings.unreachable {
        return Ok(StartedProxy {
            url,
            pac_url,
            running: Err(socket),
        });
    }
    socket.listen(1024).map_err(bind_err)?;
    let listener = tokio::net::TcpListener::from_std(socket.into()).map_err(bind_err)?;
    let ctx = Arc::new(proxy_server::ProxyContext {
        zone: plan.iter().map(|p| (p.host.clone(), p.ip)).collect(),
        settings: settings.clone(),
        pac: settings.pac.then(|| proxy_server::pac_text(settings, addr)),
        clock_offset_secs,
    });
    let task = tokio::spawn(proxy_server::serve(listener, ctx, stop.subscribe()));
    Ok(StartedProxy {
        url,
        pac_url,
        running: Ok(task),
    })
}

impl Lab {
    /// Mints the certificates, binds the DNS server and every endpoint, applies the faults
    /// in effect at time zero, and writes the state file. The scenario's clock starts when
    /// the sockets are ready, so `after_secs = 1` means one second after `start` returns.
    pub async fn start(scenario: Scenario, catalog: &Catalog, opts: LabOptions) -> Result<Lab, LabError> {
        let plan = plan(catalog);
        let tls_hosts: Vec<String> = plan
            .iter()
            .filter(|p| p.scheme == Scheme::Https)
            .map(|p| p.host.clone())
            .collect();
        let pki = tokio::task::spawn_blocking(move || Pki::generate(&tls_hosts))
            .await
            .map_err(|e| LabError::Certificates(e.to_string()))??;
        let pki = Arc::new(pki);
        let dir = LabDir::new(opts.dir.as_deref())?;
        let pems = pki.write_pems(dir.path())?;

        let (udp, tcp) = dns_server::bind().await?;
        let dns_addr = udp.local_addr().map_err(|error| LabError::Bind {
            what: "DNS".into(),
            addr: "127.0.0.1".into(),
            error,
        })?;
        // Every endpoint's IPv4 socket, then (with `ipv6`) its IPv6 one.
        let mut sockets: Vec<(usize, IpFamily, socket2::Socket, SocketAddr)> = Vec::with_capacity(plan.len());
        for (i, p) in plan.iter().enumerate() {
            let (socket, addr) = bind_endpoint(p, opts.privileged_ports)?;
            sockets.push((i, IpFamily::Ipv4, socket, addr));
        }
        if opts.ipv6 {
            let hosts = plan.iter().map(|p| p.index).max().map_or(0, |m| m + 1);
            let layout = ipv6::prepare(hosts);
            let v4_ports: Vec<u16> = sockets.iter().map(|s| s.3.port()).collect();
            // The sockets bind with SO_REUSEADDR, so a second bind of the same address
            // and port succeeds and only its listen fails: keep track of what is taken.
            let mut taken: Vec<SocketAddr> = Vec::new();
            for (i, p) in plan.iter().enumerate() {
                let ip6 = ipv6::address(layout, p.index);
                let (socket, addr) = bind_v6(p, ip6, v4_ports[i], &taken)?;
                taken.push(addr);
                sockets.push((i, IpFamily::Ipv6, socket, addr));
            }
        }

        let timeline = Timeline::new(scenario, tokio::time::Instant::now());
        let (stop, _) = watch::channel(false);
        // Enter the faults in effect at time zero on all sockets at once: filling a
        // blackhole's accept queue waits a little to be sure it is full.
        let entering: Vec<_> = sockets
            .into_iter()
            .map(|(i, family, socket, addr)| {
                let host = &plan[i].host;
                let want =
                    Want::from_fault(timeline.fault(host, Layer::Socket, Some(family)).map(|f| f.mode));
                (
                    i,
                    family,
                    addr,
                    tokio::spawn(listener::enter(want, Live::Refusing(socket), addr)),
                )
            })
            .collect();
        let mut tasks = Vec::new();
        let mut endpoints: Vec<LabEndpoint> = Vec::with_capacity(plan.len());
        let mut zone_entries: Vec<(String, IpAddr)> = Vec::new();
        for (i, family, addr, entered) in entering {
            let p = &plan[i];
            let bind_err = |error| LabError::Bind {
                what: format!("{}://{}", p.scheme.as_str(), p.host),
                addr: addr.to_string(),
                error,
            };
            let live = entered
                .await
                .map_err(|e| bind_err(io::Error::other(e)))?
                .map_err(bind_err)?;
            let ep = Arc::new(EndpointContext {
                host: p.host.clone(),
                family,
                scheme: p.scheme,
                timeline: timeline.clone(),
                pki: Arc::clone(&pki),
            });
            tasks.push(tokio::spawn(listener::run(live, addr, ep, stop.subscribe())));
            zone_entries.push((dns_name(&p.host), addr.ip()));
            match family {
                IpFamily::Ipv4 => endpoints.push(LabEndpoint {
                    host: p.host.clone(),
                    addr: addr.ip(),
                    port: addr.port(),
                    scheme: p.scheme,
                    addr6: None,
                    port6: None,
                }),
                IpFamily::Ipv6 => {
                    if let Some(e) = endpoints.get_mut(i) {
                        e.addr6 = Some(addr.ip());
                        e.port6 = (addr.port() != e.port).then_some(addr.port());
                    }
                }
            }
        }
        let scenario = timeline.scenario();
        let front_doors = FRONT_DOORS.iter().flat_map(|(name, chain)| {
            let mut from = name.to_string();
            chain.iter().map(move |to| {
                let link = (from.clone(), to.to_string());
                from = to.to_string();
                link
            })
        });
        let zone = dns_server::Zone::new(zone_entries)
            .with_cnames(front_doors)
            .with_cnames(scenario.cnames.clone());
        let mut proxy_socket = None;
        let (mut proxy_url, mut pac_url) = (None, None);
        if let Some(settings) = &scenario.proxy {
            let started = start_proxy(settings, &plan, scenario.clock_offset_secs, &stop).await?;
            proxy_url = Some(started.url);
            pac_url = started.pac_url;
            match started.running {
                Ok(task) => tasks.push(task),
                Err(socket) => proxy_socket = Some(socket),
            }
        }
        let dns_ctx = Arc::new(dns_server::DnsContext {
            zone,
            timeline: timeline.clone(),
        });
        tasks.push(tokio::spawn(dns_server::serve_udp(
            udp,
            Arc::clone(&dns_ctx),
            stop.subscribe(),
        )));
        tasks.push(tokio::spawn(dns_server::serve_tcp(
            tcp,
            dns_ctx,
            stop.subscribe(),
        )));

        let state = LabState {
            dns: dns_addr,
            ca_cert: pems.public_root,
            inspection_ca_cert: Some(pems.inspection_root),
            scenario: timeline.scenario().name.clone(),
            endpoints,
            proxy: proxy_url,
            pac_url,
            domain: Some(LAB_DOMAIN.to_string()),
        };
        let lab = Lab {
            state,
            dir,
            timeline,
            stop,
            tasks,
            _proxy_socket: proxy_socket,
        };
        if let Some(path) = &opts.state_file {
            lab.state.save(path).map_err(|error| LabError::Write {
                path: path.clone(),
                error,
            })?;
        }
        Ok(lab)
    }

    /// Where to find the lab; also what was written to the state file.
    pub fn state(&self) -> &LabState {
        &self.state
    }

    /// The directory holding the CA certificates (see [`pki`] for the file names).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The scenario being played.
    pub fn scenario(&self) -> &Scenario {
        self.timeline.scenario()
    }

    /// Time since the scenario's clock started.
    pub fn elapsed(&self) -> Duration {
        self.timeline.elapsed()
    }

    /// One line saying where the lab is, for `m365mon lab serve`.
    pub fn ready_line(&self, state_file: Option<&Path>) -> String {
        let s = &self.state;
        let mut line = format!(
            "lab ready: scenario {:?}, {} endpoints, DNS {}, CA {}",
            s.scenario,
            s.endpoints.len(),
            s.dns,
            s.ca_cert.display()
        );
        if let Some(addr6) = s.endpoints.first().and_then(|e| e.addr6) {
            let shared = s.endpoints.iter().all(|e| e.addr6 == Some(addr6));
            let where_ = if shared {
                format!("IPv6 on {addr6} (ports of their own)")
            } else {
                format!("IPv6 on {}", ipv6::prefix_text())
            };
            line.push_str(&format!(", {where_}"));
        }
        if let Some(path) = state_file {
            line.push_str(&format!(", state file {}", path.display()));
        }
        line.push_str(" (Ctrl-C to stop)");
        line
    }

    /// Stops every task and waits for them (a little), then removes the temporary directory.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut self.tasks);
        for mut task in tasks {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Runs a lab until Ctrl-C or SIGTERM, for `m365mon lab serve`: prints one line when it is
/// ready, and leaves the state file and a given directory's certificates in place.
pub async fn serve_until_interrupted(
    scenario: Scenario,
    catalog: &Catalog,
    opts: LabOptions,
) -> Result<(), LabError> {
    let state_file = opts.state_file.clone();
    let lab = Lab::start(scenario, catalog, opts).await?;
    // A closed stdout must not stop the lab.
    let _ = writeln!(io::stdout(), "{}", lab.ready_line(state_file.as_deref()));
    let interrupted = wait_for_interrupt().await;
    lab.shutdown().await;
    interrupted
}

async fn wait_for_interrupt() -> Result<(), LabError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).map_err(LabError::Signal)?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(LabError::Signal),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(LabError::Signal)
    }
}

/// One listener to create.
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    host: String,
    /// The host's place among the distinct hosts: its loopback addresses.
    index: usize,
    scheme: Scheme,
    ip: IpAddr,
    /// The catalog's port (443/80), tried first with `privileged_ports`.
    port: u16,
}

/// Every distinct (host, scheme) the catalog probes, plus the connectivity-indicator
/// host, each with its loopback address.
fn plan(catalog: &Catalog) -> Vec<Planned> {
    let mut pairs: Vec<(String, Scheme, u16)> = Vec::new();
    for e in catalog.probed() {
        if !pairs.iter().any(|(h, s, _)| *h == e.host && *s == e.scheme) {
            pairs.push((e.host.clone(), e.scheme, e.port));
        }
    }
    if !pairs
        .iter()
        .any(|(h, s, _)| h == NCSI_HTTP_HOST && *s == Scheme::Http)
    {
        pairs.push((NCSI_HTTP_HOST.to_string(), Scheme::Http, 80));
    }
    let mut hosts: Vec<&str> = Vec::new();
    for (h, _, _) in &pairs {
        if !hosts.contains(&h.as_str()) {
            hosts.push(h);
        }
    }
    pairs
        .iter()
        .map(|(host, scheme, port)| {
            let index = hosts.iter().position(|h| h == host).unwrap_or(0);
            Planned {
                host: host.clone(),
                index,
                scheme: *scheme,
                ip: host_address(index),
                port: *port,
            }
        })
        .collect()
}

/// The loopback address of the `index`-th host: 127.77.x.y on Linux (which routes all of
/// 127/8 to the loopback interface), 127.0.0.1 elsewhere.
fn host_address(index: usize) -> IpAddr {
    if cfg!(target_os = "linux") {
        let (hi, lo) = (index / 250, index % 250 + 1);
        IpAddr::V4(Ipv4Addr::new(
            127,
            77,
            u8::try_from(hi).unwrap_or(u8::MAX),
            lo as u8,
        ))
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    }
}

/// Binds (without listening) the socket of one endpoint: its catalog port when asked and
/// possible, else an ephemeral one.
fn bind_endpoint(p: &Planned, privileged_ports: bool) -> Result<(socket2::Socket, SocketAddr), LabError> {
    let own_address = cfg!(target_os = "linux");
    if privileged_ports && own_address {
        if let Ok(socket) = listener::bound_socket(SocketAddr::new(p.ip, p.port)) {
            return Ok((socket, SocketAddr::new(p.ip, p.port)));
        }
    }
    let any_port = SocketAddr::new(p.ip, 0);
    let bind_err = |error| LabError::Bind {
        what: format!("{}://{}", p.scheme.as_str(), p.host),
        addr: any_port.to_string(),
        error,
    };
    let socket = listener::bound_socket(any_port).map_err(bind_err)?;
    let addr = socket
        .local_addr()
        .map_err(bind_err)?
        .as_socket()
        .ok_or_else(|| bind_err(io::Error::other("not an IP socket")))?;
    Ok((socket, addr))
}

/// The name that holds `host`'s addresses in the lab's DNS: the end of its CNAME chain.
fn dns_name(host: &str) -> String {
    FRONT_DOORS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(host))
        .and_then(|(_, chain)| chain.last())
        .map_or_else(|| host.to_string(), |last| last.to_string())
}

/// Binds (without listening) the IPv6 socket of one endpoint: on its IPv4 port when that
/// is free there, else on a port of its own (hosts that share `::1`).
fn bind_v6(
    p: &Planned,
    ip: IpAddr,
    v4_port: u16,
    taken: &[SocketAddr],
) -> Result<(socket2::Socket, SocketAddr), LabError> {
    let same = SocketAddr::new(ip, v4_port);
    if !taken.contains(&same) {
        if let Ok(socket) = listener::bound_socket(same) {
            return Ok((socket, same));
        }
    }
    let any_port = SocketAddr::new(ip, 0);
    let bind_err = |error| LabError::Bind {
        what: format!("{}://{} (IPv6)", p.scheme.as_str(), p.host),
        addr: any_port.to_string(),
        error,
    };
    let socket = listener::bound_socket(any_port).map_err(bind_err)?;
    let addr = socket
        .local_addr()
        .map_err(bind_err)?
        .as_socket()
        .ok_or_else(|| bind_err(io::Error::other("not an IP socket")))?;
    Ok((socket, addr))
}

/// The lab directory: the user's, or a temporary one removed on drop.
struct LabDir {
    path: PathBuf,
    temporary: bool,
}

impl LabDir {
    fn new(given: Option<&Path>) -> Result<Self, LabError> {
        if let Some(path) = given {
            std::fs::create_dir_all(path).map_err(|error| LabError::Dir {
                path: path.to_path_buf(),
                error,
            })?;
            return Ok(Self {
                path: path.to_path_buf(),
                temporary: false,
            });
        }
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir();
        remove_stale_dirs(&base);
        let mut last = None;
        for _ in 0..10 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let path = base.join(format!("{TEMP_PREFIX}{}-{n}-{nanos:x}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    return Ok(Self {
                        path,
                        temporary: true,
                    })
                }
                Err(error) => last = Some((path, error)),
            }
        }
        let (path, error) = last.expect("at least one attempt");
        Err(LabError::Dir { path, error })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// Prefix of the lab's temporary directories: `m365mon-lab-<pid>-<n>-<nanos>`.
const TEMP_PREFIX: &str = "m365mon-lab-";

/// Removes temporary lab directories left by processes that no longer exist (killed, or
/// exited without dropping their lab), when they hold nothing but the lab's own files.
fn remove_stale_dirs(base: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let only_ours = std::fs::read_dir(entry.path()).is_ok_and(|files| {
            files
                .flatten()
                .all(|f| pki::FILE_NAMES.iter().any(|n| f.file_name() == *n))
        });
        if only_ours {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Drop for LabDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_covers_each_probed_host_and_scheme_once() {
        let p = plan(&Catalog::builtin());
        // 20 entries, 17 hosts: crl.microsoft.com has three HTTP files (one listener) and
        // an HTTPS entry; plus the connectivity-indicator host.
        assert_eq!(p.len(), 18 + 1, "{p:#?}");
        let crl: Vec<_> = p.iter().filter(|x| x.host == "crl.microsoft.com").collect();
        assert_eq!(crl.len(), 2);
        assert_eq!(crl[0].ip, crl[1].ip, "one address per host, whatever the scheme");
        assert!(p.iter().any(|x| x.host == NCSI_HTTP_HOST && x.port == 80));
        if cfg!(target_os = "linux") {
            let mut ips: Vec<_> = p.iter().map(|x| x.ip).collect();
            ips.sort();
            ips.dedup();
            assert_eq!(ips.len(), 18, "a distinct address per distinct host");
            assert!(ips.iter().all(|ip| ip.to_string().starts_with("127.77.0.")));
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn stale_dirs_of_dead_processes_are_removed_if_they_hold_only_lab_files() {
        let base = std::env::temp_dir().join(format!("m365mon-stale-test-{}", std::process::id()));
        let dead = base.join(format!("{TEMP_PREFIX}4000000000-0-1"));
        let dead_with_user_file = base.join(format!("{TEMP_PREFIX}4000000001-0-1"));
        let alive = base.join(format!("{TEMP_PREFIX}{}-9-1", std::process::id()));
        for d in [&dead, &dead_with_user_file, &alive] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join(pki::PUBLIC_ROOT_FILE), "pem").unwrap();
        }
        std::fs::write(dead_with_user_file.join("notes.txt"), "mine").unwrap();
        remove_stale_dirs(&base);
        assert!(!dead.exists());
        assert!(dead_with_user_file.exists() && alive.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn temporary_dir_is_removed_and_given_dir_is_kept() {
        let dir = LabDir::new(None).unwrap();
        let path = dir.path().to_path_buf();
        assert!(path.is_dir());
        drop(dir);
        assert!(!path.exists());

        let given = std::env::temp_dir().join(format!("m365mon-lab-given-{}", std::process::id()));
        std::fs::create_dir_all(&given).unwrap();
        std::fs::write(given.join("mine.txt"), "keep").unwrap();
        drop(LabDir::new(Some(&given)).unwrap());
        assert!(given.join("mine.txt").exists());
        std::fs::remove_dir_all(&given).unwrap();
    }
}
