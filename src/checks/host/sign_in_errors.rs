//! `host:sign-in-errors`: recent errors of the sign-in broker, from the event log
//! `Microsoft-Windows-AAD/Operational`, with each error code's meaning.
//!
//! The broker logs every failed token request there (event 1098 and friends) with the
//! error code in `<Data Name="Error">` — as a decimal number in the rendered XML, or
//! hex. The codes say more than any other single fact: a proxy that cannot be found, a
//! Conditional Access block, Windows Information Protection, a broken TPM key. The
//! events come from `wevtutil qe ... /f:xml` (XML, not the localised text rendering),
//! newest first, errors only, and are parsed as XML.

use chrono::{DateTime, Duration, Utc};

use crate::model::{CheckResult, Status};

use super::{fact, result, when, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:sign-in-errors",
    target: "Microsoft-Windows-AAD/Operational",
    os: HostOs::Windows,
    reads: "the 20 latest errors of the Microsoft-Windows-AAD/Operational event log (wevtutil, XML)",
    remediation: None,
};

pub const LOG: &str = "Microsoft-Windows-AAD/Operational";
/// Errors older than this are history, not the current problem.
pub const WINDOW_HOURS: i64 = 24;
const SHOWN: usize = 5;

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AadEvent {
    pub id: u32,
    /// 1 critical, 2 error, 3 warning, 4 information.
    pub level: u8,
    pub time: Option<DateTime<Utc>>,
    pub code: Option<u32>,
    pub message: Option<String>,
}

impl AadEvent {
    pub fn is_error(&self) -> bool {
        matches!(self.level, 1 | 2)
    }
}

/// An error code as events write it: decimal (`3400019682`), hex (`0xCAA82EE2`), or the
/// first `0x........` inside a longer text.
pub fn parse_code(text: &str) -> Option<u32> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if let Ok(v) = u32::from_str_radix(hex, 16) {
            return Some(v);
        }
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<u64>().ok().and_then(|v| u32::try_from(v).ok());
    }
    let lower = t.to_ascii_lowercase();
    let at = lower.find("0x")?;
    let digits: String = lower[at + 2..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (digits.len() == 8)
        .then(|| u32::from_str_radix(&digits, 16).ok())
        .flatten()
}

/// Parses `wevtutil qe /f:xml` output: `<Event>` elements one after another, no root.
pub fn parse_events(xml: &str) -> Result<Vec<AadEvent>, String> {
    // wevtutil writes no declaration, but a saved export may; drop any before wrapping.
    let mut body = xml.trim().trim_start_matches('\u{feff}').to_owned();
    while let Some(start) = body.find("<?xml") {
        let end = body[start..]
            .find("?>")
            .map(|e| start + e + 2)
            .ok_or("unterminated XML declaration")?;
        body.replace_range(start..end, "");
    }
    let wrapped = format!("<Events>{body}</Events>");
    let doc =
        roxmltree::Document::parse(&wrapped).map_err(|e| format!("the event XML is not well-formed: {e}"))?;
    let child_text = |n: roxmltree::Node, name: &str| {
        n.descendants()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .map(str::trim)
            .map(str::to_owned)
    };
    let mut out = Vec::new();
    for ev in doc.root_element().children().filter(|n| n.has_tag_name("Event")) {
        let Some(system) = ev.children().find(|n| n.has_tag_name("System")) else {
            continue;
        };
        let time = system
            .children()
            .find(|n| n.has_tag_name("TimeCreated"))
            .and_then(|n| n.attribute("SystemTime"))
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let data: Vec<(Option<&str>, &str)> = ev
            .descendants()
            .filter(|n| n.has_tag_name("Data"))
            .map(|n| (n.attribute("Name"), n.text().unwrap_or("").trim()))
            .collect();
        let named = |name: &str| {
            data.iter()
                .find(|(n, _)| n.is_some_and(|n| n.eq_ignore_ascii_case(name)))
                .map(|(_, v)| *v)
        };
        let code = named("Error")
            .and_then(parse_code)
            .or_else(|| data.iter().find_map(|(_, v)| parse_code(v)));
        let message = named("ErrorMessage")
            .or_else(|| named("Message"))
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        out.push(AadEvent {
            id: child_text(system, "EventID")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            level: child_text(system, "Level")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            time,
            code,
            message,
        });
    }
    Ok(out)
}

