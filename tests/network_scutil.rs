//! macOS proxy settings: `scutil --proxy` output (captured from real machines' shapes) read
//! into the same settings the other sources give, and the routes they lead to.

mod support;

use m365mon::platform::proxy::{parse_scutil, ProxySetting};
use m365mon::route::discovery::settings_of;
use m365mon::route::RouteSettings;

fn fixture(name: &str) -> String {
    support::files::read_fixture("fixtures/scutil", name)
}

#[test]
fn manual_proxies_with_ports_and_exceptions() {
    let s = parse_scutil(&fixture("manual-proxy.txt"));
    assert_eq!(s.https.as_deref(), Some("secure-proxy.contoso.com:8443"));
    assert_eq!(s.http.as_deref(), Some("proxy.contoso.com:8080"));
    assert_eq!(s.bypass.as_deref(), Some("*.local, 169.254/16, *.contoso.com"));
    assert_eq!(s.pac_url, None);
    assert!(!s.auto_detect);
    let RouteSettings::Static { routes, .. } = settings_of(&s, "scutil").unwrap() else {
        panic!("static routes expected")
    };
    assert_eq!(
        routes.https.unwrap().describe(),
        "PROXY secure-proxy.contoso.com:8443"
    );
    assert!(routes.bypass.matches("intranet.contoso.com"));
    assert!(!routes.bypass.matches("login.microsoftonline.com"));
}

#[test]
fn pac_url_and_auto_discovery() {
    let s = parse_scutil(&fixture("pac.txt"));
    assert_eq!(s.pac_url.as_deref(), Some("http://wpad.contoso.com/proxy.pac"));
    assert!(s.auto_detect);
    assert_eq!((s.https.as_deref(), s.http.as_deref()), (None, None));
    assert!(
        matches!(settings_of(&s, "scutil").unwrap(), RouteSettings::Pac { url, .. } if url == "http://wpad.contoso.com/proxy.pac")
    );
}

#[test]
fn no_proxy_is_direct() {
    let s = parse_scutil(&fixture("direct.txt"));
    assert!(s.is_direct(), "{s:?}");
    assert_eq!(settings_of(&s, "scutil").unwrap(), RouteSettings::Direct);
}

#[test]
fn disabled_entries_are_ignored_even_when_filled_in() {
    let s = parse_scutil(&fixture("disabled-but-filled.txt"));
    assert_eq!(s, ProxySetting::default());
}

#[test]
fn garbage_gives_no_proxy_rather_than_a_panic() {
    for text in [
        "",
        "not scutil output",
        "<dictionary> {\n  HTTPSEnable : 1\n",
        "}}}} : : :",
    ] {
        let s = parse_scutil(text);
        assert!(s.is_direct(), "{text:?} -> {s:?}");
    }
}
