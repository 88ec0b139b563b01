//! `--ms-endpoints FILE`: the JSON that Microsoft's "Microsoft 365 IP Address and URL web
//! service" returns from `/endpoints/{instance}`.
//! (<https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-ip-web-service>)
//!
//! Each endpoint set lists URLs (some of them wildcards) with ports, a category and a
//! `required` flag. One catalog entry is made per URL. Concrete hosts whose ports include
//! 443 (or only 80) are probed; wildcards and non-web ports (SMTP, IMAP) are listed only.

use serde::Deserialize;
use std::path::Path;

use super::{validate_host, Endpoint, Scheme, Source, CATEGORIES};
use crate::model::error::{line_of, read_input, InputError};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EndpointSet {
    id: u32,
    #[serde(default)]
    service_area: Option<String>,
    #[serde(default)]
    urls: Vec<String>,
    #[serde(default)]
    tcp_ports: Option<String>,
    category: String,
    required: bool,
    #[serde(default)]
    notes: Option<String>,
    // Known fields we do not use, accepted so that a real file parses.
    #[serde(default)]
    #[allow(dead_code)]
    service_area_display_name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    ips: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    udp_ports: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    express_route: Option<bool>,
}

/// Reads the file and returns one endpoint per URL, in file order.
pub fn load(path: &Path) -> Result<Vec<Endpoint>, InputError> {
    let text = read_input(path)?;
    parse(path, &text)
}

/// Parses web-service JSON; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Endpoint>, InputError> {
    // Files saved by Windows tools (PowerShell's `Out-File`, Notepad) start with a UTF-8
    // byte order mark, which JSON does not allow; it is not part of the data.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let sets: Vec<EndpointSet> = serde_json::from_str(text).map_err(|e| InputError::from_json(path, &e))?;
    if sets.is_empty() {
        return Err(InputError::file(
            path,
            "no endpoint sets in the file (expected a JSON array of sets)",
        ));
    }
    let mut out = Vec::new();
    for set in sets {
        // The set's line is searched for only when it has an error: searching it for every
        // set made loading quadratic in the file's size.
        let id = set.id;
        let at = |msg: String| {
            let line = find_line(text, &format!("\"id\": {id}"))
                .or_else(|| find_line(text, &format!("\"id\":{id}")))
                .unwrap_or(1);
            InputError::at(path, line, format!("endpoint set {id}: {msg}"))
        };
        if !CATEGORIES.contains(&set.category.as_str()) {
            return Err(at(format!(
                "category {:?} is not one of Optimize, Allow, Default",
                set.category
            )));
        }
        let ports = match &set.tcp_ports {
            Some(p) => parse_ports(p).map_err(at)?,
            None => Vec::new(),
        };
        for url in &set.urls {
            let host = url.trim().to_ascii_lowercase();
            validate_host(&host).map_err(|m| at(format!("url {url:?}: {m}")))?;
            let (scheme, port, probe_reason) = if ports.contains(&443) {
                (Scheme::Https, 443, None)
            } else if ports.contains(&80) {
                (Scheme::Http, 80, None)
            } else if ports.is_empty() {
                (Scheme::Https, 443, Some("no TCP ports listed".to_string()))
            } else {
                let p = ports[0];
                (
                    Scheme::Https,
                    p,
                    Some(format!(
                        "TCP port {} is not HTTP(S): listed only",
                        set.tcp_ports.as_deref().unwrap_or("")
                    )),
                )
            };
            let mut e = Endpoint::new(&host, scheme, "/");
            e.port = port;
            e.category = Some(set.category.clone());
            e.required = set.required;
            e.source = Source::Microsoft;
            e.ms_ids = vec![set.id];
            e.service_area = set.service_area.clone();
            e.tcp_ports = set.tcp_ports.clone();
            e.notes = set.notes.clone();
            if let Some(reason) = probe_reason {
                if e.probe {
                    e.probe = false;
                    e.skip_reason = Some(reason);
                }
            }
            out.push(e);
        }
    }
    Ok(out)
}

