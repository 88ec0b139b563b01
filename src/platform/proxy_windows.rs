//! Windows' two proxy configurations, read through the WinHTTP API (not by parsing
//! `netsh` output, which is localised):
//!
//! - WinHTTP's machine-wide default (`netsh winhttp show proxy`), used by services and
//!   background components of Office;
//! - the signed-in user's settings (the "Internet Options" / Settings > Proxy ones, which
//!   WinINet and browsers use), including a PAC URL and WPAD auto-detection.
//!
//! The user's settings come from a call that fills a C struct with strings the caller
//! must free with `GlobalFree`, hence the `unsafe` here; the machine-wide default is read
//! through `platform::windows::winhttp_proxy`, which the WinHTTP proxy fix also uses.

#![allow(unsafe_code)]

use windows_sys::core::PWSTR;
use windows_sys::Win32::Foundation::GlobalFree;
use windows_sys::Win32::Networking::WinHttp::{
    WinHttpGetIEProxyConfigForCurrentUser, WINHTTP_CURRENT_USER_IE_PROXY_CONFIG,
};

use super::proxy::ProxySetting;

/// Takes a string WinHTTP allocated: copies it and frees the original.
///
/// # Safety
/// `p` is null or a NUL-terminated UTF-16 string allocated with `GlobalAlloc`, owned by
/// the caller and not used again.
unsafe fn take(p: PWSTR) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let mut len = 0;
    // SAFETY: the string is NUL-terminated (WinHTTP's contract).
    while unsafe { *p.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` UTF-16 units were just read from this allocation.
    let text = String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(p, len) });
    // SAFETY: allocated by WinHTTP with GlobalAlloc; freed exactly once, here.
    unsafe { GlobalFree(p.cast()) };
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// WinHTTP's machine-wide default proxy, read by the same call the WinHTTP proxy fix uses
/// (`platform::windows::winhttp_proxy`).
pub fn winhttp_default() -> Result<ProxySetting, String> {
    use crate::platform::windows::winhttp_proxy::{self, ACCESS_NAMED_PROXY};
    let p = winhttp_proxy::get()?;
    let trim = |s: Option<String>| s.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let (proxy, bypass) = (trim(p.proxy), trim(p.bypass));
    let named = p.access_type == ACCESS_NAMED_PROXY;
    Ok(ProxySetting::from_windows(
        if named { proxy.as_deref() } else { None },
        bypass.as_deref(),
        None,
        false,
    ))
}

/// The signed-in user's proxy settings (manual proxy, PAC URL, auto-detect).
pub fn current_user() -> Result<ProxySetting, String> {
    let mut config = WINHTTP_CURRENT_USER_IE_PROXY_CONFIG::default();
    // SAFETY: `config` is a valid, writable struct; on success WinHTTP fills its strings.
    let ok = unsafe { WinHttpGetIEProxyConfigForCurrentUser(&mut config) };
    if ok == 0 {
        return Err(format!(
            "WinHttpGetIEProxyConfigForCurrentUser failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: the three strings come from the call above and are taken once each.
    let (pac, proxy, bypass) = unsafe {
        (
            take(config.lpszAutoConfigUrl),
            take(config.lpszProxy),
            take(config.lpszProxyBypass),
        )
    };
    Ok(ProxySetting::from_windows(
        proxy.as_deref(),
        bypass.as_deref(),
        pac,
        config.fAutoDetect != 0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calls work on this machine (or under Wine): whatever the settings, they come
    /// back as facts rather than errors, and describe themselves without panicking.
    #[test]
    fn both_configurations_can_be_read() {
        let machine = winhttp_default().expect("WinHTTP default proxy");
        let user = current_user().expect("current user's proxy settings");
        assert!(!machine.describe().is_empty());
        assert!(!user.describe().is_empty());
    }
}
