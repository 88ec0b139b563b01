//! Whether this "Windows" is Wine, and which version.
//!
//! Wine has no sign-in broker, no `dsregcmd` and no Entra ID event log. Checks that look
//! for those say so instead of reporting a broken Windows, and the report names Wine as
//! the platform. Wine's `ntdll.dll` exports `wine_get_version`; Windows' never does, so
//! that export is the accepted test.

#![allow(unsafe_code)]

/// Wine's version (e.g. "8.0") when running under Wine; `None` on Windows and elsewhere.
#[cfg(windows)]
pub fn version() -> Option<String> {
    use std::ffi::{c_char, CStr};
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};

    let ntdll: Vec<u16> = "ntdll.dll".encode_utf16().chain([0]).collect();
    // SAFETY: ntdll.dll is mapped into every Windows process; the name is NUL-terminated.
    let module = unsafe { GetModuleHandleW(ntdll.as_ptr()) };
    if module.is_null() {
        return None;
    }
    // SAFETY: the export name is a NUL-terminated byte string.
    let proc = unsafe { GetProcAddress(module, c"wine_get_version".as_ptr().cast()) }?;
    // SAFETY: Wine documents `const char *wine_get_version(void)`, returning a static string.
    let get = unsafe {
        std::mem::transmute::<unsafe extern "system" fn() -> isize, unsafe extern "C" fn() -> *const c_char>(
            proc,
        )
    };
    // SAFETY: see above; the pointer is checked for null before it is read.
    let ptr = unsafe { get() };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: a static NUL-terminated string owned by Wine.
    Some(unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
}

/// Not Windows, so not Wine either.
#[cfg(not(windows))]
pub fn version() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    /// Cross-checks the export with the registry key every Wine prefix has (and Windows
    /// does not): under Wine — where the Windows tier runs these tests — both must say
    /// Wine; on Windows both must say not.
    #[cfg(windows)]
    #[test]
    fn detects_wine_exactly_when_the_prefix_is_wines() {
        use crate::platform::windows::registry::{read_key, Hive, View};
        let wine_key = read_key(&View::system(), Hive::CurrentUser, "Software\\Wine").exists();
        let v = super::version();
        assert_eq!(
            v.is_some(),
            wine_key,
            "wine_get_version says {v:?}, HKCU\\Software\\Wine exists: {wine_key}"
        );
        if let Some(v) = v {
            assert!(
                v.chars().next().is_some_and(|c| c.is_ascii_digit()),
                "odd Wine version {v:?}"
            );
        }
    }
}
