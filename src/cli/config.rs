//! The configuration file: settings a technician wants every time without typing them.
//!
//! Precedence, highest first: command line, environment (`M365MON_*`), this file,
//! built-in defaults. The file only fills what neither of the first two set, so a flag
//! always wins and `M365MON_*` in a service unit overrides a shared file.
//!
//! Keys are the long flags, kebab-case (`timeout`, `dns-server`, `ca-file`...); an unknown
//! key is an error naming it (a typo must not be silently ignored). Values are checked by
//! the very same parsers as the flags, so the ranges cannot drift apart. Relative paths
//! are relative to the file's folder, and `~/` is the home folder.
//!
//! Where it is looked for (the first that exists; `--config PATH` picks another):
//! - Linux and other Unix: `$XDG_CONFIG_HOME/m365mon/config.toml`, else
//!   `~/.config/m365mon/config.toml`
//! - Windows: `%APPDATA%\m365mon\config.toml`
//! - macOS: `~/Library/Application Support/m365mon/config.toml`, then the XDG places

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory};
use serde::Deserialize;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

use crate::cli::Cli;
use crate::model::error::{line_of, read_input, InputError};

/// The folder name under the platform's configuration folder.
pub const APP_DIR: &str = "m365mon";
/// The file name.
pub const FILE_NAME: &str = "config.toml";

/// A checked configuration file. `None` is "not set in the file".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigFile {
    /// Where it was read from.
    pub path: PathBuf,
    pub interval: Option<f64>,
    pub timeout: Option<f64>,
    pub theme: Option<String>,
    pub endpoints: Option<PathBuf>,
    pub ms_endpoints: Option<PathBuf>,
    pub lab: Option<String>,
    /// The line of `lab`: a scenario name is checked where the scenarios are known (by
    /// `main`, above the lab room), and its error must still name this line.
    pub lab_line: Option<usize>,
    pub lab_connect: Option<PathBuf>,
    pub dns_server: Option<SocketAddr>,
    pub ca_files: Option<Vec<PathBuf>>,
    pub concurrency: Option<u16>,
    pub export_dir: Option<PathBuf>,
    pub domain: Option<String>,
    pub instance: Option<crate::checks::Instance>,
    pub proxy: Option<String>,
    pub pac_url: Option<String>,
    pub ip_family: Option<crate::model::IpFamilyChoice>,
}

