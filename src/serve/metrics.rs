//! The snapshot in the Prometheus text exposition format (version 0.0.4).
//!
//! Names follow the blackbox exporter (`probe_duration_seconds`,
//! `probe_http_duration_seconds{phase=...}`, `probe_tls_version_info`,
//! `probe_http_status_code`) with an `m365mon_` prefix, so existing dashboards and
//! habits carry over. Every label value comes from a bounded set: check ids (the
//! catalog), phase and cause names, TLS versions, finding ids. Error texts and summaries
//! never become labels: each distinct label value is a new time series to Prometheus.
//!
//! `m365mon_check_status` encodes the light as a number: -1 skip, 0 pass, 1 warn, 2 fail
//! (the monitoring-plugin exit codes, with skip below pass), so `max()` gives the worst
//! and `== 2` selects failures.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::engine::Snapshot;
use crate::model::{CheckKind, CheckResult, IpFamily, Status};

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The number `m365mon_check_status` uses for a status.
pub fn status_value(s: Status) -> i32 {
    match s {
        Status::Skip => -1,
        Status::Pass => 0,
        Status::Warn => 1,
        Status::Fail => 2,
    }
}

/// Escapes a label value: backslash, double quote and line feed.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Seconds from milliseconds, printed without float noise (0.1 ms resolution at most).
fn secs(ms: f64) -> String {
    let s = ms / 1000.0;
    if s.is_finite() {
        format!("{}", (s * 1e7).round() / 1e7)
    } else {
        "NaN".into()
    }
}

/// One metric family: HELP and TYPE once, then its samples.
struct Family<'a> {
    out: &'a mut String,
}

impl<'a> Family<'a> {
    fn new(out: &'a mut String, name: &str, kind: &str, help: &str) -> Self {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        Self { out }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }
}

/// Writes a family: HELP and TYPE always (the output keeps the same shape whether or not
/// any check yields a sample), then whatever samples `each` emits for each item.
fn family<T>(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    items: &[T],
    mut each: impl FnMut(&T, &mut dyn FnMut(&[(&str, &str)], String)),
) {
    let mut fam = Family::new(out, name, kind, help);
    for item in items {
        each(item, &mut |labels, value| fam.sample(name, labels, value));
    }
}

/// `version` and `revision` from [`crate::version`] ("0.1.0 (abc123)").
fn build_labels() -> (String, String) {
    let full = crate::version();
    match full.split_once(" (") {
        Some((v, rest)) => (v.to_string(), rest.trim_end_matches(')').to_string()),
        None => (full.to_string(), String::new()),
    }
}

/// Renders every metric of a snapshot.
pub fn render(snapshot: &Snapshot) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let s = snapshot;

    let (version, revision) = build_labels();
    let mut f = Family::new(
        &mut out,
        "m365mon_build_info",
        "gauge",
        "Always 1; labelled with the m365mon build.",
    );
    f.sample(
        "m365mon_build_info",
        &[("version", &version), ("revision", &revision)],
        1,
    );

    // The cloud decides which endpoints exist at all, so a fleet dashboard groups by it.
    // Four possible values: bounded.
    if !s.host.instance.is_empty() {
        let mut f = Family::new(
            &mut out,
            "m365mon_cloud_info",
            "gauge",
            "Always 1; labelled with the Microsoft 365 cloud monitored (--instance).",
        );
        f.sample("m365mon_cloud_info", &[("cloud", &s.host.instance)], 1);
    }

    let mut f = Family::new(
        &mut out,
        "m365mon_sweeps_total",
        "counter",
        "Sweeps finished since the monitor started.",
    );
    f.sample("m365mon_sweeps_total", &[], s.sweeps);

    let mut f = Family::new(
        &mut out,
        "m365mon_sweep_duration_seconds",
        "gauge",
        "Wall time of the last finished sweep.",
    );
    f.sample("m365mon_sweep_duration_seconds", &[], secs(s.sweep_ms));

    if let Some(at) = s.last_sweep_at {
        let mut f = Family::new(
            &mut out,
            "m365mon_last_sweep_timestamp_seconds",
            "gauge",
            "Unix time the last sweep finished; alert when it stops moving.",
        );
        f.sample(
            "m365mon_last_sweep_timestamp_seconds",
            &[],
            secs(at.timestamp_millis() as f64),
        );
    }

