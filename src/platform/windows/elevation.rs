//! Whether this process runs elevated ("Run as administrator"), so a fix that writes
//! machine-wide settings can say so before it starts instead of failing midway with
//! "access denied" and rolling back.

#![allow(unsafe_code)]

/// `true` when the process token is elevated (`TokenElevation`).
#[cfg(windows)]
pub fn is_elevated() -> Result<bool, String> {
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::Security::{GetTokenInformation, TokenElevation, TOKEN_ELEVATION, TOKEN_QUERY};
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: GetCurrentProcess returns a pseudo handle that needs no closing; `token` is
    // a valid out pointer.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(format!("OpenProcessToken: {}", std::io::Error::last_os_error()));
    }
    let mut elevation = TOKEN_ELEVATION { TokenIsElevated: 0 };
    let mut len = 0u32;
    // SAFETY: the buffer is a TOKEN_ELEVATION of the size passed; `token` is open.
    let ok = unsafe {
        GetTokenInformation(
            token,
            TokenElevation,
            (&mut elevation as *mut TOKEN_ELEVATION).cast(),
            std::mem::size_of::<TOKEN_ELEVATION>() as u32,
            &mut len,
        )
    };
    let error = std::io::Error::last_os_error();
    // SAFETY: `token` was opened above and is closed once.
    unsafe { CloseHandle(token) };
    if ok == 0 {
        return Err(format!("GetTokenInformation(TokenElevation): {error}"));
    }
    Ok(elevation.TokenIsElevated != 0)
}

#[cfg(all(test, windows))]
mod tests {
    #[test]
    fn the_token_answers() {
        // Under Wine the answer depends on its prefix; what matters is that the call works.
        let elevated = super::is_elevated();
        assert!(elevated.is_ok(), "{elevated:?}");
    }
}
