//! Screens rendered on a test backend from hand-made snapshots, compared with insta
//! snapshots (`src/tui/ui/snapshots/`), plus the resize sweep that must never panic.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;

use crate::tui::app::{App, Focus};
use crate::tui::fixtures;
use crate::tui::theme::Theme;

fn terminal(w: u16, h: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(w, h)).unwrap()
}

fn draw(app: &App, w: u16, h: u16) -> Buffer {
    let mut t = terminal(w, h);
    t.draw(|f| super::render(f, app)).unwrap();
    t.backend().buffer().clone()
}

/// The screen's text, one line per row, trailing blanks removed.
fn text(buffer: &Buffer) -> String {
    let w = usize::from(buffer.area.width);
    buffer
        .content
        .chunks(w)
        .map(|row| {
            row.iter()
                .map(|c| c.symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn screen(app: &App, w: u16, h: u16) -> String {
    text(&draw(app, w, h))
}

fn keys(app: &mut App, codes: &[KeyCode]) {
    for c in codes {
        app.on_key(KeyEvent::new(*c, KeyModifiers::NONE));
    }
}

/// Row and column of the first occurrence of `needle` on screen.
fn find(buffer: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let screen = text(buffer);
    screen.lines().enumerate().find_map(|(y, line)| {
        line.find(needle)
            .map(|byte| (y as u16, line[..byte].chars().count() as u16))
    })
}

#[test]
fn healthy_screen() {
    let app = fixtures::app(fixtures::healthy(), Theme::default());
    insta::assert_snapshot!("healthy_120x36", screen(&app, 120, 36));
}

#[test]
fn healthy_screen_with_a_passing_endpoint_selected_says_what_was_verified() {
    let mut app = fixtures::app(fixtures::healthy(), Theme::default());
    keys(&mut app, &[KeyCode::Down, KeyCode::Down]);
    let s = screen(&app, 120, 36);
    assert!(s.contains("Healthy: ols.officeapps.live.com/olsc"), "{s}");
    assert!(
        s.contains("TLSv1.3, chain ends in DigiCert Global Root G2"),
        "{s}"
    );
    insta::assert_snapshot!("healthy_selected_120x36", s);
}

#[test]
fn failure_with_top_finding_on_a_wide_screen() {
    let app = fixtures::app(fixtures::failing(), Theme::default());
    let s = screen(&app, 160, 44);
    assert!(s.contains("Top finding (1 of 2)"), "{s}");
    assert!(s.contains("LAB activation-blocked"), "{s}");
    insta::assert_snapshot!("failing_160x44", s);
}

#[test]
fn failure_with_a_selected_check_shows_its_remediation_in_80_columns() {
    let mut app = fixtures::app(fixtures::failing(), Theme::default());
    // Failing rows sort first: ols, then activation.
    keys(&mut app, &[KeyCode::Down, KeyCode::Down]);
    assert_eq!(
        app.selected.as_deref(),
        Some("endpoint:activation.sls.microsoft.com")
    );
    let s = screen(&app, 80, 50);
    assert!(s.contains("Why it fails: activation.sls.microsoft.com"), "{s}");
    assert!(s.contains("What to do: [administrator]"), "{s}");
    assert!(s.contains("│ 1. "), "numbered steps: {s}");
    insta::assert_snapshot!("failing_selected_80x50", s);
}

#[test]
fn remediation_panel_scrolls_to_the_links() {
    let mut app = fixtures::app(fixtures::failing(), Theme::default());
    keys(&mut app, &[KeyCode::Down, KeyCode::Down]);
    let before = screen(&app, 80, 30);
    assert!(!before.contains("https://learn.microsoft.com/"), "{before}");
    keys(&mut app, &[KeyCode::Tab]);
    assert_eq!(app.focus, Focus::Remediation);
    keys(&mut app, &[KeyCode::End]);
    let after = screen(&app, 80, 30);
    assert!(after.contains("https://learn.microsoft.com/"), "{after}");
    assert!(after.contains("j/k scrolls"), "{after}");
}

#[test]
fn detail_view_shows_stages_chain_and_error() {
    let mut app = fixtures::app(fixtures::failing(), Theme::default());
    keys(&mut app, &[KeyCode::Enter]);
    let s = screen(&app, 120, 40);
    assert!(s.contains("Detail: activation.sls.microsoft.com"), "{s}");
    assert!(
        s.contains("x TCP      3.0 s  no answer to SYN within 3 s [tcp-timeout]"),
        "{s}"
    );
    insta::assert_snapshot!("detail_failing_120x40", s);

    let mut app = fixtures::app(fixtures::healthy(), Theme::default());
    keys(&mut app, &[KeyCode::Down, KeyCode::Enter]);
    let s = screen(&app, 120, 40);
    assert!(s.contains("CN=Microsoft Azure RSA TLS Issuing CA 03"), "{s}");
    insta::assert_snapshot!("detail_healthy_120x40", s);
}

#[test]
fn help_overlay_lists_every_key() {
    let mut app = fixtures::app(fixtures::failing(), Theme::default());
    keys(&mut app, &[KeyCode::Char('?')]);
    let s = screen(&app, 100, 36);
    for b in crate::tui::keys::BINDINGS {
        assert!(s.contains(b.keys), "help lacks {}: {s}", b.keys);
    }
    insta::assert_snapshot!("help_100x36", s);
}

#[test]
fn colon_opens_the_error_code_explanation() {
    let mut app = fixtures::app(fixtures::failing(), Theme::default());
    keys(&mut app, &[KeyCode::Char(':')]);
    let typing = screen(&app, 100, 36);
    assert!(typing.contains("Error code: "), "{typing}");
    let code: Vec<KeyCode> = "caa70004".chars().map(KeyCode::Char).collect();
    keys(&mut app, &code);
    keys(&mut app, &[KeyCode::Enter]);
    let s = screen(&app, 100, 36);
    assert!(s.contains("Error code 0xCAA70004"), "{s}");
    insta::assert_snapshot!("explain_100x36", s);
}

#[test]
fn too_small_notice_names_the_minimum() {
    let app = fixtures::app(fixtures::failing(), Theme::default());
    let s = screen(&app, 40, 10);
    assert!(s.contains("terminal too small"), "{s}");
    insta::assert_snapshot!("too_small_40x10", s);
}

#[test]
fn monochrome_screen_reads_by_shape_and_uses_no_colour() {
    let mut app = fixtures::app(fixtures::failing(), Theme::monochrome());
    keys(&mut app, &[KeyCode::Down]);
    let buffer = draw(&app, 120, 36);
    for cell in &buffer.content {
        assert_eq!(
            (cell.fg, cell.bg),
            (Color::Reset, Color::Reset),
            "coloured cell {cell:?}"
        );
    }
    // The selected row is shown in reverse video, the failing light in bold.
    let (y, x) = find(&buffer, "ols.officeapps.live.com/olsc").unwrap();
    assert!(buffer[(x, y)].modifier.contains(Modifier::REVERSED));
    assert_eq!(buffer[(x - 2, y)].symbol(), "x");
    assert!(buffer[(x - 2, y)].modifier.contains(Modifier::BOLD));
    insta::assert_snapshot!("monochrome_failing_120x36", text(&buffer));
}

#[test]
fn dark_theme_colours_lights_by_status() {
    let app = fixtures::app(fixtures::failing(), Theme::default());
    let buffer = draw(&app, 120, 36);
    let (y, x) = find(&buffer, "activation.sls.microsoft.com").unwrap();
    assert_eq!(buffer[(x - 2, y)].symbol(), "x");
    assert_eq!(buffer[(x - 2, y)].fg, Theme::default().palette.fail);
    let (y, x) = find(&buffer, "officecdn.microsoft.com").unwrap();
    assert_eq!(buffer[(x - 2, y)].symbol(), "+");
    assert_eq!(buffer[(x - 2, y)].fg, Theme::default().palette.pass);
}

#[test]
fn waiting_for_the_first_sweep() {
    let app = fixtures::app(fixtures::starting(), Theme::default());
    let s = screen(&app, 100, 24);
    assert!(s.contains("[?] WAITING"), "{s}");
    assert!(s.contains("Waiting for the first sweep..."), "{s}");
    assert!(
        !s.contains("Network"),
        "no pane for checks that do not exist: {s}"
    );
}

#[test]
fn failing_only_filter_and_marker_input_show_in_panes_and_footer() {
    let mut app = fixtures::app(fixtures::failing(), Theme::default());
    keys(&mut app, &[KeyCode::Char('f'), KeyCode::Char('m')]);
    for c in "rule 42".chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    let mut t = terminal(100, 30);
    t.draw(|f| super::render(f, &app)).unwrap();
    let s = text(t.backend().buffer());
    assert!(s.contains("[failing only]"), "{s}");
    assert!(!s.contains("officecdn.microsoft.com"), "{s}");
    // The host pane (one skipped check) is a single line that says so.
    assert!(
        s.contains("- This machine: 1 check skipped on Windows (1 Windows-only)"),
        "{s}"
    );
    assert!(s.contains("Marker: rule 42"), "{s}");
    let (x, y) = t.get_cursor_position().map(|p| (p.x, p.y)).unwrap();
    assert_eq!((x, y), (15, 29), "cursor after the typed text");
}

#[test]
fn events_show_changes_and_markers_in_local_time_newest_last() {
    let app = fixtures::app(fixtures::failing(), Theme::default());
    let s = screen(&app, 160, 44);
    let changes: Vec<&str> = s.lines().filter(|l| l.contains(" -> ")).collect();
    assert!(
        changes
            .last()
            .unwrap()
            .contains("14:01:57 login.microsoftonline.com pass -> warn: HTTP 200 in 2.4 s (slow)"),
        "{s}"
    );
    assert!(s.contains("13:58:12 * marker: firewall rule 42 applied"), "{s}");
}

#[test]
fn every_size_from_200x60_down_to_10x4_and_back_draws_without_panicking() {
    let mut states: Vec<App> = Vec::new();
    states.push(fixtures::app(fixtures::failing(), Theme::default()));
    let mut selected = fixtures::app(fixtures::failing(), Theme::monochrome());
    keys(&mut selected, &[KeyCode::End, KeyCode::Char('f')]);
    states.push(selected);
    let mut detail = fixtures::app(fixtures::failing(), Theme::default());
    keys(&mut detail, &[KeyCode::Enter]);
    states.push(detail);
    let mut help = fixtures::app(fixtures::healthy(), Theme::default());
    keys(&mut help, &[KeyCode::Char('?')]);
    states.push(help);
    let mut marker = fixtures::app(fixtures::starting(), Theme::default());
    keys(&mut marker, &[KeyCode::Char('m')]);
    states.push(marker);

    let mut sizes: Vec<(u16, u16)> = Vec::new();
    for w in (10..=200).rev().step_by(10) {
        for h in (4..=60).rev().step_by(4) {
            sizes.push((w, h));
        }
    }
    sizes.extend([(59, 16), (60, 15), (60, 16), (139, 30), (140, 30), (1, 1)]);
    let back: Vec<(u16, u16)> = sizes.iter().rev().copied().collect();
    for app in &states {
        let mut t = terminal(200, 60);
        t.draw(|f| super::render(f, app)).unwrap();
        let original = text(t.backend().buffer());
        for &(w, h) in sizes.iter().chain(&back) {
            t.backend_mut().resize(w, h);
            t.draw(|f| super::render(f, app))
                .unwrap_or_else(|e| panic!("{w}x{h}: {e}"));
        }
        t.backend_mut().resize(200, 60);
        t.draw(|f| super::render(f, app)).unwrap();
        assert_eq!(
            text(t.backend().buffer()),
            original,
            "layout restored after resizing back"
        );
    }
}

#[test]
fn a_remediation_the_tool_can_carry_out_names_the_fix_command() {
    let mut app = fixtures::app(fixtures::failing(), Theme::default());
    // Walk the selection down to the proxy check (a warning in the network pane).
    for _ in 0..40 {
        if app.selected_check().is_some_and(|c| c.id == "network:proxy") {
            break;
        }
        keys(&mut app, &[KeyCode::Char('j')]);
    }
    assert_eq!(app.selected_check().map(|c| c.id.as_str()), Some("network:proxy"));
    // Tall enough that the whole entry shows without scrolling the panel.
    let s = screen(&app, 160, 150);
    assert!(s.contains("m365mon can do this"), "{s}");
    assert!(s.contains("m365mon fix reset-winhttp-proxy"), "{s}");
    // The top finding of this fixture (a firewall rule) has no fix: nothing is offered.
    let top = fixtures::app(fixtures::failing(), Theme::default());
    assert!(!screen(&top, 160, 150).contains("m365mon can do this"));
}

#[test]
fn both_families_show_as_a_breakdown_in_the_row_and_every_address_in_the_detail() {
    use crate::model::{AddressResult, Cause, DnsInfo, IpFamily, Status};
    let mut snapshot = fixtures::failing();
    let c = snapshot
        .checks
        .iter_mut()
        .find(|c| c.id == "endpoint:activation.sls.microsoft.com")
        .expect("the fixture's blocked endpoint");
    let tcp_fail = c.stages[1].clone();
    c.addresses = vec![
        AddressResult {
            addr: "127.77.0.3".into(),
            family: IpFamily::Ipv4,
            status: Status::Pass,
            summary: "HTTP 200 in 12 ms".into(),
            duration_ms: 12.0,
            stages: Vec::new(),
            cause: None,
        },
        AddressResult {
            addr: "fd00:6d36::3".into(),
            family: IpFamily::Ipv6,
            status: Status::Fail,
            summary: "TCP connect timed out after 3.0 s".into(),
            duration_ms: 3000.0,
            stages: vec![tcp_fail],
            cause: Some(Cause::TcpTimeout),
        },
    ];
    c.dns = Some(DnsInfo {
        resolver: "10.0.0.53".into(),
        cname_chain: vec!["activation.sls.microsoft.com".into(), "sls.front.example".into()],
        ipv4: vec!["127.77.0.3".into()],
        ipv6: vec!["fd00:6d36::3".into()],
        notes: Vec::new(),
    });
    let mut app = fixtures::app(snapshot, Theme::monochrome());
    let s = screen(&app, 160, 40);
    let row = s
        .lines()
        .find(|l| l.contains("│x activation.sls.microsoft.com"))
        .unwrap_or_else(|| panic!("the endpoint's row: {s}"));
    assert!(row.contains("activation.sls.microsoft.com 4+ 6x"), "{row}");
    let other = s
        .lines()
        .find(|l| l.contains("│+ officecdn.microsoft.com"))
        .unwrap();
    assert!(!other.contains(" 4+"), "one family only: no breakdown: {other}");

    keys(&mut app, &[KeyCode::Enter]);
    let s = screen(&app, 120, 60);
    assert!(s.contains("Name resolution"), "{s}");
    assert!(s.contains("10.0.0.53"), "{s}");
    assert!(
        s.contains("activation.sls.microsoft.com → sls.front.example"),
        "{s}"
    );
    assert!(s.contains("Addresses tried"), "{s}");
    assert!(s.contains("+ IPv4 127.77.0.3 HTTP 200 in 12 ms"), "{s}");
    assert!(
        s.contains("x IPv6 fd00:6d36::3 TCP connect timed out after 3.0 s"),
        "{s}"
    );
}

// ---- The screen for the job (issue 14): whole screens at four sizes -----------------

/// The four situations of the issue, by name.
fn situations() -> Vec<(&'static str, crate::engine::Snapshot)> {
    vec![
        ("lab_healthy", fixtures::lab_healthy()),
        ("lab_refused_late", fixtures::lab_refused_late()),
        ("lab_intercepted", fixtures::lab_intercepted()),
        ("catalog_315", fixtures::big_catalog()),
    ]
}

const SIZES: [(u16, u16); 4] = [(80, 24), (100, 30), (120, 40), (200, 60)];

#[test]
fn whole_screen_at_four_sizes_for_each_situation() {
    for (name, snapshot) in situations() {
        let app = fixtures::app(snapshot, Theme::monochrome());
        for (w, h) in SIZES {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&app, w, h));
        }
    }
}

/// Endpoint rows on screen: lines that start with a light and carry a latency column.
fn endpoint_rows(s: &str) -> usize {
    s.lines()
        .filter(|l| {
            let Some(rest) = l.trim_start().strip_prefix('│') else {
                return false;
            };
            rest.starts_with(['+', 'x', '!', '-']) && rest.contains(" ms ")
        })
        .count()
}

/// The first words of a step, as far as they fit on one line of the panel.
fn step_start(step: &str) -> String {
    step.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
}

#[test]
fn at_80x24_a_late_failure_and_the_first_step_show_with_no_key_pressed() {
    for snapshot in [fixtures::lab_refused_late(), fixtures::big_catalog()] {
        let app = fixtures::app(snapshot, Theme::monochrome());
        let s = screen(&app, 80, 24);
        let failing: Vec<&str> = app
            .snapshot
            .checks
            .iter()
            .filter(|c| c.status == crate::model::Status::Fail)
            .map(|c| super::words::check_name(&c.id))
            .collect();
        assert_eq!(failing.len(), 1);
        assert!(
            s.lines()
                .any(|l| l.contains(&format!("│x {}", &failing[0][..30]))),
            "the failing row: {s}"
        );
        let step = app.snapshot.findings[0].remediation().steps[0];
        assert!(
            s.contains(&format!(" 1. {}", step_start(step))),
            "first step {step:?}: {s}"
        );
        assert!(s.contains("Top finding"), "{s}");
    }
}

#[test]
fn healthy_lab_shows_ten_endpoints_at_80x24_and_all_twenty_at_120x40() {
    let app = fixtures::app(fixtures::lab_healthy(), Theme::monochrome());
    let small = screen(&app, 80, 24);
    assert!(
        endpoint_rows(&small) >= 10,
        "{} rows: {small}",
        endpoint_rows(&small)
    );
    let big = screen(&app, 120, 40);
    assert_eq!(endpoint_rows(&big), 20, "{big}");
}

#[test]
fn a_pane_of_skipped_checks_is_one_line_that_says_why() {
    let app = fixtures::app(fixtures::lab_healthy(), Theme::monochrome());
    let s = screen(&app, 120, 40);
    let host = crate::checks::host::CHECKS;
    let windows = host
        .iter()
        .filter(|h| h.os == crate::checks::host::HostOs::Windows)
        .count();
    let line = format!(
        "- This machine: {} checks skipped on Linux ({windows} Windows-only, {} macOS-only)",
        host.len(),
        host.len() - windows
    );
    assert!(s.contains(&line), "{line}: {s}");
    assert!(!s.contains("host:os-version"), "{s}");
    // Selecting one of its checks opens the pane again.
    let mut app = app;
    keys(&mut app, &[KeyCode::End]);
    let s = screen(&app, 120, 40);
    assert!(s.contains("mac-office-location"), "{s}");
}

#[test]
fn failing_rows_sort_first_and_the_rest_keep_catalog_order() {
    let app = fixtures::app(fixtures::lab_refused_late(), Theme::monochrome());
    let rows: Vec<&str> = app
        .pane_rows(crate::tui::app::Pane::Endpoints)
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    let catalog: Vec<String> = crate::catalog::Catalog::builtin()
        .endpoints
        .iter()
        .map(|e| e.check_id())
        .collect();
    assert_eq!(rows[0], catalog.last().unwrap());
    assert_eq!(
        rows[1..],
        catalog[..catalog.len() - 1]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()[..]
    );
}

#[test]
fn the_panel_leads_with_steps_then_numbered_commands_then_condensed_affects() {
    let app = fixtures::app(fixtures::lab_intercepted(), Theme::monochrome());
    let s = screen(&app, 100, 70);
    let at = |needle: &str| {
        s.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing: {s}"))
    };
    let first_step = at(" 1. ");
    let commands = at("Commands (press the digit to copy):");
    let affects = at("Affects: ");
    assert!(first_step < commands && commands < affects, "{s}");
    assert!(s.contains(" [1] "), "{s}");
    let https = app.snapshot.checks.iter().filter(|c| c.tls.is_some()).count();
    assert!(
        s.contains(&format!("and {} more", https - 1)),
        "affects condensed: {s}"
    );
}

#[test]
fn a_digit_copies_that_command_for_the_terminal_and_says_so() {
    let mut app = fixtures::app(fixtures::lab_refused_late(), Theme::monochrome());
    let commands = app.panel_commands();
    assert!(!commands.is_empty(), "the top finding's entry has commands");
    if cfg!(unix) {
        let first_other = commands
            .iter()
            .position(|c| c.shell != crate::diagnosis::remediation::Shell::Sh);
        let last_sh = commands
            .iter()
            .rposition(|c| c.shell == crate::diagnosis::remediation::Shell::Sh);
        if let (Some(o), Some(s)) = (first_other, last_sh) {
            assert!(s < o, "sh commands first on this OS");
        }
    }
    let expected = commands[0].text.to_string();
    keys(&mut app, &[KeyCode::Char('1')]);
    assert_eq!(app.take_clipboard().as_deref(), Some(expected.as_str()));
    assert!(app.status_line().unwrap().text.starts_with("Copied command 1"));
    keys(&mut app, &[KeyCode::Char('9')]);
    assert_eq!(app.take_clipboard(), None);
    assert!(app.status_line().unwrap().text.starts_with("No command 9"));

    let mut healthy = fixtures::app(fixtures::lab_healthy(), Theme::monochrome());
    keys(&mut healthy, &[KeyCode::Char('1')]);
    assert_eq!(healthy.take_clipboard(), None);
}

#[test]
fn extreme_sizes_never_panic() {
    for (_, snapshot) in situations() {
        let app = fixtures::app(snapshot, Theme::default());
        for (w, h) in [
            (20, 5),
            (300, 100),
            (1, 1),
            (60, 16),
            (139, 16),
            (140, 16),
            (80, 17),
        ] {
            screen(&app, w, h);
        }
    }
}

#[test]
fn slash_searches_the_big_catalog_as_you_type_enter_keeps_esc_clears() {
    let mut app = fixtures::app(fixtures::big_catalog(), Theme::monochrome());
    keys(&mut app, &[KeyCode::Char('/')]);
    let typed: Vec<KeyCode> = "SKYPE-2".chars().map(KeyCode::Char).collect();
    keys(&mut app, &typed);
    let s = screen(&app, 100, 30);
    assert!(s.contains("Search: SKYPE-2"), "{s}");
    // skype hosts are every 4th of 295 made-up ones, numbered i % 4 == 2: 202..=294 start
    // with "skype-2".
    let expected = app
        .snapshot
        .checks
        .iter()
        .filter(|c| c.id.contains("skype-2"))
        .count();
    assert!(expected > 5);
    assert!(s.contains(&format!("[/skype-2: {expected} of 315]")), "{s}");
    assert!(!s.contains("officecdn.microsoft.com"), "{s}");
    keys(&mut app, &[KeyCode::Enter]);
    assert_eq!(app.search.as_deref(), Some("skype-2"));
    assert_eq!(app.search_input, None);
    assert_eq!(app.visible_checks().len(), expected);
    // Status words match too: "fail" finds the one refused endpoint.
    keys(&mut app, &[KeyCode::Char('/')]);
    keys(&mut app, &[KeyCode::Backspace; 7]);
    keys(&mut app, &"fail".chars().map(KeyCode::Char).collect::<Vec<_>>());
    assert_eq!(app.visible_checks().len(), 1, "{:?}", app.search);
    keys(&mut app, &[KeyCode::Esc]);
    assert_eq!(app.search, None);
    assert_eq!(app.visible_checks().len(), app.snapshot.checks.len());
}

#[test]
fn scrolling_a_315_row_catalog_keeps_the_selection_on_screen() {
    let mut app = fixtures::app(fixtures::big_catalog(), Theme::monochrome());
    for code in [KeyCode::Down, KeyCode::PageDown, KeyCode::PageDown, KeyCode::Down] {
        keys(&mut app, &[code]);
        let s = screen(&app, 80, 24);
        let name = super::words::check_name(app.selected.as_deref().unwrap()).to_string();
        assert!(s.contains(&name[..20.min(name.len())]), "{name} off screen: {s}");
    }
    keys(&mut app, &[KeyCode::End]);
    let s = screen(&app, 80, 24);
    assert!(s.contains("mac-office-location"), "the last check: {s}");
}

#[test]
fn history_is_a_latency_sparkline_with_loss_and_jitter_when_wide_and_ascii_in_monochrome() {
    use crate::engine::HistoryPoint;
    use crate::model::Status;
    let mut snapshot = fixtures::lab_healthy();
    let id = "endpoint:officecdn.microsoft.com".to_string();
    // 8 passes, one per step of the scale, then 2 failures: loss 20 %, jitter
    // (20+30+60+130+250+500+1000)/7 = 284 ms.
    let mut points: std::collections::VecDeque<HistoryPoint> =
        [10.0, 30.0, 60.0, 120.0, 250.0, 500.0, 1000.0, 2000.0]
            .into_iter()
            .map(|ms| HistoryPoint {
                status: Status::Pass,
                ms,
            })
            .collect();
    points.extend(
        [HistoryPoint {
            status: Status::Fail,
            ms: 3000.0,
        }; 2],
    );
    snapshot.history.insert(id, points);
    let app = fixtures::app(snapshot.clone(), Theme::default());
    let s = screen(&app, 200, 60);
    let row = s
        .lines()
        .find(|l| l.contains("│+ officecdn.microsoft.com"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(row.contains("▁▂▃▄▅▆▇█xx"), "{row}");
    assert!(s.contains(" Loss  Jitter"), "{s}");
    assert!(row.contains("20%") && row.contains("284 ms"), "{row}");
    // Narrow: no loss or jitter column.
    assert!(!screen(&app, 100, 30).contains("Jitter"));
    // Monochrome keeps ASCII shapes.
    let mono = fixtures::app(snapshot, Theme::monochrome());
    let s = screen(&mono, 200, 60);
    let row = s
        .lines()
        .find(|l| l.contains("│+ officecdn.microsoft.com"))
        .unwrap();
    assert!(row.contains("++++++++xx"), "{row}");
    assert!(!s.contains('█'), "{s}");
}

#[test]
fn g_groups_a_big_catalog_with_lights_and_counts_folding_healthy_groups_then_opens_them() {
    use crate::tui::app::Grouping;
    let mut app = fixtures::app(fixtures::big_catalog(), Theme::monochrome());
    keys(&mut app, &[KeyCode::Char('g')]);
    assert_eq!(app.grouping, Grouping::Folded);
    let s = screen(&app, 120, 40);
    let groups = app.endpoint_groups();
    // The refused endpoint (number 280, an Exchange one) puts its group first; folded,
    // each group is its header and only its problems.
    assert_eq!(groups[0].name, "Exchange");
    assert_eq!(groups[0].counts, [1, 0, 73, 0]);
    assert_eq!((groups[0].rows.len(), groups[0].folded), (1, 73));
    assert!(
        groups[1..].iter().all(|g| g.rows.is_empty() && g.folded > 0),
        "{groups:?}"
    );
    assert!(
        s.contains("│x > Exchange  x 1 fail + 73 pass  (73 folded)"),
        "{s}"
    );
    assert!(s.contains("│x exchange-280.svc.example.microsoft.com"), "{s}");
    assert!(s.contains("│+ > SharePoint  + 74 pass  (74 folded)"), "{s}");
    assert!(
        s.contains("│+ > Sign-in  + "),
        "built-in endpoints group by purpose: {s}"
    );
    assert_eq!(
        app.visible_checks().len(),
        1 + 8 + 16,
        "the problem + network + host"
    );
    // Again: every group open; again: no groups.
    keys(&mut app, &[KeyCode::Char('g')]);
    assert_eq!(app.visible_checks().len(), 315 + 8 + 16);
    assert!(app.endpoint_groups().iter().all(|g| g.folded == 0));
    let s = screen(&app, 120, 40);
    assert!(s.contains("│x v Exchange  x 1 fail + 73 pass"), "{s}");
    keys(&mut app, &[KeyCode::Char('g')]);
    assert_eq!(app.grouping, Grouping::Off);
    assert!(!screen(&app, 120, 40).contains("v Exchange"));
}
