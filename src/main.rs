//! The `m365mon` command: parses the command line, sets up a session and hands it to the
//! right consumer (live monitor, `check`, lab, lookups). Exit codes follow the
//! monitoring-plugin convention: 0 pass, 1 warnings, 2 failures, 3 could not run.

use clap::CommandFactory;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use m365mon::catalog::Catalog;
use m365mon::cli::config;
use m365mon::cli::{
    CatalogArgs, Cli, Command, ConfigCommand, DisplayArgs, LabCommand, ListFormat, LiveArgs, LogLevel,
    PollArgs, RedactArgs, RemediationCommand, ReportArgs, ReportFormat, TargetArgs, TokenArgs,
};
use m365mon::diagnosis::{explain, remediation};
use m365mon::engine::monitor::{self, State};
use m365mon::engine::run_sweep;
use m365mon::engine::session::{Session, SessionOptions};
use m365mon::lab::{self, LabOptions, Scenario};
use m365mon::report;
use m365mon::report::stream;
use m365mon::route::pac::worker as pac_worker;
use m365mon::{fix, remote, serve as exporter, tui};

/// Exit status when the tool could not run (bad input, internal error).
const COULD_NOT_RUN: u8 = 3;

fn main() -> ExitCode {
    // The PAC worker (`m365mon pac-worker`, hidden): a child this binary starts to run PAC
    // files where they can be killed. Taken before the command line and the config file,
    // which it does not need and must not fail on.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == pac_worker::SUBCOMMAND)
    {
        return pac_worker::main();
    }
    if let Ok(me) = std::env::current_exe() {
        pac_worker::install(me);
    }
    let cli = match parse() {
        Ok(c) => c,
        Err(code) => return code,
    };
    // One thread drives all the network I/O: a sweep is a few dozen sockets and a few
    // milliseconds of crypto, so more workers only add threads, wake-ups and memory (the
    // steady-state benchmark). The TUI draws on its own blocking thread, so keys never
    // wait for a sweep.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    if let Err(e) = start_log(&cli) {
        return fail(e);
    }
    runtime.block_on(dispatch(cli))
}

/// `--log-file`: appends to the file (created if missing), rotated by size. Without it nothing is logged,
/// so the TUI's screen is never written over.
fn start_log(cli: &Cli) -> Result<(), String> {
    let Some(path) = &cli.log.log_file else {
        return Ok(());
    };
    let file = report::log_file::RotatingLog::open(path, cli.log.log_max_size)
        .map_err(|e| format!("--log-file {}: {e}", path.display()))?;
    let level = match cli.log.log_level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Debug => tracing::Level::DEBUG,
    };
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_max_level(level)
        .try_init()
        .map_err(|e| format!("--log-file: {e}"))?;
    tracing::info!(version = m365mon::version(), "m365mon started");
    Ok(())
}

/// The command line, then the environment (clap reads `M365MON_*`), then the config file,
/// then the defaults: the file only fills what neither of the first two set.
fn parse() -> Result<Cli, ExitCode> {
    let usage = |e: clap::Error| {
        let _ = e.print();
        // --help and --version are not errors.
        if e.use_stderr() {
            ExitCode::from(COULD_NOT_RUN)
        } else {
            ExitCode::SUCCESS
        }
    };
    let matches = Cli::command().try_get_matches().map_err(usage)?;
    let mut cli = Cli::from_matches(&matches).map_err(usage)?;
    // `config path` and `config template` must work even when the file is broken.
    if matches!(
        cli.command,
        Some(Command::Config { .. } | Command::Completions { .. } | Command::Man)
    ) {
        return Ok(cli);
    }
    match config::load(cli.config.as_deref()) {
        Ok(Some(file)) => {
            // The config room cannot know the lab's scenarios: a `lab` name is checked
            // here, and its error names the file and line like every other key's.
            if let (Some(lab), Some(line)) = (&file.lab, file.lab_line) {
                if let Err(e) = Scenario::resolve(lab) {
                    let e = match e.file {
                        Some(_) => e,
                        None => m365mon::model::error::InputError::at(
                            &file.path,
                            line,
                            format!("lab: {}", e.message),
                        ),
                    };
                    return Err(fail(e));
                }
            }
            config::apply(&mut cli, &matches, &file)
        }
        Ok(None) => {}
        Err(e) => return Err(fail(e)),
    }
    Ok(cli)
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("m365mon: error: {message}");
    ExitCode::from(COULD_NOT_RUN)
}

