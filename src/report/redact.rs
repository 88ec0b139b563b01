//! `--redact`: reports that can leave the organisation. Every name the user or the machine
//! supplied is replaced by a placeholder, consistently — the same name always becomes the
//! same placeholder within one output, so the report still reads ("the proxy <proxy-1>
//! refused ...") without saying who or where:
//!
//! - the names the snapshot carries ([`Snapshot::private_names`]): the host name and user,
//!   the tenant domain (`--domain`, the configuration's, the lab's), the proxy's host and
//!   credentials (`--proxy`, the machine's proxy settings, the proxies a PAC file names),
//!   the PAC file's host, the DNS servers (`--dns-server`, the machine's resolvers);
//! - by their shape, wherever they appear: UPNs and e-mail addresses (`<upn-N>`), GUIDs such
//!   as tenant and device ids (`<guid-N>`), the addresses of local networks (`<ip-N>`:
//!   RFC 1918, carrier-grade NAT 100.64/10, link-local, IPv6 unique-local and link-local),
//!   and credentials in URLs (`<credentials>`, even without `--redact`).
//!
//! What stays: Microsoft's own host names (they are the point of the report), loopback
//! addresses (the lab, and they name no one), public addresses that nobody registered
//! (Microsoft's endpoints resolve to them), and the GUIDs of Microsoft's own pages and
//! settings ([`PUBLIC_GUIDS`]). Details and the list: docs/redaction.md.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch;

use crate::engine::{MonitorHandle, Snapshot};
use crate::model::{PrivateKind, PrivateName};

/// Domains whose names are Microsoft's public endpoints: never redacted (a tenant's own
/// `*.onmicrosoft.com` name is, when registered).
const PUBLIC_SUFFIXES: &[&str] = &[
    "microsoft.com",
    "microsoftonline.com",
    "microsoftonline.us",
    "microsoftonline.cn",
    "microsoftonline-p.net.cn",
    "partner.microsoftonline.cn",
    "office365.cn",
    "office365.us",
    "windows.net",
    "live.com",
    "office.com",
    "office365.com",
    "office.net",
    "msauth.net",
    "msauthimages.net",
    "aspnetcdn.com",
    "msftconnecttest.com",
    "msftncsi.com",
    "digicert.com",
    "onmicrosoft.com",
];

/// GUIDs that are Microsoft's, not anyone's: the DPAPI protection provider the
/// `host:protection-policy` check reads, and those in the remediation entries' links.
pub const PUBLIC_GUIDS: &[&str] = &[
    "df9d8cd0-1501-11d1-8c7a-00c04fc297eb",
    "0658b1a7-6d2e-474f-bc2c-d69e5b9e9a68",
    "59b8e361-dbb6-407f-8ac3-a30889e7b99b",
    "ced5a09c-3099-47cb-9190-e961bf63e240",
    "df044624-55b8-3a97-de80-5d99cb689063",
];

/// JSON keys whose values are the tool's own vocabulary (statuses, stage names, causes,
/// remediation ids, times), never a name: a snapshot read back must still parse.
const VOCABULARY_KEYS: &[&str] = &[
    "status",
    "kind",
    "name",
    "cause",
    "severity",
    "from",
    "to",
    "remediation",
    "remediation_id",
    "checked_at",
    "at",
    "last_sweep_at",
    "generated_at",
    "schema",
    "type",
];

/// Replaces private names with stable placeholders.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    /// lower-cased secret -> placeholder
    names: BTreeMap<String, String>,
    counters: BTreeMap<&'static str, usize>,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn is_public(domain: &str) -> bool {
    let d = domain.to_ascii_lowercase();
    PUBLIC_SUFFIXES
        .iter()
        .any(|s| d == *s || d.ends_with(&format!(".{s}")))
}

/// Whether a name is one of Microsoft's endpoints (not a tenant's `*.onmicrosoft.com`).
fn is_microsoft_endpoint(name: &str) -> bool {
    let d = name.to_ascii_lowercase();
    is_public(&d) && !d.ends_with(".onmicrosoft.com")
}