/// The file as written; every value keeps its position for error messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    interval: Option<Spanned<f64>>,
    timeout: Option<Spanned<f64>>,
    theme: Option<Spanned<String>>,
    endpoints: Option<Spanned<String>>,
    ms_endpoints: Option<Spanned<String>>,
    lab: Option<Spanned<String>>,
    lab_connect: Option<Spanned<String>>,
    dns_server: Option<Spanned<String>>,
    ca_file: Option<Spanned<OneOrMany>>,
    concurrency: Option<Spanned<i64>>,
    export_dir: Option<Spanned<String>>,
    domain: Option<Spanned<String>>,
    instance: Option<Spanned<String>>,
    proxy: Option<Spanned<String>>,
    pac_url: Option<Spanned<String>>,
    ip_family: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "expected a path or a list of paths")]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The file keys and the command-line argument each one fills (clap ids are the `Cli`
/// field names).
pub const KEYS: [(&str, &str); 16] = [
    ("interval", "interval"),
    ("timeout", "timeout"),
    ("theme", "theme"),
    ("endpoints", "endpoints"),
    ("ms-endpoints", "ms_endpoints"),
    ("lab", "lab"),
    ("lab-connect", "lab_connect"),
    ("dns-server", "dns_server"),
    ("ca-file", "ca_files"),
    ("concurrency", "concurrency"),
    ("export-dir", "export_dir"),
    ("domain", "domain"),
    ("instance", "instance"),
    ("proxy", "proxy"),
    ("pac-url", "pac_url"),
    ("ip-family", "ip_family"),
];

/// The places searched, in order, for this platform.
pub fn candidate_paths() -> Vec<PathBuf> {
    candidates_for(std::env::consts::OS, &|name| std::env::var_os(name))
}

/// [`candidate_paths`] for a given OS and environment (tested for every platform).
pub fn candidates_for(os: &str, env: &dyn Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    // Per the XDG spec a relative $XDG_CONFIG_HOME is invalid and ignored.
    let xdg = || {
        let mut v = Vec::new();
        if let Some(dir) = var("XDG_CONFIG_HOME").filter(|p| p.is_absolute()) {
            v.push(dir.join(APP_DIR).join(FILE_NAME));
        }
        if let Some(home) = var("HOME") {
            let p = home.join(".config").join(APP_DIR).join(FILE_NAME);
            if !v.contains(&p) {
                v.push(p);
            }
        }
        v
    };
    match os {
        "windows" => var("APPDATA")
            .map(|d| d.join(APP_DIR).join(FILE_NAME))
            .into_iter()
            .collect(),
        "macos" => {
            let mut v: Vec<PathBuf> = var("HOME")
                .map(|h| {
                    h.join("Library")
                        .join("Application Support")
                        .join(APP_DIR)
                        .join(FILE_NAME)
                })
                .into_iter()
                .collect();
            v.extend(xdg());
            v
        }
        _ => xdg(),
    }
}

/// The first candidate that exists.
pub fn find() -> Option<PathBuf> {
    candidate_paths().into_iter().find(|p| p.is_file())
}

/// Reads the configuration: the given file (which must exist), else the first found in
/// the usual places, else none.
pub fn load(explicit: Option<&Path>) -> Result<Option<ConfigFile>, InputError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match find() {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let text = read_input(&path)?;
    parse(&path, &text).map(Some)
}

/// Parses and checks configuration text; `path` names the file in errors and anchors
/// relative paths.
pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, InputError> {
    let raw: RawConfig =
        toml::from_str(text).map_err(|e| with_key(InputError::from_toml(path, text, &e), text))?;
    let cx = Checker {
        path,
        text,
        base: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };

    let mut file = ConfigFile {
        path: path.to_path_buf(),
        ..Default::default()
    };
    if let Some(v) = raw.interval {
        file.interval = Some(cx.flag::<f64>("interval", v.span(), &v.get_ref().to_string())?);
    }
    if let Some(v) = raw.timeout {
        file.timeout = Some(cx.flag::<f64>("timeout", v.span(), &v.get_ref().to_string())?);
    }
    if let Some(v) = raw.concurrency {
        file.concurrency = Some(cx.flag::<u16>("concurrency", v.span(), &v.get_ref().to_string())?);
    }
    if let Some(v) = raw.ip_family {
        file.ip_family = Some(cx.flag::<crate::model::IpFamilyChoice>("ip_family", v.span(), v.get_ref())?);
    }
    if let Some(v) = raw.dns_server {
        file.dns_server = Some(cx.flag::<SocketAddr>("dns_server", v.span(), v.get_ref())?);
    }
    if let Some(v) = &raw.endpoints {
        file.endpoints = Some(cx.file_path("endpoints", v, true)?);
    }
    if let Some(v) = &raw.ms_endpoints {
        file.ms_endpoints = Some(cx.file_path("ms-endpoints", v, true)?);
    }
    if let Some(v) = &raw.lab_connect {
        // The lab may be started after the monitor's configuration is written: only the
        // monitor, when it starts, needs the state file.
        file.lab_connect = Some(cx.file_path("lab-connect", v, false)?);
    }
    if let (Some(lab), Some(connect)) = (&raw.lab, &raw.lab_connect) {
        let later = if lab.span().start > connect.span().start {
            lab.span()
        } else {
            connect.span()
        };
        return Err(cx.at(
            later,
            "lab and lab-connect cannot both be set: pick one lab to monitor".into(),
        ));
    }
    if let Some(v) = &raw.lab {
        file.lab = Some(cx.name_or_file("lab", v)?);
        file.lab_line = Some(line_of(text, v.span().start));
    }
    if let Some(v) = &raw.theme {
        file.theme = Some(cx.name_or_file("theme", v)?);
    }
    if let Some(v) = &raw.export_dir {
        let p = cx.file_path("export-dir", v, false)?;
        if p.exists() && !p.is_dir() {
            return Err(cx.at(v.span(), format!("export-dir: {} is not a folder", p.display())));
        }
        file.export_dir = Some(p);
    }
    if let Some(v) = &raw.ca_file {
        let list: Vec<&str> = match v.get_ref() {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(l) => l.iter().map(String::as_str).collect(),
        };
        let mut paths = Vec::with_capacity(list.len());
        for s in list {
            paths.push(cx.file_path("ca-file", &Spanned::new(v.span(), s.to_string()), true)?);
        }
        file.ca_files = Some(paths);
    }
    if let Some(v) = &raw.domain {
        file.domain = Some(cx.flag::<String>("domain", v.span(), v.get_ref())?);
    }
    if let Some(v) = &raw.instance {
        file.instance = Some(cx.flag::<crate::checks::Instance>("instance", v.span(), v.get_ref())?);
    }
    if let (Some(proxy), Some(pac)) = (&raw.proxy, &raw.pac_url) {
        let later = proxy.span().start.max(pac.span().start);
        return Err(cx.at(
            later..later,
            "proxy and pac-url cannot both be set: pick one way to route".into(),
        ));
    }
    if let Some(v) = &raw.proxy {
        crate::route::RouteSettings::from_flags(Some(v.get_ref()), None)
            .map_err(|e| cx.at(v.span(), e.message))?;
        file.proxy = Some(v.get_ref().clone());
    }
    if let Some(v) = &raw.pac_url {
        crate::route::RouteSettings::from_flags(None, Some(v.get_ref()))
            .map_err(|e| cx.at(v.span(), e.message))?;
        file.pac_url = Some(v.get_ref().clone());
    }
    Ok(file)
}

/// Turns values of one file into checked settings, with errors at their lines.
struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    /// The file's folder, which relative paths are relative to.
    base: PathBuf,
}

