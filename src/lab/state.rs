//! The lab's state file: how a monitor finds a lab started by `m365mon lab serve`.
//!
//! ```json
//! {"dns": "127.0.0.1:PORT", "ca_cert": "PATH.pem",
//!  "endpoints": [{"host": "...", "addr": "127.x.y.z", "port": N, "scheme": "https",
//!                 "addr6": "fd00:6d36::N", "port6": N}],
//!  "proxy": "http://127.0.0.1:PORT", "pac_url": "http://127.0.0.1:PORT/proxy.pac",
//!  "domain": "contoso.lab"}
//! ```
//!
//! `proxy` and `pac_url` are there when the scenario puts a proxy in front of the
//! endpoints: the monitor then takes the route a machine configured that way would take.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::catalog::Scheme;
use crate::model::error::{read_input, InputError};
use crate::route::{Route, RouteSettings};

/// One listener of the lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabEndpoint {
    pub host: String,
    pub addr: IpAddr,
    pub port: u16,
    pub scheme: Scheme,
    /// The endpoint's IPv6 address (`lab serve --ipv6`): its own `fd00::/8` address where
    /// the lab could configure one, else `::1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr6: Option<IpAddr>,
    /// The port on `addr6` when it is not `port` (hosts sharing `::1` need their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port6: Option<u16>,
}

/// What a monitor needs to know to probe the lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabState {
    /// The lab's DNS server (UDP and TCP).
    pub dns: SocketAddr,
    /// PEM of the lab's "public" root: the one the lab's healthy endpoints chain to and
    /// the monitor expects, as it expects Microsoft's roots in real use.
    pub ca_cert: PathBuf,
    /// PEM of the lab's "corporate inspection" root, which the machine trusts (as if IT
    /// had installed it) but which is not an expected root: chains ending there are TLS
    /// interception.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspection_ca_cert: Option<PathBuf>,
    /// Scenario name, for the header.
    #[serde(default)]
    pub scenario: String,
    pub endpoints: Vec<LabEndpoint>,
    /// The lab's HTTP proxy, as a proxy URL (with credentials when the scenario publishes
    /// them): what a machine would have in its proxy settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// The lab's PAC file: when set, the monitor follows it rather than `proxy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pac_url: Option<String>,
    /// The tenant domain the lab plays (its DNS answers for `msoid.<domain>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl LabState {
    pub fn load(path: &Path) -> Result<Self, InputError> {
        let text = read_input(path)?;
        serde_json::from_str(&text).map_err(|e| InputError::from_json(path, &e))
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(tmp, path)
    }

    /// The routes a monitor of this lab takes: the PAC file, else the proxy, else direct.
    pub fn routes(&self) -> Result<RouteSettings, String> {
        if let Some(url) = &self.pac_url {
            return Ok(RouteSettings::Pac {
                url: url.clone(),
                source: "lab".into(),
            });
        }
        match &self.proxy {
            Some(url) => Ok(RouteSettings::single(Route::from_proxy_url(url)?, "lab proxy")),
            None => Ok(RouteSettings::Direct),
        }
    }

    /// The port the lab serves `host` on for `scheme`.
    pub fn port_for(&self, host: &str, scheme: Scheme) -> Option<u16> {
        self.endpoints
            .iter()
            .find(|e| e.host == host && e.scheme == scheme)
            .map(|e| e.port)
    }
}
