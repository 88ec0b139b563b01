//! `network:pac`: the proxy auto-configuration file, with the route it gives each
//! endpoint.
//!
//! The file is downloaded and run once per sweep by [`crate::route::pac`], before the
//! probes start; this check reports that run, so what it shows is what the probes did.

use std::time::Instant;

use super::Sweep;
use crate::http::url::redact_credentials;
use crate::model::{ms, CheckKind, CheckResult, PrivateKind, PrivateName, Status};
use crate::route::pac::{PacFailure, PacRun};

/// Check id.
pub const ID: &str = "network:pac";

/// The `network:pac` check.
pub async fn check(plan: &Sweep<'_>) -> CheckResult {
    let started = Instant::now();
    let mut r = match &plan.routes.pac {
        Some(run) => judge(run),
        None => {
            let mut r = CheckResult::simple(
                ID,
                CheckKind::Network,
                "PAC file",
                Status::Skip,
                "no PAC file in use",
            );
            r.facts.push(("routes".into(), plan.routes.source()));
            r
        }
    };
    r.duration_ms = ms(started.elapsed());
    r
}

/// The check's result from this sweep's run of the PAC file: a plain function.
pub fn judge(run: &PacRun) -> CheckResult {
    let mut r = evaluate(run);
    // For `--redact`: the PAC file's host and the proxies it names.
    let mut private = PrivateName::from_url(PrivateKind::Pac, &run.url);
    if let Ok(decisions) = &run.outcome {
        for d in decisions {
            if let Ok(answer) = &d.answer {
                private.extend(PrivateName::from_url(PrivateKind::Proxy, answer));
            }
        }
    }
    private.sort();
    private.dedup();
    r.private = private;
    r
}

fn evaluate(run: &PacRun) -> CheckResult {
    let shown = redact_credentials(&run.url);
    let fail = |summary: String, facts: Vec<(String, String)>| {
        let mut r = CheckResult::simple(ID, CheckKind::Network, shown.clone(), Status::Fail, summary);
        r.facts = facts;
        r.remediation = Some("proxy".into());
        r
    };
    let mut facts = vec![
        ("PAC URL".to_string(), shown.clone()),
        ("configured by".to_string(), run.source.clone()),
    ];
    if let Some(size) = run.size {
        facts.push(("size".into(), format!("{size} bytes")));
    }
    if let Some(how) = &run.fetched {
        facts.push(("download".into(), how.clone()));
    }
    facts.push(("evaluated in".into(), run.evaluated_in.clone()));
    let decisions = match &run.outcome {
        Ok(d) => d,
        Err(e @ PacFailure::Download(_)) => {
            facts.push((
                "effect".into(),
                "without the PAC file, Windows sends everything direct".into(),
            ));
            return fail(e.to_string(), facts);
        }
        Err(e @ PacFailure::Script(_)) => return fail(e.to_string(), facts),
    };
    let mut errors = Vec::new();
    let mut tally: Vec<(String, usize)> = Vec::new();
    for d in decisions {
        let shown_route = match (&d.answer, &d.note) {
            (Err(e), _) => {
                errors.push(format!("{}: {e}", d.url));
                format!("error: {e}")
            }
            (Ok(_), _) if d.invalid.is_some() => {
                let why = d.invalid.clone().unwrap_or_default();
                errors.push(format!("{}: not a valid PAC answer: {why}", d.url));
                format!("invalid answer: {why}")
            }
            (Ok(_), Some(note)) => format!("{} ({note})", d.route.describe()),
            (Ok(_), None) => d.route.describe(),
        };
        if d.answer.is_ok() && d.invalid.is_none() {
            let key = d.route.describe();
            match tally.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => tally.push((key, 1)),
            }
        }
        facts.push((d.url.clone(), shown_route));
    }
    if !errors.is_empty() {
        let summary = format!(
            "FindProxyForURL failed for {} of {} endpoints: {}",
            errors.len(),
            decisions.len(),
            errors[0]
        );
        return fail(summary, facts);
    }
    let summary = tally
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut r = CheckResult::simple(
        ID,
        CheckKind::Network,
        shown,
        Status::Pass,
        format!("PAC file routes {summary}"),
    );
    r.facts = facts;
    r
}
