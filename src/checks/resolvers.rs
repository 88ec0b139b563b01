//! DNS resolvers: which DNS servers this machine asks, and whether each one answers.
//!
//! The endpoint probes show *that* a name does not resolve; this check shows *who* was
//! asked. VPN clients replace the resolvers when they connect (and do not always put them
//! back), and one dead server among several makes every lookup wait for its timeout
//! first. Each server gets one query for a Microsoft sign-in name, with a short timeout.
//!
//! The servers are those the probes use: the machine's configuration (`/etc/resolv.conf`
//! on Linux, read here so that a bad line can be named; the adapters' settings on Windows
//! and the system configuration on macOS, through hickory's `system_conf`), or the one
//! server given to the sweep (the lab's, or `--dns-server`).
//!
//! Facts with stable keys:
//! - `resolvers`: the servers asked, comma-separated (`none` if there are none).
//! - `answering`: "N of M" servers that returned an address.
//! - `queried_name`: the name that was asked for.
//! - `resolver <addr>`: what that server answered, and how fast.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use super::Sweep;
use crate::catalog::Endpoint;
use crate::model::{is_loopback, ms, Cause, CheckKind, CheckResult, PrivateKind, PrivateName, Status};
use crate::probe::{Dns, DnsChoice};

/// Check id.
pub const ID: &str = "network:resolvers";
/// Longest wait for one server's answer; a server slower than this is as good as dead
/// for a sign-in dialog.
const MAX_WAIT: Duration = Duration::from_secs(2);
/// systemd-resolved's local stub: the servers behind it are listed in its own file.
const RESOLVED_STUB: &str = "127.0.0.53";

/// One DNS server and where its address came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolver {
    pub addr: SocketAddr,
    /// "/etc/resolv.conf line 3", "the lab's DNS server", ...
    pub origin: String,
}

/// The servers to ask, and what is worth showing about the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolverList {
    pub resolvers: Vec<Resolver>,
    /// Where the list came from.
    pub source: String,
    /// Extra facts (the servers behind systemd-resolved's stub).
    pub notes: Vec<(String, String)>,
    /// Lines or settings that could not be used.
    pub problems: Vec<String>,
}

/// What one server answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Resolved {
        addrs: Vec<IpAddr>,
        ms: f64,
    },
    /// The server answered, but with an error (NXDOMAIN, SERVFAIL, REFUSED, no records).
    Error {
        cause: Cause,
        detail: String,
        ms: f64,
    },
    /// No answer at all.
    Silent {
        detail: String,
    },
}

/// Reads `nameserver` lines of a resolv.conf file; `file` names it in problems.
pub fn parse_resolv_conf(file: &str, text: &str) -> (Vec<Resolver>, Vec<String>) {
    let mut resolvers = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() != Some(&"nameserver") {
            continue;
        }
        let Some(value) = words.get(1) else {
            problems.push(format!("{file} line {line_no}: `nameserver` without an address"));
            continue;
        };
        // A link-local server carries its interface after `%`; it cannot be asked
        // without the interface index, so it is named rather than queried.
        if value.contains('%') {
            problems.push(format!(
                "{file} line {line_no}: {value} is a link-local server with a zone; not queried"
            ));
            continue;
        }
        match value.parse::<IpAddr>() {
            Ok(ip) => resolvers.push(Resolver {
                addr: SocketAddr::new(ip, 53),
                origin: format!("{file} line {line_no}"),
            }),
            Err(_) => problems.push(format!("{file} line {line_no}: {value:?} is not an IP address")),
        }
    }
    (resolvers, problems)
}

/// The machine's resolvers. On Linux `root` is where `etc/resolv.conf` is looked for
/// (`/` on a live system); elsewhere the system configuration is asked.
pub fn system_resolvers(root: &Path) -> ResolverList {
    if cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd"
    )) {
        return resolv_conf_resolvers(root);
    }
    let _ = root;
    match hickory_resolver::system_conf::read_system_conf() {
        Ok((config, _)) => {
            let mut resolvers: Vec<Resolver> = Vec::new();
            for ns in config.name_servers() {
                let port = ns.connections.first().map(|c| c.port).unwrap_or(53);
                let addr = SocketAddr::new(ns.ip, port);
                if !resolvers.iter().any(|r| r.addr == addr) {
                    resolvers.push(Resolver {
                        addr,
                        origin: "system configuration".into(),
                    });
                }
            }
            let source = if cfg!(windows) {
                "network adapters' DNS settings"
            } else {
                "system DNS configuration"
            };
            ResolverList {
                resolvers,
                source: source.into(),
                ..Default::default()
            }
        }
        Err(e) => ResolverList {
            source: "system DNS configuration".into(),
            problems: vec![format!("cannot read the system DNS configuration: {e}")],
            ..Default::default()
        },
    }
}

