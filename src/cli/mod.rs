//! The command line and the configuration file ([`config`]): what the user asked for.
//! Every flag has an `M365MON_*` environment variable; a flag given on
//! the command line wins over the environment.
//!
//! Each subcommand takes only the options it uses. The options come in groups, each
//! defined once below and flattened into the commands that use it:
//!
//! | group | options | commands |
//! |---|---|---|
//! | [`CatalogArgs`] | `--endpoints --ms-endpoints --instance` | monitor, `check`, `serve`, `watch`, `endpoints`, `lab serve` |
//! | [`LabTargetArgs`] | `--lab --lab-connect` | monitor, `check`, `serve`, `watch` |
//! | [`ProbeArgs`] | `--timeout --dns-server --ca-file --concurrency --proxy --pac-url --domain --ip-family --all-addresses` | monitor, `check`, `serve`, `watch` |
//! | [`PollArgs`] | `--interval` | monitor, `serve`, `watch`, `attach` |
//! | [`DisplayArgs`] | `--theme --export-dir` | monitor, `attach` |
//! | [`MetricsArgs`] | `--metrics-listen` | monitor |
//! | [`TokenArgs`] | `--token` | monitor, `serve`, `attach` |
//! | [`ReportArgs`] | `--format text\|json\|markdown --quiet` | `check` |
//! | [`RedactArgs`] | `--redact` | monitor (its exports), `check`, `serve`, `watch`, `attach` (its exports) |
//! | [`ListArgs`] | `--format text\|json` | `endpoints`, `explain`, `remediation list`, `fix` |
//!
//! `--config`, `--log-file` and `--log-level` are global: every command reads the
//! configuration and starts the log. The live monitor is also the command without a
//! subcommand, so its options are the top level's too; given there, before a subcommand
//! (`m365mon --lab healthy check`), an option counts as the subcommand's if the
//! subcommand takes it, and is an error if it does not ([`Cli::from_matches`]).

pub mod config;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::checks::Instance;
use crate::model::error::{read_input, InputError};

/// Live monitor that shows why Microsoft 365 Apps cannot sign in or activate.
///
/// With no command, opens the live monitor in this terminal. `m365mon check` probes once
/// and prints a report; `m365mon lab serve` runs the built-in imitation of the Microsoft
/// 365 endpoints for rehearsals and tests.
#[derive(Debug, Parser)]
#[command(name = "m365mon", version = crate::long_version(), propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// The live monitor's options: it runs when no command is given.
    #[command(flatten)]
    pub live: LiveArgs,

    #[command(flatten)]
    pub log: LogArgs,

    /// Configuration file to read instead of the usual place (see `m365mon config path`)
    #[arg(long, value_name = "PATH", global = true, env = "M365MON_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Everything the live monitor takes (also `m365mon monitor`).
#[derive(Debug, Clone, Args)]
pub struct LiveArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub poll: PollArgs,
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub token: TokenArgs,
    #[command(flatten)]
    pub redact: RedactArgs,
}

/// What to probe and how: the monitor, `check`, `serve` and `watch`.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    #[command(flatten)]
    pub catalog: CatalogArgs,
    #[command(flatten)]
    pub lab_target: LabTargetArgs,
    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// Which endpoint catalog: the built-in list of a cloud, extended or replaced by files.
#[derive(Debug, Clone, Args)]
pub struct CatalogArgs {
    /// TOML endpoint catalog that extends or replaces the built-in list
    #[arg(long, value_name = "FILE", env = "M365MON_ENDPOINTS")]
    pub endpoints: Option<PathBuf>,

    /// Import Microsoft's endpoint web service JSON (endpoints/Worldwide output)
    #[arg(long, value_name = "FILE", env = "M365MON_MS_ENDPOINTS")]
    pub ms_endpoints: Option<PathBuf>,

    /// Microsoft 365 cloud: picks the built-in endpoint list and what the MSOID check expects
    #[arg(long, value_enum, value_name = "CLOUD", default_value_t = Instance::Worldwide, env = "M365MON_INSTANCE")]
    pub instance: Instance,
}

