//! Reading and writing one registry value as raw bytes, for the opt-in fixes (`src/fix`).
//!
//! The checks read whole keys into typed [`super::registry::RegValue`]s; a fix that
//! changes a value must be able to put back exactly what was there before, whatever its
//! type (a `REG_SZ` typed by hand where a DWORD belongs, an odd length ...). So this file
//! deals in [`RawValue`]: the type number and the bytes, as `RegQueryValueExW` returns
//! them and `RegSetValueExW` takes them, never converted.
//!
//! Paths go through a [`View`], so tests on a real machine write to a scratch copy and
//! never to the machine's own settings. Keys are opened with `KEY_WOW64_64KEY`, like the
//! readers, so a 32-bit build writes where 64-bit Office reads.

#![allow(unsafe_code)]

#[cfg(windows)]
use super::registry::{Hive, View};

/// `REG_DWORD`, from winnt.h.
pub const REG_DWORD: u32 = 4;

/// A registry value exactly as stored: its type number and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawValue {
    pub kind: u32,
    pub data: Vec<u8>,
}

impl RawValue {
    /// A `REG_DWORD` (little-endian, as Windows stores it).
    pub fn dword(v: u32) -> RawValue {
        RawValue {
            kind: REG_DWORD,
            data: v.to_le_bytes().to_vec(),
        }
    }

    /// The value the way `reg query` shows it, with its type.
    pub fn describe(&self) -> String {
        super::registry::convert(self.kind, &self.data).to_string()
    }
}

/// The value `name` of `hive\path` (through `view`); `Ok(None)` when the key or the value
/// does not exist.
#[cfg(windows)]
pub fn read_value(view: &View, hive: Hive, path: &str, name: &str) -> Result<Option<RawValue>, String> {
    let (real_hive, real_path) = view.locate(hive, path);
    api::read(real_hive, &real_path, name).map_err(|e| format!("{}\\{path} {name}: {e}", hive.short()))
}

/// Sets `name` under `hive\path` to `value`, creating the key when it does not exist.
#[cfg(windows)]
pub fn set_value(view: &View, hive: Hive, path: &str, name: &str, value: &RawValue) -> Result<(), String> {
    let (real_hive, real_path) = view.locate(hive, path);
    api::set(real_hive, &real_path, name, value).map_err(|e| format!("{}\\{path} {name}: {e}", hive.short()))
}

/// Deletes the value `name` under `hive\path`; a value (or key) that is not there is not
/// an error, since "absent" is what the caller wants.
#[cfg(windows)]
pub fn delete_value(view: &View, hive: Hive, path: &str, name: &str) -> Result<(), String> {
    let (real_hive, real_path) = view.locate(hive, path);
    api::delete(real_hive, &real_path, name).map_err(|e| format!("{}\\{path} {name}: {e}", hive.short()))
}

/// Whether the key `hive\path` exists (through `view`).
#[cfg(windows)]
pub fn key_exists(view: &View, hive: Hive, path: &str) -> Result<bool, String> {
    let (real_hive, real_path) = view.locate(hive, path);
    api::exists(real_hive, &real_path).map_err(|e| format!("{}\\{path}: {e}", hive.short()))
}

/// Deletes the key `hive\path` if it holds no values and no subkeys; `Ok(false)` when it
/// holds something and stays. A key that is not there counts as deleted.
#[cfg(windows)]
pub fn delete_key_if_empty(view: &View, hive: Hive, path: &str) -> Result<bool, String> {
    let (real_hive, real_path) = view.locate(hive, path);
    api::delete_if_empty(real_hive, &real_path).map_err(|e| format!("{}\\{path}: {e}", hive.short()))
}

