//! Every key binding, with its name, in one table: the help overlay lists it and the
//! footer picks from it, so the two can never disagree with what the keys do.

/// One binding as a user reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// Stable name (for documentation and a future key-binding file).
    pub name: &'static str,
    /// The keys, as printed in the help.
    pub keys: &'static str,
    /// The keys, as short as the footer needs them.
    pub hint: &'static str,
    /// Short label for the footer.
    pub short: &'static str,
    /// What it does, for the help overlay.
    pub action: &'static str,
    /// Changes the monitor (not available in read-only attach mode).
    pub writes: bool,
}

const fn b(
    name: &'static str,
    keys: &'static str,
    hint: &'static str,
    short: &'static str,
    action: &'static str,
    writes: bool,
) -> Binding {
    Binding {
        name,
        keys,
        hint,
        short,
        action,
        writes,
    }
}

/// All bindings, in help order.
pub const BINDINGS: &[Binding] = &[
    b(
        "select",
        "Up/Down j/k",
        "j/k",
        "select",
        "select a check, or scroll the focused pane",
        false,
    ),
    b("page", "PgUp/PgDn", "PgUp/PgDn", "page", "move by a page", false),
    b(
        "ends",
        "Home/End",
        "Home/End",
        "first/last",
        "go to the first or last row",
        false,
    ),
    b(
        "focus",
        "Tab/Shift-Tab",
        "Tab",
        "focus",
        "move the focus: checks, remediation, events",
        false,
    ),
    b(
        "detail",
        "Enter",
        "Enter",
        "detail",
        "open the detail view of the selected check; Enter or Esc closes it",
        false,
    ),
    b(
        "probe",
        "r",
        "r",
        "probe now",
        "probe now: start a sweep at once",
        true,
    ),
    b(
        "pause",
        "p",
        "p",
        "pause",
        "pause or resume the interval sweeps",
        true,
    ),
    b(
        "failing",
        "f",
        "f",
        "failing only",
        "show only failing checks (fail and warn), or all again",
        false,
    ),
    b(
        "search",
        "/",
        "/",
        "search",
        "search the checks by host, URL, summary or status (rows filter as you type; Enter keeps, Esc clears)",
        false,
    ),
    b(
        "group",
        "g",
        "g",
        "group",
        "group the endpoints (by service area, category or purpose) with a light and counts per group; again: open every group; again: no groups",
        false,
    ),
    b(
        "marker",
        "m",
        "m",
        "marker",
        "add a marker line to the events log (Enter adds, Esc cancels)",
        true,
    ),
    b(
        "export",
        "e",
        "e",
        "export",
        "export a report of the session (Markdown and JSON)",
        false,
    ),
    b(
        "explain",
        ":",
        ":",
        "explain",
        "explain a sign-in or activation error code (type it, e.g. 0xCAA82EE2, then Enter)",
        false,
    ),
    b(
        "copy",
        "1-9",
        "1-9",
        "copy",
        "copy the remediation panel's numbered command to the clipboard (through the terminal, so over SSH and in tmux too)",
        false,
    ),
    b("theme", "t", "t", "theme", "switch to the next theme", false),
    b("help", "?", "?", "help", "show or hide this help", false),
    b(
        "cancel",
        "Esc",
        "Esc",
        "close",
        "close a view, cancel the marker, clear the status line",
        false,
    ),
    b(
        "quit",
        "q Ctrl-C",
        "q",
        "quit",
        "quit and restore the terminal",
        false,
    ),
];

/// The binding with this name.
pub fn binding(name: &str) -> &'static Binding {
    BINDINGS
        .iter()
        .find(|b| b.name == name)
        .unwrap_or(&BINDINGS[BINDINGS.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_binding_is_described() {
        let mut names: Vec<_> = BINDINGS.iter().map(|b| b.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), BINDINGS.len());
        assert!(BINDINGS.iter().all(|b| !b.keys.is_empty()
            && !b.hint.is_empty()
            && !b.action.is_empty()
            && !b.short.is_empty()));
        assert_eq!(binding("export").keys, "e");
    }
}