/// Probe a lab instead of the real endpoints.
#[derive(Debug, Clone, Args)]
pub struct LabTargetArgs {
    /// Start a built-in lab with this scenario (name or TOML file) and monitor it
    #[arg(
        long,
        value_name = "SCENARIO",
        env = "M365MON_LAB",
        conflicts_with = "lab_connect"
    )]
    pub lab: Option<String>,

    /// Monitor a lab started elsewhere by `m365mon lab serve --state-file FILE`
    #[arg(long, value_name = "STATE_FILE", env = "M365MON_LAB_CONNECT")]
    pub lab_connect: Option<PathBuf>,
}

/// How each endpoint is probed.
#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// Cap for each probe stage, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 3.0, env = "M365MON_TIMEOUT", value_parser = parse_secs)]
    pub timeout: f64,

    /// Ask this DNS server (IP:PORT) instead of the system's resolvers
    #[arg(long, value_name = "ADDR", env = "M365MON_DNS_SERVER", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,

    /// Extra root certificate(s) to trust, PEM (repeatable)
    #[arg(long = "ca-file", value_name = "PEM", env = "M365MON_CA_FILE")]
    pub ca_files: Vec<PathBuf>,

    /// How many endpoints are probed at once
    #[arg(long, value_name = "N", default_value_t = 32, env = "M365MON_CONCURRENCY", value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,

    /// Send the probes through this proxy (http://[user:pass@]host:port) or `direct`,
    /// instead of the machine's proxy settings
    #[arg(
        long,
        value_name = "URL|direct",
        env = "M365MON_PROXY",
        conflicts_with = "pac_url"
    )]
    pub proxy: Option<String>,

    /// Route each endpoint as this PAC file says, instead of the machine's proxy settings
    #[arg(long, value_name = "URL", env = "M365MON_PAC_URL")]
    pub pac_url: Option<String>,

    /// The tenant's custom domain, for the msoid.<domain> DNS check
    #[arg(long, value_name = "DOMAIN", env = "M365MON_DOMAIN", value_parser = parse_domain)]
    pub domain: Option<String>,

    /// Address families to probe: 4, 6 or both (each family of an endpoint is probed on
    /// its own, as Windows tries IPv6 first)
    #[arg(long, value_name = "4|6|both", default_value = "both", env = "M365MON_IP_FAMILY", value_parser = parse_ip_family)]
    pub ip_family: crate::model::IpFamilyChoice,

    /// Probe every address of each family, not only the first
    #[arg(long)]
    pub all_addresses: bool,
}

fn parse_ip_family(s: &str) -> Result<crate::model::IpFamilyChoice, String> {
    s.parse()
}

/// `--interval` when not given.
pub const DEFAULT_INTERVAL_SECS: f64 = 5.0;

/// How often the state is refreshed.
#[derive(Debug, Clone, Args)]
pub struct PollArgs {
    /// Seconds between sweeps
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_INTERVAL_SECS, env = "M365MON_INTERVAL", value_parser = parse_secs)]
    pub interval: f64,
}

/// The terminal monitor's screen (the live monitor and `attach`).
#[derive(Debug, Clone, Args)]
pub struct DisplayArgs {
    /// Theme: dark, light, high-contrast, monochrome, or a TOML file
    #[arg(long, value_name = "NAME|FILE", env = "M365MON_THEME")]
    pub theme: Option<String>,

    /// Folder where `e` writes exported reports (default: the current folder)
    #[arg(long, value_name = "DIR", env = "M365MON_EXPORT_DIR")]
    pub export_dir: Option<PathBuf>,
}

/// The exporter beside the live monitor.
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// While the live monitor runs, also serve /metrics and /api/state here (like `serve`)
    #[arg(long, value_name = "ADDR", env = "M365MON_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

/// The bearer token of the HTTP side (`serve`, `--metrics-listen`, `attach`).
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Bearer token for `serve`, `--metrics-listen` and `attach` (at least 16 characters).
    /// Without one, loopback is open and any other address gets a generated token. Given
    /// here it shows in the process list to every user of the machine: prefer
    /// --token-file or M365MON_TOKEN
    #[arg(long, value_name = "TOKEN", env = "M365MON_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Read the bearer token from this file (one line), so it never shows in the process
    /// list; wins over --token and M365MON_TOKEN
    #[arg(long, value_name = "FILE", env = "M365MON_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
}

