//! URLs as configured by people: proxy and PAC addresses, with or without credentials.
//!
//! Proxy settings may carry `user:password@`; [`redact_credentials`] is what every text
//! that shows one goes through.

/// Splits `host[:port]` (`[v6]:port` for IPv6) and checks the host's characters.
pub fn split_host_port(text: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or("unclosed [ in the IPv6 address")?;
        (h, after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err("no host name".into());
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':');
    if !host.chars().all(ok) {
        return Err(format!("{host:?} is not a host name or IP address"));
    }
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or(format!("{p:?} is not a port number"))?,
        ),
    };
    Ok((host.to_ascii_lowercase(), port))
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Replaces the `user:password@` part of every URL in `text` by `<credentials>@`, so a
/// proxy setting can be shown, logged or reported.
pub fn redact_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | ';' | ',' | '>'))
            .unwrap_or(after.len());
        match after[..end].rfind('@') {
            Some(at) => {
                out.push_str("<credentials>@");
                rest = &after[at + 1..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// Splits an `http://host[:port]/path` URL (what PAC URLs look like); an error for other
/// schemes.
pub fn split_http_url(url: &str) -> Result<(String, u16, String), String> {
    let shown = redact_credentials(url);
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("HTTP://"))
        .ok_or_else(|| format!("{shown}: only http:// URLs can be fetched here"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let (host, port) = split_host_port(authority).map_err(|why| format!("{shown}: {why}"))?;
    Ok((host, port.unwrap_or(80), path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_in_any_text() {
        assert_eq!(
            redact_credentials("HTTPS_PROXY=http://alice:Hunter2!@proxy:8080 and http://plain/x"),
            "HTTPS_PROXY=http://<credentials>@proxy:8080 and http://plain/x"
        );
    }

    #[test]
    fn http_urls_split() {
        assert_eq!(
            split_http_url("http://127.0.0.1:8080/proxy.pac").unwrap(),
            ("127.0.0.1".into(), 8080, "/proxy.pac".into())
        );
        assert_eq!(
            split_http_url("http://wpad").unwrap(),
            ("wpad".into(), 80, "/".into())
        );
        assert!(split_http_url("file:///etc/proxy.pac").is_err());
    }
}