/// `etc/resolv.conf` under `root`, and the servers behind systemd-resolved's stub.
pub fn resolv_conf_resolvers(root: &Path) -> ResolverList {
    let path = root.join("etc/resolv.conf");
    let label = "/etc/resolv.conf";
    let mut list = ResolverList {
        source: label.into(),
        ..Default::default()
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let (resolvers, problems) = parse_resolv_conf(label, &text);
            list.resolvers = resolvers;
            list.problems = problems;
        }
        Err(e) => list.problems.push(format!("cannot read {}: {e}", path.display())),
    }
    if list
        .resolvers
        .iter()
        .any(|r| r.addr.ip().to_string() == RESOLVED_STUB)
    {
        let upstream_file = "/run/systemd/resolve/resolv.conf";
        if let Ok(text) = std::fs::read_to_string(root.join(upstream_file.trim_start_matches('/'))) {
            let (upstream, _) = parse_resolv_conf(upstream_file, &text);
            let shown: Vec<String> = upstream.iter().map(|r| r.addr.ip().to_string()).collect();
            let value = if shown.is_empty() {
                "none".to_string()
            } else {
                shown.join(", ")
            };
            list.notes.push(("behind systemd-resolved".into(), value));
        }
    }
    list
}

/// The servers the probes of this plan use.
pub fn configured(plan: &Sweep<'_>) -> ResolverList {
    match &plan.settings.dns {
        DnsChoice::Server(addr) => {
            let origin = if plan.checks.lab {
                "the lab's DNS server"
            } else {
                "the DNS server given to m365mon"
            };
            ResolverList {
                resolvers: vec![Resolver {
                    addr: *addr,
                    origin: origin.into(),
                }],
                source: origin.into(),
                ..Default::default()
            }
        }
        DnsChoice::System => system_resolvers(Path::new("/")),
    }
}

/// The name to ask for: a sign-in host of the catalog (what sign-in needs first), else
/// the first probed endpoint, else login.microsoftonline.com.
pub fn query_name(endpoints: &[Endpoint]) -> String {
    super::tls_handshake::sign_in_endpoints(endpoints)
        .first()
        .map(|e| e.host.clone())
        .or_else(|| {
            endpoints
                .iter()
                .find(|e| e.probe && !e.wildcard)
                .map(|e| e.host.clone())
        })
        .unwrap_or_else(|| "login.microsoftonline.com".into())
}

/// Asks one server for `name`.
pub async fn ask(resolver: &Resolver, name: &str, timeout: Duration) -> Answer {
    let dns = match Dns::new(&DnsChoice::Server(resolver.addr), timeout) {
        Ok(d) => d,
        Err(why) => return Answer::Silent { detail: why },
    };
    let started = Instant::now();
    match dns.resolve(name, timeout).await {
        Ok(addrs) => Answer::Resolved {
            addrs,
            ms: ms(started.elapsed()),
        },
        Err(f) if f.cause == Cause::DnsTimeout => Answer::Silent { detail: f.detail },
        Err(f) => Answer::Error {
            cause: f.cause,
            detail: f.detail,
            ms: ms(started.elapsed()),
        },
    }
}

/// Runs the check: every configured server is asked once, all at the same time.
pub async fn check(plan: &Sweep<'_>) -> CheckResult {
    let list = configured(plan);
    let name = query_name(plan.endpoints);
    let timeout = plan.settings.timeout.min(MAX_WAIT);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, r) in list.resolvers.iter().cloned().enumerate() {
        let name = name.clone();
        tasks.spawn(async move { (i, ask(&r, &name, timeout).await) });
    }
    let mut answers = vec![
        Answer::Silent {
            detail: "the query task failed".into()
        };
        list.resolvers.len()
    ];
    while let Some(Ok((i, a))) = tasks.join_next().await {
        answers[i] = a;
    }
    evaluate(&list, &name, &answers)
}

