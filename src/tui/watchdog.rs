//! Makes sure the monitor ends when its terminal does.
//!
//! When an SSH session or a terminal emulator dies, the terminal hangs up: reads from it
//! return end-of-file forever. crossterm (0.29) treats that end-of-file as "no event yet"
//! and retries inside `event::poll` without returning, so the loop never sees the hang-up,
//! the SIGHUP flag or the SIGTERM flag again, and the process would spin on one core until
//! killed. Found by killing a tmux server under a running monitor.
//!
//! The watchdog is a plain thread beside the loop. It ends the process (status 129, as for
//! SIGHUP) when either
//! - a shutdown was asked (signal) and the loop did not return within [`GRACE`], or
//! - the controlling terminal is gone (Unix: `/dev/tty` can no longer be opened).
//!
//! There is no screen left to restore in either case, so exiting directly loses nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the loop gets to return on its own after a shutdown request.
pub const GRACE: Duration = Duration::from_secs(2);
const TICK: Duration = Duration::from_millis(500);
/// Exit status when the terminal went away (128 + SIGHUP, what a shell reports).
pub const HANGUP_STATUS: i32 = 129;

/// Starts the watchdog; it stops by itself once `done` is set.
pub fn spawn(shutdown: Arc<AtomicBool>, done: Arc<AtomicBool>) {
    let had_tty = controlling_terminal_present();
    let _ = std::thread::Builder::new()
        .name("m365mon-tui-watchdog".into())
        .spawn(move || watch(&shutdown, &done, had_tty, controlling_terminal_present, exit));
}

fn exit() {
    std::process::exit(HANGUP_STATUS);
}

/// The watchdog's loop, with the terminal test and the exit passed in (for tests).
fn watch(
    shutdown: &AtomicBool,
    done: &AtomicBool,
    had_tty: bool,
    tty_present: impl Fn() -> bool,
    exit: impl Fn(),
) {
    let mut asked_at: Option<Instant> = None;
    loop {
        std::thread::sleep(TICK);
        if done.load(Ordering::SeqCst) {
            return;
        }
        if had_tty && !tty_present() {
            // Tell the loop too, in case it is not stuck after all.
            shutdown.store(true, Ordering::SeqCst);
            exit();
            return;
        }
        if shutdown.load(Ordering::SeqCst) {
            let since = *asked_at.get_or_insert_with(Instant::now);
            if since.elapsed() >= GRACE {
                exit();
                return;
            }
        }
    }
}

/// Whether this process still has a controlling terminal. After a hang-up the session
/// loses it and opening `/dev/tty` fails (ENXIO). Elsewhere there is nothing to test.
fn controlling_terminal_present() -> bool {
    #[cfg(unix)]
    {
        std::fs::OpenOptions::new().read(true).open("/dev/tty").is_ok()
    }
    #[cfg(not(unix))]
    {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn run(shutdown: bool, had_tty: bool, present: bool, done_after: Option<Duration>) -> (usize, Duration) {
        let s = Arc::new(AtomicBool::new(shutdown));
        let d = Arc::new(AtomicBool::new(false));
        if let Some(after) = done_after {
            let d = d.clone();
            std::thread::spawn(move || {
                std::thread::sleep(after);
                d.store(true, Ordering::SeqCst);
            });
        }
        let exits = AtomicUsize::new(0);
        let t0 = Instant::now();
        watch(
            &s,
            &d,
            had_tty,
            || present,
            || {
                exits.fetch_add(1, Ordering::SeqCst);
            },
        );
        (exits.load(Ordering::SeqCst), t0.elapsed())
    }

    #[test]
    fn a_lost_terminal_ends_the_process_at_once() {
        let (exits, took) = run(false, true, false, None);
        assert_eq!(exits, 1);
        assert!(took < GRACE, "{took:?}");
    }

    #[test]
    fn a_stuck_loop_is_ended_after_the_grace_period() {
        let (exits, took) = run(true, true, true, None);
        assert_eq!(exits, 1);
        assert!(took >= GRACE, "{took:?}");
    }

    #[test]
    fn a_loop_that_returns_is_left_alone() {
        // Shutdown asked, the loop returns within the grace period: no forced exit.
        assert_eq!(run(true, true, true, Some(Duration::from_millis(700))).0, 0);
        // No terminal from the start (e.g. Windows, or tests): nothing to lose.
        assert_eq!(run(false, false, false, Some(Duration::from_millis(700))).0, 0);
    }
}
