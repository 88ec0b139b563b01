//! Credential Manager, whole credentials: read, write back and delete, for the opt-in fix
//! `remove-office-credentials` (`src/fix`) and its undo.
//!
//! The listing in [`super::credentials`] never touches a secret. Removing a credential
//! safely is different: the backup must hold everything `CredWriteW` needs to put the
//! entry back as it was, the secret (`CredentialBlob`) included. So this file copies the
//! whole `CREDENTIALW` out, with the blob in a [`Secret`] whose `Debug` shows only its
//! length, so it cannot reach a log or the terminal by accident. Backups of secrets are
//! sealed with DPAPI ([`protect`], `CryptProtectData` for the current user), so the copy
//! on disk is no easier to read than Credential Manager's own store.

#![allow(unsafe_code)]

use std::fmt;

/// `CRED_TYPE_GENERIC`: the type Office's `MicrosoftOffice16...` entries have.
pub const CRED_TYPE_GENERIC: u32 = 1;

/// Bytes that must never be shown: `Debug` prints only the length.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} secret bytes>", self.0.len())
    }
}

/// One attribute of a credential (keyword, flags, value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredAttribute {
    pub keyword: String,
    pub flags: u32,
    pub value: Secret,
}

/// Everything `CredWriteW` takes back. `LastWritten` is not here: Windows sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullCredential {
    pub kind: u32,
    pub target: String,
    pub flags: u32,
    pub comment: Option<String>,
    pub persist: u32,
    pub target_alias: Option<String>,
    pub user_name: Option<String>,
    pub attributes: Vec<CredAttribute>,
    pub blob: Secret,
}

/// The credential of this type and target; `Ok(None)` when there is none.
#[cfg(windows)]
pub fn read(target: &str, kind: u32) -> Result<Option<FullCredential>, String> {
    api::read(target, kind)
}

/// Writes (creates or replaces) a credential exactly as given.
#[cfg(windows)]
pub fn write(c: &FullCredential) -> Result<(), String> {
    api::write(c)
}

/// Deletes a credential; one that is not there is not an error.
#[cfg(windows)]
pub fn delete(target: &str, kind: u32) -> Result<(), String> {
    api::delete(target, kind)
}

/// Seals bytes for the current user with DPAPI (`CryptProtectData`, no UI).
#[cfg(windows)]
pub fn protect(plain: &[u8]) -> Result<Vec<u8>, String> {
    api::dpapi(plain, true)
}

/// Opens bytes sealed by [`protect`] (same user).
#[cfg(windows)]
pub fn unprotect(sealed: &[u8]) -> Result<Vec<u8>, String> {
    api::dpapi(sealed, false)
}

#[cfg(windows)]
mod api {
    use windows_sys::Win32::Foundation::{LocalFree, ERROR_NOT_FOUND};
    use windows_sys::Win32::Security::Credentials::{
        CredDeleteW, CredFree, CredReadW, CredWriteW, CREDENTIALW, CREDENTIAL_ATTRIBUTEW,
    };
    use windows_sys::Win32::Security::Cryptography::{
        CryptProtectData, CryptUnprotectData, CRYPTPROTECT_UI_FORBIDDEN, CRYPT_INTEGER_BLOB,
    };