fn session_options(target: &TargetArgs) -> SessionOptions {
    let (c, l, p) = (&target.catalog, &target.lab_target, &target.probe);
    SessionOptions {
        endpoints: c.endpoints.clone(),
        ms_endpoints: c.ms_endpoints.clone(),
        lab: l.lab.clone(),
        lab_connect: l.lab_connect.clone(),
        timeout: Duration::from_secs_f64(p.timeout),
        dns_server: p.dns_server,
        ca_files: p.ca_files.clone(),
        concurrency: p.concurrency as usize,
        proxy: p.proxy.clone(),
        pac_url: p.pac_url.clone(),
        domain: p.domain.clone(),
        instance: c.instance,
        ip_family: p.ip_family,
        all_addresses: p.all_addresses,
    }
}

async fn dispatch(cli: Cli) -> ExitCode {
    match &cli.command {
        None => live(&cli.live).await,
        Some(Command::Monitor(args)) => live(args).await,
        Some(Command::Check { target, report }) => check(target, report).await,
        Some(Command::Endpoints { catalog, list }) => endpoints(catalog, list.format),
        Some(Command::Serve {
            listen,
            target,
            poll,
            token,
            redact,
        }) => serve(target, poll, token, redact, *listen).await,
        Some(Command::Attach {
            url,
            poll,
            display,
            token,
            redact,
        }) => attach(poll, display, token, redact, url).await,
        Some(Command::Watch {
            jsonl,
            target,
            poll,
            redact,
        }) => watch(target, poll, redact, *jsonl).await,
        Some(Command::Config { command }) => {
            match command {
                ConfigCommand::Template => m365mon::out!("{}", config::template()),
                ConfigCommand::Path => m365mon::out!("{}", config::path_report(cli.config.as_deref())),
            }
            ExitCode::SUCCESS
        }
        Some(Command::Completions { shell }) => {
            // Into memory first: clap_complete panics on a write error (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "m365mon", &mut script);
            m365mon::out!("{}", String::from_utf8_lossy(&script));
            ExitCode::SUCCESS
        }
        Some(Command::Man) => match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => fail(format!("cannot write the man page: {e}")),
        },
        Some(Command::Lab { command }) => match command {
            LabCommand::Scenarios => {
                for (name, description) in Scenario::builtin_list() {
                    m365mon::outln!("{name:<14} {description}");
                }
                ExitCode::SUCCESS
            }
            LabCommand::Serve {
                scenario,
                state_file,
                dir,
                privileged_ports,
                ipv6,
                catalog,
            } => {
                let scenario = match Scenario::resolve(scenario) {
                    Ok(s) => s,
                    Err(e) => return fail(e),
                };
                let catalog = match Catalog::load(
                    catalog.instance,
                    catalog.endpoints.as_deref(),
                    catalog.ms_endpoints.as_deref(),
                ) {
                    Ok(c) => c,
                    Err(e) => return fail(e),
                };
                let opts = LabOptions {
                    dir: dir.clone(),
                    state_file: state_file.clone(),
                    privileged_ports: *privileged_ports,
                    ipv6: *ipv6,
                };
                match lab::serve_until_interrupted(scenario, &catalog, opts).await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(e),
                }
            }
        },
        Some(Command::Remediation {
            command: RemediationCommand::List { list },
        }) => {
            match list.format {
                ListFormat::Text => m365mon::out!("{}", remediation::list_text()),
                ListFormat::Json => m365mon::outln!("{}", pretty(&remediation::list_json())),
            }
            ExitCode::SUCCESS
        }
        Some(Command::Trust { ca_files, list }) => {
            let files: Vec<&std::path::Path> = ca_files.iter().map(|p| p.as_path()).collect();
            let trust = match m365mon::probe::Trust::system(&files) {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            let report = trust.report();
            match list.format {
                ListFormat::Text => m365mon::out!("{}", report.text()),
                ListFormat::Json => {
                    m365mon::outln!("{}", pretty(&serde_json::to_value(&report).unwrap_or_default()))
                }
            }
            ExitCode::SUCCESS
        }
        Some(Command::Fix {
            id,
            allow_fixes,
            yes,
            list,
        }) => ExitCode::from(fix::command::fix(
            id.as_deref(),
            *allow_fixes,
            *yes,
            list.format == ListFormat::Json,
        )),
        Some(Command::Undo { id, list, yes }) => {
            ExitCode::from(fix::command::undo_command(id.as_deref(), *list, *yes))
        }
        Some(Command::Explain { code, list }) => {
            let parsed = match explain::parse_code(code) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            match explain::explain(parsed) {
                Some(x) => {
                    match list.format {
                        ListFormat::Text => m365mon::out!("{}", explain::render_text(&x)),
                        ListFormat::Json => {
                            m365mon::outln!("{}", pretty(&serde_json::to_value(&x).unwrap_or_default()))
                        }
                    }
                    ExitCode::SUCCESS
                }
                None => {
                    eprintln!("m365mon: 0x{parsed:08X} is not a code m365mon knows. Search for it on learn.microsoft.com, and run `m365mon check` to see what fails.");
                    ExitCode::from(COULD_NOT_RUN)
                }
            }
        }
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn endpoints(args: &CatalogArgs, format: ListFormat) -> ExitCode {
    let catalog = match Catalog::load(
        args.instance,
        args.endpoints.as_deref(),
        args.ms_endpoints.as_deref(),
    ) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    match format {
        ListFormat::Json => {
            let rows: Vec<_> = catalog
                .endpoints
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "url": e.url(), "host": e.host, "port": e.port, "scheme": e.scheme, "path": e.path,
                        "category": e.category, "required": e.required, "wildcard": e.wildcard,
                        "source": e.source, "probe": e.probe, "skip_reason": e.skip_reason,
                        "ms_ids": e.ms_ids, "service_area": e.service_area, "tcp_ports": e.tcp_ports,
                    })
                })
                .collect();
            m365mon::outln!("{}", pretty(&serde_json::Value::Array(rows)));
        }
        ListFormat::Text => {
            let mut out = std::io::stdout().lock();
            for e in &catalog.endpoints {
                let probe = if e.probe { "probe" } else { "list " };
                let cat = e.category.as_deref().unwrap_or("-");
                let src = format!("{:?}", e.source).to_lowercase();
                // Microsoft's endpoint-set ids, to find the row on the cloud's page.
                let sets = if e.ms_ids.is_empty() {
                    "-".to_string()
                } else {
                    e.ms_ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
                };
                let _ = writeln!(
                    out,
                    "{probe}  {:<70} {:<9} set {:<5} {:<9} {}",
                    e.url(),
                    cat,
                    sets,
                    src,
                    if e.required { "required" } else { "" }
                );
            }
            let probed = catalog.probed().count();
            let cloud = args.instance;
            let _ = writeln!(
                out,
                "{} endpoints, {} probed, {} listed only; cloud {} (Microsoft's list: {})",
                catalog.endpoints.len(),
                probed,
                catalog.endpoints.len() - probed,
                cloud.as_str(),
                cloud.endpoints_page()
            );
        }
    }
    ExitCode::SUCCESS
}

