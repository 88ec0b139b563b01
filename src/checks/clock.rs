//! Clock skew: sign-in tokens carry validity times, so a machine clock that is minutes off
//! makes Entra ID reject them (and certificates look expired or not yet valid).
//!
//! The reference is the `Date` header of the endpoints' own answers: no extra traffic,
//! and no NTP port that a firewall may block. Above 1 minute is a warning, above 5 minutes
//! a failure.

use chrono::{DateTime, Utc};

use crate::model::{CheckKind, CheckResult, Status};

/// Check id.
pub const ID: &str = "network:clock";
const WARN_SECS: i64 = 60;
const FAIL_SECS: i64 = 300;

/// Parses an HTTP `Date` header (IMF-fixdate, RFC 7231).
pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Judges, at `now`, this machine's clock against the median `Date` of the endpoints that
/// answered. Each `Date` is compared with the moment its answer arrived (`checked_at`, by
/// the same clock), so neither a long sweep nor the time since it counts as skew; `now`
/// is when the verdict is given, and the result is stamped with it (the check is a plain
/// function of its arguments).
pub fn check(endpoints: &[CheckResult], now: DateTime<Utc>) -> CheckResult {
    let mut skews: Vec<i64> = endpoints
        .iter()
        .filter_map(|c| {
            let date = parse_http_date(c.http.as_ref()?.date.as_deref()?)?;
            // The header was stamped while the request ran: compare with that moment.
            Some((c.checked_at - date).num_seconds())
        })
        .collect();
    if skews.is_empty() {
        let mut r = CheckResult::simple(
            ID,
            CheckKind::Network,
            "local clock",
            Status::Skip,
            "no endpoint answered with a Date header to compare with",
        );
        r.facts.push((
            "why".into(),
            "the clock is compared with the endpoints' answers; none answered".into(),
        ));
        r.checked_at = now;
        return r;
    }
    skews.sort_unstable();
    let median = skews[skews.len() / 2];
    let abs = median.abs();
    let direction = if median > 0 { "ahead of" } else { "behind" };
    let (status, summary) = if abs > FAIL_SECS {
        (
            Status::Fail,
            format!(
                "clock is {} {direction} the servers: sign-in tokens will be rejected",
                human(abs)
            ),
        )
    } else if abs > WARN_SECS {
        (
            Status::Warn,
            format!("clock is {} {direction} the servers", human(abs)),
        )
    } else {
        (
            Status::Pass,
            format!("clock within {} of the servers", human(abs.max(1))),
        )
    };
    let mut r = CheckResult::simple(ID, CheckKind::Network, "local clock", status, summary);
    r.facts.push((
        "skew".into(),
        format!("{median:+} s (median of {} answers)", skews.len()),
    ));
    r.facts
        .push(("limits".into(), "warn above 1 min, fail above 5 min".into()));
    if status != Status::Pass {
        r.remediation = Some("clock-skew".into());
    }
    r.checked_at = now;
    r
}

fn human(secs: i64) -> String {
    if secs >= 3600 {
        format!("{:.1} h", secs as f64 / 3600.0)
    } else if secs >= 60 {
        format!("{} min {} s", secs / 60, secs % 60)
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HttpInfo;

    fn answered(date: &str, at: DateTime<Utc>) -> CheckResult {
        let mut c = CheckResult::simple("endpoint:a", CheckKind::Endpoint, "x", Status::Pass, "");
        c.http = Some(HttpInfo {
            status: 200,
            server: None,
            via: None,
            date: Some(date.into()),
            ..Default::default()
        });
        c.checked_at = at;
        c
    }

    #[test]
    fn skew_thresholds() {
        let server = parse_http_date("Thu, 26 Nov 2026 10:00:00 GMT").unwrap();
        let at = |secs| server + chrono::Duration::seconds(secs);
        let hdr = "Thu, 26 Nov 2026 10:00:00 GMT";
        assert_eq!(check(&[answered(hdr, at(5))], Utc::now()).status, Status::Pass);
        assert_eq!(check(&[answered(hdr, at(90))], Utc::now()).status, Status::Warn);
        let r = check(&[answered(hdr, at(-600))], Utc::now());
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("behind"), "{}", r.summary);
        assert_eq!(r.remediation.as_deref(), Some("clock-skew"));
    }

    /// Each threshold just under, at and just over it, both ways: whole seconds (a `Date`
    /// has no finer grain) and a millisecond under the next second, which still counts as
    /// the whole second below it.
    #[test]
    fn skew_thresholds_at_their_edges() {
        let hdr = "Thu, 26 Nov 2026 10:00:00 GMT";
        let server = parse_http_date(hdr).unwrap();
        let now = server + chrono::Duration::minutes(30);
        let cases: &[(i64, Status, &str)] = &[
            (0, Status::Pass, "clock within 1 s of the servers"),
            (59_000, Status::Pass, "clock within 59 s of the servers"),
            (60_000, Status::Pass, "clock within 1 min 0 s of the servers"),
            (60_999, Status::Pass, "clock within 1 min 0 s of the servers"),
            (61_000, Status::Warn, "clock is 1 min 1 s ahead of the servers"),
            (-60_000, Status::Pass, "clock within 1 min 0 s of the servers"),
            (-61_000, Status::Warn, "clock is 1 min 1 s behind the servers"),
            (299_000, Status::Warn, "clock is 4 min 59 s ahead of the servers"),
            (300_000, Status::Warn, "clock is 5 min 0 s ahead of the servers"),
            (300_999, Status::Warn, "clock is 5 min 0 s ahead of the servers"),
            (
                301_000,
                Status::Fail,
                "clock is 5 min 1 s ahead of the servers: sign-in tokens will be rejected",
            ),
            (-300_000, Status::Warn, "clock is 5 min 0 s behind the servers"),
            (
                -301_000,
                Status::Fail,
                "clock is 5 min 1 s behind the servers: sign-in tokens will be rejected",
            ),
        ];
        for &(ms, status, summary) in cases {
            let r = check(&[answered(hdr, server + chrono::Duration::milliseconds(ms))], now);
            assert_eq!((r.status, r.summary.as_str()), (status, summary), "{ms} ms");
            let remediation = (status != Status::Pass).then_some("clock-skew");
            assert_eq!(r.remediation.as_deref(), remediation, "{ms} ms");
            assert_eq!(r.checked_at, now, "{ms} ms: the verdict is stamped `now`");
        }
    }

    #[test]
    fn no_answers_is_a_skip_not_a_pass() {
        let now = parse_http_date("Thu, 26 Nov 2026 10:00:00 GMT").unwrap();
        let r = check(&[], now);
        assert_eq!(r.status, Status::Skip);
        assert_eq!(r.checked_at, now);
    }

    #[test]
    fn median_ignores_one_odd_server() {
        let server = parse_http_date("Thu, 26 Nov 2026 10:00:00 GMT").unwrap();
        let hdr = "Thu, 26 Nov 2026 10:00:00 GMT";
        let v = vec![
            answered(hdr, server),
            answered(hdr, server),
            answered(hdr, server + chrono::Duration::hours(2)),
        ];
        assert_eq!(check(&v, Utc::now()).status, Status::Pass);
    }
}
