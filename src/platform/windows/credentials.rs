//! Credential Manager: the names (targets) of stored credentials — never their secrets.
//!
//! Office keeps tokens there as generic credentials named `MicrosoftOffice16_Data:...`;
//! old or mixed entries are a known cause of sign-in loops. `cmdkey /list` prints the same
//! list but its text is localised, so the list comes from `CredEnumerateW`. The secret
//! (`CredentialBlob`) is never read into our memory: only the target name, the type and
//! when the entry was last written are copied out.

#![allow(unsafe_code)]

use chrono::{DateTime, Utc};

/// One stored credential, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// The target name, e.g. `MicrosoftOffice16_Data:SSPI:user@contoso.com`.
    pub target: String,
    /// The credential type as Credential Manager names it ("generic", "domain password").
    pub kind: &'static str,
    pub last_written: Option<DateTime<Utc>>,
}

/// The name of a `CRED_TYPE_*` value.
pub fn kind_name(kind: u32) -> &'static str {
    match kind {
        1 => "generic",
        2 => "domain password",
        3 => "domain certificate",
        4 => "domain visible password",
        5 => "generic certificate",
        6 => "domain extended",
        _ => "other",
    }
}

/// A `FILETIME` (100 ns units since 1601-01-01 UTC) as a time, if it is set.
pub fn from_filetime(low: u32, high: u32) -> Option<DateTime<Utc>> {
    const SECS_1601_TO_1970: i64 = 11_644_473_600;
    let ticks = (u64::from(high) << 32) | u64::from(low);
    if ticks == 0 {
        return None;
    }
    let secs = i64::try_from(ticks / 10_000_000).ok()? - SECS_1601_TO_1970;
    let nanos = u32::try_from(ticks % 10_000_000).ok()? * 100;
    DateTime::from_timestamp(secs, nanos)
}

/// Every credential of the signed-in user (targets only).
#[cfg(windows)]
pub fn list() -> Result<Vec<StoredCredential>, String> {
    api::list()
}

/// Test helpers that write and remove a generic credential, so the listing is proven
/// against a real Credential Manager (Wine's included).
#[cfg(all(windows, test))]
pub(crate) use api::{delete_generic, write_generic};

#[cfg(windows)]
mod api {
    use windows_sys::Win32::Foundation::ERROR_NOT_FOUND;
    use windows_sys::Win32::Security::Credentials::{CredEnumerateW, CredFree, CREDENTIALW};

    use super::{from_filetime, kind_name, StoredCredential};

    fn from_wide(p: *const u16) -> String {
        if p.is_null() {
            return String::new();
        }
        // Read unit by unit without assuming alignment: Wine packs the block CredEnumerateW
        // returns without padding (see `list`).
        // SAFETY: Credential Manager returns NUL-terminated strings that live until CredFree.
        let units: Vec<u16> = unsafe {
            (0..)
                .map(|i| p.add(i).read_unaligned())
                .take_while(|&u| u != 0)
                .collect()
        };
        String::from_utf16_lossy(&units)
    }