/// What reading the log gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFacts {
    Read(Vec<AadEvent>),
    Unavailable(String),
}

impl EventFacts {
    pub fn from_run(run: &crate::platform::tool::ToolRun) -> EventFacts {
        match run.success() {
            Some(xml) => parse_events(xml)
                .map(EventFacts::Read)
                .unwrap_or_else(EventFacts::Unavailable),
            None => EventFacts::Unavailable(run.problem("wevtutil")),
        }
    }

    /// The latest errors (at most once a minute; see [`super::Cached`]).
    #[cfg(windows)]
    pub fn read() -> EventFacts {
        use std::time::Instant;
        static CACHE: super::Cached<EventFacts> = super::Cached::new(std::time::Duration::from_secs(60));
        CACHE.get(Instant::now(), || {
            let query = "/q:*[System[(Level=1 or Level=2)]]";
            let args = ["qe", LOG, query, "/f:xml", "/c:20", "/rd:true"];
            EventFacts::from_run(&crate::platform::tool::run(
                "wevtutil",
                &args,
                std::time::Duration::from_secs(30),
            ))
        })
    }

    /// Error events of the last [`WINDOW_HOURS`], newest first.
    pub fn recent_errors(&self, now: DateTime<Utc>) -> Vec<&AadEvent> {
        let EventFacts::Read(events) = self else {
            return Vec::new();
        };
        let since = now - Duration::hours(WINDOW_HOURS);
        let mut v: Vec<&AadEvent> = events
            .iter()
            .filter(|e| e.is_error() && e.time.is_some_and(|t| t >= since))
            .collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.time));
        v
    }

    /// The distinct error codes of [`EventFacts::recent_errors`].
    pub fn recent_codes(&self, now: DateTime<Utc>) -> Vec<u32> {
        let mut codes: Vec<u32> = self.recent_errors(now).iter().filter_map(|e| e.code).collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    }
}

/// `0xCAA70004` with its meaning when known.
pub fn describe_code(code: u32) -> String {
    match crate::diagnosis::explain::explain(code) {
        Some(e) => format!("{}: {}", e.hex, e.title),
        None => format!("0x{code:08X}"),
    }
}