impl Checker<'_> {
    fn at(&self, span: Range<usize>, message: String) -> InputError {
        InputError::at(self.path, line_of(self.text, span.start), message)
    }

    fn flag<T: Clone + Send + Sync + 'static>(
        &self,
        id: &str,
        span: Range<usize>,
        value: &str,
    ) -> Result<T, InputError> {
        flag_value::<T>(id, value).map_err(|e| self.at(span, e))
    }

    /// A path value; input files (`must_exist`) are checked now, so the error points here
    /// rather than at a missing file with no hint of where its name came from.
    fn file_path(&self, key: &str, v: &Spanned<String>, must_exist: bool) -> Result<PathBuf, InputError> {
        let p = resolve(&self.base, v.get_ref()).map_err(|why| self.at(v.span(), format!("{key}: {why}")))?;
        if must_exist && !p.is_file() {
            let why = if p.exists() {
                "is not a file"
            } else {
                "does not exist"
            };
            return Err(self.at(v.span(), format!("{key}: {} {why}", p.display())));
        }
        Ok(p)
    }

    /// `lab` and `theme` are a built-in name or a file: only what looks like a path is
    /// resolved and checked here; names are checked by their own loaders.
    fn name_or_file(&self, key: &str, v: &Spanned<String>) -> Result<String, InputError> {
        let s = v.get_ref();
        let looks_like_path = s.contains(['/', '\\']) || s.ends_with(".toml");
        if s.trim().is_empty() || looks_like_path {
            return Ok(self.file_path(key, v, true)?.display().to_string());
        }
        Ok(s.clone())
    }
}

/// Type errors from the TOML layer name the type, not the key: prefix the key of the line
/// at fault, and say "number" rather than "f64".
fn with_key(mut err: InputError, text: &str) -> InputError {
    let key = err
        .line
        .and_then(|l| text.lines().nth(l - 1))
        .and_then(|line| line.split_once('='))
        .map(|(k, _)| k.trim())
        .filter(|k| KEYS.iter().any(|(key, _)| key == k));
    err.message = err
        .message
        .replace("expected f64", "expected a number")
        .replace("expected i64", "expected a whole number");
    if let Some(key) = key {
        if !err.message.contains(key) {
            err.message = format!("{key}: {}", err.message);
        }
    }
    err
}

/// A path from the file: `~/` expanded, relative to the file's folder.
fn resolve(base: &Path, value: &str) -> Result<PathBuf, String> {
    if value.trim().is_empty() {
        return Err("the path is empty".into());
    }
    let path = match value.strip_prefix("~/").or_else(|| value.strip_prefix("~\\")) {
        Some(rest) => {
            let home = std::env::var_os("HOME")
                .or_else(|| std::env::var_os("USERPROFILE"))
                .ok_or_else(|| format!("{value}: no home folder to expand ~ to"))?;
            PathBuf::from(home).join(rest)
        }
        None => PathBuf::from(value),
    };
    Ok(if path.is_absolute() { path } else { base.join(path) })
}