    pub fn list() -> Result<Vec<StoredCredential>, String> {
        let mut count = 0u32;
        let mut creds: *mut *mut CREDENTIALW = std::ptr::null_mut();
        // SAFETY: a null filter with flags 0 lists the caller's credentials; both out
        // pointers are valid.
        let ok = unsafe { CredEnumerateW(std::ptr::null(), 0, &mut count, &mut creds) };
        if ok == 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(ERROR_NOT_FOUND as i32) {
                return Ok(Vec::new());
            }
            return Err(format!("CredEnumerateW failed: {err}"));
        }
        let mut out = Vec::with_capacity(count as usize);
        for i in 0..count as usize {
            // Wine (8.0) packs the credentials it returns without padding, so the structs
            // (and possibly the pointer array) can sit at addresses Rust may not reference
            // (found by the Windows tier: "misaligned pointer dereference"). Copy each out
            // with unaligned reads; Windows aligns them, where this costs nothing.
            // SAFETY: `creds` points at `count` valid credential pointers until CredFree.
            let c: CREDENTIALW = unsafe { creds.add(i).read_unaligned().read_unaligned() };
            out.push(StoredCredential {
                target: from_wide(c.TargetName),
                kind: kind_name(c.Type),
                last_written: from_filetime(c.LastWritten.dwLowDateTime, c.LastWritten.dwHighDateTime),
            });
        }
        // SAFETY: the block came from CredEnumerateW and is freed once, after the last use.
        unsafe { CredFree(creds.cast_const().cast()) };
        Ok(out)
    }

    #[cfg(test)]
    pub fn write_generic(target: &str, user: &str, secret: &[u8]) -> Result<(), String> {
        use windows_sys::Win32::Security::Credentials::{
            CredWriteW, CRED_PERSIST_LOCAL_MACHINE, CRED_TYPE_GENERIC,
        };
        let mut target_w: Vec<u16> = target.encode_utf16().chain([0]).collect();
        let mut user_w: Vec<u16> = user.encode_utf16().chain([0]).collect();
        let mut blob = secret.to_vec();
        let cred = CREDENTIALW {
            Type: CRED_TYPE_GENERIC,
            TargetName: target_w.as_mut_ptr(),
            UserName: user_w.as_mut_ptr(),
            CredentialBlobSize: blob.len() as u32,
            CredentialBlob: blob.as_mut_ptr(),
            Persist: CRED_PERSIST_LOCAL_MACHINE,
            ..Default::default()
        };
        // SAFETY: every pointer in `cred` points at a live buffer for the whole call.
        let ok = unsafe { CredWriteW(&cred, 0) };
        if ok == 0 {
            return Err(format!("CredWriteW failed: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }

    #[cfg(test)]
    pub fn delete_generic(target: &str) -> Result<(), String> {
        use windows_sys::Win32::Security::Credentials::{CredDeleteW, CRED_TYPE_GENERIC};
        let target_w: Vec<u16> = target.encode_utf16().chain([0]).collect();
        // SAFETY: `target_w` is NUL-terminated and outlives the call.
        let ok = unsafe { CredDeleteW(target_w.as_ptr(), CRED_TYPE_GENERIC, 0) };
        if ok == 0 {
            return Err(format!("CredDeleteW failed: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetimes_convert_to_utc() {
        // 2024-01-01T00:00:00Z = 133485408000000000 ticks since 1601.
        let ticks: u64 = 133_485_408_000_000_000;
        let t = from_filetime(ticks as u32, (ticks >> 32) as u32).unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-01T00:00:00+00:00");
        assert_eq!(from_filetime(0, 0), None);
    }

    #[test]
    fn credential_types_have_names() {
        assert_eq!(kind_name(1), "generic");
        assert_eq!(kind_name(2), "domain password");
        assert_eq!(kind_name(99), "other");
    }

    /// Writes a generic credential the way Office does and finds its target in the list;
    /// the secret never comes back. Real Credential Manager on Windows and under Wine.
    #[cfg(windows)]
    #[test]
    fn lists_a_credential_written_with_credwritew_by_target_only() {
        let target = format!(
            "MicrosoftOffice16_Data:SSPI:m365mon-test-{}@example.invalid",
            std::process::id()
        );
        struct Cleanup<'a>(&'a str);
        impl Drop for Cleanup<'_> {
            fn drop(&mut self) {
                let _ = delete_generic(self.0);
            }
        }
        write_generic(&target, "m365mon-test@example.invalid", b"not-a-real-secret").expect("CredWriteW");
        let cleanup = Cleanup(&target);
        let found = list().expect("CredEnumerateW");
        let mine = found
            .iter()
            .find(|c| c.target == target)
            .unwrap_or_else(|| panic!("{target} not in {found:?}"));
        assert_eq!(mine.kind, "generic");
        assert!(
            !format!("{found:?}").contains("not-a-real-secret"),
            "a secret was copied out"
        );
        drop(cleanup);
        assert!(
            !list()
                .expect("list after delete")
                .iter()
                .any(|c| c.target == target),
            "delete did not remove it"
        );
    }
}
