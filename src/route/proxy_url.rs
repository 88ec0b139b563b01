//! A proxy's address and credentials, as configured.
//!
//! Proxy credentials are kept out of every `Debug`, `Display` and report text: only
//! [`ProxyAuth::header_value`] ever produces them, for the wire.

use std::fmt;

use crate::http::base64_encode;
use crate::http::url::{percent_decode, redact_credentials, split_host_port};

/// A proxy's address as configured: a host name or IP literal, and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyServer {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for ProxyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Basic credentials for a proxy. Neither `Debug` nor any other text shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyAuth {
    user: String,
    password: String,
}

impl ProxyAuth {
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The `Proxy-Authorization` header value: the only place the secret is written.
    pub fn header_value(&self) -> String {
        format!(
            "Basic {}",
            base64_encode(format!("{}:{}", self.user, self.password).as_bytes())
        )
    }
}

impl fmt::Debug for ProxyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProxyAuth(<credentials>)")
    }
}

/// Parses a proxy URL as found in `HTTPS_PROXY`, `--proxy` or a settings dialog:
/// `http://[user:password@]host[:port][/]`, or `host:port` without a scheme.
///
/// Only plain-HTTP proxies are supported: that is what Windows, macOS and PAC files hand
/// to Office for Microsoft 365 traffic. The error text never contains the credentials.
pub fn parse_proxy_url(text: &str) -> Result<(ProxyServer, Option<ProxyAuth>), String> {
    let shown = redact_credentials(text.trim());
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the proxy address is empty".into());
    }
    let rest = match trimmed.split_once("://") {
        Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
            "http" => rest,
            "https" => {
                return Err(format!(
                    "{shown}: proxies reached over TLS (https://) are not supported; give the proxy's http:// address"
                ))
            }
            s if s.starts_with("socks") => {
                return Err(format!("{shown}: SOCKS proxies are not supported, only HTTP proxies"))
            }
            other => return Err(format!("{shown}: unknown proxy scheme {other:?} (expected http://)")),
        },
        None => trimmed,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport).map_err(|why| format!("{shown}: {why}"))?;
    let auth = userinfo.map(|u| {
        let (user, password) = u.split_once(':').unwrap_or((u, ""));
        ProxyAuth::new(percent_decode(user), percent_decode(password))
    });
    Ok((
        ProxyServer {
            host,
            port: port.unwrap_or(80),
        },
        auth,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_parse_in_their_common_shapes() {
        let (s, a) = parse_proxy_url("http://proxy.contoso.com:8080/").unwrap();
        assert_eq!((s.host.as_str(), s.port, a), ("proxy.contoso.com", 8080, None));
        let (s, a) = parse_proxy_url("10.0.0.1:3128").unwrap();
        assert_eq!((s.to_string(), a.is_none()), ("10.0.0.1:3128".to_string(), true));
        let (s, _) = parse_proxy_url("HTTP://Proxy").unwrap();
        assert_eq!(s.to_string(), "proxy:80");
        let (s, _) = parse_proxy_url("http://[::1]:8080").unwrap();
        assert_eq!(s.to_string(), "[::1]:8080");
        let (_, a) = parse_proxy_url("http://bob:p%40ss@proxy:8080").unwrap();
        assert_eq!(a.unwrap(), ProxyAuth::new("bob", "p@ss"));
    }

    #[test]
    fn unsupported_or_broken_proxy_urls_say_why_without_the_secret() {
        for (url, why) in [
            ("https://bob:S3cret@proxy:443", "not supported"),
            ("socks5://proxy:1080", "SOCKS"),
            ("http://bob:S3cret@proxy:99999", "not a port"),
            ("http://bob:S3cret@", "no host"),
            ("ftp://proxy", "unknown proxy scheme"),
            ("", "empty"),
        ] {
            let e = parse_proxy_url(url).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
            assert!(!e.contains("S3cret") && !e.contains("bob"), "{e}");
        }
    }

    #[test]
    fn basic_header_is_rfc_7617() {
        assert_eq!(
            ProxyAuth::new("Aladdin", "open sesame").header_value(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
