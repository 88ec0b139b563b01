//! The PAC worker: PAC files run in a child process (`m365mon pac-worker`, hidden from
//! `--help`) that the monitor can kill, the way Chrome runs them in a utility process.
//!
//! A PAC file is code from someone else's web server. The in-process engine
//! ([`super::sandbox`]) stops ordinary endless loops by itself, but nothing cooperative
//! stops a backtracking regular expression, a string that doubles until the machine runs
//! out of memory, or a parser recursing through a huge literal until the stack overflows
//! and the process aborts. In a child, each of those costs at most one call:
//!
//! - **time**: the parent gives the load and each `FindProxyForURL` call the limit (plus a
//!   little grace for the child's own cooperative stop to answer first); past it the child
//!   is killed, that call is marked "PAC evaluation exceeded 200 ms", and a fresh worker
//!   carries on with the remaining queries. All of this is async, so the sweep's other
//!   work, the screen and `q` never wait for it; dropping the run kills the child.
//! - **memory**: the child caps its private memory at what it uses plus [`MEMORY_CAP_MIB`]
//!   (`platform::limits`: `RLIMIT_DATA` on Linux, a Job object on Windows, none on macOS);
//!   an allocation past it aborts the child, reported as
//!   "PAC used more than 64 MiB".
//! - **stack**: the script runs on a thread with a fixed [`STACK_BYTES`] stack under Boa's
//!   recursion limit; an overflow aborts the child, reported as "recursion too deep".
//!
//! Protocol: the parent writes one JSON [`Request`] on the child's standard input and
//! closes it; the child writes one JSON [`Event`] per line: `Ready`, `Loaded`, then one
//! `Answer` per query, as each is known.
//!
//! Where no worker program is installed ([`install`]: the `m365mon` binary does it at
//! start; the library's own unit tests and other embedders do not), PAC files run in
//! process with the cooperative limit only, and the PAC check says so.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use super::sandbox::{self, Environment, PacError, Run, Step, MAX_STOPPED_CALLS};

/// The hidden subcommand that runs the worker.
pub const SUBCOMMAND: &str = "pac-worker";
/// Memory a PAC script may use beyond what the worker needs to start.
pub const MEMORY_CAP_MIB: u64 = 64;
/// The stack of the thread that parses and runs the script.
pub const STACK_BYTES: usize = 8 * 1024 * 1024;
/// Time a worker gets to start and report `Ready` (a busy machine starts processes slowly;
/// no PAC code runs before `Ready`).
const STARTUP: Duration = Duration::from_secs(5);
/// Beyond the limit, before the parent kills: the child's own cooperative stop reports
/// an ordinary loop, and the kill is for what that cannot stop.
const GRACE: Duration = Duration::from_millis(100);
/// Answers longer than this are cut (no proxy list is that long); keeps the lines small.
const MAX_ANSWER: usize = 4096;
/// What the parent reads of a worker's standard error (the reason for a crash).
const MAX_STDERR: u64 = 16 * 1024;
/// What the parent reads of a worker's standard output in all.
const MAX_STDOUT: u64 = 16 * 1024 * 1024;
/// What the child reads of its request: the PAC file's limit and room for the rest.
const MAX_REQUEST: u64 = 8 * 1024 * 1024;

static PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// Runs PAC files in `program` (an `m365mon` binary) from now on. The first call wins.
pub fn install(program: PathBuf) {
    let _ = PROGRAM.set(program);
}

/// The worker program, once installed.
pub fn installed() -> Option<&'static Path> {
    PROGRAM.get().map(PathBuf::as_path)
}

/// Where PAC files are evaluated, in words for the PAC check.
pub fn describe() -> String {
    match installed() {
        Some(_) => format!(
            "a worker process: {} ms per call, {MEMORY_CAP_MIB} MiB{}, {} MiB stack",
            super::CALL_LIMIT.as_millis(),
            if cfg!(target_os = "linux") {
                ""
            } else {
                " (cap not enforced on this OS)"
            },
            STACK_BYTES / (1024 * 1024)
        ),
        None => "this process (no worker program: cooperative time limit only)".into(),
    }
}

/// What the parent sends.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub script: String,
    pub queries: Vec<(String, String)>,
    pub env: Environment,
    pub limit_ms: u64,
}

/// What the child reports, one per line.
#[derive(Debug, Serialize, Deserialize)]
pub enum Event {
    /// The child started and capped itself; the memory cap in bytes, or why there is none.
    Ready { memory_cap: Result<u64, String> },
    /// The script loaded, or why not.
    Loaded { error: Option<PacError> },
    /// The answer to query `index` (of this worker's queries) and the misses so far.
    Answer {
        index: usize,
        answer: Result<String, PacError>,
        misses: Vec<String>,
    },
}