    use super::{CredAttribute, FullCredential, Secret};

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain([0]).collect()
    }

    fn from_wide(p: *const u16) -> Option<String> {
        if p.is_null() {
            return None;
        }
        // SAFETY: Credential Manager returns NUL-terminated strings that live until CredFree.
        unsafe {
            let len = (0..).take_while(|&i| *p.add(i) != 0).count();
            Some(String::from_utf16_lossy(std::slice::from_raw_parts(p, len)))
        }
    }

    fn bytes(p: *const u8, len: u32) -> Vec<u8> {
        if p.is_null() || len == 0 {
            return Vec::new();
        }
        // SAFETY: the pointer and length come from one Credential Manager structure,
        // valid until CredFree.
        unsafe { std::slice::from_raw_parts(p, len as usize) }.to_vec()
    }

    fn last_error(call: &str) -> String {
        format!("{call} failed: {}", std::io::Error::last_os_error())
    }

    pub fn read(target: &str, kind: u32) -> Result<Option<FullCredential>, String> {
        let t = wide(target);
        let mut p: *mut CREDENTIALW = std::ptr::null_mut();
        // SAFETY: `t` is NUL-terminated; `p` is a valid out pointer freed below with CredFree.
        let ok = unsafe { CredReadW(t.as_ptr(), kind, 0, &mut p) };
        if ok == 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(ERROR_NOT_FOUND as i32) {
                return Ok(None);
            }
            return Err(format!("CredReadW failed: {err}"));
        }
        // SAFETY: a successful CredReadW returns one valid credential, freed after the copy.
        let c = unsafe { &*p };
        let attributes = (0..c.AttributeCount as usize)
            .map(|i| {
                // SAFETY: `Attributes` holds `AttributeCount` entries.
                let a = unsafe { &*c.Attributes.add(i) };
                CredAttribute {
                    keyword: from_wide(a.Keyword).unwrap_or_default(),
                    flags: a.Flags,
                    value: Secret(bytes(a.Value, a.ValueSize)),
                }
            })
            .collect();
        let out = FullCredential {
            kind: c.Type,
            target: from_wide(c.TargetName).unwrap_or_default(),
            flags: c.Flags,
            comment: from_wide(c.Comment),
            persist: c.Persist,
            target_alias: from_wide(c.TargetAlias),
            user_name: from_wide(c.UserName),
            attributes,
            blob: Secret(bytes(c.CredentialBlob, c.CredentialBlobSize)),
        };
        // SAFETY: the block came from CredReadW and is freed once, after the last use.
        unsafe { CredFree(p.cast_const().cast()) };
        Ok(Some(out))
    }

    pub fn write(c: &FullCredential) -> Result<(), String> {
        let mut target = wide(&c.target);
        let mut comment = c.comment.as_deref().map(wide);
        let mut alias = c.target_alias.as_deref().map(wide);
        let mut user = c.user_name.as_deref().map(wide);
        let mut blob = c.blob.0.clone();
        let mut keywords: Vec<Vec<u16>> = c.attributes.iter().map(|a| wide(&a.keyword)).collect();
        let mut values: Vec<Vec<u8>> = c.attributes.iter().map(|a| a.value.0.clone()).collect();
        let mut attrs: Vec<CREDENTIAL_ATTRIBUTEW> = c
            .attributes
            .iter()
            .zip(keywords.iter_mut().zip(values.iter_mut()))
            .map(|(a, (k, v))| CREDENTIAL_ATTRIBUTEW {
                Keyword: k.as_mut_ptr(),
                Flags: a.flags,
                ValueSize: v.len() as u32,
                Value: if v.is_empty() {
                    std::ptr::null_mut()
                } else {
                    v.as_mut_ptr()
                },
            })
            .collect();
        let ptr_or_null =
            |s: &mut Option<Vec<u16>>| s.as_mut().map_or(std::ptr::null_mut(), |v| v.as_mut_ptr());
        let cred = CREDENTIALW {
            Flags: c.flags,
            Type: c.kind,
            TargetName: target.as_mut_ptr(),
            Comment: ptr_or_null(&mut comment),
            CredentialBlobSize: blob.len() as u32,
            CredentialBlob: if blob.is_empty() {
                std::ptr::null_mut()
            } else {
                blob.as_mut_ptr()
            },
            Persist: c.persist,
            AttributeCount: attrs.len() as u32,
            Attributes: if attrs.is_empty() {
                std::ptr::null_mut()
            } else {
                attrs.as_mut_ptr()
            },
            TargetAlias: ptr_or_null(&mut alias),
            UserName: ptr_or_null(&mut user),
            ..Default::default()
        };
        // SAFETY: every pointer in `cred` points at a buffer that lives until after the call.
        let ok = unsafe { CredWriteW(&cred, 0) };
        if ok == 0 {
            return Err(last_error("CredWriteW"));
        }
        Ok(())
    }

    pub fn delete(target: &str, kind: u32) -> Result<(), String> {
        let t = wide(target);
        // SAFETY: `t` is NUL-terminated and outlives the call.
        let ok = unsafe { CredDeleteW(t.as_ptr(), kind, 0) };
        if ok == 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(ERROR_NOT_FOUND as i32) {
                return Ok(());
            }
            return Err(format!("CredDeleteW failed: {err}"));
        }
        Ok(())
    }

    pub fn dpapi(input: &[u8], seal: bool) -> Result<Vec<u8>, String> {
        let mut copy = input.to_vec();
        let data_in = CRYPT_INTEGER_BLOB {
            cbData: copy.len() as u32,
            pbData: copy.as_mut_ptr(),
        };
        let mut out = CRYPT_INTEGER_BLOB {
            cbData: 0,
            pbData: std::ptr::null_mut(),
        };
        let description = wide("m365mon fix backup");
        // SAFETY: `data_in` points at `copy`, alive for the call; optional arguments are
        // null; `out` is filled with a LocalAlloc'd buffer freed below.
        let ok = unsafe {
            if seal {
                CryptProtectData(
                    &data_in,
                    description.as_ptr(),
                    std::ptr::null(),
                    std::ptr::null(),
                    std::ptr::null(),
                    CRYPTPROTECT_UI_FORBIDDEN,
                    &mut out,
                )
            } else {
                CryptUnprotectData(
                    &data_in,
                    std::ptr::null_mut(),
                    std::ptr::null(),
                    std::ptr::null(),
                    std::ptr::null(),
                    CRYPTPROTECT_UI_FORBIDDEN,
                    &mut out,
                )
            }
        };
        if ok == 0 {
            return Err(last_error(if seal {
                "CryptProtectData"
            } else {
                "CryptUnprotectData"
            }));
        }
        let result = bytes(out.pbData, out.cbData);
        // SAFETY: DPAPI allocated the output with LocalAlloc; freed once.
        unsafe { LocalFree(out.pbData.cast()) };
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let c = FullCredential {
            kind: CRED_TYPE_GENERIC,
            target: "MicrosoftOffice16_Data:SSPI:a@b.example".into(),
            flags: 0,
            comment: None,
            persist: 2,
            target_alias: None,
            user_name: Some("a@b.example".into()),
            attributes: vec![CredAttribute {
                keyword: "k".into(),
                flags: 0,
                value: Secret(b"attr-secret".to_vec()),
            }],
            blob: Secret(b"blob-secret".to_vec()),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret\""), "{shown}");
        assert!(!shown.contains("blob-secret") && !shown.contains("attr-secret"));
        assert!(shown.contains("<11 secret bytes>"), "{shown}");
    }

    /// A credential with a comment and a user name goes out and comes back whole (blob
    /// included) through CredWriteW/CredReadW, and DPAPI seals and opens bytes. Real
    /// Credential Manager and DPAPI on Windows and under Wine.
    #[cfg(windows)]
    #[test]
    fn whole_credentials_round_trip_and_dpapi_seals() {
        let target = format!(
            "MicrosoftOffice16_Data:SSPI:m365mon-cw-{}@example.invalid",
            std::process::id()
        );
        let c = FullCredential {
            kind: CRED_TYPE_GENERIC,
            target: target.clone(),
            flags: 0,
            comment: Some("m365mon test".into()),
            persist: 2,
            target_alias: None,
            user_name: Some("m365mon-cw@example.invalid".into()),
            attributes: vec![],
            blob: Secret(vec![0, 1, 2, 250, 255]),
        };
        write(&c).expect("CredWriteW");
        let back = read(&target, CRED_TYPE_GENERIC);
        delete(&target, CRED_TYPE_GENERIC).expect("CredDeleteW");
        assert_eq!(back, Ok(Some(c)));
        assert_eq!(read(&target, CRED_TYPE_GENERIC), Ok(None));
        delete(&target, CRED_TYPE_GENERIC).expect("deleting twice is fine");

        let sealed = protect(b"plain bytes").expect("CryptProtectData");
        assert!(!sealed.windows(11).any(|w| w == b"plain bytes"));
        assert_eq!(unprotect(&sealed).expect("CryptUnprotectData"), b"plain bytes");
    }
}
