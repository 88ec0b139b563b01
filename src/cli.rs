//! The command line. Every flag has an `M365MON_*` environment variable; a flag given on
//! the command line wins over the environment.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::checks::Instance;

/// Live monitor that shows why Microsoft 365 Apps cannot sign in or activate.
///
/// With no command, opens the live monitor in this terminal. `m365mon check` probes once
/// and prints a report; `m365mon lab serve` runs the built-in imitation of the Microsoft
/// 365 endpoints for rehearsals and tests.
#[derive(Debug, Parser)]
#[command(name = "m365mon", version = crate::version(), propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub monitor: MonitorArgs,

    /// Configuration file to read instead of the usual place (see `m365mon config path`)
    #[arg(long, value_name = "PATH", global = true, env = "M365MON_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to probe and how: shared by the monitor and `check`.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// TOML endpoint catalog that extends or replaces the built-in list
    #[arg(long, value_name = "FILE", global = true, env = "M365MON_ENDPOINTS")]
    pub endpoints: Option<PathBuf>,

    /// Import Microsoft's endpoint web service JSON (endpoints/Worldwide output)
    #[arg(long, value_name = "FILE", global = true, env = "M365MON_MS_ENDPOINTS")]
    pub ms_endpoints: Option<PathBuf>,

    /// Start a built-in lab with this scenario (name or TOML file) and monitor it
    #[arg(
        long,
        value_name = "SCENARIO",
        global = true,
        env = "M365MON_LAB",
        conflicts_with = "lab_connect"
    )]
    pub lab: Option<String>,

    /// Monitor a lab started elsewhere by `m365mon lab serve --state-file FILE`
    #[arg(long, value_name = "STATE_FILE", global = true, env = "M365MON_LAB_CONNECT")]
    pub lab_connect: Option<PathBuf>,

    /// Cap for each probe stage, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 3.0, global = true, env = "M365MON_TIMEOUT", value_parser = parse_secs)]
    pub timeout: f64,

    /// Ask this DNS server (IP:PORT) instead of the system's resolvers
    #[arg(long, value_name = "ADDR", global = true, env = "M365MON_DNS_SERVER", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,

    /// Extra root certificate(s) to trust, PEM (repeatable)
    #[arg(long = "ca-file", value_name = "PEM", global = true, env = "M365MON_CA_FILE")]
    pub ca_files: Vec<PathBuf>,

    /// How many endpoints are probed at once
    #[arg(long, value_name = "N", default_value_t = 32, global = true, env = "M365MON_CONCURRENCY", value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,

    /// Send the probes through this proxy (http://[user:pass@]host:port) or `direct`,
    /// instead of the machine's proxy settings
    #[arg(
        long,
        value_name = "URL|direct",
        global = true,
        env = "M365MON_PROXY",
        conflicts_with = "pac_url"
    )]
    pub proxy: Option<String>,

    /// Route each endpoint as this PAC file says, instead of the machine's proxy settings
    #[arg(long, value_name = "URL", global = true, env = "M365MON_PAC_URL")]
    pub pac_url: Option<String>,

    /// The tenant's custom domain, for the msoid.<domain> DNS check
    #[arg(long, value_name = "DOMAIN", global = true, env = "M365MON_DOMAIN", value_parser = parse_domain)]
    pub domain: Option<String>,

    /// Microsoft 365 cloud: picks the built-in endpoint list and what the MSOID check expects
    #[arg(long, value_enum, value_name = "CLOUD", default_value_t = Instance::Worldwide, global = true, env = "M365MON_INSTANCE")]
    pub instance: Instance,
}

/// Settings of the live monitor.
#[derive(Debug, Clone, Args)]
pub struct MonitorArgs {
    /// Seconds between sweeps
    #[arg(long, value_name = "SECS", default_value_t = 5.0, global = true, env = "M365MON_INTERVAL", value_parser = parse_secs)]
    pub interval: f64,

    /// Theme: dark, light, high-contrast, monochrome, or a TOML file
    #[arg(long, value_name = "NAME|FILE", global = true, env = "M365MON_THEME")]
    pub theme: Option<String>,

    /// Folder where `e` writes exported reports (default: the current folder)
    #[arg(long, value_name = "DIR", global = true, env = "M365MON_EXPORT_DIR")]
    pub export_dir: Option<PathBuf>,

    /// While the live monitor runs, also serve /metrics and /api/state here (like `serve`)
    #[arg(long, value_name = "ADDR", global = true, env = "M365MON_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Bearer token for `serve`, `--metrics-listen` and `attach` (at least 16 characters).
    /// Without one, loopback is open and any other address gets a generated token.
    #[arg(
        long,
        value_name = "TOKEN",
        global = true,
        env = "M365MON_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// Append a log (every state change; each sweep at debug) to this file. Nothing is
    /// ever logged to the terminal
    #[arg(long, value_name = "FILE", global = true, env = "M365MON_LOG_FILE")]
    pub log_file: Option<PathBuf>,

    /// How much goes to --log-file
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = LogLevel::Info, global = true, env = "M365MON_LOG_LEVEL")]
    pub log_level: LogLevel,
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
    Monitor,
    /// Probe once, print a report, exit 0 pass / 1 warn / 2 fail / 3 could not run
    Check {
        #[arg(long, value_enum, default_value_t = ReportFormat::Text, env = "M365MON_FORMAT")]
        format: ReportFormat,
        /// Print nothing; only the exit code tells (for Intune and RMM scripts)
        #[arg(long, short)]
        quiet: bool,
        /// Replace user names, UPNs, host names, domains and proxy credentials by placeholders
        #[arg(long)]
        redact: bool,
    },
    /// List the endpoint catalog in effect
    Endpoints {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
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
    /// Explain a sign-in or activation error code (hex like 0xCAA82EE2, or decimal)
    Explain {
        code: String,
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
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
    },
    /// Open the live monitor on another machine's `m365mon serve`, read-only
    Attach {
        /// The other machine's address, e.g. http://10.0.0.5:9365
        url: String,
    },
    /// Print one line per sweep and per state change, until interrupted
    Watch {
        /// JSON Lines (one object per line) for log shippers, instead of text
        #[arg(long)]
        jsonl: bool,
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
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
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
    },
    /// List the built-in scenarios
    Scenarios,
}

#[derive(Debug, Subcommand)]
pub enum RemediationCommand {
    /// List every remediation entry with the checks that lead to it
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
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

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from(["m365mon", "check", "--lab", "healthy", "--timeout", "1"]).unwrap();
        assert_eq!(cli.target.lab.as_deref(), Some("healthy"));
        assert_eq!(cli.target.timeout, 1.0);
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