/// Whether an address belongs to a local network: what `<ip-N>` hides.
pub fn is_local_network(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private() || v4.is_link_local() || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

impl Redactor {
    /// A redactor primed with every private name a snapshot carries.
    pub fn for_snapshot(s: &Snapshot) -> Self {
        let mut r = Redactor::default();
        r.prime(s);
        r
    }

    /// Registers the private names of a snapshot not registered yet; those already known
    /// keep their placeholders.
    pub fn prime(&mut self, s: &Snapshot) {
        // The host header is read as a fallback for snapshots from an older `serve`.
        let mut names = s.private_names();
        if !s.host.hostname.is_empty() {
            names.push(PrivateName::new(PrivateKind::Host, s.host.hostname.clone()));
        }
        if let Some(user) = &s.host.user {
            if let Some((dom, name)) = user.split_once('\\') {
                names.push(PrivateName::new(PrivateKind::Domain, dom));
                names.push(PrivateName::new(PrivateKind::User, name));
            }
            names.push(PrivateName::new(PrivateKind::User, user.clone()));
        }
        for n in &names {
            self.add(n.kind.as_str(), &n.value);
        }
    }

    /// Registers a sensitive name of a kind (`host`, `user`, `domain`, `proxy`, ...): its
    /// placeholder. Microsoft's endpoint names are never registered.
    pub fn add(&mut self, kind: &'static str, secret: &str) -> String {
        let key = secret.trim().to_ascii_lowercase();
        if key.is_empty() || is_microsoft_endpoint(&key) || key.starts_with('<') {
            return secret.to_string();
        }
        if let Some(p) = self.names.get(&key) {
            return p.clone();
        }
        let n = self.counters.entry(kind).or_insert(0);
        *n += 1;
        let placeholder = format!("<{kind}-{n}>");
        self.names.insert(key, placeholder.clone());
        placeholder
    }

    /// Redacts a text: credentials in URLs, UPNs and e-mail addresses, every registered name
    /// where it stands as a whole word (any case), GUIDs and local-network addresses.
    pub fn apply(&mut self, text: &str) -> String {
        let text = strip_url_credentials(text);
        let text = self.replace_upns(&text);
        let text = self.replace_names(&text);
        let text = self.replace_guids(&text);
        self.replace_local_addresses(&text)
    }

    /// Redacts every string of a JSON document (object keys too: maps keyed by check id),
    /// except the values of [`VOCABULARY_KEYS`].
    pub fn apply_json(&mut self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.apply(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.apply_json(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (k, mut v) in entries {
                    if !VOCABULARY_KEYS.contains(&k.as_str()) {
                        self.apply_json(&mut v);
                    }
                    map.insert(self.apply(&k), v);
                }
            }
            _ => {}
        }
    }

    /// A copy of the snapshot with every text redacted, for `serve --redact` and
    /// `watch --redact`: what a consumer of it shows is already safe to share.
    pub fn snapshot(&mut self, s: &Snapshot) -> Snapshot {
        let Ok(mut v) = serde_json::to_value(s) else {
            return Snapshot::default();
        };
        self.apply_json(&mut v);
        // A snapshot that no longer parses is not passed on half-redacted: an empty one
        // is, with the redacted header.
        serde_json::from_value(v).unwrap_or_else(|e| {
            tracing::warn!("redacted snapshot does not parse: {e}");
            let mut empty = Snapshot::default();
            empty.host.hostname = self.apply(&s.host.hostname);
            empty
        })
    }

    /// Registered names, longest first at each position, whole words only, any case.
    fn replace_names(&mut self, text: &str) -> String {
        if self.names.is_empty() {
            return text.to_string();
        }
        let mut secrets: Vec<(&String, &String)> = self.names.iter().collect();
        secrets.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        let lower = text.to_ascii_lowercase();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut prev: Option<char> = None;
        while i < text.len() {
            let c = text[i..].chars().next().unwrap_or(' ');
            if !prev.is_some_and(is_name_char) {
                let hit = secrets.iter().find(|(secret, _)| {
                    lower[i..].starts_with(secret.as_str())
                        && !lower[i + secret.len()..].chars().next().is_some_and(is_name_char)
                });
                if let Some((secret, placeholder)) = hit {
                    out.push_str(placeholder);
                    i += secret.len();
                    prev = Some('>');
                    continue;
                }
            }
            out.push(c);
            prev = Some(c);
            i += c.len_utf8();
        }
        out
    }

    /// `8-4-4-4-12` hex GUIDs standing alone (tenant ids, device ids), except [`PUBLIC_GUIDS`].
    fn replace_guids(&mut self, text: &str) -> String {
        const SHAPE: [usize; 5] = [8, 4, 4, 4, 12];
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut last = 0;
        while i + 36 <= bytes.len() {
            let bounded_before = i == 0 || !is_name_char(bytes[i - 1] as char);
            let mut ok = bounded_before;
            let mut j = i;
            for (n, len) in SHAPE.iter().enumerate() {
                if !ok {
                    break;
                }
                ok = bytes[j..j + len].iter().all(u8::is_ascii_hexdigit);
                j += len;
                if n < 4 {
                    ok = ok && bytes[j] == b'-';
                    j += 1;
                }
            }
            ok = ok && !bytes.get(j).is_some_and(|b| is_name_char(*b as char));
            if ok {
                let guid = text[i..j].to_ascii_lowercase();
                if !PUBLIC_GUIDS.contains(&guid.as_str()) {
                    out.push_str(&text[last..i]);
                    out.push_str(&self.add("guid", &guid));
                    last = j;
                }
                i = j;
            } else {
                i += 1;
            }
        }
        out.push_str(&text[last..]);
        out
    }

    /// Addresses of local networks (see [`is_local_network`]), IPv4 and IPv6, with or
    /// without a port or an IPv6 zone.
    fn replace_local_addresses(&mut self, text: &str) -> String {
        let is_addr_char = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut prev: Option<char> = None;
        while let Some(start) = rest.find(is_addr_char) {
            let before = rest[..start].chars().next_back().or(prev);
            let len = rest[start..]
                .find(|c| !is_addr_char(c))
                .unwrap_or(rest.len() - start);
            let run = &rest[start..start + len];
            let after = rest[start + len..].chars().next();
            out.push_str(&rest[..start]);
            let standalone = !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            if standalone {
                out.push_str(&self.redact_address_run(run));
            } else {
                out.push_str(run);
            }
            prev = run.chars().next_back();
            rest = &rest[start + len..];
        }
        out.push_str(rest);
        out
    }

    /// One run of address characters: an IPv6 address, or IPv4 addresses and ports
    /// separated by colons.
    fn redact_address_run(&mut self, run: &str) -> String {
        let trimmed = run.trim_end_matches(['.', ':']);
        let tail = &run[trimmed.len()..];
        if let Ok(ip) = trimmed.parse::<IpAddr>() {
            return if is_local_network(ip) {
                format!("{}{tail}", self.add("ip", &ip.to_string()))
            } else {
                run.to_string()
            };
        }
        run.split(':')
            .map(|part| match part.trim_end_matches('.').parse::<IpAddr>() {
                Ok(ip) if is_local_network(ip) => {
                    let dot = &part[part.trim_end_matches('.').len()..];
                    format!("{}{dot}", self.add("ip", &ip.to_string()))
                }
                _ => part.to_string(),
            })
            .collect::<Vec<_>>()
            .join(":")
    }

    fn replace_upns(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '@' {
                // local part backwards
                let mut start = out.len();
                let out_chars: Vec<char> = out.chars().collect();
                let mut k = out_chars.len();
                while k > 0
                    && (is_name_char(out_chars[k - 1]) || out_chars[k - 1] == '.' || out_chars[k - 1] == '+')
                {
                    k -= 1;
                }
                if k < out_chars.len() {
                    start = out_chars[..k].iter().map(|c| c.len_utf8()).sum();
                }
                // domain forwards
                let mut j = i + 1;
                while j < chars.len() && (is_name_char(chars[j]) || chars[j] == '.') {
                    j += 1;
                }
                let domain: String = chars[i + 1..j]
                    .iter()
                    .collect::<String>()
                    .trim_end_matches('.')
                    .to_string();
                let local = out[start..].to_string();
                if !local.is_empty() && domain.contains('.') {
                    let upn = format!("{local}@{domain}");
                    let p = self.add("upn", &upn);
                    if !is_public(&domain) {
                        self.add("domain", &domain);
                    }
                    out.truncate(start);
                    out.push_str(&p);
                    i += 1 + domain.chars().count();
                    continue;
                }
            }
            out.push(chars[i]);
            i += 1;
        }
        out
    }
}

