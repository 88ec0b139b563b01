//! The terminal's lifecycle. Raw mode and the alternate screen are entered in one place
//! and left in one idempotent function, called on every way out: normal quit (the
//! session's `Drop`), an error, and a panic (a hook that restores the terminal before the
//! panic message prints, so the message is readable and the shell usable).

use std::io::{self, IsTerminal, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

/// Whether the terminal is in raw mode / the alternate screen because of us.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// Whether standard output is a terminal the monitor can draw on.
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// The terminal while the monitor owns it; dropping it gives the terminal back.
pub struct TerminalGuard {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen. On failure whatever was entered is left
    /// again before the error returns.
    pub fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        ACTIVE.store(true, Ordering::SeqCst);
        let entered = enable_raw_mode()
            .and_then(|()| execute!(io::stdout(), EnterAlternateScreen, Hide))
            .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
        match entered {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves raw mode and the alternate screen and shows the cursor; does nothing when the
/// monitor does not hold the terminal, so every exit path may call it.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        // Raw mode first: it has more side effects than the alternate screen.
        let _ = disable_raw_mode();
        let _ = execute!(io::stdout(), LeaveAlternateScreen, Show);
    }
}

/// Restores the terminal before any panic message prints, then runs the hook that was
/// there before (the default one, or color-eyre's when `main` installed it).
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_without_a_session_is_a_no_op() {
        // Must not touch the terminal (tests run without one) nor panic.
        restore();
        assert!(!ACTIVE.load(Ordering::SeqCst));
    }
}
