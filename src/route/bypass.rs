//! Hosts that skip the proxy, and the shell-style patterns bypass lists and PAC files use.

use std::net::IpAddr;

/// Hosts that go direct even when a proxy is set: `NO_PROXY`, WinINet's `ProxyOverride`,
/// macOS's `ExceptionsList`, in their common shapes (`*`, `.suffix`, `suffix`, `*.suffix`,
/// `<local>` for names without a dot, exact IP addresses).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bypass {
    patterns: Vec<String>,
}

impl Bypass {
    /// Parses a list separated by commas, semicolons or spaces.
    pub fn parse(list: &str) -> Self {
        let patterns = list
            .split([',', ';', ' ', '\t', '\n'])
            .map(|p| p.trim().to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        Self { patterns }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns, for display.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `host` skips the proxy.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.patterns.iter().any(|p| bypass_matches(p, &host))
    }
}

fn bypass_matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if pattern == "<local>" {
        return !host.contains('.');
    }
    // An IP pattern with a port or CIDR is not worth guessing at: exact addresses only.
    if pattern.parse::<IpAddr>().is_ok() {
        return pattern == host;
    }
    let pattern = pattern.split(':').next().unwrap_or(pattern);
    let suffix = pattern.trim_start_matches('*').trim_start_matches('.');
    if suffix.is_empty() {
        return false;
    }
    if pattern.contains('*') && !pattern.starts_with('*') {
        // Shell-style patterns in the middle (WinINet allows "10.*"): a simple glob.
        return glob(pattern, host);
    }
    host == suffix || host.ends_with(&format!(".{suffix}"))
}

/// `*` matches any run of characters, `?` one character; case already folded.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bypass_lists() {
        let b = Bypass::parse("localhost, .contoso.com;*.lab.test 10.1.2.3 <local> 192.168.*");
        assert!(b.matches("localhost"));
        assert!(b.matches("intranet"), "<local>: no dot");
        assert!(b.matches("contoso.com") && b.matches("www.contoso.com") && !b.matches("notcontoso.com"));
        assert!(b.matches("a.lab.test") && !b.matches("lab.tester"));
        assert!(b.matches("10.1.2.3") && !b.matches("10.1.2.30"));
        assert!(b.matches("192.168.0.9"));
        assert!(!b.matches("login.microsoftonline.com"));
        assert!(Bypass::parse("*").matches("anything.example"));
        assert!(Bypass::parse("").is_empty());
    }

    #[test]
    fn glob_matches_shell_patterns() {
        assert!(glob("*.microsoft.com", "login.microsoft.com"));
        assert!(!glob("*.microsoft.com", "microsoft.com"));
        assert!(glob("10.?.*", "10.1.2.3"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "ac"));
    }
}
