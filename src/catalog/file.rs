//! `--endpoints FILE`: a TOML catalog that extends or replaces the built-in list.
//!
//! ```toml
//! merge = "extend"            # or "replace"; default "extend"
//!
//! [[endpoint]]
//! host = "login.microsoftonline.com"
//! scheme = "https"            # "https" (default) or "http"
//! port = 443                  # default: 443 for https, 80 for http
//! path = "/"                  # default "/"
//! category = "Allow"          # optional: Optimize, Allow or Default
//! required = true             # default true
//! notes = "why it matters"    # optional
//! ```
//!
//! Unknown keys are errors: a misspelt `prot = 8443` must not silently probe port 443.

use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

use super::{validate_host, Endpoint, Merge, Scheme, Source, CATEGORIES};
use crate::model::error::{line_of, read_input, InputError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    merge: Merge,
    #[serde(default)]
    endpoint: Vec<Spanned<RawEndpoint>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    host: String,
    #[serde(default)]
    scheme: Option<Scheme>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    required: Option<bool>,
    #[serde(default)]
    notes: Option<String>,
}

/// The parsed file.
#[derive(Debug)]
pub struct EndpointFile {
    pub merge: Merge,
    pub endpoints: Vec<Endpoint>,
}

/// Reads and validates an endpoint file.
pub fn load(path: &Path) -> Result<EndpointFile, InputError> {
    let text = read_input(path)?;
    parse(path, &text)
}

/// Parses endpoint-file text; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<EndpointFile, InputError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| InputError::from_toml(path, text, &e))?;
    if raw.merge == Merge::Replace && raw.endpoint.is_empty() {
        return Err(InputError::file(
            path,
            "merge = \"replace\" with no [[endpoint]] entries would probe nothing",
        ));
    }
    let mut endpoints = Vec::with_capacity(raw.endpoint.len());
    for spanned in raw.endpoint {
        // The line is found only for an error: counting it for every entry made loading
        // quadratic in the file's size.
        let start = spanned.span().start;
        let r = spanned.into_inner();
        let at = |msg: String| InputError::at(path, line_of(text, start), msg);
        let host = r.host.trim().to_ascii_lowercase();
        validate_host(&host).map_err(at)?;
        let scheme = r.scheme.unwrap_or(Scheme::Https);
        let path_str = r.path.unwrap_or_else(|| "/".to_string());
        if !path_str.starts_with('/') {
            return Err(at(format!("path {path_str:?} must start with '/'")));
        }
        if path_str.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(at(format!(
                "path {path_str:?} contains spaces or control characters"
            )));
        }
        if let Some(cat) = &r.category {
            if !CATEGORIES.contains(&cat.as_str()) {
                return Err(at(format!(
                    "category {cat:?} is not one of Optimize, Allow, Default"
                )));
            }
        }
        let port = r.port.unwrap_or(scheme.default_port());
        if port == 0 {
            return Err(at("port 0 is not a port".to_string()));
        }
        let mut e = Endpoint::new(&host, scheme, &path_str);
        e.port = port;
        e.category = r.category;
        e.required = r.required.unwrap_or(true);
        e.notes = r.notes;
        e.source = Source::File;
        endpoints.push(e);
    }
    Ok(EndpointFile {
        merge: raw.merge,
        endpoints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("endpoints.toml")
    }

    #[test]
    fn parses_defaults_and_overrides() {
        let f = parse(
            p(),
            r#"
[[endpoint]]
host = "Contoso.sharepoint.com"

[[endpoint]]
host = "crl.example.net"
scheme = "http"
path = "/x.crl"
category = "Default"
required = false
"#,
        )
        .unwrap();
        assert_eq!(f.merge, Merge::Extend);
        assert_eq!(f.endpoints[0].host, "contoso.sharepoint.com");
        assert_eq!(f.endpoints[0].port, 443);
        assert_eq!(f.endpoints[1].port, 80);
        assert!(!f.endpoints[1].required);
        assert_eq!(f.endpoints[1].source, Source::File);
    }

    #[test]
    fn unknown_key_names_the_line() {
        let e = parse(p(), "[[endpoint]]\nhost = \"a.com\"\nprot = 8443\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("prot"), "{e}");
    }

    #[test]
    fn semantic_errors_name_the_entry_line() {
        let e = parse(
            p(),
            "[[endpoint]]\nhost = \"a.com\"\n\n[[endpoint]]\nhost = \"bad host\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        let e = parse(p(), "[[endpoint]]\nhost = \"a.com\"\npath = \"nope\"\n").unwrap_err();
        assert!(e.message.contains("must start with '/'"));
        let e = parse(p(), "[[endpoint]]\nhost = \"a.com\"\ncategory = \"Fast\"\n").unwrap_err();
        assert!(e.message.contains("Optimize"));
        let e = parse(p(), "[[endpoint]]\nhost = \"a.com\"\nport = 70000\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
    }

    #[test]
    fn replace_with_nothing_is_refused() {
        assert!(parse(p(), "merge = \"replace\"\n").is_err());
    }

    #[test]
    fn example_file_in_repo_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/endpoints.toml");
        let f = load(&path).unwrap();
        assert!(!f.endpoints.is_empty());
    }
}