    let mut f = Family::new(
        &mut out,
        "m365mon_paused",
        "gauge",
        "1 while interval sweeps are paused.",
    );
    f.sample("m365mon_paused", &[], u8::from(s.paused));

    let mut f = Family::new(
        &mut out,
        "m365mon_status",
        "gauge",
        "Overall light: worst check status (0 pass, 1 warn, 2 fail).",
    );
    f.sample("m365mon_status", &[], status_value(s.status()));

    // A repeated check id would make Prometheus reject the whole scrape (duplicate
    // series), so only the first result of an id is exported.
    let mut seen = BTreeSet::new();
    let checks: Vec<&CheckResult> = s.checks.iter().filter(|c| seen.insert(c.id.as_str())).collect();
    let endpoints: Vec<&CheckResult> = checks
        .iter()
        .copied()
        .filter(|c| c.kind == CheckKind::Endpoint)
        .collect();

    family(
        &mut out,
        "m365mon_check_status",
        "gauge",
        "Status of a check: -1 skip, 0 pass, 1 warn, 2 fail.",
        &checks,
        |c, emit| {
            emit(
                &[("check", &c.id), ("kind", c.kind.as_str())],
                status_value(c.status).to_string(),
            )
        },
    );
    family(
        &mut out,
        "m365mon_check_success",
        "gauge",
        "1 when a check passes or warns, 0 when it fails (skipped checks are left out).",
        &checks,
        |c, emit| {
            if c.status != Status::Skip {
                emit(
                    &[("check", &c.id), ("kind", c.kind.as_str())],
                    u8::from(c.status != Status::Fail).to_string(),
                )
            }
        },
    );
    family(
        &mut out,
        "m365mon_check_cause_info",
        "gauge",
        "Always 1; why a check fails or warns, as a classified cause.",
        &checks,
        |c, emit| {
            if let Some(cause) = c
                .cause
                .filter(|_| matches!(c.status, Status::Warn | Status::Fail))
            {
                emit(&[("check", &c.id), ("cause", cause.as_str())], "1".into())
            }
        },
    );
    family(
        &mut out,
        "m365mon_check_status_since_timestamp_seconds",
        "gauge",
        "Unix time the check's current status began.",
        &checks,
        |c, emit| {
            if let Some(at) = s.since.get(&c.id) {
                emit(&[("check", &c.id)], secs(at.timestamp_millis() as f64))
            }
        },
    );
    family(
        &mut out,
        "m365mon_probe_duration_seconds",
        "gauge",
        "How long the last probe of an endpoint took, all phases.",
        &endpoints,
        |c, emit| emit(&[("check", &c.id)], secs(c.duration_ms)),
    );
    family(
        &mut out,
        "m365mon_probe_phase_duration_seconds",
        "gauge",
        "Duration of each phase of the last probe (resolve, connect, tls, processing).",
        &endpoints,
        |c, emit| {
            for stage in &c.stages {
                emit(&[("check", &c.id), ("phase", stage.name.phase())], secs(stage.ms));
            }
        },
    );
    // Per address family, so an alert can tell a broken IPv6 path from a dead endpoint;
    // two values of `family`, no address label: bounded.
    family(
        &mut out,
        "m365mon_probe_family_success",
        "gauge",
        "1 if every probed address of this family passed in the last probe, else 0.",
        &endpoints,
        |c, emit| {
            for f in [IpFamily::Ipv4, IpFamily::Ipv6] {
                let mut of = c.addresses.iter().filter(|a| a.family == f).peekable();
                if of.peek().is_some() {
                    let ok = of.all(|a| a.status == Status::Pass);
                    let name = f.label().to_ascii_lowercase();
                    emit(&[("check", &c.id), ("family", &name)], u8::from(ok).to_string());
                }
            }
        },
    );
    family(
        &mut out,
        "m365mon_tls_version_info",
        "gauge",
        "Always 1; the TLS version the last probe negotiated.",
        &endpoints,
        |c, emit| {
            if let Some(version) = c.tls.as_ref().and_then(|t| t.version.as_deref()) {
                emit(&[("check", &c.id), ("version", version)], "1".into());
            }
        },
    );
    family(
        &mut out,
        "m365mon_http_status_code",
        "gauge",
        "HTTP status code of the last probe's answer.",
        &endpoints,
        |c, emit| {
            if let Some(http) = &c.http {
                emit(&[("check", &c.id)], http.status.to_string());
            }
        },
    );