impl TokenArgs {
    /// The token to use: the file's when one is named, else `--token` or `M365MON_TOKEN`.
    /// (clap cannot tell a conflict on the command line from one with the variable, so
    /// the file simply wins.) A token file that is missing, empty or has more than one line
    /// is bad input naming the file.
    pub fn resolve(&self) -> Result<Option<String>, InputError> {
        let Some(path) = &self.token_file else {
            return Ok(self.token.clone());
        };
        let text = read_input(path)?;
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let Some(token) = lines.next() else {
            return Err(InputError::file(path, "the token file is empty"));
        };
        if lines.next().is_some() {
            return Err(InputError::at(
                path,
                2,
                "the token file must hold the token alone, on one line",
            ));
        }
        Ok(Some(token.to_string()))
    }
}

/// The log file: every command starts it, so these are global.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Append a log (every state change; each sweep at debug) to this file. Nothing is
    /// ever logged to the terminal
    #[arg(long, value_name = "FILE", global = true, env = "M365MON_LOG_FILE")]
    pub log_file: Option<PathBuf>,

    /// Size at which --log-file is rotated (FILE.1, FILE.2 kept; older ones removed):
    /// bytes, or a number with K, M or G
    #[arg(long, value_name = "SIZE", default_value = "10M", global = true, env = "M365MON_LOG_MAX_SIZE", value_parser = crate::report::log_file::parse_size)]
    pub log_max_size: u64,

    /// How much goes to --log-file
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = LogLevel::Info, global = true, env = "M365MON_LOG_LEVEL")]
    pub log_level: LogLevel,
}

/// `check`'s report.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, env = "M365MON_FORMAT")]
    pub format: ReportFormat,
    /// Print nothing; only the exit code tells (for Intune and RMM scripts)
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub redact: RedactArgs,
}

/// Reports that can leave the organisation (see docs/redaction.md).
#[derive(Debug, Clone, Args)]
pub struct RedactArgs {
    /// Replace the names of this machine, its user, tenant, proxy, PAC and DNS servers, UPNs,
    /// GUIDs and local addresses by placeholders in what this command writes (reports,
    /// exports, lines, /api/state and /metrics); Microsoft's endpoint names stay
    #[arg(long, env = "M365MON_REDACT")]
    pub redact: bool,
}

