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
pub(super) const BUILTINS: [Builtin; 6] = [
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
];