    // Findings with the same id (TLS interception by two different roots) are one series.
    let mut active: Vec<(&str, Status, usize)> = Vec::new();
    for finding in &s.findings {
        match active.iter_mut().find(|(id, _, _)| *id == finding.id) {
            Some(entry) => {
                entry.1 = entry.1.max(finding.severity);
                entry.2 += finding.checks.len();
            }
            None => active.push((&finding.id, finding.severity, finding.checks.len())),
        }
    }
    family(
        &mut out,
        "m365mon_finding_active",
        "gauge",
        "Always 1; a diagnosed problem that is present now, with its severity.",
        &active,
        |(id, severity, _), emit| emit(&[("finding", id), ("severity", severity.as_str())], "1".into()),
    );
    family(
        &mut out,
        "m365mon_finding_checks",
        "gauge",
        "How many checks a present finding explains.",
        &active,
        |(id, _, n), emit| emit(&[("finding", id)], n.to_string()),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::findings::Finding;
    use crate::model::{Cause, HttpInfo, StageName, StageResult, TlsInfo};
    use chrono::{TimeZone, Utc};

    fn endpoint(id: &str, status: Status) -> CheckResult {
        let mut c = CheckResult::simple(id, CheckKind::Endpoint, "https://x/", status, "summary");
        c.duration_ms = 123.4;
        c.stages = StageName::ALL
            .iter()
            .enumerate()
            .map(|(i, &name)| StageResult {
                name,
                status,
                ms: (i as f64 + 1.0) * 10.0,
                detail: "error text \"never\" a label".into(),
                cause: None,
            })
            .collect();
        c
    }

    fn snapshot() -> Snapshot {
        let mut ok = endpoint("endpoint:login.microsoftonline.com", Status::Pass);
        ok.tls = Some(TlsInfo {
            version: Some("TLS 1.3".into()),
            ..Default::default()
        });
        ok.http = Some(HttpInfo {
            status: 200,
            ..Default::default()
        });
        let mut bad = endpoint("endpoint:activation.sls.microsoft.com", Status::Fail);
        bad.stages.truncate(2);
        bad.cause = Some(Cause::TcpTimeout);
        bad.error = Some("connection timed out after 3 s".into());
        let host = CheckResult::simple("host:broker", CheckKind::Host, "x", Status::Skip, "not Windows");
        let at = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
        let finding = |id: &str, checks: Vec<String>| Finding {
            id: id.into(),
            severity: Status::Fail,
            title: "t".into(),
            detail: "d".into(),
            checks,
            remediation_id: "firewall",
            root_cause: false,
        };
        Snapshot {
            sweeps: 7,
            sweep_ms: 1520.0,
            last_sweep_at: Some(at),
            since: [(bad.id.clone(), at)].into_iter().collect(),
            findings: vec![
                finding("tls-interception", vec!["a".into()]),
                finding("tls-interception", vec!["b".into(), "c".into()]),
            ],
            checks: vec![ok, bad.clone(), bad, host],
            host: crate::engine::snapshot::HostInfo {
                instance: "gcc-high".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn lines_of<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        text.lines()
            .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
            .collect()
    }

    #[test]
    fn each_address_family_has_its_own_success() {
        use crate::model::{AddressResult, IpFamily};
        let mut s = snapshot();
        let address = |addr: &str, family, status| AddressResult {
            addr: addr.into(),
            family,
            status,
            summary: String::new(),
            duration_ms: 1.0,
            stages: Vec::new(),
            cause: None,
        };
        s.checks[1].addresses = vec![
            address("127.77.0.3", IpFamily::Ipv4, Status::Pass),
            address("fd00:6d36::3", IpFamily::Ipv6, Status::Fail),
        ];
        let text = render(&s);
        assert_eq!(
            lines_of(&text, "m365mon_probe_family_success"),
            [
                "m365mon_probe_family_success{check=\"endpoint:activation.sls.microsoft.com\",family=\"ipv4\"} 1",
                "m365mon_probe_family_success{check=\"endpoint:activation.sls.microsoft.com\",family=\"ipv6\"} 0",
            ]
        );
        assert!(!text.contains("fd00:6d36"), "no address label");
    }

    #[test]
    fn renders_checks_phases_and_findings() {
        let text = render(&snapshot());
        assert!(
            text.contains("# TYPE m365mon_sweeps_total counter\nm365mon_sweeps_total 7\n"),
            "{text}"
        );
        assert!(text.contains("\nm365mon_sweep_duration_seconds 1.52\n"));
        assert!(text.contains("\nm365mon_last_sweep_timestamp_seconds 1735787045\n"));
        assert!(text.contains("\nm365mon_status 2\n"));
        assert_eq!(
            lines_of(&text, "m365mon_check_status"),
            [
                "m365mon_check_status{check=\"endpoint:login.microsoftonline.com\",kind=\"endpoint\"} 0",
                "m365mon_check_status{check=\"endpoint:activation.sls.microsoft.com\",kind=\"endpoint\"} 2",
                "m365mon_check_status{check=\"host:broker\",kind=\"host\"} -1",
            ],
            "a repeated check id is exported once"
        );
        assert_eq!(
            lines_of(&text, "m365mon_check_success").len(),
            2,
            "skipped checks have no success sample"
        );
        assert_eq!(
            lines_of(&text, "m365mon_check_cause_info"),
            ["m365mon_check_cause_info{check=\"endpoint:activation.sls.microsoft.com\",cause=\"tcp-timeout\"} 1"]
        );
        assert!(text.contains(
            "m365mon_probe_phase_duration_seconds{check=\"endpoint:login.microsoftonline.com\",phase=\"processing\"} 0.04\n"
        ));
        assert!(text.contains(
            "m365mon_probe_phase_duration_seconds{check=\"endpoint:activation.sls.microsoft.com\",phase=\"connect\"} 0.02\n"
        ));
        assert_eq!(
            lines_of(&text, "m365mon_probe_phase_duration_seconds").len(),
            4 + 2
        );
        assert!(text.contains(
            "m365mon_probe_duration_seconds{check=\"endpoint:login.microsoftonline.com\"} 0.1234\n"
        ));
        assert!(text.contains(
            "m365mon_tls_version_info{check=\"endpoint:login.microsoftonline.com\",version=\"TLS 1.3\"} 1\n"
        ));
        assert!(text.contains("m365mon_http_status_code{check=\"endpoint:login.microsoftonline.com\"} 200\n"));
        assert_eq!(
            lines_of(&text, "m365mon_finding_active"),
            ["m365mon_finding_active{finding=\"tls-interception\",severity=\"fail\"} 1"]
        );
        assert!(text.contains("m365mon_finding_checks{finding=\"tls-interception\"} 3\n"));
        assert!(text.contains("m365mon_build_info{version=\""));
        assert_eq!(
            lines_of(&text, "m365mon_cloud_info"),
            ["m365mon_cloud_info{cloud=\"gcc-high\"} 1"]
        );
    }

    #[test]
    fn no_free_text_reaches_labels_and_every_family_is_typed_once() {
        let text = render(&snapshot());
        assert!(!text.contains("never"), "stage details must not become labels");
        assert!(!text.contains("timed out"), "error texts must not become labels");
        let mut typed = std::collections::BTreeSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap();
                assert!(typed.insert(name.to_string()), "{name} typed twice");
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(typed.contains(name), "{name} sampled before its TYPE line");
                let value = line.rsplit(' ').next().unwrap();
                assert!(value.parse::<f64>().is_ok(), "bad value in {line}");
            }
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("line\nbreak"), "line\\nbreak");
        assert_eq!(escape_label("plain:host/path"), "plain:host/path");
        let mut s = Snapshot::default();
        s.checks.push(endpoint("endpoint:odd\"host\\x\ny", Status::Pass));
        let text = render(&s);
        assert!(
            text.contains(r#"m365mon_check_status{check="endpoint:odd\"host\\x\ny",kind="endpoint"} 0"#),
            "{text}"
        );
    }

    #[test]
    fn empty_snapshot_renders_counters_only() {
        let text = render(&Snapshot::default());
        assert!(text.contains("\nm365mon_sweeps_total 0\n"));
        assert!(
            !text.contains("m365mon_last_sweep_timestamp_seconds"),
            "no sweep yet, no timestamp"
        );
        assert!(lines_of(&text, "m365mon_check_status").is_empty());
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn status_values_order_like_statuses() {
        let values: Vec<i32> = [Status::Skip, Status::Pass, Status::Warn, Status::Fail]
            .map(status_value)
            .to_vec();
        assert_eq!(values, [-1, 0, 1, 2]);
        assert_eq!(secs(1520.0), "1.52");
        assert_eq!(secs(0.1), "0.0001");
    }
}