/// The check as a plain function of the server list and their answers (same order).
pub fn evaluate(list: &ResolverList, name: &str, answers: &[Answer]) -> CheckResult {
    let target = format!("DNS servers ({})", list.source);
    let total = list.resolvers.len();
    let resolved = answers
        .iter()
        .filter(|a| matches!(a, Answer::Resolved { .. }))
        .count();
    let errors = answers
        .iter()
        .filter(|a| matches!(a, Answer::Error { .. }))
        .count();
    let silent = total - resolved - errors;
    let (status, summary) = if total == 0 {
        (Status::Fail, "no DNS server is configured".to_string())
    } else if resolved == total {
        let fastest = answers.iter().filter_map(|a| {
            if let Answer::Resolved { ms, .. } = a {
                Some(*ms)
            } else {
                None
            }
        });
        let fastest = fastest.fold(f64::INFINITY, f64::min);
        let names: Vec<String> = list.resolvers.iter().map(|s| show(s.addr)).collect();
        let servers = if total == 1 {
            format!("the DNS server {} answers", names.join(""))
        } else {
            format!("all {total} DNS servers ({}) answer", names.join(", "))
        };
        (Status::Pass, format!("{servers} for {name} ({fastest:.0} ms)"))
    } else if resolved > 0 {
        (
            Status::Warn,
            format!(
                "{} of {total} DNS servers do not resolve {name}: lookups may wait for them",
                total - resolved
            ),
        )
    } else if errors > 0 {
        (
            Status::Fail,
            format!("DNS servers answer, but give no address for {name}"),
        )
    } else {
        (Status::Fail, format!("no DNS server answers ({silent} asked)"))
    };
    let mut r = CheckResult::simple(ID, CheckKind::Network, target, status, summary);
    let servers: Vec<String> = list.resolvers.iter().map(|s| show(s.addr)).collect();
    // For `--redact`: the servers, as shown and as addresses (loopback says nothing).
    for s in list
        .resolvers
        .iter()
        .filter(|s| !is_loopback(&s.addr.ip().to_string()))
    {
        r.private.push(PrivateName::new(PrivateKind::Dns, show(s.addr)));
        r.private
            .push(PrivateName::new(PrivateKind::Dns, s.addr.ip().to_string()));
    }
    r.private.sort();
    r.private.dedup();
    r.facts.push((
        "resolvers".into(),
        if servers.is_empty() {
            "none".into()
        } else {
            servers.join(", ")
        },
    ));
    r.facts
        .push(("answering".into(), format!("{resolved} of {total}")));
    r.facts.push(("queried_name".into(), name.to_string()));
    for (s, a) in list.resolvers.iter().zip(answers) {
        let what = match a {
            Answer::Resolved { addrs, ms } => {
                let shown: Vec<String> = addrs.iter().take(3).map(IpAddr::to_string).collect();
                format!("answers in {ms:.0} ms: {}", shown.join(", "))
            }
            Answer::Error { detail, ms, .. } => format!("answers in {ms:.0} ms, but {detail}"),
            Answer::Silent { detail } => format!("no answer: {detail}"),
        };
        r.facts.push((
            format!("resolver {}", show(s.addr)),
            format!("{what} ({})", s.origin),
        ));
    }
    r.facts.extend(list.notes.iter().cloned());
    r.facts
        .extend(list.problems.iter().map(|p| ("problem".to_string(), p.clone())));
    if status != Status::Pass {
        r.remediation = Some("dns-failure".into());
    }
    r
}

