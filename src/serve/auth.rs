//! Who may read the exporter: open on loopback, a bearer token beyond it.
//!
//! The state names every endpoint this machine cannot reach and why: on a shared network
//! that is reconnaissance material, so listening on anything but loopback requires a token.
//! When none is given, one is generated for the run and printed once, so the safe setting
//! costs nothing. Prometheus sends it with `authorization: {credentials: TOKEN}` in its
//! scrape config; `m365mon attach --token` sends it too.

use std::fmt;
use std::net::SocketAddr;

/// Whether requests need a token.
#[derive(Clone, PartialEq, Eq)]
pub enum Access {
    /// Anyone who can connect may read (loopback only, unless asked for).
    Open,
    /// Requests must carry `Authorization: Bearer TOKEN`.
    Token(String),
}

impl fmt::Debug for Access {
    // The token never reaches a log line through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Access::Open => f.write_str("Open"),
            Access::Token(_) => f.write_str("Token(..)"),
        }
    }
}

/// The access rule for a listen address: the given token if any; else open on loopback,
/// and a freshly generated token beyond it. The flag says whether the token was generated
/// (and so must be shown to the user once).
pub fn access_for(listen: &SocketAddr, token: Option<String>) -> Result<(Access, bool), TokenError> {
    match token {
        Some(t) => Ok((Access::Token(check_token(t)?), false)),
        None if listen.ip().is_loopback() => Ok((Access::Open, false)),
        None => Ok((Access::Token(generate_token()?), true)),
    }
}

/// A token the user gave that cannot work, or no randomness to make one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is empty")]
    Empty,
    #[error("the token must be printable ASCII without spaces (it travels in an HTTP header)")]
    NotPrintable,
    #[error("the token is {0} characters long; use at least 16 so it cannot be guessed")]
    TooShort(usize),
    #[error("cannot generate a token: the system's random number source failed")]
    NoRandomness,
}

/// The shortest token accepted: below this a token can be guessed over the network.
pub const MIN_TOKEN_LEN: usize = 16;

fn check_token(t: String) -> Result<String, TokenError> {
    if t.is_empty() {
        return Err(TokenError::Empty);
    }
    if !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenError::NotPrintable);
    }
    if t.len() < MIN_TOKEN_LEN {
        return Err(TokenError::TooShort(t.len()));
    }
    Ok(t)
}

/// 32 hex characters (128 bits) from the operating system's random source, through the
/// crypto provider already linked for TLS (no extra dependency).
pub fn generate_token() -> Result<String, TokenError> {
    let mut bytes = [0u8; 16];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| TokenError::NoRandomness)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares two byte strings in time that depends only on their lengths, so a network
/// client cannot find the token one character at a time by timing the 401s.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Access {
    /// Whether a request with this `Authorization` header value may read.
    pub fn allows(&self, authorization: Option<&[u8]>) -> bool {
        match self {
            Access::Open => true,
            Access::Token(token) => authorization
                .and_then(bearer)
                .is_some_and(|given| constant_time_eq(given, token.as_bytes())),
        }
    }
}

/// The credentials of a `Bearer` authorization header (scheme case-insensitive).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let value = value.trim_ascii();
    let (scheme, rest) = value.split_at(value.iter().position(|&b| b == b' ')?);
    scheme.eq_ignore_ascii_case(b"bearer").then(|| rest.trim_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_bytes_and_lengths() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"Abc"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
    }

    #[test]
    fn generated_tokens_are_32_hex_and_differ() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{a}"
        );
        assert_ne!(a, b);
    }

    #[test]
    fn loopback_is_open_and_anything_else_gets_a_token() {
        let lo: SocketAddr = "127.0.0.1:9365".parse().unwrap();
        let lo6: SocketAddr = "[::1]:9365".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:9365".parse().unwrap();
        let lan: SocketAddr = "192.168.1.10:9365".parse().unwrap();
        assert_eq!(access_for(&lo, None).unwrap(), (Access::Open, false));
        assert_eq!(access_for(&lo6, None).unwrap(), (Access::Open, false));
        for addr in [any, lan] {
            let (access, generated) = access_for(&addr, None).unwrap();
            assert!(generated);
            assert!(matches!(access, Access::Token(ref t) if t.len() == 32));
        }
        let given = "0123456789abcdef-given".to_string();
        assert_eq!(
            access_for(&any, Some(given.clone())).unwrap(),
            (Access::Token(given.clone()), false)
        );
        // A token given for loopback is enforced too.
        assert_eq!(
            access_for(&lo, Some(given.clone())).unwrap().0,
            Access::Token(given)
        );
    }

    #[test]
    fn unusable_tokens_are_refused() {
        let any: SocketAddr = "0.0.0.0:1".parse().unwrap();
        assert_eq!(access_for(&any, Some(String::new())), Err(TokenError::Empty));
        assert_eq!(
            access_for(&any, Some("short".into())),
            Err(TokenError::TooShort(5))
        );
        assert_eq!(
            access_for(&any, Some("with a space in it!!".into())),
            Err(TokenError::NotPrintable)
        );
    }

    #[test]
    fn bearer_header_is_checked() {
        let access = Access::Token("0123456789abcdef".into());
        assert!(access.allows(Some(b"Bearer 0123456789abcdef")));
        assert!(access.allows(Some(b"bearer  0123456789abcdef ")));
        assert!(!access.allows(None));
        assert!(!access.allows(Some(b"Bearer 0123456789abcdeF")));
        assert!(!access.allows(Some(b"Basic 0123456789abcdef")));
        assert!(!access.allows(Some(b"0123456789abcdef")));
        assert!(!access.allows(Some(b"Bearer")));
        assert!(Access::Open.allows(None));
        assert_eq!(format!("{access:?}"), "Token(..)");
    }
}