/// `m365mon pac-worker`: reads a [`Request`] on standard input, streams [`Event`]s on
/// standard output. Exit 3 for a request that is not one.
pub fn main() -> ExitCode {
    let mut text = String::new();
    if let Err(e) = std::io::stdin()
        .lock()
        .take(MAX_REQUEST)
        .read_to_string(&mut text)
    {
        eprintln!("pac-worker: cannot read the request on standard input: {e}");
        return ExitCode::from(3);
    }
    let request: Request = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pac-worker: the request on standard input is not valid: {e}");
            return ExitCode::from(3);
        }
    };
    drop(text);
    watchdog(&request);
    let thread = std::thread::Builder::new()
        .name("pac".into())
        .stack_size(STACK_BYTES)
        .spawn(move || serve(request));
    match thread.map(|t| t.join()) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(_)) => ExitCode::from(101),
        Err(e) => {
            eprintln!("pac-worker: cannot start the PAC thread: {e}");
            ExitCode::from(3)
        }
    }
}

/// Ends this worker, whatever it is doing, once the parent would long have killed it: a
/// monitor that exits (SIGTERM, a crash) cannot kill its worker, and a worker stuck in a
/// regular expression must not spin on without it. Every step gets the limit; the parent
/// kills at the limit plus [`GRACE`], so the whole request is allowed twice that and more.
fn watchdog(request: &Request) {
    let steps = request.queries.len() as u32 + 2;
    let allowed = (Duration::from_millis(request.limit_ms) + GRACE) * steps * 2 + STARTUP;
    let _ = std::thread::Builder::new()
        .name("watchdog".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            std::thread::sleep(allowed);
            eprintln!("pac-worker: still running after {} s, ending", allowed.as_secs());
            std::process::exit(124);
        });
}

/// The child's work, on the fixed-stack thread: cap memory, then run and report.
fn serve(request: Request) {
    let memory_cap = crate::platform::limits::cap_private_memory(MEMORY_CAP_MIB * 1024 * 1024);
    let out = std::io::stdout();
    let send = |event: &Event| {
        let mut out = out.lock();
        // A parent that went away leaves nobody to tell: just stop writing.
        let _ = serde_json::to_writer(&mut out, event);
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    };
    send(&Event::Ready { memory_cap });
    let limit = Duration::from_millis(request.limit_ms);
    let loaded = sandbox::run_streaming(&request.script, &request.queries, &request.env, limit, |step| {
        send(&match step {
            Step::Loaded => Event::Loaded { error: None },
            Step::Answer {
                index,
                answer,
                misses,
            } => Event::Answer {
                index,
                answer: answer.map(cut),
                misses: misses.to_vec(),
            },
        })
    });
    if let Err(error) = loaded {
        send(&Event::Loaded { error: Some(error) });
    }
}

/// An answer cut to [`MAX_ANSWER`] bytes (at a character boundary).
fn cut(mut answer: String) -> String {
    if answer.len() > MAX_ANSWER {
        let mut end = MAX_ANSWER;
        while !answer.is_char_boundary(end) {
            end -= 1;
        }
        answer.truncate(end);
        answer.push('…');
    }
    answer
}

/// How one worker's session ended.
#[derive(Debug)]
enum End {
    /// Every query answered.
    Finished,
    /// The script does not load (an ordinary error, reported by the child).
    LoadError(PacError),
    /// Killed or crashed at the step after the last one reported.
    Failed(PacError),
}

#[derive(Debug)]
struct Session {
    loaded: bool,
    answers: Vec<Result<String, PacError>>,
    misses: Vec<String>,
    end: End,
}

/// Runs `script` for `queries` in worker processes of `program`: the worker-process
/// counterpart of [`sandbox::run`], with the same [`Run`].
pub async fn run(
    program: &Path,
    script: &str,
    queries: &[(String, String)],
    env: &Environment,
    limit: Duration,
) -> Run {
    let mut run = Run::default();
    let mut stopped = 0;
    loop {
        let done = run.answers.len();
        let session = session(program, script, &queries[done..], env, limit).await;
        for name in session.misses {
            if !run.misses.contains(&name) {
                run.misses.push(name);
            }
        }
        if !session.loaded {
            let error = match session.end {
                End::LoadError(e) | End::Failed(e) => e,
                End::Finished => PacError::Crashed("ended before loading the script".into()),
            };
            if done == 0 {
                run.load_error = Some(error);
                return run;
            }
            // It loaded before: whatever stops it now stops every remaining query.
            run.answers.resize(queries.len(), Err(error));
            return run;
        }
        stopped += session
            .answers
            .iter()
            .filter(|a| matches!(a, Err(PacError::TimeLimit(_))))
            .count();
        run.answers.extend(session.answers);
        let error = match session.end {
            End::Finished | End::LoadError(_) => {
                if run.answers.len() < queries.len() {
                    // The child said it finished without answering everything.
                    let e = PacError::Crashed("ended before answering".into());
                    run.answers.resize(queries.len(), Err(e));
                }
                return run;
            }
            End::Failed(e) => e,
        };
        run.answers.push(Err(error.clone()));
        stopped += 1;
        if run.answers.len() >= queries.len() {
            return run;
        }
        if stopped >= MAX_STOPPED_CALLS {
            // A script that overruns for every host must not cost a worker and the limit
            // per endpoint: the rest get the last reason.
            run.answers.resize(queries.len(), Err(error));
            return run;
        }
    }
}