/// Parses `"80,443"` or `"3478-3481"` into a list of ports (ranges expanded up to 64).
fn parse_ports(s: &str) -> Result<Vec<u16>, String> {
    let port = |p: &str| match p.trim().parse::<u16>() {
        Ok(0) => Err(format!("tcpPorts {s:?}: 0 is not a port (ports are 1-65535)")),
        Ok(p) => Ok(p),
        Err(_) => Err(format!(
            "tcpPorts {s:?}: {:?} is not a port (ports are 1-65535)",
            p.trim()
        )),
    };
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (port(a)?, port(b)?);
            if a > b || b - a > 1024 {
                return Err(format!("tcpPorts {s:?}: bad range {part:?}"));
            }
            out.extend(a..=b);
        } else {
            out.push(port(part)?);
        }
    }
    Ok(out)
}

fn find_line(text: &str, needle: &str) -> Option<usize> {
    // Match the id exactly: "id": 1 must not match "id": 12.
    let mut from = 0;
    while let Some(i) = text[from..].find(needle) {
        let end = from + i + needle.len();
        if !text[end..].starts_with(|c: char| c.is_ascii_digit()) {
            return Some(line_of(text, from + i));
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse() {
        assert_eq!(parse_ports("80,443").unwrap(), vec![80, 443]);
        assert_eq!(parse_ports("3478-3481").unwrap(), vec![3478, 3479, 3480, 3481]);
        assert!(parse_ports("80,x").is_err());
        for bad in ["0", "80,0", "0-10", "65536", "443,99999", "-1"] {
            let e = parse_ports(bad).unwrap_err();
            assert!(e.contains("1-65535"), "{bad}: {e}");
        }
    }

    #[test]
    fn imports_a_small_set() {
        let text = r#"[
  {"id": 9, "serviceArea": "Common", "urls": ["*.officeapps.live.com", "login.microsoftonline.com"],
   "tcpPorts": "80,443", "category": "Allow", "required": true},
  {"id": 10, "serviceArea": "Exchange", "urls": ["smtp.office365.com"], "tcpPorts": "587",
   "category": "Default", "required": false}
]"#;
        let v = parse(Path::new("x.json"), text).unwrap();
        assert_eq!(v.len(), 3);
        assert!(v[0].wildcard && !v[0].probe);
        assert!(v[1].probe && v[1].scheme == Scheme::Https);
        assert_eq!(v[1].ms_ids, vec![9]);
        assert!(!v[2].probe, "SMTP is listed, not probed");
        assert_eq!(v[2].port, 587);
    }

    #[test]
    fn bad_category_names_the_sets_line() {
        let text = "[\n {\"id\": 1, \"urls\": [\"a.com\"], \"category\": \"Allow\", \"required\": true},\n {\"id\": 12,\n \"urls\": [\"b.com\"], \"category\": \"Fast\", \"required\": true}\n]";
        let e = parse(Path::new("x.json"), text).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("Fast"));
    }

    #[test]
    fn a_byte_order_mark_is_accepted_and_a_zero_port_is_refused_at_its_line() {
        let text = "\u{feff}[\n {\"id\": 4, \"urls\": [\"a.com\"], \"tcpPorts\": \"443\", \"category\": \"Allow\", \"required\": true}\n]";
        assert_eq!(parse(Path::new("x.json"), text).unwrap()[0].host, "a.com");
        let text = "[\n {\"id\": 4, \"urls\": [\"a.com\"], \"category\": \"Allow\", \"required\": true},\n {\"id\": 5, \"urls\": [\"b.com\"], \"tcpPorts\": \"0\", \"category\": \"Allow\", \"required\": true}\n]";
        let e = parse(Path::new("x.json"), text).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(
            e.to_string()
                .starts_with("x.json:3: endpoint set 5: tcpPorts \"0\""),
            "{e}"
        );
    }

    #[test]
    fn syntax_error_names_the_line() {
        let e = parse(Path::new("x.json"), "[\n{\"id\": 1,\n \"urls\": [}\n]").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
    }
}
