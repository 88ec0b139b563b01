//! The built-in scenarios, as scenario-file text.
//!
//! Kept as text so they double as examples and go through exactly the same validation as
//! a user's file (a unit test in [`super::scenario`] parses every one).

pub(super) struct Builtin {
    pub name: &'static str,
    pub description: &'static str,
    pub toml: &'static str,
}

/// The built-in scenarios, in the order `lab` commands list them.
pub(super) const BUILTINS: [Builtin; 15] = [
    Builtin {
        name: "healthy",
        description: "every endpoint answers normally",
        toml: r#"
name = "healthy"
description = "every endpoint answers normally"
"#,
    },
    Builtin {
        name: "firewall",
        description: "a firewall silently drops the activation endpoints",
        toml: r#"
name = "firewall"
description = "a firewall silently drops the activation endpoints"

[[fault]]
host = "activation.sls.microsoft.com"
mode = "blackhole"

[[fault]]
host = "ols.officeapps.live.com"
mode = "blackhole"

[[fault]]
host = "officeclient.microsoft.com"
mode = "blackhole"

# The licensing host of the cloud operated by 21Vianet (--instance china).
[[fault]]
host = "ols.officeapps.partner.office365.cn"
mode = "blackhole"
"#,
    },
    Builtin {
        name: "dns-outage",
        description: "the DNS server fails every lookup (SERVFAIL)",
        toml: r#"
name = "dns-outage"
description = "the DNS server fails every lookup (SERVFAIL)"

[[fault]]
host = "*"
mode = "dns-servfail"
"#,
    },
    Builtin {
        name: "interception",
        description: "a proxy decrypts all TLS with a corporate inspection root",
        toml: r#"
name = "interception"
description = "a proxy decrypts all TLS with a corporate inspection root"

[[fault]]
host = "*"
mode = "tls-intercept"
"#,
    },
    Builtin {
        name: "slow",
        description: "every endpoint answers 300 ms late",
        toml: r#"
name = "slow"
description = "every endpoint answers 300 ms late"
latency_ms = 300
"#,
    },
    Builtin {
        name: "timeline",
        description:
            "healthy; firewall drops activation at 10 s; login intercepted at 20 s; all recovers at 35 s",
        toml: r#"
name = "timeline"
description = "healthy; firewall drops activation at 10 s; login intercepted at 20 s; all recovers at 35 s"

[[fault]]
host = "activation.sls.microsoft.com"
mode = "blackhole"
after_secs = 10
until_secs = 35

[[fault]]
host = "ols.officeapps.live.com"
mode = "blackhole"
after_secs = 10
until_secs = 35

[[fault]]
host = "officeclient.microsoft.com"
mode = "blackhole"
after_secs = 10
until_secs = 35

[[fault]]
host = "login.microsoftonline.com"
mode = "tls-intercept"
after_secs = 20
until_secs = 35

[[fault]]
host = "login.microsoft.com"
mode = "tls-intercept"
after_secs = 20
until_secs = 35

[[fault]]
host = "login.windows.net"
mode = "tls-intercept"
after_secs = 20
until_secs = 35
"#,
    },
    Builtin {
        name: "proxy",
        description: "every endpoint is reached through a healthy HTTP proxy",
        toml: r#"
name = "proxy"
description = "every endpoint is reached through a healthy HTTP proxy"

[proxy]
"#,
    },
    Builtin {
        name: "proxy-auth",
        description: "the proxy wants credentials the machine does not send (HTTP 407)",
        toml: r#"
name = "proxy-auth"
description = "the proxy wants credentials the machine does not send (HTTP 407)"

[proxy]
credentials = "lab:proxy-secret"
publish_credentials = false
"#,
    },
    Builtin {
        name: "proxy-block",
        description: "the proxy answers every Microsoft 365 tunnel with a 403 block page",
        toml: r#"
name = "proxy-block"
description = "the proxy answers every Microsoft 365 tunnel with a 403 block page"

[proxy]
block = ["*"]
"#,
    },
    Builtin {
        name: "proxy-down",
        description: "the configured proxy does not answer (connection refused)",
        toml: r#"
name = "proxy-down"
description = "the configured proxy does not answer (connection refused)"

[proxy]
unreachable = true
"#,
    },
    Builtin {
        name: "pac",
        description: "a PAC file sends sign-in direct and everything else through the proxy",
        toml: r#"
name = "pac"
description = "a PAC file sends sign-in direct and everything else through the proxy"

[proxy]
pac = true
pac_direct = ["*.microsoftonline.com", "login.microsoft.com", "login.windows.net"]
"#,
    },
    Builtin {
        name: "pac-broken",
        description: "the PAC file throws an error, so Windows falls back to direct",
        toml: r#"
name = "pac-broken"
description = "the PAC file throws an error, so Windows falls back to direct"

[proxy]
pac = true
pac_script = """
function FindProxyForURL(url, host) {
  if (dnsDomainIs(host, ".microsoft.com")) return corporateRoute(host);
  return "PROXY {proxy}";
}
"""
"#,
    },
    Builtin {
        name: "msoid-china",
        description: "the tenant domain has the msoid CNAME meant for 21Vianet (China)",
        toml: r#"
name = "msoid-china"
description = "the tenant domain has the msoid CNAME meant for 21Vianet (China)"

[[cname]]
name = "msoid.contoso.lab"
target = "clientconfig.partner.microsoftonline-p.net.cn"
"#,
    },
    Builtin {
        name: "clock-skew",
        description: "the servers' clocks say it is 10 minutes earlier than this machine thinks",
        toml: r#"
name = "clock-skew"
description = "the servers' clocks say it is 10 minutes earlier than this machine thinks"
clock_offset_secs = -600
"#,
    },
    Builtin {
        name: "captive-portal",
        description: "a captive portal redirects Windows' connectivity probe to a login page",
        toml: r#"
name = "captive-portal"
description = "a captive portal redirects Windows' connectivity probe to a login page"
captive_portal = "redirect"
"#,
    },
];