/// The output of the listing commands.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the live monitor (the default)
    Monitor(LiveArgs),
    /// Probe once, print a report, exit 0 pass / 1 warn / 2 fail / 3 could not run
    Check {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// List the endpoint catalog in effect
    Endpoints {
        #[command(flatten)]
        catalog: CatalogArgs,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Run or inspect the lab of imitation Microsoft 365 endpoints
    Lab {
        #[command(subcommand)]
        command: LabCommand,
    },
    /// Remediation entries
    Remediation {
        #[command(subcommand)]
        command: RemediationCommand,
    },
    /// Show the roots in effect: Microsoft 365's (by fingerprint) and the trusted store
    Trust {
        /// Also trust the root certificate(s) in this PEM file, as the probes would
        #[arg(long = "ca-file", value_name = "PEM", env = "M365MON_CA_FILE")]
        ca_files: Vec<PathBuf>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Explain a sign-in or activation error code (hex like 0xCAA82EE2, or decimal)
    Explain {
        code: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Keep polling without a terminal; serve Prometheus /metrics and the state as JSON
    Serve {
        /// Address to listen on; beyond loopback a token is required
        #[arg(
            long,
            value_name = "ADDR",
            default_value = "127.0.0.1:9365",
            env = "M365MON_LISTEN"
        )]
        listen: SocketAddr,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        poll: PollArgs,
        #[command(flatten)]
        token: TokenArgs,
        #[command(flatten)]
        redact: RedactArgs,
    },
    /// Open the live monitor on another machine's `m365mon serve`, read-only
    Attach {
        /// The other machine's address, e.g. http://10.0.0.5:9365
        url: String,
        #[command(flatten)]
        poll: PollArgs,
        #[command(flatten)]
        display: DisplayArgs,
        #[command(flatten)]
        token: TokenArgs,
        #[command(flatten)]
        redact: RedactArgs,
    },
    /// Print one line per sweep and per state change, until interrupted
    Watch {
        /// JSON Lines (one object per line) for log shippers, instead of text
        #[arg(long)]
        jsonl: bool,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        poll: PollArgs,
        #[command(flatten)]
        redact: RedactArgs,
    },
    /// The configuration file: a template, or where it is looked for
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
    /// Opt-in fixes: list them, show what one would do (dry run), or apply it with a backup
    Fix {
        /// The fix (without one: list the fixes and their ids)
        id: Option<String>,
        /// Really apply the fix (after a backup and a confirmation); without it, a dry run
        #[arg(long)]
        allow_fixes: bool,
        /// Confirm without the typed `yes` prompt (for scripts)
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Restore an applied fix from its backup: the most recent one, or the backup ID
    Undo {
        /// The backup to restore (a name from `undo --list`)
        id: Option<String>,
        /// List the fix journals instead
        #[arg(long, conflicts_with = "id")]
        list: bool,
        /// Confirm without the typed `yes` prompt (for scripts)
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented template with every key and its default
    Template,
    /// Print where the configuration file is read from
    Path,
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Run the lab until interrupted
    Serve {
        /// Built-in scenario name or a scenario TOML file
        #[arg(long, default_value = "healthy")]
        scenario: String,
        /// Write the lab's state (DNS address, CA, endpoint ports) here once ready
        #[arg(long, value_name = "PATH")]
        state_file: Option<PathBuf>,
        /// Keep the CA and certificate files in this folder instead of a temporary one
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Listen on 443 and 80 when allowed (needs root on Linux)
        #[arg(long)]
        privileged_ports: bool,
        /// Give every endpoint an IPv6 address too (its own fd00::/8 address as root in a
        /// network namespace, else ::1 with ports of its own), answered in AAAA records
        #[arg(long)]
        ipv6: bool,
        /// The endpoints the lab imitates
        #[command(flatten)]
        catalog: CatalogArgs,
    },
    /// List the built-in scenarios
    Scenarios,
}

#[derive(Debug, Subcommand)]
pub enum RemediationCommand {
    /// List every remediation entry with the checks that lead to it
    List {
        #[command(flatten)]
        list: ListArgs,
    },
}

/// The option groups of the command that runs; `None` for a group it does not take.
#[derive(Debug, Default)]
pub struct Scope<'a> {
    pub catalog: Option<&'a mut CatalogArgs>,
    pub lab_target: Option<&'a mut LabTargetArgs>,
    pub probe: Option<&'a mut ProbeArgs>,
    pub poll: Option<&'a mut PollArgs>,
    pub display: Option<&'a mut DisplayArgs>,
    pub metrics: Option<&'a mut MetricsArgs>,
    pub token: Option<&'a mut TokenArgs>,
    pub redact: Option<&'a mut RedactArgs>,
}

impl TargetArgs {
    fn scope_mut(&mut self) -> Scope<'_> {
        Scope {
            catalog: Some(&mut self.catalog),
            lab_target: Some(&mut self.lab_target),
            probe: Some(&mut self.probe),
            ..Scope::default()
        }
    }
}

impl LiveArgs {
    fn scope_mut(&mut self) -> Scope<'_> {
        Scope {
            poll: Some(&mut self.poll),
            display: Some(&mut self.display),
            metrics: Some(&mut self.metrics),
            token: Some(&mut self.token),
            redact: Some(&mut self.redact),
            ..self.target.scope_mut()
        }
    }
}

impl Command {
    fn scope_mut(&mut self) -> Scope<'_> {
        match self {
            Command::Monitor(live) => live.scope_mut(),
            Command::Check { target, report } => Scope {
                redact: Some(&mut report.redact),
                ..target.scope_mut()
            },
            Command::Endpoints { catalog, .. }
            | Command::Lab {
                command: LabCommand::Serve { catalog, .. },
            } => Scope {
                catalog: Some(catalog),
                ..Scope::default()
            },
            Command::Serve {
                target,
                poll,
                token,
                redact,
                ..
            } => Scope {
                poll: Some(poll),
                token: Some(token),
                redact: Some(redact),
                ..target.scope_mut()
            },
            Command::Attach {
                poll,
                display,
                token,
                redact,
                ..
            } => Scope {
                poll: Some(poll),
                display: Some(display),
                token: Some(token),
                redact: Some(redact),
                ..Scope::default()
            },
            Command::Watch {
                target, poll, redact, ..
            } => Scope {
                poll: Some(poll),
                redact: Some(redact),
                ..target.scope_mut()
            },
            Command::Lab {
                command: LabCommand::Scenarios,
            }
            | Command::Remediation { .. }
            | Command::Trust { .. }
            | Command::Explain { .. }
            | Command::Config { .. }
            | Command::Completions { .. }
            | Command::Man
            | Command::Fix { .. }
            | Command::Undo { .. } => Scope::default(),
        }
    }
}

