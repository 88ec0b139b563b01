//! The access list (DACL) of a file or folder, as a self-relative security descriptor.
//!
//! A fix's backup keeps it so that undo gives a file back with the access it had, not only
//! the access its folder passes on to new files: a cache file someone locked down stays
//! locked down. Read with `GetFileSecurityW`, written with `SetFileSecurityW`; the bytes
//! are opaque to the rest of m365mon.

#![allow(unsafe_code)]

use std::os::windows::ffi::OsStrExt;
use std::path::Path;

use windows_sys::Win32::Foundation::{GetLastError, ERROR_INSUFFICIENT_BUFFER};
use windows_sys::Win32::Security::{GetFileSecurityW, SetFileSecurityW, DACL_SECURITY_INFORMATION};

fn wide(path: &Path) -> Vec<u16> {
    path.as_os_str().encode_wide().chain(std::iter::once(0)).collect()
}

/// A buffer for a security descriptor, aligned for its fields.
fn aligned(len: usize) -> Vec<u64> {
    vec![0u64; len.div_ceil(8)]
}

/// The DACL of `path`, as a self-relative security descriptor.
pub fn dacl(path: &Path) -> Result<Vec<u8>, String> {
    let name = wide(path);
    let mut needed = 0u32;
    // SAFETY: `name` is NUL-terminated; a null buffer of length 0 asks for the size.
    let ok = unsafe {
        GetFileSecurityW(
            name.as_ptr(),
            DACL_SECURITY_INFORMATION,
            std::ptr::null_mut(),
            0,
            &mut needed,
        )
    };
    // SAFETY: reads the calling thread's last error.
    let err = unsafe { GetLastError() };
    if ok == 0 && err != ERROR_INSUFFICIENT_BUFFER {
        return Err(format!(
            "cannot read the access list of {}: error {err}",
            path.display()
        ));
    }
    let len = needed as usize;
    let mut buf = aligned(len.max(1));
    // SAFETY: `buf` holds at least `needed` bytes, aligned to 8.
    let ok = unsafe {
        GetFileSecurityW(
            name.as_ptr(),
            DACL_SECURITY_INFORMATION,
            buf.as_mut_ptr().cast(),
            needed,
            &mut needed,
        )
    };
    if ok == 0 {
        // SAFETY: reads the calling thread's last error.
        let err = unsafe { GetLastError() };
        return Err(format!(
            "cannot read the access list of {}: error {err}",
            path.display()
        ));
    }
    let bytes: Vec<u8> = buf.iter().flat_map(|w| w.to_ne_bytes()).take(len).collect();
    Ok(bytes)
}

/// Gives `path` the DACL of a descriptor read by [`dacl`].
pub fn set_dacl(path: &Path, descriptor: &[u8]) -> Result<(), String> {
    let name = wide(path);
    let mut buf = aligned(descriptor.len().max(1));
    for (i, chunk) in descriptor.chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        buf[i] = u64::from_ne_bytes(word);
    }
    // SAFETY: `name` is NUL-terminated; `buf` holds the self-relative descriptor, aligned.
    let ok = unsafe { SetFileSecurityW(name.as_ptr(), DACL_SECURITY_INFORMATION, buf.as_mut_ptr().cast()) };
    if ok == 0 {
        // SAFETY: reads the calling thread's last error.
        let err = unsafe { GetLastError() };
        return Err(format!(
            "cannot set the access list of {}: error {err}",
            path.display()
        ));
    }
    Ok(())
}

/// The DACL of `path` in SDDL (`D:P(A;;FA;;;SY)...`), and setting one from SDDL: for
/// tests that need an access list of their own and a readable comparison.
#[cfg(test)]
pub mod sddl {
    use super::*;
    use windows_sys::Win32::Foundation::LocalFree;
    use windows_sys::Win32::Security::Authorization::{
        ConvertSecurityDescriptorToStringSecurityDescriptorW,
        ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
    };
    use windows_sys::Win32::Security::PSECURITY_DESCRIPTOR;

    /// The DACL of `path` as SDDL.
    pub fn of(path: &Path) -> String {
        let mut sd = dacl(path).unwrap();
        let mut text: *mut u16 = std::ptr::null_mut();
        let mut len = 0u32;
        // SAFETY: `sd` is a self-relative descriptor from GetFileSecurityW; the string is
        // allocated by the call and freed below.
        let ok = unsafe {
            ConvertSecurityDescriptorToStringSecurityDescriptorW(
                sd.as_mut_ptr().cast(),
                SDDL_REVISION_1,
                DACL_SECURITY_INFORMATION,
                &mut text,
                &mut len,
            )
        };
        assert_ne!(ok, 0, "cannot convert the descriptor of {}", path.display());
        // SAFETY: `text` points at `len` UTF-16 units (with the NUL) from the call above.
        let s = unsafe { String::from_utf16_lossy(std::slice::from_raw_parts(text, len as usize)) };
        // SAFETY: allocated by the conversion with LocalAlloc.
        unsafe { LocalFree(text.cast()) };
        s.trim_end_matches('\0').to_string()
    }

    /// Gives `path` the DACL written in SDDL.
    pub fn set(path: &Path, sddl: &str) {
        let text: Vec<u16> = sddl.encode_utf16().chain(std::iter::once(0)).collect();
        let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        let mut len = 0u32;
        // SAFETY: `text` is NUL-terminated; the descriptor is allocated by the call.
        let ok = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                text.as_ptr(),
                SDDL_REVISION_1,
                &mut sd,
                &mut len,
            )
        };
        assert_ne!(ok, 0, "bad SDDL {sddl}");
        // SAFETY: `sd` points at `len` bytes allocated by the call; copied, then freed.
        let bytes = unsafe { std::slice::from_raw_parts(sd.cast::<u8>(), len as usize).to_vec() };
        // SAFETY: allocated by the conversion with LocalAlloc.
        unsafe { LocalFree(sd) };
        set_dacl(path, &bytes).unwrap();
    }
}
