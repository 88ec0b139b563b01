//! `--redact`: reports that can leave the organisation. User names, UPNs, host names,
//! customer domain names and proxy credentials are replaced by placeholders, consistently —
//! the same name always becomes the same placeholder, so the report still reads ("the
//! proxy <host-2> refused ...") without saying who or where.
//!
//! Microsoft's own host names are public and stay as they are: they are the point of the
//! report.

use std::collections::BTreeMap;

use crate::engine::Snapshot;

/// Domains that are never redacted: Microsoft's public endpoints and the lab's names.
const PUBLIC_SUFFIXES: &[&str] = &[
    "microsoft.com",
    "microsoftonline.com",
    "microsoftonline-p.net.cn",
    "windows.net",
    "live.com",
    "office.com",
    "office365.com",
    "office.net",
    "msauth.net",
    "msauthimages.net",
    "aspnetcdn.com",
    "msftconnecttest.com",
    "msftncsi.com",
    "digicert.com",
    "onmicrosoft.com",
];

/// Replaces sensitive names with stable placeholders.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    /// secret -> placeholder
    names: BTreeMap<String, String>,
    counters: BTreeMap<&'static str, usize>,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn is_public(domain: &str) -> bool {
    let d = domain.to_ascii_lowercase();
    PUBLIC_SUFFIXES
        .iter()
        .any(|s| d == *s || d.ends_with(&format!(".{s}")))
}

impl Redactor {
    /// A redactor primed with the names a snapshot is known to carry.
    pub fn for_snapshot(s: &Snapshot) -> Self {
        let mut r = Redactor::default();
        if !s.host.hostname.is_empty() {
            r.add("host", &s.host.hostname);
        }
        if let Some(user) = &s.host.user {
            // DOMAIN\user: both halves are sensitive.
            if let Some((dom, name)) = user.split_once('\\') {
                r.add("domain", dom);
                r.add("user", name);
            }
            r.add("user", user);
        }
        r
    }

    /// Registers a sensitive name of a kind (`host`, `user`, `domain`, `upn`).
    pub fn add(&mut self, kind: &'static str, secret: &str) -> String {
        let key = secret.to_string();
        if let Some(p) = self.names.get(&key) {
            return p.clone();
        }
        let n = self.counters.entry(kind).or_insert(0);
        *n += 1;
        let placeholder = format!("<{kind}-{n}>");
        self.names.insert(key, placeholder.clone());
        placeholder
    }

    /// Redacts a text: credentials in URLs, UPNs and e-mail addresses, then every
    /// registered name where it stands as a whole word.
    pub fn apply(&mut self, text: &str) -> String {
        let text = strip_url_credentials(text);
        let text = self.replace_upns(&text);
        let mut names: Vec<(String, String)> =
            self.names.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        // Longest first, so "host.contoso.com" goes before "host".
        names.sort_by_key(|b| std::cmp::Reverse(b.0.len()));
        let mut out = text;
        for (secret, placeholder) in names {
            out = replace_word(&out, &secret, &placeholder);
        }
        out
    }

    fn replace_upns(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '@' {
                // local part backwards
                let mut start = out.len();
                let out_chars: Vec<char> = out.chars().collect();
                let mut k = out_chars.len();
                while k > 0
                    && (is_name_char(out_chars[k - 1]) || out_chars[k - 1] == '.' || out_chars[k - 1] == '+')
                {
                    k -= 1;
                }
                if k < out_chars.len() {
                    start = out_chars[..k].iter().map(|c| c.len_utf8()).sum();
                }
                // domain forwards
                let mut j = i + 1;
                while j < chars.len() && (is_name_char(chars[j]) || chars[j] == '.') {
                    j += 1;
                }
                let domain: String = chars[i + 1..j]
                    .iter()
                    .collect::<String>()
                    .trim_end_matches('.')
                    .to_string();
                let local = out[start..].to_string();
                if !local.is_empty() && domain.contains('.') {
                    let upn = format!("{local}@{domain}");
                    let p = self.add("upn", &upn);
                    if !is_public(&domain) {
                        self.add("domain", &domain);
                    }
                    out.truncate(start);
                    out.push_str(&p);
                    i += 1 + domain.chars().count();
                    continue;
                }
            }
            out.push(chars[i]);
            i += 1;
        }
        out
    }
}

/// `http://user:secret@proxy:8080` -> `http://<credentials>@proxy:8080`.
pub fn strip_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '/' || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        if let Some(at) = authority.rfind('@') {
            out.push_str("<credentials>");
            out.push_str(&authority[at..]);
        } else {
            out.push_str(authority);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Replaces `word` where it is not part of a longer name.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    if word.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(word) {
        let before = rest[..pos].chars().next_back();
        let after = rest[pos + word.len()..].chars().next();
        let bounded = !before.is_some_and(is_name_char) && !after.is_some_and(is_name_char);
        out.push_str(&rest[..pos]);
        out.push_str(if bounded { with } else { word });
        rest = &rest[pos + word.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::HostInfo;

    fn snap() -> Snapshot {
        Snapshot {
            host: HostInfo {
                hostname: "PC-0042".into(),
                user: Some("CONTOSO\\alice".into()),
                os: "Windows 11".into(),
                instance: "worldwide".into(),
                lab: None,
            },
            ..Default::default()
        }
    }

    #[test]
    fn names_become_stable_placeholders() {
        let mut r = Redactor::for_snapshot(&snap());
        let out = r.apply(
            "PC-0042 signed in as alice@contoso.com; alice@contoso.com again on PC-0042 (CONTOSO\\alice)",
        );
        assert!(
            !out.contains("PC-0042") && !out.contains("alice") && !out.contains("contoso"),
            "{out}"
        );
        assert_eq!(out.matches("<upn-1>").count(), 2, "{out}");
        assert_eq!(out.matches("<host-1>").count(), 2, "{out}");
    }

    #[test]
    fn microsoft_hosts_stay() {
        let mut r = Redactor::for_snapshot(&snap());
        let out = r.apply("activation.sls.microsoft.com failed; PC-0042-backup is another machine");
        assert!(out.contains("activation.sls.microsoft.com"));
        assert!(out.contains("PC-0042-backup"), "whole words only: {out}");
    }

    #[test]
    fn proxy_credentials_never_survive() {
        let out = strip_url_credentials(
            "proxy http://bob:S3cret!@proxy.contoso.com:8080/ and https://login.microsoftonline.com/x",
        );
        assert!(!out.contains("S3cret") && !out.contains("bob"), "{out}");
        assert!(out.contains("http://<credentials>@proxy.contoso.com:8080/"));
        assert!(out.contains("https://login.microsoftonline.com/x"));
    }
}