pub fn check(f: &EventFacts, now: DateTime<Utc>, wine: Option<&str>) -> CheckResult {
    let events = match f {
        EventFacts::Unavailable(why) => {
            let mut r = result(
                &CHECK,
                Status::Skip,
                "the Entra ID sign-in event log cannot be read here",
            );
            fact(&mut r, "why", why.clone());
            return r;
        }
        EventFacts::Read(events) => events,
    };
    if let (Some(w), true) = (wine, events.is_empty()) {
        return result(
            &CHECK,
            Status::Skip,
            format!("Wine {w} keeps no Entra ID sign-in event log"),
        );
    }
    let recent = f.recent_errors(now);
    let (status, summary) = match recent.first() {
        None => (
            Status::Pass,
            format!("no sign-in errors in the last {WINDOW_HOURS} h"),
        ),
        Some(latest) => {
            let what = latest
                .code
                .map(describe_code)
                .or_else(|| latest.message.clone())
                .unwrap_or_else(|| format!("event {}", latest.id));
            (
                Status::Warn,
                format!(
                    "{} sign-in error(s) in the last {WINDOW_HOURS} h; latest {what}",
                    recent.len()
                ),
            )
        }
    };
    let mut r = result(&CHECK, status, summary);
    for e in recent.iter().take(SHOWN) {
        let at = e.time.map(when).unwrap_or_default();
        let code = e.code.map(describe_code).unwrap_or_else(|| "no code".to_owned());
        let msg = e
            .message
            .as_deref()
            .map(|m| format!(" — {m}"))
            .unwrap_or_default();
        fact(&mut r, "error", format!("{at}, event {}: {code}{msg}", e.id));
    }
    let older = events.iter().filter(|e| e.is_error()).count() - recent.len();
    fact(
        &mut r,
        "read",
        format!(
            "{} error events from {LOG} ({older} older than {WINDOW_HOURS} h)",
            events.iter().filter(|e| e.is_error()).count()
        ),
    );
    if status != Status::Pass {
        // The newest code with a remediation decides; the broker entry covers the rest.
        let rem = recent
            .iter()
            .filter_map(|e| e.code)
            .find_map(|c| crate::diagnosis::explain::explain(c)?.remediation);
        r.remediation = Some(rem.unwrap_or("brokerplugin-blocked").to_owned());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/host/aad-operational.xml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    use crate::checks::host::test_now as now;

    #[test]
    fn codes_are_read_in_every_form_events_use() {
        assert_eq!(parse_code("3400019682"), Some(0xCAA82EE2));
        assert_eq!(parse_code("0xCAA70004"), Some(0xCAA70004));
        assert_eq!(parse_code("Code: 0x80072ee7 & more"), Some(0x80072EE7));
        assert_eq!(parse_code("no code here"), None);
        assert_eq!(parse_code("99999999999"), None);
    }

    #[test]
    fn parses_wevtutil_xml() {
        let events = parse_events(&fixture()).unwrap();
        assert_eq!(events.len(), 5);
        assert_eq!(events[0].id, 1098);
        assert_eq!(events[0].level, 2);
        assert_eq!(events[0].code, Some(0xCAA82EE2));
        assert_eq!(
            events[0].time.map(|t| t.to_rfc3339()),
            Some("2024-05-14T11:52:07.512345600+00:00".to_owned())
        );
        assert_eq!(
            events[2].message.as_deref(),
            Some("The server or proxy was not found.")
        );
        assert_eq!(events[3].code, None, "an info event with no code");
    }

    #[test]
    fn recent_errors_warn_with_the_latest_code_explained() {
        let facts = EventFacts::Read(parse_events(&fixture()).unwrap());
        let r = check(&facts, now(), None);
        assert_eq!(r.status, Status::Warn);
        assert!(
            r.summary
                .starts_with("2 sign-in error(s) in the last 24 h; latest 0xCAA82EE2"),
            "{}",
            r.summary
        );
        assert!(
            r.facts
                .iter()
                .any(|(k, v)| k == "error" && v.contains("0xCAA70004")),
            "{:?}",
            r.facts
        );
        assert!(r.facts.contains(&(
            "read".into(),
            "3 error events from Microsoft-Windows-AAD/Operational (1 older than 24 h)".into()
        )));
        let rem = r.remediation.expect("remediation");
        assert!(crate::diagnosis::remediation::get(&rem).is_some(), "{rem}");
        assert_eq!(facts.recent_codes(now()), vec![0xCAA70004, 0xCAA82EE2]);
    }

    #[test]
    fn old_errors_only_pass() {
        let facts = EventFacts::Read(parse_events(&fixture()).unwrap());
        let r = check(&facts, now() + Duration::days(2), None);
        assert_eq!(
            (r.status, r.summary.as_str()),
            (Status::Pass, "no sign-in errors in the last 24 h")
        );
    }

    #[test]
    fn an_unreadable_log_is_a_skip_with_the_reason() {
        use crate::platform::tool::ToolRun;
        let run = ToolRun::Ran {
            code: Some(15007),
            stdout: String::new(),
            stderr: "The specified channel could not be found.".into(),
        };
        let r = check(&EventFacts::from_run(&run), now(), None);
        assert_eq!(r.status, Status::Skip);
        assert!(r
            .facts
            .iter()
            .any(|(_, v)| v.contains("channel could not be found")));
        let bad = ToolRun::Ran {
            code: Some(0),
            stdout: "<Event><System>".into(),
            stderr: String::new(),
        };
        assert!(
            matches!(EventFacts::from_run(&bad), EventFacts::Unavailable(e) if e.contains("not well-formed"))
        );
        let empty = ToolRun::Ran {
            code: Some(0),
            stdout: String::new(),
            stderr: String::new(),
        };
        assert_eq!(
            check(&EventFacts::from_run(&empty), now(), None).status,
            Status::Pass
        );
        assert_eq!(
            check(&EventFacts::from_run(&empty), now(), Some("8.0")).status,
            Status::Skip
        );
    }

    #[test]
    fn a_saved_export_with_a_declaration_parses() {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{}",
            fixture().lines().next().unwrap()
        );
        assert_eq!(parse_events(&xml).unwrap().len(), 1);
    }
}