/// One worker process for `queries`.
async fn session(
    program: &Path,
    script: &str,
    queries: &[(String, String)],
    env: &Environment,
    limit: Duration,
) -> Session {
    let mut s = Session {
        loaded: false,
        answers: Vec::new(),
        misses: Vec::new(),
        end: End::Finished,
    };
    let mut command = tokio::process::Command::new(program);
    // Nothing of the monitor's environment (proxy credentials, tokens) reaches PAC code;
    // Windows needs `SystemRoot` to start a process at all.
    command.arg(SUBCOMMAND).env_clear();
    if let Some(root) = std::env::var_os("SystemRoot") {
        command.env("SystemRoot", root);
    }
    let mut child = match command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            s.end = End::Failed(PacError::Crashed(format!(
                "cannot start {}: {e}",
                program.display()
            )));
            return s;
        }
    };
    let request = Request {
        script: script.to_string(),
        queries: queries.to_vec(),
        env: env.clone(),
        limit_ms: limit.as_millis() as u64,
    };
    let request = serde_json::to_vec(&request).unwrap_or_default();
    // Written by a task of its own, so a child that stops reading cannot stall this one.
    let writer = child.stdin.take().map(|mut stdin| {
        tokio::spawn(async move {
            let _ = stdin.write_all(&request).await;
        })
    });
    let reader = child.stderr.take().map(|stderr| {
        tokio::spawn(async move {
            let mut text = Vec::new();
            let _ = stderr.take(MAX_STDERR).read_to_end(&mut text).await;
            String::from_utf8_lossy(&text).into_owned()
        })
    });
    let Some(stdout) = child.stdout.take() else {
        s.end = End::Failed(PacError::Crashed("no standard output".into()));
        return s;
    };
    let mut lines = tokio::io::BufReader::new(stdout.take(MAX_STDOUT)).lines();
    let mut started = false;
    let mut deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let line = match tokio::time::timeout_at(deadline, lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(_) => break,
            Err(_) => {
                let _ = child.kill().await;
                s.end = End::Failed(if started {
                    PacError::TimeLimit(limit)
                } else {
                    PacError::Crashed(format!("did not start within {} s", STARTUP.as_secs()))
                });
                return s;
            }
        };
        deadline = tokio::time::Instant::now() + limit + GRACE;
        match serde_json::from_str::<Event>(&line) {
            Ok(Event::Ready { .. }) => started = true,
            Ok(Event::Loaded { error: None }) => s.loaded = true,
            Ok(Event::Loaded { error: Some(e) }) => {
                s.end = End::LoadError(e);
                return s;
            }
            Ok(Event::Answer { answer, misses, .. }) => {
                s.answers.push(answer);
                s.misses = misses;
                if s.answers.len() == queries.len() {
                    s.end = End::Finished;
                    return s;
                }
            }
            Err(e) => {
                let _ = child.kill().await;
                s.end = End::Failed(PacError::Crashed(format!("unreadable report: {e}")));
                return s;
            }
        }
    }
    // Standard output ended before the work did: the child died. Why, from its status
    // and what it said on the way out.
    let status = child.wait().await;
    if let Some(w) = writer {
        w.abort();
    }
    let stderr = match reader {
        Some(r) => r.await.unwrap_or_default(),
        None => String::new(),
    };
    s.end = if s.loaded && s.answers.len() == queries.len() {
        End::Finished
    } else {
        End::Failed(classify(status.ok(), &stderr))
    };
    s
}

/// Why a worker died: what Rust's runtime prints on a stack overflow or a failed
/// allocation, else the signal or the exit status.
fn classify(status: Option<std::process::ExitStatus>, stderr: &str) -> PacError {
    if stderr.contains("has overflowed its stack") {
        return PacError::Recursion;
    }
    if stderr.contains("memory allocation of") || stderr.contains("out of memory") {
        return PacError::Memory(MEMORY_CAP_MIB);
    }
    let Some(status) = status else {
        return PacError::Crashed("status unknown".into());
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return PacError::Crashed(format!("signal {signal}"));
        }
    }
    let said = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    let said: String = said.chars().take(200).collect();
    match status.code() {
        Some(code) if said.is_empty() => PacError::Crashed(format!("exit status {code}")),
        Some(code) => PacError::Crashed(format!("exit status {code}: {said}")),
        None => PacError::Crashed("no exit status".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crashes_are_named_by_what_the_runtime_said() {
        assert_eq!(
            classify(
                None,
                "\nthread 'pac' has overflowed its stack\nfatal runtime error: stack overflow"
            ),
            PacError::Recursion
        );
        assert_eq!(
            classify(None, "memory allocation of 67108864 bytes failed\n"),
            PacError::Memory(MEMORY_CAP_MIB)
        );
        assert_eq!(classify(None, ""), PacError::Crashed("status unknown".into()));
    }

    #[test]
    fn long_answers_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_ANSWER);
        let short = cut(long);
        assert!(short.len() <= MAX_ANSWER + '…'.len_utf8());
        assert!(short.ends_with('…'));
        assert_eq!(cut("DIRECT".into()), "DIRECT");
    }
}