async fn check(target: &TargetArgs, report: &ReportArgs) -> ExitCode {
    let &ReportArgs {
        format,
        quiet,
        redact: RedactArgs { redact },
    } = report;
    let session = match Session::prepare(&session_options(target)).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let (checks, sweep_ms) = run_sweep(&session.plan).await;
    // One sweep, so no interval: the state gets the default one, which no report shows.
    let mut state = State::new(
        session.host.clone(),
        Duration::from_secs_f64(m365mon::cli::DEFAULT_INTERVAL_SECS),
    );
    state.apply(checks, sweep_ms);
    let snapshot = &state.snapshot;
    if !quiet {
        let mut redactor = redact.then(|| report::redact::Redactor::for_snapshot(snapshot));
        let text = match format {
            ReportFormat::Json => {
                let mut v = report::json(snapshot);
                if let Some(r) = &mut redactor {
                    r.apply_json(&mut v);
                }
                pretty(&v) + "\n"
            }
            ReportFormat::Markdown => report::markdown(snapshot),
            ReportFormat::Text => {
                let color = std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
                report::text::render(snapshot, report::text::Style { color })
            }
        };
        let text = match (&mut redactor, format) {
            (Some(r), ReportFormat::Markdown | ReportFormat::Text) => r.apply(&text),
            _ => text,
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    if let Some(lab) = session.lab {
        lab.shutdown().await;
    }
    ExitCode::from(snapshot.status().exit_code() as u8)
}

async fn live(args: &LiveArgs) -> ExitCode {
    // A bad theme is an error before the screen opens; an explicit --theme wins over NO_COLOR.
    let theme = match tui::theme::Theme::from_cli(args.display.theme.as_deref()) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    if !tui::stdout_is_terminal() {
        return fail("standard output is not a terminal, so the live monitor cannot run here. For a one-shot report use `m365mon check` (or `m365mon check --format json`).");
    }
    let polling = match Polling::start(&args.target, &args.poll).await {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mon = &polling.monitor;
    let shutdown = shutdown_flag();
    let export_dir = args
        .display
        .export_dir
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let opts = tui::TuiOptions {
        theme,
        export_dir,
        read_only: false,
        redact: args.redact.redact,
    };
    // The exporter beside the TUI: bound before the screen opens, so a taken port or a bad
    // token is an error on a normal terminal. Its ready line goes nowhere (the TUI owns the
    // screen); a generated token is refused here for that reason: one must be given.
    let metrics = match args.metrics.metrics_listen {
        None => None,
        Some(listen) => {
            let token = match args.token.resolve() {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            let (access, generated) = match exporter::auth::access_for(&listen, token) {
                Ok(a) => a,
                Err(e) => return fail(format!("--metrics-listen: {e}")),
            };
            if generated {
                return fail(format!(
                    "--metrics-listen {listen} is beyond loopback, so it needs --token (or M365MON_TOKEN): the monitor's screen has no room to show a generated one"
                ));
            }
            match exporter::Server::bind(listen, access).await {
                Ok(server) => {
                    let handle = mon.handle.clone();
                    let stop = shutdown.clone();
                    Some(tokio::spawn(server.run(handle, wait_for(stop))))
                }
                Err(e) => return fail(format!("--metrics-listen: {e}")),
            }
        }
    };
    let handle = mon.handle.clone();
    let flag = shutdown.clone();
    let result = tokio::task::spawn_blocking(move || tui::run_with_shutdown(handle, opts, flag)).await;
    if let Some(task) = metrics {
        task.abort();
    }
    polling.stop().await;
    match result {
        Ok(Ok(())) => unless_signalled(ExitCode::SUCCESS),
        Ok(Err(e)) => fail(format!("{e:#}")),
        // The panic hook has restored the terminal and printed the message; go on
        // unwinding so the process ends with Rust's panic status (101), not "could not run".
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => fail(format!("the monitor stopped unexpectedly: {e}")),
    }
}

/// The signal that ended the command, 0 for none: the exit status is then 128 + its
/// number, as a shell reports a process killed by it, so scripts and service managers can
/// tell an interrupted run from a finished one.
static ENDED_BY: AtomicI32 = AtomicI32::new(0);

/// `status`, or 128 + the signal's number when a signal ended the command.
fn unless_signalled(status: ExitCode) -> ExitCode {
    match ENDED_BY.load(Ordering::SeqCst) {
        0 => status,
        n => ExitCode::from(128 + n as u8),
    }
}

/// SIGTERM, SIGHUP (an SSH session dropping), SIGINT and SIGQUIT end the command cleanly,
/// so the terminal is restored (SIGQUIT's default, a core dump, would leave the alternate
/// screen and a hidden cursor). In the TUI, Ctrl-C arrives as a key in raw mode and is a
/// plain quit; these are signals sent by other processes.
///
/// The handlers are installed before this returns (not in the spawned task, which may run
/// only after the ready line): a signal right after start must not kill the process.
fn spawn_signal_watch(flag: Arc<AtomicBool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut hup), Ok(mut int), Ok(mut quit)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::quit()),
        ) else {
            return;
        };
        tokio::spawn(async move {
            // The numbers are the same on every Unix (POSIX fixes these four).
            let number = tokio::select! {
                _ = term.recv() => 15,
                _ = hup.recv() => 1,
                _ = int.recv() => 2,
                _ = quit.recv() => 3,
            };
            ENDED_BY.store(number, Ordering::SeqCst);
            flag.store(true, Ordering::SeqCst);
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        ENDED_BY.store(2, Ordering::SeqCst);
        flag.store(true, Ordering::SeqCst);
    });
}

/// A session being swept on the interval: what the monitor, `serve` and `watch` share.
struct Polling {
    session: Session,
    monitor: monitor::Monitor,
}

impl Polling {
    async fn start(target: &TargetArgs, poll: &PollArgs) -> Result<Polling, ExitCode> {
        let session = Session::prepare(&session_options(target)).await.map_err(fail)?;
        let interval = Duration::from_secs_f64(poll.interval);
        let monitor = monitor::start(session.plan.clone(), session.host.clone(), interval);
        Ok(Polling { session, monitor })
    }

    /// Stops the sweeps, then the embedded lab if there is one.
    async fn stop(self) {
        self.monitor.task.abort();
        if let Some(lab) = self.session.lab {
            lab.shutdown().await;
        }
    }
}

/// Resolves once the shutdown flag is set (by a signal, or by the TUI on quit).
async fn wait_for(flag: Arc<AtomicBool>) {
    while !flag.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A flag set by SIGINT, SIGTERM or SIGHUP, for the commands without a screen.
fn shutdown_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    spawn_signal_watch(flag.clone());
    flag
}

/// `m365mon serve`: polls like the monitor, without a terminal; serves /metrics and the
/// state as JSON until interrupted.
async fn serve(
    target: &TargetArgs,
    poll: &PollArgs,
    token: &TokenArgs,
    redact: &RedactArgs,
    listen: std::net::SocketAddr,
) -> ExitCode {
    let token = match token.resolve() {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let polling = match Polling::start(target, poll).await {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mon = &polling.monitor;
    let stop = shutdown_flag();
    // With --redact, /api/state and /metrics are made from redacted snapshots.
    let handle = if redact.redact {
        report::redact::redacting(&mon.handle)
    } else {
        mon.handle.clone()
    };
    let result = exporter::serve(handle, listen, token, wait_for(stop)).await;
    polling.stop().await;
    match result {
        Ok(()) => unless_signalled(ExitCode::SUCCESS),
        Err(e) => fail(e),
    }
}

/// `m365mon attach URL`: the live monitor on a remote `serve`, read-only.
async fn attach(
    poll: &PollArgs,
    display: &DisplayArgs,
    token: &TokenArgs,
    redact: &RedactArgs,
    url: &str,
) -> ExitCode {
    let theme = match tui::theme::Theme::from_cli(display.theme.as_deref()) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let token = match token.resolve() {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    if !tui::stdout_is_terminal() {
        return fail("standard output is not a terminal, so the monitor cannot open here. To read the remote state as JSON: curl URL/api/state");
    }
    let interval = Duration::from_secs_f64(poll.interval.min(5.0));
    let remote = match remote::attach(url, token, interval).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let shutdown = shutdown_flag();
    let opts = tui::TuiOptions {
        theme,
        export_dir: display.export_dir.clone().unwrap_or_else(|| ".".into()),
        read_only: true,
        redact: redact.redact,
    };
    let handle = remote.handle.clone();
    let result = tokio::task::spawn_blocking(move || tui::run_with_shutdown(handle, opts, shutdown)).await;
    remote.task.abort();
    match result {
        Ok(Ok(())) => unless_signalled(ExitCode::SUCCESS),
        Ok(Err(e)) => fail(format!("{e:#}")),
        // The panic hook has restored the terminal and printed the message; go on
        // unwinding so the process ends with Rust's panic status (101), not "could not run".
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => fail(format!("the monitor stopped unexpectedly: {e}")),
    }
}

/// `m365mon watch [--jsonl]`: a line per sweep and per state change on standard output.
async fn watch(target: &TargetArgs, poll: &PollArgs, redact: &RedactArgs, jsonl: bool) -> ExitCode {
    let polling = match Polling::start(target, poll).await {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mon = &polling.monitor;
    let stop = shutdown_flag();
    let format = if jsonl {
        stream::Format::Jsonl
    } else {
        stream::Format::Text
    };
    let handle = if redact.redact {
        report::redact::redacting(&mon.handle)
    } else {
        mon.handle.clone()
    };
    let result = stream::watch(handle, std::io::stdout(), format, wait_for(stop)).await;
    polling.stop().await;
    match result {
        Ok(()) => unless_signalled(ExitCode::SUCCESS),
        Err(e) => fail(format!("cannot write to standard output: {e}")),
    }
}
