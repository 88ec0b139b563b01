//! End-to-end in a real terminal (tmux), the real binary against the lab on loopback:
//! - a panic inside the running monitor gives the terminal back (status 101, alternate
//!   screen left, cursor shown, the message readable);
//! - `attach` draws another process's `serve`: its host in the header, its lights, the
//!   write keys refused as read-only, `q` restores the terminal;
//! - `--metrics-listen` serves /metrics beside the running monitor, open on loopback or
//!   behind a token given with `--token` or `M365MON_TOKEN`.
//!
//! Needs tmux; skips with a printed reason where it is missing.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::bin::BIN;
use support::http::{free_port, http_get};
use support::served::Served;
use support::tmux::{have_tmux, row_light, Tmux};

const ACTIVATION: &str = "activation.sls.microsoft.com";
const OFFICECDN: &str = "officecdn.microsoft.com";
const ACTIVATION_FAILING: &str =
    "m365mon_check_status{check=\"endpoint:activation.sls.microsoft.com\",kind=\"endpoint\"} 2";
const TOKEN: &str = "e2e-token-0123456789abcdef";

/// A scenario where only the activation endpoint fails (connection refused), from the start.
fn one_failing(dir: &Path) -> String {
    support::lab::write_scenario(
        dir,
        "one-failing",
        &format!("\n[[fault]]\nhost = \"{ACTIVATION}\"\nmode = \"refuse\"\n"),
    )
    .display()
    .to_string()
}

/// The shell line tmux runs: the terminal's modes before, the program, its exit status,
/// the modes after; then it stays so the screen can be read.
fn wrapped(dir: &Path, program: &str) -> String {
    let d = dir.display();
    format!(
        "stty -g > {d}/before; {program}; echo $? > {d}/exit.tmp; stty -g > {d}/after; mv {d}/exit.tmp {d}/exit; sleep 60"
    )
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .trim()
        .to_string()
}