/// For each field (named as its clap id): the top level's value, if it was given there
/// on the command line and not after the subcommand.
macro_rules! inherit {
    ($own:ident, $top:expr, $given:ident; $($field:ident),+) => {
        $(
            if $given.before_only(&[stringify!($field)]) {
                $own.$field = $top.$field.clone();
            }
        )+
    };
}

impl Cli {
    /// The option groups of the command that runs: the top level's for the live monitor
    /// without a subcommand, else the subcommand's.
    pub fn scope_mut(&mut self) -> Scope<'_> {
        match &mut self.command {
            None => self.live.scope_mut(),
            Some(command) => command.scope_mut(),
        }
    }

    /// Builds the command line from its matches. An option of the top level given before
    /// the subcommand (`m365mon --lab healthy check`) is the subcommand's, unless given
    /// after it too (the later one wins, as it did when these options were global). One
    /// the subcommand does not take is an error, as it is after the subcommand.
    pub fn from_matches(matches: &ArgMatches) -> Result<Cli, clap::Error> {
        let mut cli = Cli::from_arg_matches(matches)?;
        let Some((path, own)) = leaf(matches) else {
            return Ok(cli);
        };
        let root = Cli::command();
        let mut sub = &root;
        for name in &path {
            sub = sub
                .find_subcommand(name)
                .expect("the matches name subcommands of this command");
        }
        for arg in root.get_arguments().filter(|a| !a.is_global_set()) {
            let id = arg.get_id().as_str();
            if on_command_line(matches, id) && !sub.get_arguments().any(|a| a.get_id() == id) {
                let flag = arg
                    .get_long()
                    .map_or_else(|| id.to_string(), |l| format!("--{l}"));
                let name = path.join(" ");
                return Err(root.clone().error(
                    ErrorKind::UnknownArgument,
                    format!(
                        "`m365mon {name}` does not take {flag} (given before `{name}`); see `m365mon {name} --help`"
                    ),
                ));
            }
        }
        let given = Given { top: matches, own };
        let top = cli.live.clone();
        let scope = cli.scope_mut();
        if let Some(g) = scope.catalog {
            inherit!(g, top.target.catalog, given; endpoints, ms_endpoints, instance);
        }
        // `--lab` and `--lab-connect` are one choice, and so are `--proxy` and `--pac-url`:
        // one named after the subcommand replaces both named before it.
        if let Some(g) = scope.lab_target {
            if given.before_only(&["lab", "lab_connect"]) {
                *g = top.target.lab_target.clone();
            }
        }
        if let Some(g) = scope.probe {
            inherit!(g, top.target.probe, given; timeout, dns_server, ca_files, concurrency, domain, ip_family, all_addresses);
            if given.before_only(&["proxy", "pac_url"]) {
                g.proxy = top.target.probe.proxy.clone();
                g.pac_url = top.target.probe.pac_url.clone();
            }
        }
        if let Some(g) = scope.poll {
            inherit!(g, top.poll, given; interval);
        }
        if let Some(g) = scope.display {
            inherit!(g, top.display, given; theme, export_dir);
        }
        if let Some(g) = scope.metrics {
            inherit!(g, top.metrics, given; metrics_listen);
        }
        if let Some(g) = scope.token {
            inherit!(g, top.token, given; token, token_file);
        }
        if let Some(g) = scope.redact {
            inherit!(g, top.redact, given; redact);
        }
        Ok(cli)
    }
}

/// Where options were given: the top level's matches and the subcommand's.
struct Given<'a> {
    top: &'a ArgMatches,
    own: &'a ArgMatches,
}

impl Given<'_> {
    /// Some of `ids` given before the subcommand, none after it.
    fn before_only(&self, ids: &[&str]) -> bool {
        ids.iter().any(|id| on_command_line(self.top, id))
            && !ids.iter().any(|id| on_command_line(self.own, id))
    }
}

fn on_command_line(matches: &ArgMatches, id: &str) -> bool {
    matches.value_source(id) == Some(ValueSource::CommandLine)
}

/// The innermost subcommand's names (`["lab", "serve"]`) and matches; `None` without one.
pub fn leaf(matches: &ArgMatches) -> Option<(Vec<String>, &ArgMatches)> {
    let (name, mut own) = matches.subcommand()?;
    let mut path = vec![name.to_string()];
    while let Some((name, m)) = own.subcommand() {
        path.push(name.to_string());
        own = m;
    }
    Some((path, own))
}