/// The address as people write it: without `:53`, with the port otherwise.
fn show(addr: SocketAddr) -> String {
    if addr.port() == 53 {
        addr.ip().to_string()
    } else {
        addr.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact<'a>(r: &'a CheckResult, key: &str) -> &'a str {
        r.facts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {key} in {:?}", r.facts))
    }

    fn list(addrs: &[&str]) -> ResolverList {
        ResolverList {
            resolvers: addrs
                .iter()
                .map(|a| Resolver {
                    addr: SocketAddr::new(a.parse().unwrap(), 53),
                    origin: "test".into(),
                })
                .collect(),
            source: "test".into(),
            ..Default::default()
        }
    }

    fn resolved() -> Answer {
        Answer::Resolved {
            addrs: vec!["20.190.151.7".parse().unwrap()],
            ms: 14.0,
        }
    }

    #[test]
    fn resolv_conf_lines_with_comments_zones_and_mistakes() {
        let text = "# Generated by NetworkManager\nsearch contoso.local\nnameserver 192.168.1.1\n; old\n\
                    nameserver fe80::1%eth0\nnameserver 2001:db8::53\nnameserver dns.contoso.local\nnameserver\n";
        let (found, problems) = parse_resolv_conf("/etc/resolv.conf", text);
        let addrs: Vec<String> = found.iter().map(|r| r.addr.to_string()).collect();
        assert_eq!(addrs, ["192.168.1.1:53", "[2001:db8::53]:53"]);
        assert_eq!(found[0].origin, "/etc/resolv.conf line 3");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with("/etc/resolv.conf line 5:") && problems[0].contains("zone"),
            "{problems:?}"
        );
        assert_eq!(
            problems[1],
            "/etc/resolv.conf line 7: \"dns.contoso.local\" is not an IP address"
        );
        assert!(
            problems[2].starts_with("/etc/resolv.conf line 8:"),
            "{problems:?}"
        );
    }

    #[test]
    fn all_answering_passes() {
        let r = evaluate(
            &list(&["192.168.1.1", "10.0.0.53"]),
            "login.microsoftonline.com",
            &[resolved(), resolved()],
        );
        assert_eq!(r.status, Status::Pass, "{}", r.summary);
        assert_eq!(fact(&r, "answering"), "2 of 2");
        assert_eq!(fact(&r, "resolvers"), "192.168.1.1, 10.0.0.53");
        assert!(fact(&r, "resolver 10.0.0.53").starts_with("answers in 14 ms: 20.190.151.7"));
        assert_eq!(r.remediation, None);
    }

    #[test]
    fn one_silent_server_is_a_warning() {
        let silent = Answer::Silent {
            detail: "no answer from the DNS server within 2.0 s".into(),
        };
        let r = evaluate(
            &list(&["192.168.1.1", "10.0.0.53"]),
            "login.microsoftonline.com",
            &[resolved(), silent],
        );
        assert_eq!(r.status, Status::Warn);
        assert_eq!(r.remediation.as_deref(), Some("dns-failure"));
        assert!(fact(&r, "resolver 10.0.0.53").starts_with("no answer"));
    }

    #[test]
    fn none_answering_fails_and_says_why() {
        let silent = || Answer::Silent {
            detail: "timed out".into(),
        };
        let r = evaluate(
            &list(&["192.168.1.1", "10.0.0.53"]),
            "login.microsoftonline.com",
            &[silent(), silent()],
        );
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("no DNS server answers"), "{}", r.summary);
        assert_eq!(r.remediation.as_deref(), Some("dns-failure"));

        let nx = Answer::Error {
            cause: Cause::DnsNxdomain,
            detail: "NXDOMAIN (the name does not exist)".into(),
            ms: 3.0,
        };
        let r = evaluate(&list(&["192.168.1.1"]), "login.microsoftonline.com", &[nx]);
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("no address"), "{}", r.summary);
        assert!(fact(&r, "resolver 192.168.1.1").contains("NXDOMAIN"));
    }

    #[test]
    fn no_configured_server_fails() {
        let mut l = list(&[]);
        l.problems.push("cannot read /etc/resolv.conf: not found".into());
        let r = evaluate(&l, "login.microsoftonline.com", &[]);
        assert_eq!(r.status, Status::Fail);
        assert_eq!(fact(&r, "resolvers"), "none");
        assert!(fact(&r, "problem").contains("/etc/resolv.conf"));
    }

    #[test]
    fn systemd_stub_shows_the_servers_behind_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::create_dir_all(dir.path().join("run/systemd/resolve")).unwrap();
        std::fs::write(
            dir.path().join("etc/resolv.conf"),
            "nameserver 127.0.0.53\noptions edns0 trust-ad\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("run/systemd/resolve/resolv.conf"),
            "nameserver 10.8.0.1\nnameserver 192.168.1.1\n",
        )
        .unwrap();
        let l = resolv_conf_resolvers(dir.path());
        assert_eq!(l.resolvers.len(), 1);
        assert_eq!(
            l.notes,
            [(
                "behind systemd-resolved".to_string(),
                "10.8.0.1, 192.168.1.1".to_string()
            )]
        );
    }

    #[test]
    fn query_name_prefers_a_sign_in_host() {
        let eps = crate::catalog::Catalog::builtin().endpoints;
        assert!(super::super::tls_handshake::SIGN_IN_HOSTS.contains(&query_name(&eps).as_str()));
        assert_eq!(query_name(&[]), "login.microsoftonline.com");
    }
}
