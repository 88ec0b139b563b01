//! WinHTTP's machine-wide default proxy, read and written through the WinHTTP API, for
//! the opt-in fix `reset-winhttp-proxy` (`src/fix`) and its undo.
//!
//! `netsh winhttp reset proxy` sets the default to "direct access"; this does the same
//! with `WinHttpSetDefaultProxyConfiguration`, after recording the previous setting with
//! `WinHttpGetDefaultProxyConfiguration` so undo can put it back. Writing needs an
//! elevated process on Windows (the setting lives under HKLM).
//!
//! The reader for the checks is `platform::proxy_windows`; this file keeps the raw access
//! type and strings instead of interpreting them, so a restore is value for value.

#![allow(unsafe_code)]

/// `WINHTTP_ACCESS_TYPE_DEFAULT_PROXY` (what some systems report for "never set").
pub const ACCESS_DEFAULT: u32 = 0;
/// `WINHTTP_ACCESS_TYPE_NO_PROXY`: direct access.
pub const ACCESS_NO_PROXY: u32 = 1;
/// `WINHTTP_ACCESS_TYPE_NAMED_PROXY`.
pub const ACCESS_NAMED_PROXY: u32 = 3;

/// The default proxy configuration as WinHTTP reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultProxy {
    pub access_type: u32,
    pub proxy: Option<String>,
    pub bypass: Option<String>,
}

impl DefaultProxy {
    /// Direct access, what `netsh winhttp reset proxy` sets.
    pub fn direct() -> DefaultProxy {
        DefaultProxy {
            access_type: ACCESS_NO_PROXY,
            proxy: None,
            bypass: None,
        }
    }

    /// Whether this means direct access (no proxy).
    pub fn is_direct(&self) -> bool {
        self.access_type != ACCESS_NAMED_PROXY && self.proxy.is_none() && self.bypass.is_none()
    }

    /// The access type WinHTTP accepts when writing: "default" (0) is written as "no proxy".
    pub fn normalised(&self) -> DefaultProxy {
        let mut v = self.clone();
        if v.access_type == ACCESS_DEFAULT {
            v.access_type = ACCESS_NO_PROXY;
        }
        v
    }

    /// "direct access" or "proxy HOST:PORT, bypass LIST", like `netsh winhttp show proxy`.
    pub fn describe(&self) -> String {
        if self.is_direct() {
            return "direct access (no proxy server)".to_owned();
        }
        let mut s = match &self.proxy {
            Some(p) => format!("proxy server {p}"),
            None => format!("access type {} without a proxy server", self.access_type),
        };
        if let Some(b) = &self.bypass {
            s.push_str(&format!(", bypass list {b}"));
        }
        s
    }
}

/// The current default configuration.
#[cfg(windows)]
pub fn get() -> Result<DefaultProxy, String> {
    api::get()
}

/// Sets the default configuration (needs elevation on Windows).
#[cfg(windows)]
pub fn set(p: &DefaultProxy) -> Result<(), String> {
    api::set(&p.normalised())
}

#[cfg(windows)]
mod api {
    use windows_sys::core::PWSTR;
    use windows_sys::Win32::Foundation::GlobalFree;
    use windows_sys::Win32::Networking::WinHttp::{
        WinHttpGetDefaultProxyConfiguration, WinHttpSetDefaultProxyConfiguration, WINHTTP_PROXY_INFO,
    };

    use super::DefaultProxy;

    /// Copies a string WinHTTP allocated and frees the original.
    ///
    /// # Safety
    /// `p` is null or a NUL-terminated UTF-16 string allocated with `GlobalAlloc`, owned by
    /// the caller and not used again.
    unsafe fn take(p: PWSTR) -> Option<String> {
        if p.is_null() {
            return None;
        }
        // SAFETY: the string is NUL-terminated (WinHTTP's contract).
        let len = (0..).take_while(|&i| unsafe { *p.add(i) } != 0).count();
        // SAFETY: `len` units were just read from this allocation.
        let text = String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(p, len) });
        // SAFETY: allocated by WinHTTP with GlobalAlloc; freed exactly once, here.
        unsafe { GlobalFree(p.cast()) };
        Some(text)
    }

    pub fn get() -> Result<DefaultProxy, String> {
        let mut info = WINHTTP_PROXY_INFO::default();
        // SAFETY: `info` is a valid, writable struct; on success WinHTTP fills its strings.
        let ok = unsafe { WinHttpGetDefaultProxyConfiguration(&mut info) };
        if ok == 0 {
            return Err(format!(
                "WinHttpGetDefaultProxyConfiguration failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: both strings come from the call above and are taken once each.
        let (proxy, bypass) = unsafe { (take(info.lpszProxy), take(info.lpszProxyBypass)) };
        Ok(DefaultProxy {
            access_type: info.dwAccessType,
            proxy: proxy.filter(|s| !s.is_empty()),
            bypass: bypass.filter(|s| !s.is_empty()),
        })
    }

    pub fn set(p: &DefaultProxy) -> Result<(), String> {
        let wide = |s: &Option<String>| {
            s.as_deref()
                .map(|s| s.encode_utf16().chain([0]).collect::<Vec<u16>>())
        };
        let mut proxy = wide(&p.proxy);
        let mut bypass = wide(&p.bypass);
        let mut info = WINHTTP_PROXY_INFO {
            dwAccessType: p.access_type,
            lpszProxy: proxy.as_mut().map_or(std::ptr::null_mut(), |v| v.as_mut_ptr()),
            lpszProxyBypass: bypass.as_mut().map_or(std::ptr::null_mut(), |v| v.as_mut_ptr()),
        };
        // SAFETY: the strings are NUL-terminated and live until after the call; WinHTTP
        // only reads them.
        let ok = unsafe { WinHttpSetDefaultProxyConfiguration(&mut info) };
        if ok == 0 {
            return Err(format!(
                "WinHttpSetDefaultProxyConfiguration failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_and_named_settings_describe_themselves() {
        assert!(DefaultProxy::direct().is_direct());
        let d = DefaultProxy {
            access_type: ACCESS_DEFAULT,
            proxy: None,
            bypass: None,
        };
        assert!(d.is_direct());
        assert_eq!(d.normalised().access_type, ACCESS_NO_PROXY);
        let named = DefaultProxy {
            access_type: ACCESS_NAMED_PROXY,
            proxy: Some("proxy.example:8080".into()),
            bypass: Some("<local>".into()),
        };
        assert!(!named.is_direct());
        assert_eq!(
            named.describe(),
            "proxy server proxy.example:8080, bypass list <local>"
        );
    }
}