/// After the program ended: its status, the terminal's modes as before, the normal screen
/// back and the cursor visible.
fn assert_terminal_given_back(tmux: &Tmux, dir: &Path, status: &str) {
    tmux.wait_for_file(&dir.join("exit"), Duration::from_secs(10));
    assert_eq!(
        read(dir, "exit"),
        status,
        "exit status; screen:\n{}",
        tmux.screen()
    );
    assert_eq!(read(dir, "before"), read(dir, "after"), "terminal modes restored");
    assert_eq!(tmux.format("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(tmux.format("#{cursor_flag}"), "1", "cursor visible again");
}

#[test]
fn a_panic_in_the_running_monitor_restores_the_terminal_and_shows_the_message() {
    if !have_tmux() {
        support::skip::because(
            "a_panic_in_the_running_monitor_restores_the_terminal_and_shows_the_message",
            "tmux is not installed",
        );
        return;
    }
    if !cfg!(debug_assertions) {
        support::skip::because(
            "a_panic_in_the_running_monitor_restores_the_terminal_and_shows_the_message",
            "M365MON_DEBUG_PANIC is honoured by debug builds only",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // No backtrace: CI exports RUST_BACKTRACE=1, and a long trace would push the message
    // off the top of the pane.
    let program =
        format!("RUST_BACKTRACE=0 M365MON_DEBUG_PANIC=1 {BIN} --lab healthy --interval 1 --timeout 1");
    let tmux = Tmux::start("panic", 100, 30, &wrapped(dir.path(), &program));
    tmux.wait_for("the monitor", Duration::from_secs(30), |s| {
        row_light(s, ACTIVATION) == Some('+')
    });
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "1",
        "the monitor holds the alternate screen"
    );
    assert_eq!(tmux.format("#{cursor_flag}"), "0", "the monitor hides the cursor");

    // Any key panics inside the running monitor (its input loop, on the TUI's thread).
    tmux.keys(&["x"]);
    assert_terminal_given_back(&tmux, dir.path(), "101");
    // The message was printed after the restore, so it is on the normal screen.
    let screen = tmux.screen();
    assert!(screen.contains("panicked at"), "{screen}");
    assert!(
        screen.contains("M365MON_DEBUG_PANIC: deliberate panic on a key press"),
        "{screen}"
    );
    assert!(
        !screen.contains("stopped unexpectedly"),
        "a panic is not reported as an error: {screen}"
    );
}

/// The hostname the served side shows: its own UTS namespace named `pc-042` where
/// `unshare` may make one (root), else this machine's name.
fn serve_as_remote(scenario: &str) -> (Served, Option<&'static str>) {
    let args = ["--lab", scenario, "--interval", "1", "--timeout", "1"];
    // The served side's user: the header shows the remote's, not ours.
    let env = [("USER", "remote-tech"), ("USERNAME", "remote-tech")];
    let own_uts = Command::new("unshare")
        .args(["--uts", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if own_uts {
        let prefix = [
            "unshare",
            "--uts",
            "sh",
            "-c",
            "hostname pc-042 && exec \"$0\" \"$@\"",
        ];
        (Served::start_via(&prefix, &args, &env), Some("pc-042"))
    } else {
        eprintln!("note: unshare --uts is not available; the remote's hostname is this machine's");
        (Served::start(&args, &env), None)
    }
}

#[test]
fn attach_shows_the_remote_monitor_read_only_and_quits_cleanly() {
    if !have_tmux() {
        support::skip::because(
            "attach_shows_the_remote_monitor_read_only_and_quits_cleanly",
            "tmux is not installed",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (served, remote_host) = serve_as_remote(&one_failing(dir.path()));
    let program = format!("{BIN} attach http://{} --interval 1", served.addr);
    let tmux = Tmux::start("attach", 120, 40, &wrapped(dir.path(), &program));

    // The remote's lights: exactly the one endpoint it fails.
    let s = tmux.wait_for("the remote's lights", Duration::from_secs(30), |s| {
        row_light(s, ACTIVATION) == Some('x') && row_light(s, OFFICECDN) == Some('+')
    });
    // Its header: the remote machine, user and lab, and that this view is read-only.
    let header: String = s.lines().take(3).collect::<Vec<_>>().join("\n");
    assert!(header.contains("user remote-tech"), "{header}");
    if let Some(host) = remote_host {
        assert!(header.contains(host), "{header}");
    }
    assert!(header.contains("LAB one-failing"), "{header}");
    assert!(header.contains("read-only view"), "{header}");
    assert_eq!(tmux.format("#{alternate_on}"), "1");

    // The write keys are refused, each with a message on screen.
    for (key, what) in [("p", "pause"), ("m", "adding a marker"), ("r", "probe now")] {
        tmux.keys(&[key]);
        let s = tmux.wait_for(&format!("the refusal of {key}"), Duration::from_secs(5), |s| {
            s.contains(&format!("Read-only view: {what} is not available."))
        });
        assert!(!s.contains("PAUSED"), "{key}: {s}");
    }
    tmux.keys(&["q"]);
    assert_terminal_given_back(&tmux, dir.path(), "0");
}

/// Runs the monitor with `--metrics-listen` (plus `extra`, and `env` before it) in tmux and
/// returns the tmux session and the exporter's address once the first sweep is on screen.
fn monitor_with_metrics(dir: &Path, tag: &str, env: &str, extra: &str) -> (Tmux, SocketAddr) {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let program = format!(
        "{env} {BIN} --lab {} --interval 1 --timeout 1 --metrics-listen {addr} {extra}",
        one_failing(dir)
    );
    let tmux = Tmux::start(tag, 120, 40, &wrapped(dir, &program));
    tmux.wait_for("the monitor's lights", Duration::from_secs(30), |s| {
        row_light(s, ACTIVATION) == Some('x')
    });
    (tmux, addr)
}

fn quit_and_check_the_exporter_stops(tmux: &Tmux, dir: &Path, addr: SocketAddr) {
    tmux.keys(&["q"]);
    assert_terminal_given_back(tmux, dir, "0");
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "the exporter ended with the monitor"
    );
}

#[test]
fn metrics_listen_answers_beside_the_running_monitor_without_a_token_on_loopback() {
    if !have_tmux() {
        support::skip::because(
            "metrics_listen_answers_beside_the_running_monitor_without_a_token_on_loopback",
            "tmux is not installed",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (tmux, addr) = monitor_with_metrics(dir.path(), "metrics-open", "", "");
    let (status, body) = http_get(addr, "/metrics", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(ACTIVATION_FAILING), "{body}");
    let (status, body) = http_get(addr, "/api/state", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"sweeps\""), "{body}");
    // The monitor still draws and answers keys while it is scraped.
    tmux.keys(&["?"]);
    tmux.wait_for("the help overlay", Duration::from_secs(5), |s| {
        s.contains("quit and restore the terminal")
    });
    tmux.keys(&["Escape"]);
    quit_and_check_the_exporter_stops(&tmux, dir.path(), addr);
}

#[test]
fn metrics_listen_beside_the_running_monitor_wants_the_token_from_the_flag_or_the_environment() {
    if !have_tmux() {
        support::skip::because(
            "metrics_listen_beside_the_running_monitor_wants_the_token_from_the_flag_or_the_environment",
            "tmux is not installed",
        );
        return;
    }
    let flag = format!("--token {TOKEN}");
    let env = format!("M365MON_TOKEN={TOKEN}");
    for (tag, env, extra) in [("flag", "", flag.as_str()), ("env", env.as_str(), "")] {
        let dir = tempfile::tempdir().unwrap();
        let (tmux, addr) = monitor_with_metrics(dir.path(), &format!("metrics-{tag}"), env, extra);
        for path in ["/metrics", "/api/state"] {
            assert_eq!(http_get(addr, path, None).0, 401, "{tag}: {path} without a token");
            assert_eq!(
                http_get(addr, path, Some("e2e-token-wrong-0123456789")).0,
                401,
                "{tag}: {path} with a wrong token"
            );
        }
        let (status, body) = http_get(addr, "/metrics", Some(TOKEN));
        assert_eq!(status, 200, "{tag}: {body}");
        assert!(body.contains(ACTIVATION_FAILING), "{tag}: {body}");
        assert_eq!(
            http_get(addr, "/healthz", None).0,
            200,
            "{tag}: liveness stays open"
        );
        assert!(
            !tmux.screen().contains(TOKEN),
            "{tag}: the token is not on screen"
        );
        quit_and_check_the_exporter_stops(&tmux, dir.path(), addr);
    }
}