/// Parses `value` exactly as the flag with clap id `id` would be parsed on the command
/// line, so the file and the flags share one definition of what is valid.
fn flag_value<T: Clone + Send + Sync + 'static>(id: &str, value: &str) -> Result<T, String> {
    let cli = Cli::command();
    let Some(arg) = cli.get_arguments().find(|a| a.get_id() == id) else {
        return Err(format!("internal: no command-line flag {id}"));
    };
    let key = KEYS.iter().find(|(_, i)| *i == id).map_or(id, |(k, _)| k);
    let long = arg.get_long().unwrap_or(id).to_string();
    // Only the value parser matters: no environment, no default, no relations.
    let alone = arg
        .clone()
        .env(None)
        .default_value(None)
        .global(false)
        .required(false);
    let parsed = clap::Command::new("config")
        .no_binary_name(true)
        .arg(alone)
        .try_get_matches_from([format!("--{long}={value}")]);
    match parsed {
        Ok(m) => m
            .get_one::<T>(id)
            .cloned()
            .ok_or_else(|| format!("{key}: no value")),
        Err(e) => {
            let why = std::error::Error::source(&e)
                .map(ToString::to_string)
                .unwrap_or_else(|| {
                    e.to_string()
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim_start_matches("error: ")
                        .to_string()
                });
            Err(format!("{key} = {value}: {why}"))
        }
    }
}

/// Whether the file may fill this argument: nobody set it (it has its default or none).
fn free(matches: &ArgMatches, id: &str) -> bool {
    matches!(matches.value_source(id), None | Some(ValueSource::DefaultValue))
}

/// Fills from the file every setting that neither the command line nor the environment
/// gave, in the option groups the command takes ([`Cli::scope_mut`]); the file's other
/// keys are checked but not used. `matches` are the ones `cli` was built from: an option
/// may be given before the subcommand (the top level's matches) or after it.
pub fn apply(cli: &mut Cli, matches: &ArgMatches, file: &ConfigFile) {
    let own = crate::cli::leaf(matches).map_or(matches, |(_, own)| own);
    let free = |id: &str| free(matches, id) && free(own, id);
    let scope = cli.scope_mut();
    if let Some(c) = scope.catalog {
        if let (true, Some(v)) = (free("endpoints"), &file.endpoints) {
            c.endpoints = Some(v.clone());
        }
        if let (true, Some(v)) = (free("ms_endpoints"), &file.ms_endpoints) {
            c.ms_endpoints = Some(v.clone());
        }
        if let (true, Some(v)) = (free("instance"), file.instance) {
            c.instance = v;
        }
    }
    // `lab` and `lab-connect` are one choice: what the user picked replaces the file's
    // choice as a whole, whichever of the two each side names.
    if let Some(l) = scope.lab_target {
        if free("lab") && free("lab_connect") {
            if let Some(v) = &file.lab {
                l.lab = Some(v.clone());
            }
            if let Some(v) = &file.lab_connect {
                l.lab_connect = Some(v.clone());
            }
        }
    }
    if let Some(p) = scope.probe {
        if let (true, Some(v)) = (free("timeout"), file.timeout) {
            p.timeout = v;
        }
        if let (true, Some(v)) = (free("dns_server"), file.dns_server) {
            p.dns_server = Some(v);
        }
        if let (true, Some(v)) = (free("ca_files"), &file.ca_files) {
            p.ca_files = v.clone();
        }
        if let (true, Some(v)) = (free("concurrency"), file.concurrency) {
            p.concurrency = v;
        }
        if let (true, Some(v)) = (free("domain"), &file.domain) {
            p.domain = Some(v.clone());
        }
        if let (true, Some(v)) = (free("ip_family"), file.ip_family) {
            p.ip_family = v;
        }
        // Like the lab: a proxy or PAC file given by the user replaces the file's routing.
        if free("proxy") && free("pac_url") {
            if let Some(v) = &file.proxy {
                p.proxy = Some(v.clone());
            }
            if let Some(v) = &file.pac_url {
                p.pac_url = Some(v.clone());
            }
        }
    }
    if let Some(p) = scope.poll {
        if let (true, Some(v)) = (free("interval"), file.interval) {
            p.interval = v;
        }
    }
    if let Some(d) = scope.display {
        if let (true, Some(v)) = (free("theme"), &file.theme) {
            d.theme = Some(v.clone());
        }
        if let (true, Some(v)) = (free("export_dir"), &file.export_dir) {
            d.export_dir = Some(v.clone());
        }
    }
}