/// A view of a running monitor whose snapshots are redacted (`serve --redact`,
/// `watch --redact`): every consumer of it — `/api/state`, `/metrics`, the line stream —
/// sees placeholders only. One [`Redactor`] serves the view's whole life, so a name keeps
/// its placeholder from one snapshot to the next. Commands go to the monitor itself. The
/// view follows the monitor until it stops, or until every receiver of it is gone.
pub fn redacting(handle: &MonitorHandle) -> MonitorHandle {
    let mut source = handle.snapshots.clone();
    let mut redactor = Redactor::default();
    let mut redact = move |s: &Snapshot| {
        redactor.prime(s);
        Arc::new(redactor.snapshot(s))
    };
    let first = redact(&source.borrow_and_update());
    let (tx, rx) = watch::channel(first);
    tokio::spawn(async move {
        while source.changed().await.is_ok() {
            let next = redact(&source.borrow_and_update());
            if tx.send(next).is_err() {
                return;
            }
        }
    });
    MonitorHandle {
        snapshots: rx,
        commands: handle.commands.clone(),
    }
}

/// `http://user:secret@proxy:8080` -> `http://<credentials>@proxy:8080`.
pub fn strip_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | ';' | ',' | '>'))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("<credentials>");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::HostInfo;
    use crate::model::{CheckKind, CheckResult, Status};

    fn snap() -> Snapshot {
        Snapshot {
            host: HostInfo {
                hostname: "PC-0042".into(),
                user: Some("CONTOSO\\alice".into()),
                os: "Windows 11".into(),
                instance: "worldwide".into(),
                lab: None,
                private: vec![
                    PrivateName::new(PrivateKind::Domain, "contoso.lab"),
                    PrivateName::new(PrivateKind::Proxy, "proxy.corp.example"),
                ],
            },
            ..Default::default()
        }
    }

    #[test]
    fn names_become_stable_placeholders() {
        let mut r = Redactor::for_snapshot(&snap());
        let out = r.apply(
            "PC-0042 signed in as alice@contoso.com; alice@contoso.com again on pc-0042 (CONTOSO\\alice)",
        );
        assert!(
            !out.contains("PC-0042") && !out.contains("alice") && !out.contains("contoso"),
            "{out}"
        );
        assert_eq!(out.matches("<upn-1>").count(), 2, "{out}");
        assert_eq!(out.matches("<host-1>").count(), 2, "any case: {out}");
    }

    #[test]
    fn session_and_check_names_are_redacted() {
        let mut s = snap();
        let mut c = CheckResult::simple(
            "network:resolvers",
            CheckKind::Network,
            "DNS servers",
            Status::Pass,
            "dns1.corp.example answers",
        );
        c.private
            .push(PrivateName::new(PrivateKind::Dns, "dns1.corp.example"));
        s.checks.push(c);
        let mut r = Redactor::for_snapshot(&s);
        let out = r.apply(
            "msoid.contoso.lab via http://a:S3cret@proxy.corp.example:3128, dns1.corp.example; login.microsoftonline.com",
        );
        assert_eq!(
            out,
            "msoid.<domain-1> via http://<credentials>@<proxy-1>:3128, <dns-1>; login.microsoftonline.com"
        );
    }

    #[test]
    fn microsoft_hosts_stay() {
        let mut r = Redactor::for_snapshot(&snap());
        let out = r.apply("activation.sls.microsoft.com failed; PC-0042-backup is another machine");
        assert!(out.contains("activation.sls.microsoft.com"));
        assert!(out.contains("PC-0042-backup"), "whole words only: {out}");
        assert_eq!(
            r.add("proxy", "login.microsoftonline.com"),
            "login.microsoftonline.com"
        );
    }

    #[test]
    fn local_addresses_and_guids_go_loopback_and_public_stay() {
        let mut r = Redactor::default();
        let out = r.apply(
            "dns 192.168.1.1:53, 10.0.0.5 and 10.0.0.5, gw fe80::1%eth0, ula [fd12:3456::1]:443, \
             cgnat 100.64.1.2; lab 127.77.0.3:443, ::1, ms 20.190.151.7, version 1.2.3, at 12:30:01; \
             tenant 72F988BF-0000-41af-91ab-2d7cd011db47, provider df9d8cd0-1501-11d1-8c7a-00c04fc297eb",
        );
        assert_eq!(
            out,
            "dns <ip-1>:53, <ip-2> and <ip-2>, gw <ip-3>%eth0, ula [<ip-4>]:443, \
             cgnat <ip-5>; lab 127.77.0.3:443, ::1, ms 20.190.151.7, version 1.2.3, at 12:30:01; \
             tenant <guid-1>, provider df9d8cd0-1501-11d1-8c7a-00c04fc297eb"
        );
    }

    #[test]
    fn remediation_links_and_texts_stay_as_they_are() {
        // (Not the fixture's CONTOSO: the MSOID entry's examples use contoso.com.)
        let mut s = snap();
        s.host.user = Some("FABRIKAM\\jdoe".into());
        s.host.private = vec![PrivateName::new(PrivateKind::Domain, "fabrikam.lab")];
        let mut r = Redactor::for_snapshot(&s);
        for entry in crate::diagnosis::remediation::ALL {
            for link in entry.links {
                assert_eq!(&r.apply(link), link);
            }
            for step in entry.steps {
                assert_eq!(&r.apply(step), step);
            }
        }
    }

    #[test]
    fn private_endpoint_addresses_are_hidden_and_the_snapshot_still_parses() {
        use crate::model::{AddressResult, DnsInfo, IpFamily};
        let mut s = snap();
        let mut c = CheckResult::simple(
            "endpoint:login.microsoftonline.com",
            CheckKind::Endpoint,
            "https://login.microsoftonline.com/",
            Status::Pass,
            "HTTP 200",
        );
        c.addresses.push(AddressResult {
            addr: "fd12:3456::7".into(),
            family: IpFamily::Ipv6,
            status: Status::Pass,
            summary: "HTTP 200".into(),
            duration_ms: 1.0,
            stages: Vec::new(),
            cause: None,
        });
        c.dns = Some(DnsInfo {
            resolver: "10.1.2.3:53".into(),
            cname_chain: Vec::new(),
            ipv4: vec!["192.168.7.9".into()],
            ipv6: vec!["fd12:3456::7".into()],
            notes: Vec::new(),
        });
        s.checks.push(c);
        let out = Redactor::for_snapshot(&s).snapshot(&s);
        let text = serde_json::to_string(&out).unwrap();
        assert!(
            !text.contains("fd12:3456") && !text.contains("192.168.7.9") && !text.contains("10.1.2.3"),
            "{text}"
        );
        assert_eq!(out.checks.len(), 1, "the redacted snapshot reads back: {text}");
        assert!(out.checks[0].addresses[0].addr.starts_with("<ip-"), "{text}");
    }

    #[test]
    fn a_redacted_snapshot_still_parses_and_keeps_its_vocabulary() {
        let mut s = snap();
        let mut c = CheckResult::simple(
            "endpoint:intranet.contoso.lab",
            CheckKind::Endpoint,
            "https://intranet.contoso.lab/",
            Status::Fail,
            "proxy.corp.example refused",
        );
        c.facts.push(("proxy".into(), "proxy.corp.example:3128".into()));
        s.checks.push(c);
        s.history
            .insert("endpoint:intranet.contoso.lab".into(), Default::default());
        let out = Redactor::for_snapshot(&s).snapshot(&s);
        let text = serde_json::to_string(&out).unwrap();
        assert!(
            !text.contains("contoso") && !text.contains("corp.example"),
            "{text}"
        );
        assert_eq!(out.checks[0].status, Status::Fail);
        assert_eq!(out.checks[0].id, "endpoint:intranet.<domain-1>");
        assert!(out.history.contains_key("endpoint:intranet.<domain-1>"));
        assert_eq!(out.host.hostname, "<host-1>");
    }

    #[test]
    fn proxy_credentials_never_survive() {
        let out = strip_url_credentials(
            "proxy http://bob:S3cret!@proxy.contoso.com:8080/ and https://login.microsoftonline.com/x",
        );
        assert!(!out.contains("S3cret") && !out.contains("bob"), "{out}");
        assert!(out.contains("http://<credentials>@proxy.contoso.com:8080/"));
        assert!(out.contains("https://login.microsoftonline.com/x"));
    }
}
