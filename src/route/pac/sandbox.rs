//! Running a PAC script: an embedded JavaScript engine (Boa, pure Rust) with a wall-clock
//! limit, the in-process core of the PAC worker (`route::pac::worker`).
//!
//! A PAC file is code from the network, so it gets nothing but the language itself: the
//! engine has no I/O built in, and the standard helpers (`helpers.js`) read names, the
//! machine's address and the time from values the monitor put there beforehand. A name
//! the script looks up that was not known is recorded as a miss; the caller resolves the
//! misses with the sweep's resolver and runs again.
//!
//! The time limit here is cooperative: Boa's VM yields every few thousand instructions
//! when run as a future, and the future is dropped (the context thrown away) once the
//! deadline passes. Loop and recursion limits back that up for code that runs inside a
//! built-in (a callback of `Array.prototype.forEach`, say), where the VM cannot yield.
//! What no cooperative check reaches — a backtracking regular expression, a string that
//! doubles until memory runs out, a parser recursing on a huge literal — is why the
//! monitor runs this code in a worker process that it can kill ([`super::worker`]);
//! `shExpMatch` is a native glob ([`glob_match`]) so that at least never backtracks.

use boa_engine::{js_string, Context, JsResult, JsValue, NativeFunction, Script, Source};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::task::Poll;
use std::time::{Duration, Instant};

/// The helper functions every PAC file may call.
const HELPERS: &str = include_str!("helpers.js");
/// VM "clock cycles" between two deadline checks (a few microseconds of work).
const BUDGET: u32 = 4096;
/// Iterations one function's loops may run in total, for code the deadline cannot stop.
const LOOP_LIMIT: u64 = 5_000_000;
const RECURSION_LIMIT: usize = 256;

/// What a PAC script may know about the world, fixed for one evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Environment {
    /// Names already resolved (lower case); `None` for a name that does not resolve.
    pub names: HashMap<String, Option<IpAddr>>,
    /// What `myIpAddress()` returns.
    pub my_ip: IpAddr,
    /// Local time and UTC, for `weekdayRange`, `dateRange` and `timeRange`.
    pub now_local: chrono::NaiveDateTime,
    pub now_utc: chrono::NaiveDateTime,
}

/// Why a PAC script gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PacError {
    /// A syntax error or an exception, with the engine's message.
    Script(String),
    /// The script ran longer than the limit.
    TimeLimit(Duration),
    /// The script used more memory than the worker's cap (in MiB).
    Memory(u64),
    /// The script recursed (or nested a literal) deeper than the engine allows.
    Recursion,
    /// The worker process died for another reason (a signal, an exit status).
    Crashed(String),
    /// The file defines no `FindProxyForURL` function.
    NoFunction,
    /// `FindProxyForURL` returned something other than a string.
    NotAString(String),
}

impl std::fmt::Display for PacError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PacError::Script(msg) => write!(f, "script error: {msg}"),
            PacError::TimeLimit(limit) => {
                write!(f, "PAC evaluation exceeded {} ms", limit.as_millis())
            }
            PacError::Memory(mib) => write!(f, "PAC used more than {mib} MiB"),
            PacError::Recursion => f.write_str("recursion too deep"),
            PacError::Crashed(why) => write!(f, "PAC worker crashed ({why})"),
            PacError::NoFunction => f.write_str("the file defines no FindProxyForURL(url, host) function"),
            PacError::NotAString(v) => write!(f, "FindProxyForURL returned {v}, not a string"),
        }
    }
}

/// One run over a set of URLs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Run {
    /// The script could not be loaded at all (then `answers` is empty).
    pub load_error: Option<PacError>,
    /// `FindProxyForURL(url, host)` for each query, in order.
    pub answers: Vec<Result<String, PacError>>,
    /// Names the script looked up that `Environment::names` did not have.
    pub misses: Vec<String>,
}

/// How many stopped calls one run tolerates before it stops calling: a script that loops
/// for every host must not hold up a sweep by the limit times the number of endpoints.
pub const MAX_STOPPED_CALLS: usize = 3;