/// `m365mon config template`: every key, commented out, with its default.
pub fn template() -> String {
    let path = candidate_paths()
        .into_iter()
        .next()
        .map(|p| p.display().to_string());
    let mut out = String::new();
    out.push_str("# m365mon configuration file.\n");
    if let Some(p) = path {
        out.push_str(&format!("# Save it as {p} (or pass --config PATH).\n"));
    }
    out.push_str(
        "# Command-line flags and M365MON_* environment variables override what is set here.\n\
         # Relative paths are relative to this file's folder; ~/ is your home folder.\n\
         # Uncomment a line to set it.\n\
         \n\
         # Seconds between sweeps of the live monitor (0.05 to 3600).\n\
         # interval = 5\n\
         \n\
         # Cap for each probe stage (DNS, TCP, TLS, HTTP), in seconds (0.05 to 3600).\n\
         # timeout = 3\n\
         \n\
         # How many endpoints are probed at once (1 to 512).\n\
         # concurrency = 32\n\
         \n\
         # Address families probed: \"4\", \"6\" or \"both\" (each family of an endpoint on its own).\n\
         # ip-family = \"both\"\n\
         \n\
         # Theme: dark, light, high-contrast, monochrome, or a theme TOML file.\n\
         # theme = \"dark\"\n\
         \n\
         # A TOML endpoint catalog that extends or replaces the built-in list.\n\
         # endpoints = \"endpoints.toml\"\n\
         \n\
         # Microsoft's endpoint web service JSON (endpoints/Worldwide) to import.\n\
         # ms-endpoints = \"worldwide.json\"\n\
         \n\
         # Ask this DNS server (IP or IP:PORT) instead of the system's resolvers.\n\
         # dns-server = \"192.0.2.53\"\n\
         \n\
         # Extra root certificates to trust (PEM): one path or a list.\n\
         # ca-file = [\"corp-root.pem\"]\n\
         \n\
         # Folder where the monitor's export key writes reports.\n\
         # export-dir = \"~/m365mon-reports\"\n\
         \n\
         # Monitor a built-in lab scenario (or scenario file) instead of the real endpoints;\n\
         # or a lab started elsewhere with `m365mon lab serve --state-file FILE`. Not both.\n\
         # lab = \"healthy\"\n\
         # lab-connect = \"lab-state.json\"\n\
         \n\
         # The tenant's custom domain: the msoid.<domain> DNS record is checked.\n\
         # domain = \"contoso.com\"\n\
         \n\
         # Microsoft 365 cloud: worldwide (also GCC), gcc-high, dod or china (21Vianet).\n\
         # It picks the endpoints probed and what the MSOID check expects.\n\
         # instance = \"worldwide\"\n\
         \n\
         # Route the probes through this proxy (or \"direct\") instead of the machine's\n\
         # settings; or evaluate this PAC file. Not both. Credentials here are never shown.\n\
         # proxy = \"http://proxy.contoso.com:8080\"\n\
         # pac-url = \"http://wpad.contoso.com/proxy.pac\"\n",
    );
    out
}

