//! Setting up what a command monitors: the catalog, the lab (started here or connected
//! to), the resolver and trust, and the host facts for the header. `check`, the live
//! monitor and the exporters all start from a [`Session`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::plan::SweepPlan;
use super::HostInfo;
use crate::catalog::Catalog;
use crate::lab::{Lab, LabOptions, LabState, Scenario};
use crate::model::error::InputError;
use crate::model::{is_loopback, PrivateKind, PrivateName};
use crate::probe::{DnsChoice, ProbeSettings, Trust};
use crate::route::RouteSettings;

/// What the user asked to monitor.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    pub endpoints: Option<PathBuf>,
    pub ms_endpoints: Option<PathBuf>,
    pub lab: Option<String>,
    pub lab_connect: Option<PathBuf>,
    pub timeout: Duration,
    pub dns_server: Option<SocketAddr>,
    pub ca_files: Vec<PathBuf>,
    pub concurrency: usize,
    /// `--proxy`: a proxy URL or `direct`, replacing the machine's proxy settings.
    pub proxy: Option<String>,
    /// `--pac-url`: a PAC file that decides each endpoint's route.
    pub pac_url: Option<String>,
    /// `--domain`: the tenant's custom domain, for the MSOID lookup.
    pub domain: Option<String>,
    pub instance: crate::checks::Instance,
    /// `--ip-family`: which address families are probed.
    pub ip_family: crate::model::IpFamilyChoice,
    /// `--all-addresses`: every address of each family, not only the first.
    pub all_addresses: bool,
}

/// A prepared session. Keeps an embedded lab alive for as long as it lives.
pub struct Session {
    pub plan: SweepPlan,
    pub host: HostInfo,
    pub catalog: Catalog,
    /// The embedded lab, when `--lab` was given.
    pub lab: Option<Lab>,
}

/// Why a session could not be set up. Either way the process exits with status 3.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("cannot start the lab: {0}")]
    Lab(String),
}

/// Host facts for the header.
pub fn host_info(instance: &str, lab: Option<String>) -> HostInfo {
    HostInfo {
        hostname: sysinfo::System::host_name()
            .into_iter()
            .next()
            .unwrap_or_else(|| UNKNOWN_HOST.into()),
        user: std::env::var("USERNAME")
            .or_else(|_| std::env::var("USER"))
            .ok()
            .filter(|u| !u.is_empty()),
        os: sysinfo::System::long_os_version()
            .into_iter()
            .next()
            .unwrap_or_else(|| std::env::consts::OS.to_string()),
        instance: instance.to_string(),
        lab,
        private: Vec::new(),
    }
}

/// The private names of a session (see [`PrivateName`]): this machine's host name and
/// user, and what the options name — the tenant domain (`--domain`, or the lab's), the
/// proxy's host (`--proxy`, or the lab's proxy URL), the PAC file's host and the DNS
/// server. Loopback addresses are left out: they say nothing about anyone. Credentials are
/// not names: no text ever shows them (`<credentials>`).
pub fn private_names(
    host: &HostInfo,
    opts: &SessionOptions,
    plan: &SweepPlan,
    lab_proxy: Option<&str>,
) -> Vec<PrivateName> {
    let mut names = Vec::new();
    let mut add = |kind, value: &str| {
        let value = value.trim();
        if !value.is_empty() {
            names.push(PrivateName::new(kind, value));
        }
    };
    if !host.hostname.is_empty() && host.hostname != UNKNOWN_HOST {
        add(PrivateKind::Host, &host.hostname);
    }
    if let Some(user) = &host.user {
        // DOMAIN\user: both halves are private, and so is the whole.
        if let Some((dom, name)) = user.split_once('\\') {
            add(PrivateKind::Domain, dom);
            add(PrivateKind::User, name);
        }
        add(PrivateKind::User, user);
    }
    for d in opts.domain.iter().chain(plan.checks.domain.as_ref()) {
        add(PrivateKind::Domain, d.trim().trim_end_matches('.'));
    }
    if let Some(dns) = opts.dns_server {
        // As `IP:PORT` wherever it is shown so; the address alone unless it is loopback.
        add(PrivateKind::Dns, &dns.to_string());
        if !is_loopback(&dns.ip().to_string()) {
            add(PrivateKind::Dns, &dns.ip().to_string());
        }
    }
    let mut found: Vec<PrivateName> = Vec::new();
    for proxy in opts.proxy.iter().map(String::as_str).chain(lab_proxy) {
        found.extend(PrivateName::from_url(PrivateKind::Proxy, proxy));
    }
    if let Some(pac) = &opts.pac_url {
        found.extend(PrivateName::from_url(PrivateKind::Pac, pac));
    }
    names.extend(found);
    names.sort();
    names.dedup();
    names
}

/// What [`host_info`] says when the host name cannot be read.
const UNKNOWN_HOST: &str = "unknown host";

/// Probe settings that point at a lab.
pub fn lab_settings(
    state: &LabState,
    timeout: Duration,
    concurrency: usize,
) -> Result<ProbeSettings, InputError> {
    let port_overrides: HashMap<_, _> = state
        .endpoints
        .iter()
        .map(|e| ((e.host.clone(), e.scheme), e.port))
        .collect();
    let port6_overrides: HashMap<_, _> = state
        .endpoints
        .iter()
        .filter_map(|e| Some(((e.host.clone(), e.scheme), e.port6?)))
        .collect();
    Ok(ProbeSettings {
        timeout,
        dns: DnsChoice::Server(state.dns),
        trust: Trust::lab(&state.ca_cert, state.inspection_ca_cert.as_deref())?,
        port_overrides,
        port6_overrides,
        concurrency,
        families: Default::default(),
        all_addresses: false,
    })
}