/// Evaluates `script` and calls `FindProxyForURL(url, host)` for every query, each step
/// within `limit` of wall-clock time. Blocking: run it on a blocking thread.
pub fn run(script: &str, queries: &[(String, String)], env: &Environment, limit: Duration) -> Run {
    let mut answers = Vec::with_capacity(queries.len());
    let mut misses = Vec::new();
    let load_error = run_streaming(script, queries, env, limit, |step| {
        if let Step::Answer {
            answer,
            misses: names,
            ..
        } = step
        {
            answers.push(answer);
            for name in names {
                if !misses.contains(name) {
                    misses.push(name.clone());
                }
            }
        }
    })
    .err();
    Run {
        load_error,
        answers,
        misses,
    }
}

/// One step of [`run_streaming`].
#[derive(Debug)]
pub enum Step<'a> {
    /// The script loaded and defines `FindProxyForURL`.
    Loaded,
    /// The answer for query `index`, with the names looked up in vain so far.
    Answer {
        index: usize,
        answer: Result<String, PacError>,
        misses: &'a [String],
    },
}

/// [`run`], handing over each step as soon as it is done: the worker streams them, so
/// that what was answered survives a kill. `Err` when the script does not load.
pub fn run_streaming(
    script: &str,
    queries: &[(String, String)],
    env: &Environment,
    limit: Duration,
    mut on_step: impl FnMut(Step<'_>),
) -> Result<(), PacError> {
    let mut misses: Vec<String> = Vec::new();
    let mut ctx = load(script, env, limit)?;
    on_step(Step::Loaded);
    let mut stopped = 0;
    for (index, (url, host)) in queries.iter().enumerate() {
        if stopped >= MAX_STOPPED_CALLS {
            on_step(Step::Answer {
                index,
                answer: Err(PacError::TimeLimit(limit)),
                misses: &misses,
            });
            continue;
        }
        let call = format!("FindProxyForURL({}, {})", js_string(url), js_string(host));
        let answer = match eval(&mut ctx, &call, limit) {
            Ok(v) => match v.as_string() {
                Some(s) => Ok(s.to_std_string_escaped()),
                None => Err(PacError::NotAString(v.display().to_string())),
            },
            Err(e) => Err(e),
        };
        collect_misses(&mut ctx, limit, &mut misses);
        let stopped_now = matches!(answer, Err(PacError::TimeLimit(_)));
        on_step(Step::Answer {
            index,
            answer,
            misses: &misses,
        });
        if stopped_now {
            stopped += 1;
            // The abandoned run left the context mid-call: start over for the rest.
            match load(script, env, limit) {
                Ok(fresh) => ctx = fresh,
                Err(e) => {
                    for index in index + 1..queries.len() {
                        on_step(Step::Answer {
                            index,
                            answer: Err(e.clone()),
                            misses: &misses,
                        });
                    }
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// A fresh context with the environment, the helpers and the PAC file loaded.
fn load(script: &str, env: &Environment, limit: Duration) -> Result<Context, PacError> {
    let mut ctx = Context::default();
    let limits = ctx.runtime_limits_mut();
    limits.set_loop_iteration_limit(LOOP_LIMIT);
    limits.set_recursion_limit(RECURSION_LIMIT);
    ctx.register_global_callable(js_string!("__m365mon_glob"), 2, NativeFunction::from_fn_ptr(glob))
        .map_err(|e| PacError::Script(e.to_string()))?;
    eval(&mut ctx, &prelude(env), limit)?;
    eval(&mut ctx, HELPERS, limit)?;
    eval(&mut ctx, script, limit)?;
    let defined = eval(&mut ctx, "typeof FindProxyForURL === 'function'", limit)?;
    if defined.as_boolean() != Some(true) {
        return Err(PacError::NoFunction);
    }
    Ok(ctx)
}

/// The environment as JavaScript globals.
fn prelude(env: &Environment) -> String {
    let names: serde_json::Map<String, serde_json::Value> = env
        .names
        .iter()
        .map(|(name, ip)| {
            let v = match ip {
                Some(IpAddr::V4(v4)) => serde_json::Value::String(v4.to_string()),
                // The classic helpers speak IPv4 only; an IPv6-only name is "unresolvable".
                _ => serde_json::Value::Null,
            };
            (name.clone(), v)
        })
        .collect();
    let parts = |t: &chrono::NaiveDateTime| {
        use chrono::{Datelike, Timelike};
        format!(
            "[{}, {}, {}, {}, {}, {}, {}]",
            t.year(),
            t.month0(),
            t.day(),
            t.weekday().num_days_from_sunday(),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let my_ip = match env.my_ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(_) => "127.0.0.1".into(),
    };
    format!(
        "var __m365mon_dns = {};\nvar __m365mon_myip = {};\nvar __m365mon_now = {};\nvar __m365mon_now_gmt = {};\n",
        serde_json::Value::Object(names),
        js_string(&my_ip),
        parts(&env.now_local),
        parts(&env.now_utc)
    )
}

/// Names longer than a DNS name can be are not names; past this many misses the script is
/// asking for names it cannot use. Both keep what the worker sends back small.
const MAX_NAME: usize = 253;
const MAX_MISSES: usize = 256;

fn collect_misses(ctx: &mut Context, limit: Duration, into: &mut Vec<String>) {
    let Ok(v) = eval(ctx, "JSON.stringify(__m365mon_misses)", limit) else {
        return;
    };
    let text = v
        .as_string()
        .map(|s| s.to_std_string_escaped())
        .unwrap_or_default();
    for name in serde_json::from_str::<Vec<String>>(&text).unwrap_or_default() {
        if into.len() >= MAX_MISSES {
            break;
        }
        if name.len() <= MAX_NAME && !into.contains(&name) {
            into.push(name);
        }
    }
}

/// `__m365mon_glob(str, pattern)`, behind `shExpMatch`.
fn glob(_this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let text = |i: usize, ctx: &mut Context| -> JsResult<Vec<u16>> {
        let v = args.get(i).cloned().unwrap_or_default();
        Ok(v.to_string(ctx)?.to_vec())
    };
    let (s, p) = (text(0, ctx)?, text(1, ctx)?);
    Ok(JsValue::from(glob_match(&s, &p)))
}

/// Shell-expression match as `shExpMatch` does it: `*` any run of characters, `?` any one
/// character, everything else itself. The greedy two-pointer walk remembers only the last
/// `*`, so a pattern is never retried from more than one place: at most
/// `len(text) × len(pattern)` steps, where a regular expression built from the pattern
/// (as PAC engines classically do) can backtrack exponentially on `*a*a*a*…b`.
pub fn glob_match<T: PartialEq + Copy + From<u8>>(text: &[T], pattern: &[T]) -> bool {
    let (star, any) = (T::from(b'*'), T::from(b'?'));
    let (mut t, mut p) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == any || (pattern[p] != star && pattern[p] == text[t])) {
            t += 1;
            p += 1;
        } else if p < pattern.len() && pattern[p] == star {
            last_star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = last_star {
            // Let the last `*` swallow one more character, and try again after it.
            last_star = Some((sp, st + 1));
            p = sp + 1;
            t = st + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == star)
}

/// A JavaScript string literal (JSON's is one).
fn js_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Parses and runs `code` in `ctx`, giving up at `limit`.
fn eval(ctx: &mut Context, code: &str, limit: Duration) -> Result<JsValue, PacError> {
    let deadline = Instant::now() + limit;
    let script =
        Script::parse(Source::from_bytes(code), None, ctx).map_err(|e| script_error(e.to_string()))?;
    let outcome = drive_until(script.evaluate_async_with_budget(ctx, BUDGET), deadline);
    match outcome {
        None => Err(PacError::TimeLimit(limit)),
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(script_error(e.to_string())),
    }
}

/// An exception, with Boa's recursion and stack limits (and the regular-expression
/// compiler's nesting limit) named as what they are.
fn script_error(message: String) -> PacError {
    if message.contains("maximum number of recursive calls")
        || message.contains("maximum stack size")
        || message.contains("too deeply nested")
    {
        PacError::Recursion
    } else {
        PacError::Script(message)
    }
}

/// Polls a future that yields cooperatively until it finishes or `deadline` passes.
fn drive_until<F: Future>(fut: F, deadline: Instant) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(10, 30, 0)
            .unwrap();
        Environment {
            names: HashMap::from([
                (
                    "intranet.contoso.com".to_string(),
                    Some("10.1.2.3".parse().unwrap()),
                ),
                ("gone.contoso.com".to_string(), None),
            ]),
            my_ip: "10.1.9.9".parse().unwrap(),
            now_local: at,
            now_utc: at,
        }
    }

    fn ask(expr: &str) -> String {
        let script = format!("function FindProxyForURL(url, host) {{ return String({expr}); }}");
        let r = run(
            &script,
            &[("http://x/".into(), "x".into())],
            &env(),
            Duration::from_millis(500),
        );
        assert_eq!(r.load_error, None);
        r.answers[0].clone().unwrap()
    }

    #[test]
    fn helpers_follow_the_pac_conventions() {
        assert_eq!(ask("isPlainHostName('intranet')"), "true");
        assert_eq!(ask("isPlainHostName('intranet.contoso.com')"), "false");
        assert_eq!(ask("dnsDomainIs('www.contoso.com', '.contoso.com')"), "true");
        assert_eq!(ask("dnsDomainIs('www.fabrikam.com', '.contoso.com')"), "false");
        assert_eq!(ask("localHostOrDomainIs('www', 'www.contoso.com')"), "true");
        assert_eq!(
            ask("localHostOrDomainIs('www.contoso.com', 'www.contoso.com')"),
            "true"
        );
        assert_eq!(ask("localHostOrDomainIs('mail', 'www.contoso.com')"), "false");
        assert_eq!(ask("dnsDomainLevels('www.contoso.com')"), "2");
        assert_eq!(
            ask("shExpMatch('login.microsoftonline.com', '*.microsoftonline.com')"),
            "true"
        );
        assert_eq!(
            ask("shExpMatch('microsoftonline.com', '*.microsoftonline.com')"),
            "false"
        );
        assert_eq!(ask("shExpMatch('a.b', 'a?b')"), "true");
        assert_eq!(ask("shExpMatch('http://x/(y)', 'http://x/(*')"), "true");
        assert_eq!(ask("dnsResolve('intranet.contoso.com')"), "10.1.2.3");
        assert_eq!(ask("dnsResolve('gone.contoso.com')"), "null");
        assert_eq!(ask("isResolvable('gone.contoso.com')"), "false");
        assert_eq!(
            ask("isInNet('intranet.contoso.com', '10.0.0.0', '255.0.0.0')"),
            "true"
        );
        assert_eq!(ask("isInNet('10.1.2.3', '10.1.3.0', '255.255.255.0')"), "false");
        assert_eq!(ask("isInNet('200.1.2.3', '200.0.0.0', '255.0.0.0')"), "true");
        assert_eq!(ask("myIpAddress()"), "10.1.9.9");
    }

    #[test]
    fn the_glob_matches_like_shexpmatch_without_backtracking() {
        let m = |t: &str, p: &str| glob_match(t.as_bytes(), p.as_bytes());
        assert!(m("login.microsoftonline.com", "*.microsoftonline.com"));
        assert!(!m("microsoftonline.com", "*.microsoftonline.com"));
        assert!(m("a.b", "a?b") && !m("ab", "a?b"));
        assert!(m("", "") && m("", "*") && m("", "**") && !m("", "?"));
        assert!(m("abc", "a*c") && m("abc", "*") && m("abc", "a*b*c*") && !m("abc", "a*d"));
        assert!(m("http://x/(y)", "http://x/(*"));
        assert!(m("aXbXc", "*X*X*") && !m("aXb", "*X*X*"));
        // The pattern a regex translation backtracks on for ever: quick here.
        let text = "a".repeat(100_000);
        let started = Instant::now();
        assert!(!m(&text, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn time_helpers_use_the_given_clock() {
        // Thursday 26 November 2026, 10:30:00.
        assert_eq!(ask("weekdayRange('MON', 'FRI')"), "true");
        assert_eq!(ask("weekdayRange('SAT', 'SUN')"), "false");
        assert_eq!(ask("weekdayRange('FRI', 'THU')"), "true", "wraps around");
        assert_eq!(ask("weekdayRange('THU')"), "true");
        assert_eq!(ask("weekdayRange('THU', 'GMT')"), "true");
        assert_eq!(ask("dateRange('NOV')"), "true");
        assert_eq!(ask("dateRange(1, 15)"), "false");
        assert_eq!(
            ask("dateRange('OCT', 'JAN')"),
            "true",
            "wraps around the new year"
        );
        assert_eq!(ask("dateRange(2026)"), "true");
        assert_eq!(ask("dateRange(1, 'NOV', 2026, 30, 'NOV', 2026)"), "true");
        assert_eq!(ask("dateRange(27, 'NOV', 2026, 30, 'DEC', 2026)"), "false");
        assert_eq!(ask("timeRange(10)"), "true");
        assert_eq!(ask("timeRange(8, 17)"), "true");
        assert_eq!(ask("timeRange(22, 6)"), "false");
        assert_eq!(ask("timeRange(10, 30, 10, 31)"), "true");
        assert_eq!(ask("timeRange(10, 31, 0, 11, 0, 0)"), "false");
    }

    #[test]
    fn unknown_names_are_reported_as_misses() {
        let script =
            "function FindProxyForURL(url, host) { return isResolvable(host) ? 'DIRECT' : 'PROXY p:8080'; }";
        let r = run(
            script,
            &[("https://new.example/".into(), "new.example".into())],
            &env(),
            Duration::from_millis(500),
        );
        assert_eq!(r.answers, vec![Ok("PROXY p:8080".to_string())]);
        assert_eq!(r.misses, vec!["new.example".to_string()]);
    }

    #[test]
    fn an_endless_loop_is_stopped_by_the_wall_clock() {
        let script = "function FindProxyForURL(url, host) { if (host == 'slow') { for (;;) { var x = 1; for (var i = 0; i < 10; i++) { x++; } } } return 'DIRECT'; }";
        let queries = [
            ("https://slow/".to_string(), "slow".to_string()),
            ("https://fast/".to_string(), "fast".to_string()),
        ];
        let started = Instant::now();
        let r = run(script, &queries, &env(), Duration::from_millis(200));
        let took = started.elapsed();
        assert_eq!(r.answers[0], Err(PacError::TimeLimit(Duration::from_millis(200))));
        assert_eq!(
            r.answers[1],
            Ok("DIRECT".to_string()),
            "the next call gets a fresh context"
        );
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }

    #[test]
    fn a_script_that_loops_for_every_host_is_given_up_on() {
        let script = "function FindProxyForURL(url, host) { for (;;) {} }";
        let queries: Vec<(String, String)> = (0..20)
            .map(|i| (format!("https://h{i}/"), format!("h{i}")))
            .collect();
        let started = Instant::now();
        let r = run(script, &queries, &env(), Duration::from_millis(100));
        assert_eq!(r.answers.len(), 20);
        assert!(r
            .answers
            .iter()
            .all(|a| *a == Err(PacError::TimeLimit(Duration::from_millis(100)))));
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_loop_at_load_time_is_stopped_too() {
        let r = run("while (true) {}", &[], &env(), Duration::from_millis(100));
        assert_eq!(
            r.load_error,
            Some(PacError::TimeLimit(Duration::from_millis(100)))
        );
    }

    #[test]
    fn a_loop_inside_a_builtin_hits_the_loop_limit() {
        let script = "function FindProxyForURL(url, host) { [1].forEach(function () { while (true) {} }); return 'DIRECT'; }";
        let r = run(
            script,
            &[("https://a/".into(), "a".into())],
            &env(),
            Duration::from_secs(30),
        );
        assert!(
            matches!(&r.answers[0], Err(PacError::Script(m)) if m.contains("loop")),
            "{:?}",
            r.answers[0]
        );
    }

    #[test]
    fn errors_are_named() {
        let q = [("https://a/".to_string(), "a".to_string())];
        let r = run(
            "function FindProxyForURL(url, host) { throw new Error('boom'); }",
            &q,
            &env(),
            Duration::from_millis(500),
        );
        assert!(
            matches!(&r.answers[0], Err(PacError::Script(m)) if m.contains("boom")),
            "{:?}",
            r.answers
        );
        let r = run(
            "function FindProxyForURL(url, host {",
            &q,
            &env(),
            Duration::from_millis(500),
        );
        assert!(
            matches!(&r.load_error, Some(PacError::Script(m)) if m.contains("SyntaxError")),
            "{:?}",
            r.load_error
        );
        let r = run("var x = 1;", &q, &env(), Duration::from_millis(500));
        assert_eq!(r.load_error, Some(PacError::NoFunction));
        let r = run(
            "function FindProxyForURL(url, host) { return 42; }",
            &q,
            &env(),
            Duration::from_millis(500),
        );
        assert_eq!(r.answers[0], Err(PacError::NotAString("42".into())));
    }

    #[test]
    fn the_script_has_no_way_out() {
        let q = [("https://a/".to_string(), "a".to_string())];
        for probe in [
            "typeof require",
            "typeof fetch",
            "typeof XMLHttpRequest",
            "typeof console",
            "typeof process",
        ] {
            let script = format!("function FindProxyForURL(url, host) {{ return {probe}; }}");
            let r = run(&script, &q, &env(), Duration::from_millis(500));
            assert_eq!(r.answers[0], Ok("undefined".to_string()), "{probe}");
        }
    }
}