/// `m365mon config path`: where the file is read from, and where else it was looked for.
pub fn path_report(explicit: Option<&Path>) -> String {
    let state = |p: &Path| if p.is_file() { "found" } else { "not found" };
    if let Some(p) = explicit {
        return format!("{} ({}, given with --config)\n", p.display(), state(p));
    }
    let candidates = candidate_paths();
    let mut out = String::new();
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => out.push_str(&format!("{} (in use)\n", p.display())),
        None => match candidates.first() {
            Some(p) => out.push_str(&format!(
                "{} (not found: create it there, e.g. with `m365mon config template`)\n",
                p.display()
            )),
            None => {
                out.push_str("no configuration folder: set HOME (or APPDATA on Windows), or pass --config\n")
            }
        },
    }
    if candidates.len() > 1 {
        out.push_str("searched, in order:\n");
        for p in &candidates {
            out.push_str(&format!("  {} ({})\n", p.display(), state(p)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn platform_places() {
        let win = candidates_for("windows", &env(&[("APPDATA", "C:\\Users\\u\\AppData\\Roaming")]));
        assert_eq!(
            win,
            [PathBuf::from("C:\\Users\\u\\AppData\\Roaming")
                .join("m365mon")
                .join("config.toml")]
        );
        // The Unix layouts are built from Unix paths, which are not absolute on a Windows
        // host (found by the Windows tier): there only the Windows layout is checked.
        if cfg!(windows) {
            return;
        }
        let linux = candidates_for("linux", &env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/xdg")]));
        assert_eq!(
            linux,
            [
                PathBuf::from("/xdg/m365mon/config.toml"),
                PathBuf::from("/home/u/.config/m365mon/config.toml")
            ]
        );
        let relative_xdg = candidates_for("linux", &env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "rel")]));
        assert_eq!(
            relative_xdg,
            [PathBuf::from("/home/u/.config/m365mon/config.toml")]
        );
        let mac = candidates_for("macos", &env(&[("HOME", "/Users/u")]));
        assert_eq!(
            mac,
            [
                PathBuf::from("/Users/u/Library/Application Support/m365mon/config.toml"),
                PathBuf::from("/Users/u/.config/m365mon/config.toml")
            ]
        );
        assert!(candidates_for("linux", &env(&[])).is_empty());
    }

    #[test]
    fn every_key_fills_an_existing_flag() {
        let cli = Cli::command();
        for (key, id) in KEYS {
            let arg = cli.get_arguments().find(|a| a.get_id() == id);
            let arg = arg.unwrap_or_else(|| panic!("config key {key}: no flag with id {id}"));
            assert_eq!(arg.get_long(), Some(key), "config keys mirror the long flags");
            assert!(
                template().contains(&format!("# {key} = ")),
                "template lacks {key}"
            );
        }
    }

    #[test]
    fn flag_parsers_are_reused() {
        assert_eq!(flag_value::<f64>("timeout", "2.5"), Ok(2.5));
        let e = flag_value::<f64>("timeout", "0").unwrap_err();
        assert!(
            e.starts_with("timeout = 0: ") && e.contains("out of range"),
            "{e}"
        );
        let e = flag_value::<u16>("concurrency", "0").unwrap_err();
        assert!(e.starts_with("concurrency = 0: ") && e.contains("1..=512"), "{e}");
        assert_eq!(
            flag_value::<SocketAddr>("dns_server", "10.0.0.1"),
            Ok("10.0.0.1:53".parse().unwrap())
        );
    }

    #[test]
    fn template_is_valid_when_uncommented() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "endpoints.toml",
            "worldwide.json",
            "corp-root.pem",
            "lab-state.json",
        ] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        // Every "# key = value" line uncommented, minus the second of the lab pair.
        let text: String = template()
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| {
                l.contains(" = ")
                    && !l.starts_with("lab-connect")
                    && !l.starts_with("export-dir")
                    && !l.starts_with("pac-url")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let c = parse(&dir.path().join("config.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            (c.interval, c.timeout, c.concurrency),
            (Some(5.0), Some(3.0), Some(32))
        );
        assert_eq!(c.ca_files, Some(vec![dir.path().join("corp-root.pem")]));
        assert_eq!(c.lab.as_deref(), Some("healthy"));
        assert_eq!(
            (c.domain.as_deref(), c.instance, c.proxy.as_deref()),
            (
                Some("contoso.com"),
                Some(crate::checks::Instance::Worldwide),
                Some("http://proxy.contoso.com:8080")
            )
        );
    }

    #[test]
    fn ip_family_key_is_read_and_checked_at_its_line() {
        let p = Path::new("/etc/m365mon/config.toml");
        let c = parse(p, "ip-family = \"6\"\n").unwrap();
        assert_eq!(c.ip_family, Some(crate::model::IpFamilyChoice::Only6));
        let c = parse(p, "ip-family = \"both\"\n").unwrap();
        assert_eq!(c.ip_family, Some(crate::model::IpFamilyChoice::Both));
        let e = parse(p, "interval = 5\nip-family = \"7\"\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("config.toml") && text.contains("expected 4, 6 or both"),
            "{text}"
        );
    }

    #[test]
    fn routing_and_cloud_keys_are_checked_at_their_line() {
        let p = Path::new("/etc/m365mon/config.toml");
        let e = parse(p, "interval = 5\ninstance = \"mars\"\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("instance = mars"), "{e}");
        let e = parse(p, "proxy = \"http://u:secret@proxy:99999\"\n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
        assert!(!e.to_string().contains("secret"), "credentials leak: {e}");
        let e = parse(p, "proxy = \"direct\"\npac-url = \"http://wpad/proxy.pac\"\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let c = parse(p, "instance = \"china\"\ndomain = \"contoso.cn\"\n").unwrap();
        assert_eq!(
            (c.instance, c.domain.as_deref()),
            (Some(crate::checks::Instance::China), Some("contoso.cn"))
        );
    }
}