fn parse_secs(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(0.05..=3600.0).contains(&v) {
        return Err(format!("{v} s is out of range (0.05 to 3600)"));
    }
    Ok(v)
}

fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    s.parse::<std::net::IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("{s:?} is not an IP address or IP:PORT"))
}

/// `--domain` (and `domain` in the config file): a DNS name, lower case, without the final
/// dot. Anything else is refused here rather than reported later as a failed lookup.
pub fn parse_domain(s: &str) -> Result<String, String> {
    let d = s.trim().trim_end_matches('.').to_ascii_lowercase();
    match crate::catalog::validate_host(&d) {
        Ok(()) if !d.contains('*') => Ok(d),
        Ok(()) => Err(format!(
            "{s:?} has a wildcard: expected a DNS name such as contoso.com"
        )),
        Err(why) => Err(format!("{why}: expected a DNS name such as contoso.com")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::from_matches(&Cli::command().try_get_matches_from(args)?)
    }

    fn check_target(cli: &Cli) -> &TargetArgs {
        match &cli.command {
            Some(Command::Check { target, .. }) => target,
            other => panic!("not check: {other:?}"),
        }
    }

    #[test]
    fn options_before_the_subcommand_are_the_subcommands() {
        for args in [
            &["m365mon", "check", "--lab", "healthy", "--timeout", "1"][..],
            &["m365mon", "--lab", "healthy", "--timeout", "1", "check"],
            &["m365mon", "--lab", "healthy", "check", "--timeout", "1"],
        ] {
            let cli = parse(args).unwrap();
            let t = check_target(&cli);
            assert_eq!(t.lab_target.lab.as_deref(), Some("healthy"), "{args:?}");
            assert_eq!(t.probe.timeout, 1.0, "{args:?}");
        }
        // Given on both sides, the one after the subcommand wins (as with global options).
        let cli = parse(&["m365mon", "--timeout", "2", "check", "--timeout", "1"]).unwrap();
        assert_eq!(check_target(&cli).probe.timeout, 1.0);
        // One choice: a lab named after the subcommand replaces the one named before it.
        let cli = parse(&["m365mon", "--lab", "healthy", "check", "--lab-connect", "/s.json"]).unwrap();
        let t = check_target(&cli);
        assert_eq!(
            (t.lab_target.lab.as_deref(), t.lab_target.lab_connect.as_deref()),
            (None, Some(std::path::Path::new("/s.json")))
        );
        // Nested subcommands too.
        let cli = parse(&["m365mon", "--instance", "china", "lab", "serve"]).unwrap();
        match cli.command {
            Some(Command::Lab {
                command: LabCommand::Serve { catalog, .. },
            }) => {
                assert_eq!(catalog.instance, Instance::China)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_a_subcommand_does_not_take_are_refused_on_either_side() {
        for args in [
            &["m365mon", "check", "--theme", "dark"][..],
            &["m365mon", "--theme", "dark", "check"],
            &["m365mon", "--timeout", "1", "explain", "0x1"],
            &["m365mon", "--lab-connect", "/s.json", "lab", "serve"],
            &["m365mon", "--interval", "1", "check"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
        let e = parse(&["m365mon", "--theme", "dark", "check"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`m365mon check` does not take --theme"), "{e}");
        // The global ones are everyone's.
        assert!(parse(&[
            "m365mon",
            "--config",
            "/c.toml",
            "--log-file",
            "/l",
            "explain",
            "0x1"
        ])
        .is_ok());
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(Cli::try_parse_from(["m365mon", "--timeout", "abc"]).is_err());
        assert!(Cli::try_parse_from(["m365mon", "--interval", "0"]).is_err());
        assert!(Cli::try_parse_from(["m365mon", "--dns-server", "nope"]).is_err());
        assert_eq!(parse_dns_server("127.0.0.1").unwrap().port(), 53);
    }

    #[test]
    fn domains_are_dns_names() {
        assert_eq!(parse_domain(" Contoso.COM. ").as_deref(), Ok("contoso.com"));
        for bad in [
            "",
            "contoso",
            "bad domain.com",
            "*.contoso.com",
            "ada@contoso.com",
            "a..b",
        ] {
            let e = parse_domain(bad).unwrap_err();
            assert!(e.contains("expected a DNS name"), "{bad}: {e}");
        }
    }
}