/// The Win32 calls. Every handle is closed by [`api::OpenKey`]'s `Drop`.
#[cfg(windows)]
mod api {
    use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_MORE_DATA, ERROR_SUCCESS};
    use windows_sys::Win32::System::Registry::{
        RegCreateKeyExW, RegDeleteKeyExW, RegDeleteValueW, RegQueryInfoKeyW, RegQueryValueExW,
        RegSetValueExW, HKEY, KEY_QUERY_VALUE, KEY_SET_VALUE, KEY_WOW64_64KEY, REG_OPTION_NON_VOLATILE,
    };

    use super::super::registry::api::{open_key, root, wide, OpenKey};
    use super::{Hive, RawValue};

    fn os_error(call: &str, rc: u32) -> String {
        format!("{call} failed: {}", std::io::Error::from_raw_os_error(rc as i32))
    }

    /// Opens an existing key with `access`; `Ok(None)` when it does not exist.
    fn open(hive: Hive, path: &str, access: u32) -> Result<Option<OpenKey>, String> {
        open_key(hive, path, access).map_err(|rc| os_error("RegOpenKeyExW", rc))
    }

    pub fn read(hive: Hive, path: &str, name: &str) -> Result<Option<RawValue>, String> {
        let Some(key) = open(hive, path, KEY_QUERY_VALUE)? else {
            return Ok(None);
        };
        let value = wide(name);
        let mut data: Vec<u8> = vec![0; 64];
        loop {
            let mut kind = 0u32;
            let mut len = data.len() as u32;
            // SAFETY: `value` is NUL-terminated; `data` is writable for `len` bytes, which
            // the call updates to what it wrote (or needs).
            let rc = unsafe {
                RegQueryValueExW(
                    key.0,
                    value.as_ptr(),
                    std::ptr::null(),
                    &mut kind,
                    data.as_mut_ptr(),
                    &mut len,
                )
            };
            match rc {
                ERROR_SUCCESS => {
                    data.truncate(len as usize);
                    return Ok(Some(RawValue { kind, data }));
                }
                ERROR_MORE_DATA => data.resize((len as usize).max(data.len() * 2), 0),
                ERROR_FILE_NOT_FOUND => return Ok(None),
                other => return Err(os_error("RegQueryValueExW", other)),
            }
        }
    }

    pub fn set(hive: Hive, path: &str, name: &str, v: &RawValue) -> Result<(), String> {
        let sub = wide(path);
        let mut key: HKEY = std::ptr::null_mut();
        // SAFETY: `sub` is NUL-terminated; class and security attributes are null (the
        // defaults); `key` is a valid out pointer and the disposition is not wanted.
        let rc = unsafe {
            RegCreateKeyExW(
                root(hive),
                sub.as_ptr(),
                0,
                std::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                KEY_SET_VALUE | KEY_WOW64_64KEY,
                std::ptr::null(),
                &mut key,
                std::ptr::null_mut(),
            )
        };
        if rc != ERROR_SUCCESS {
            return Err(os_error("RegCreateKeyExW", rc));
        }
        let key = OpenKey(key);
        let value = wide(name);
        let len = u32::try_from(v.data.len()).map_err(|_| "value too large".to_owned())?;
        // SAFETY: `value` is NUL-terminated; `data` is readable for `len` bytes.
        let rc = unsafe { RegSetValueExW(key.0, value.as_ptr(), 0, v.kind, v.data.as_ptr(), len) };
        if rc != ERROR_SUCCESS {
            return Err(os_error("RegSetValueExW", rc));
        }
        Ok(())
    }

    pub fn exists(hive: Hive, path: &str) -> Result<bool, String> {
        Ok(open(hive, path, KEY_QUERY_VALUE)?.is_some())
    }

    pub fn delete_if_empty(hive: Hive, path: &str) -> Result<bool, String> {
        let Some(key) = open(hive, path, KEY_QUERY_VALUE)? else {
            return Ok(true);
        };
        let (mut subkeys, mut values) = (0u32, 0u32);
        let null: *mut u32 = std::ptr::null_mut();
        // SAFETY: only the two counts are asked for; every other pointer is null, which
        // the call allows.
        let rc = unsafe {
            RegQueryInfoKeyW(
                key.0,
                null.cast(),
                null.cast(),
                std::ptr::null(),
                &mut subkeys,
                null.cast(),
                null.cast(),
                &mut values,
                null.cast(),
                null.cast(),
                null.cast(),
                null.cast(),
            )
        };
        if rc != ERROR_SUCCESS {
            return Err(os_error("RegQueryInfoKeyW", rc));
        }
        drop(key);
        if subkeys != 0 || values != 0 {
            return Ok(false);
        }
        let name = wide(path);
        // SAFETY: `name` is NUL-terminated and outlives the call.
        let rc = unsafe { RegDeleteKeyExW(root(hive), name.as_ptr(), KEY_WOW64_64KEY, 0) };
        match rc {
            ERROR_SUCCESS | ERROR_FILE_NOT_FOUND => Ok(true),
            other => Err(os_error("RegDeleteKeyExW", other)),
        }
    }

    pub fn delete(hive: Hive, path: &str, name: &str) -> Result<(), String> {
        let Some(key) = open(hive, path, KEY_SET_VALUE)? else {
            return Ok(());
        };
        let value = wide(name);
        // SAFETY: `value` is NUL-terminated and outlives the call.
        let rc = unsafe { RegDeleteValueW(key.0, value.as_ptr()) };
        match rc {
            ERROR_SUCCESS | ERROR_FILE_NOT_FOUND => Ok(()),
            other => Err(os_error("RegDeleteValueW", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dwords_are_little_endian_and_describe_like_reg_query() {
        let v = RawValue::dword(1);
        assert_eq!((v.kind, v.data.as_slice()), (REG_DWORD, &[1u8, 0, 0, 0][..]));
        assert_eq!(v.describe(), "1 (REG_DWORD 0x1)");
    }

    /// Raw round trip on a scratch key (Windows, and Wine under the Windows tier): a
    /// string value keeps its exact bytes (terminator included), a missing value reads as
    /// `None`, and deleting twice is fine.
    #[cfg(windows)]
    #[test]
    fn raw_values_round_trip_exactly() {
        let view = View::scratch(&format!("Software\\m365mon-test-regwrite-{}", std::process::id()));
        struct Cleanup(String);
        impl Drop for Cleanup {
            fn drop(&mut self) {
                let _ = std::process::Command::new("reg")
                    .args(["delete", &self.0, "/f"])
                    .output();
            }
        }
        let _cleanup = Cleanup(format!(
            "HKCU\\Software\\m365mon-test-regwrite-{}",
            std::process::id()
        ));
        let key = "Software\\A\\B";
        assert_eq!(read_value(&view, Hive::LocalMachine, key, "V"), Ok(None));
        let text = RawValue {
            kind: 1,
            data: "x1\0\0".encode_utf16().flat_map(u16::to_le_bytes).collect(),
        };
        set_value(&view, Hive::LocalMachine, key, "V", &text).unwrap();
        assert_eq!(read_value(&view, Hive::LocalMachine, key, "v"), Ok(Some(text)));
        set_value(&view, Hive::LocalMachine, key, "V", &RawValue::dword(7)).unwrap();
        assert_eq!(
            read_value(&view, Hive::LocalMachine, key, "V"),
            Ok(Some(RawValue::dword(7)))
        );
        delete_value(&view, Hive::LocalMachine, key, "V").unwrap();
        delete_value(&view, Hive::LocalMachine, key, "V").unwrap();
        assert_eq!(read_value(&view, Hive::LocalMachine, key, "V"), Ok(None));
    }
}