/// The sweep plan for a lab: probes pointed at it, its proxy or PAC file as the routes,
/// and checks that know they watch a lab, with its tenant domain.
pub fn lab_plan(
    endpoints: Vec<crate::catalog::Endpoint>,
    state: &LabState,
    timeout: Duration,
    concurrency: usize,
) -> Result<SweepPlan, InputError> {
    let mut plan = SweepPlan::new(endpoints, lab_settings(state, timeout, concurrency)?);
    plan.routes = state
        .routes()
        .map_err(|e| InputError::plain(format!("the lab's proxy: {e}")))?;
    plan.checks.lab = true;
    plan.checks.domain = state.domain.clone();
    Ok(plan)
}

/// What the command line adds to any plan: the tenant's domain, the cloud, and routes.
fn apply_options(plan: &mut SweepPlan, opts: &SessionOptions, routes: Option<RouteSettings>) {
    plan.settings.families = opts.ip_family;
    plan.settings.all_addresses = opts.all_addresses;
    if let Some(d) = &opts.domain {
        plan.checks.domain = Some(d.trim().trim_end_matches('.').to_ascii_lowercase());
    }
    plan.checks.instance = opts.instance;
    if let Some(r) = routes {
        plan.routes = r;
    }
}

impl Session {
    /// Loads inputs, starts or connects to a lab if asked, and builds the sweep plan.
    pub async fn prepare(opts: &SessionOptions) -> Result<Session, SetupError> {
        let catalog = Catalog::load(
            opts.instance,
            opts.endpoints.as_deref(),
            opts.ms_endpoints.as_deref(),
        )?;
        let endpoints = catalog.endpoints.clone();
        let routes = RouteSettings::from_flags(opts.proxy.as_deref(), opts.pac_url.as_deref())?;
        let instance = opts.instance.as_str();
        // `--ca-file` is checked in every mode, before a lab starts: a missing or garbage
        // file is an error naming it, never silently ignored.
        let extra: Vec<&Path> = opts.ca_files.iter().map(PathBuf::as_path).collect();
        Trust::check_pem_files(&extra)?;
        if let Some(name) = &opts.lab {
            let scenario = Scenario::resolve(name)?;
            let scenario_name = scenario.name.clone();
            let lab = Lab::start(scenario, &catalog, LabOptions::default())
                .await
                .map_err(|e| SetupError::Lab(e.to_string()))?;
            let mut plan = lab_plan(endpoints, lab.state(), opts.timeout, opts.concurrency)?;
            plan.settings.trust.add_pem_files(&extra)?;
            apply_options(&mut plan, opts, routes);
            let mut host = host_info(instance, Some(scenario_name));
            host.private = private_names(&host, opts, &plan, lab.state().proxy.as_deref());
            return Ok(Session {
                plan,
                host,
                catalog,
                lab: Some(lab),
            });
        }
        if let Some(path) = &opts.lab_connect {
            let state = LabState::load(path)?;
            let name = if state.scenario.is_empty() {
                "connected".to_string()
            } else {
                state.scenario.clone()
            };
            let mut plan = lab_plan(endpoints, &state, opts.timeout, opts.concurrency)?;
            plan.settings.trust.add_pem_files(&extra)?;
            apply_options(&mut plan, opts, routes);
            let mut host = host_info(instance, Some(name));
            host.private = private_names(&host, opts, &plan, state.proxy.as_deref());
            return Ok(Session {
                plan,
                host,
                catalog,
                lab: None,
            });
        }
        let settings = ProbeSettings {
            timeout: opts.timeout,
            dns: opts
                .dns_server
                .map(DnsChoice::Server)
                .unwrap_or(DnsChoice::System),
            trust: Trust::system(&extra)?,
            port_overrides: HashMap::new(),
            port6_overrides: HashMap::new(),
            concurrency: opts.concurrency,
            families: opts.ip_family,
            all_addresses: opts.all_addresses,
        };
        let mut plan = SweepPlan::new(endpoints, settings);
        // Without `--proxy`/`--pac-url`, the machine's own settings, read at every sweep.
        apply_options(&mut plan, opts, Some(routes.unwrap_or(RouteSettings::Machine)));
        let mut host = host_info(instance, None);
        host.private = private_names(&host, opts, &plan, None);
        Ok(Session {
            plan,
            host,
            catalog,
            lab: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_ca_file_is_an_error_in_lab_mode_too() {
        let opts = SessionOptions {
            lab: Some("healthy".into()),
            ca_files: vec![PathBuf::from("/nonexistent/m365mon-ca.pem")],
            timeout: Duration::from_secs(1),
            concurrency: 8,
            ..Default::default()
        };
        match Session::prepare(&opts).await {
            Ok(_) => panic!("--ca-file /nonexistent/m365mon-ca.pem was accepted"),
            Err(e) => {
                let text = e.to_string();
                assert!(text.starts_with("/nonexistent/m365mon-ca.pem: "), "{text}");
                assert!(text.contains("cannot read certificate file"), "{text}");
            }
        }
    }
}
