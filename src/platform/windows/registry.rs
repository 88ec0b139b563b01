//! Reading the Windows registry: one key's values at a time, or the names of its subkeys.
//!
//! Settings that break Office sign-in (ADAL/WAM switches, TLS 1.2, ProtectionPolicy,
//! Autoorgidgetkey, shared computer activation ...) all live in the registry, so the host
//! checks read keys into [`Key`] values and judge those. Value names are matched without
//! regard to case, as Windows does.
//!
//! A [`View`] decides where keys are read from: the real hives, or a scratch copy under
//! `HKCU\<prefix>\HKLM\...` / `HKCU\<prefix>\HKCU\...`. Tests use the scratch view on a real
//! Windows machine so they never change the machine's own settings; under Wine's
//! throwaway prefix they use the real locations.
//!
//! Keys are opened with `KEY_WOW64_64KEY`, so a 32-bit build sees the same (64-bit)
//! registry as 64-bit Office does; paths that mean the 32-bit twin name `Wow6432Node`.

#![allow(unsafe_code)]

use std::fmt;

/// A registry hive the checks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hive {
    /// `HKEY_LOCAL_MACHINE`: machine-wide settings (needs no elevation to read).
    LocalMachine,
    /// `HKEY_CURRENT_USER`: the signed-in user's settings.
    CurrentUser,
}

impl Hive {
    /// The short name people type in `reg query`.
    pub fn short(self) -> &'static str {
        match self {
            Hive::LocalMachine => "HKLM",
            Hive::CurrentUser => "HKCU",
        }
    }
}

/// One registry value, converted from the bytes Windows returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegValue {
    Dword(u32),
    Qword(u64),
    /// `REG_SZ`.
    Sz(String),
    /// `REG_EXPAND_SZ`, unexpanded.
    ExpandSz(String),
    MultiSz(Vec<String>),
    Binary(Vec<u8>),
    /// Any other type (or a DWORD/QWORD of the wrong length): its type number and size.
    Other {
        kind: u32,
        len: usize,
    },
}

impl RegValue {
    /// The value as a number: a DWORD, a QWORD that fits, or a string holding a decimal
    /// or `0x` number (people often create the string type by mistake; callers that care
    /// about the type check [`RegValue::type_name`] as well).
    pub fn as_number(&self) -> Option<u32> {
        match self {
            RegValue::Dword(v) => Some(*v),
            RegValue::Qword(v) => u32::try_from(*v).ok(),
            RegValue::Sz(s) | RegValue::ExpandSz(s) => parse_number(s),
            _ => None,
        }
    }

    /// The value as text, for the string types.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            RegValue::Sz(s) | RegValue::ExpandSz(s) => Some(s),
            _ => None,
        }
    }

    /// The type name as `reg query` prints it.
    pub fn type_name(&self) -> &'static str {
        match self {
            RegValue::Dword(_) => "REG_DWORD",
            RegValue::Qword(_) => "REG_QWORD",
            RegValue::Sz(_) => "REG_SZ",
            RegValue::ExpandSz(_) => "REG_EXPAND_SZ",
            RegValue::MultiSz(_) => "REG_MULTI_SZ",
            RegValue::Binary(_) => "REG_BINARY",
            RegValue::Other { .. } => "other",
        }
    }

    /// Whether it is a DWORD, the type the documented switches must have.
    pub fn is_dword(&self) -> bool {
        matches!(self, RegValue::Dword(_))
    }
}

impl fmt::Display for RegValue {
    /// The value the way a technician reads it in `reg query`, with the type.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegValue::Dword(v) => write!(f, "{v} (REG_DWORD 0x{v:x})"),
            RegValue::Qword(v) => write!(f, "{v} (REG_QWORD 0x{v:x})"),
            RegValue::Sz(s) => write!(f, "\"{s}\" (REG_SZ)"),
            RegValue::ExpandSz(s) => write!(f, "\"{s}\" (REG_EXPAND_SZ)"),
            RegValue::MultiSz(v) => write!(f, "{} (REG_MULTI_SZ)", v.join(" | ")),
            RegValue::Binary(b) => write!(f, "{} bytes (REG_BINARY)", b.len()),
            RegValue::Other { kind, len } => write!(f, "{len} bytes of registry type {kind}"),
        }
    }
}

fn parse_number(s: &str) -> Option<u32> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// What reading a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    /// The key does not exist (the usual state of an unset policy).
    Missing,
    /// The key exists; its values in the order Windows lists them.
    Present(Vec<(String, RegValue)>),
    /// The key exists but could not be read (access denied, ...).
    Unreadable(String),
}

/// A key and what was found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub hive: Hive,
    /// Path below the hive, with backslashes.
    pub path: String,
    pub state: KeyState,
}

impl Key {
    /// A key that does not exist (for fixtures).
    pub fn missing(hive: Hive, path: &str) -> Key {
        Key {
            hive,
            path: path.to_owned(),
            state: KeyState::Missing,
        }
    }

    /// A key with these values (for fixtures).
    pub fn with(hive: Hive, path: &str, values: impl IntoIterator<Item = (&'static str, RegValue)>) -> Key {
        let values = values.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
        Key {
            hive,
            path: path.to_owned(),
            state: KeyState::Present(values),
        }
    }

    /// The value with this name, matched without case as Windows does.
    pub fn value(&self, name: &str) -> Option<&RegValue> {
        match &self.state {
            KeyState::Present(values) => values
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn exists(&self) -> bool {
        matches!(self.state, KeyState::Present(_))
    }

    /// Why the key could not be read, if it could not.
    pub fn error(&self) -> Option<&str> {
        match &self.state {
            KeyState::Unreadable(e) => Some(e),
            _ => None,
        }
    }

    /// `HKCU\Software\...`, as people paste it into `reg query`.
    pub fn display_path(&self) -> String {
        format!("{}\\{}", self.hive.short(), self.path)
    }

    /// "`Name` = value" for the detail view, or "not set".
    pub fn describe(&self, name: &str) -> String {
        match (&self.state, self.value(name)) {
            (_, Some(v)) => v.to_string(),
            (KeyState::Unreadable(e), None) => format!("unreadable: {e}"),
            (KeyState::Missing, None) => "not set (key absent)".to_owned(),
            (KeyState::Present(_), None) => "not set".to_owned(),
        }
    }
}

/// Where keys are read from (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    scratch: Option<String>,
}

impl View {
    /// The machine's real registry.
    pub fn system() -> View {
        View { scratch: None }
    }

    /// A copy of both hives under `HKCU\<prefix>`, for tests on a real machine.
    pub fn scratch(prefix: &str) -> View {
        View {
            scratch: Some(prefix.trim_matches('\\').to_owned()),
        }
    }

    /// Where `hive\path` really is in this view.
    pub fn locate(&self, hive: Hive, path: &str) -> (Hive, String) {
        match &self.scratch {
            None => (hive, path.to_owned()),
            Some(prefix) => (Hive::CurrentUser, format!("{prefix}\\{}\\{path}", hive.short())),
        }
    }

    /// The full path of `hive\path` in this view, as `reg.exe` takes it.
    pub fn reg_path(&self, hive: Hive, path: &str) -> String {
        let (hive, path) = self.locate(hive, path);
        format!("{}\\{path}", hive.short())
    }
}

/// Reads every value of a key. The key keeps the path asked for, not the scratch path,
/// so a fixture and a real read look the same.
#[cfg(windows)]
pub fn read_key(view: &View, hive: Hive, path: &str) -> Key {
    let (real_hive, real_path) = view.locate(hive, path);
    let state = match api::values(real_hive, &real_path) {
        Ok(Some(values)) => KeyState::Present(values),
        Ok(None) => KeyState::Missing,
        Err(e) => KeyState::Unreadable(e),
    };
    Key {
        hive,
        path: path.to_owned(),
        state,
    }
}

/// The names of a key's subkeys; `Ok(None)` when the key does not exist.
#[cfg(windows)]
pub fn subkeys(view: &View, hive: Hive, path: &str) -> Result<Option<Vec<String>>, String> {
    let (real_hive, real_path) = view.locate(hive, path);
    api::subkeys(real_hive, &real_path)
}

/// Converts the bytes of a value of type `kind`.
pub fn convert(kind: u32, data: &[u8]) -> RegValue {
    // Type numbers from winnt.h.
    const REG_SZ: u32 = 1;
    const REG_EXPAND_SZ: u32 = 2;
    const REG_BINARY: u32 = 3;
    const REG_DWORD: u32 = 4;
    const REG_MULTI_SZ: u32 = 7;
    const REG_QWORD: u32 = 11;
    let wide = || -> Vec<u16> {
        data.chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    };
    match kind {
        REG_SZ => RegValue::Sz(utf16_until_nul(&wide())),
        REG_EXPAND_SZ => RegValue::ExpandSz(utf16_until_nul(&wide())),
        REG_MULTI_SZ => RegValue::MultiSz(
            wide()
                .split(|&c| c == 0)
                .filter(|s| !s.is_empty())
                .map(String::from_utf16_lossy)
                .collect(),
        ),
        REG_DWORD if data.len() == 4 => {
            RegValue::Dword(u32::from_le_bytes([data[0], data[1], data[2], data[3]]))
        }
        REG_QWORD if data.len() == 8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(data);
            RegValue::Qword(u64::from_le_bytes(b))
        }
        REG_BINARY => RegValue::Binary(data.to_vec()),
        _ => RegValue::Other {
            kind,
            len: data.len(),
        },
    }
}

/// A string value up to its first NUL (Windows does not promise the terminator, and some
/// writers store several).
fn utf16_until_nul(w: &[u16]) -> String {
    let end = w.iter().position(|&c| c == 0).unwrap_or(w.len());
    String::from_utf16_lossy(&w[..end])
}

/// The Win32 calls. Handles are closed on every path by [`api::OpenKey`]'s `Drop`.
/// `registry_write` opens keys through the same pieces.
#[cfg(windows)]
pub(super) mod api {
    use windows_sys::Win32::Foundation::{
        ERROR_FILE_NOT_FOUND, ERROR_MORE_DATA, ERROR_NO_MORE_ITEMS, ERROR_PATH_NOT_FOUND, ERROR_SUCCESS,
    };
    use windows_sys::Win32::System::Registry::{
        RegCloseKey, RegEnumKeyExW, RegEnumValueW, RegOpenKeyExW, RegQueryInfoKeyW, HKEY, HKEY_CURRENT_USER,
        HKEY_LOCAL_MACHINE, KEY_READ, KEY_WOW64_64KEY,
    };

    use super::{convert, Hive, RegValue};

    /// An open key, closed on drop.
    pub(in crate::platform::windows) struct OpenKey(pub(in crate::platform::windows) HKEY);

    impl Drop for OpenKey {
        fn drop(&mut self) {
            // SAFETY: the handle came from a successful open/create and is closed once.
            unsafe { RegCloseKey(self.0) };
        }
    }

    /// `s` as a NUL-terminated UTF-16 string.
    pub(in crate::platform::windows) fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(std::iter::once(0)).collect()
    }

    pub(in crate::platform::windows) fn root(hive: Hive) -> HKEY {
        match hive {
            Hive::LocalMachine => HKEY_LOCAL_MACHINE,
            Hive::CurrentUser => HKEY_CURRENT_USER,
        }
    }

    /// Opens an existing key with `access` (64-bit view); `Ok(None)` when it does not
    /// exist, `Err(code)` with the Win32 error otherwise.
    pub(in crate::platform::windows) fn open_key(
        hive: Hive,
        path: &str,
        access: u32,
    ) -> Result<Option<OpenKey>, u32> {
        let name = wide(path);
        let mut key: HKEY = std::ptr::null_mut();
        // SAFETY: `name` is NUL-terminated and outlives the call; `key` is a valid out pointer.
        let rc = unsafe { RegOpenKeyExW(root(hive), name.as_ptr(), 0, access | KEY_WOW64_64KEY, &mut key) };
        match rc {
            ERROR_SUCCESS => Ok(Some(OpenKey(key))),
            ERROR_FILE_NOT_FOUND | ERROR_PATH_NOT_FOUND => Ok(None),
            other => Err(other),
        }
    }

    /// Opens a key for reading; `Ok(None)` when it does not exist.
    fn open(hive: Hive, path: &str) -> Result<Option<OpenKey>, String> {
        open_key(hive, path, KEY_READ)
            .map_err(|other| format!("cannot open {}\\{path} (error {other})", hive.short()))
    }

    /// Longest value name (in UTF-16 units) and longest value data (bytes) of a key.
    fn sizes(key: &OpenKey) -> Result<(u32, u32, u32), String> {
        let (mut max_subkey, mut max_name, mut max_data) = (0u32, 0u32, 0u32);
        use std::ptr::{null, null_mut};
        // SAFETY: every pointer is either null (not wanted) or a valid out pointer.
        let rc = unsafe {
            RegQueryInfoKeyW(
                key.0,
                null_mut(),
                null_mut(),
                null(),
                null_mut(),
                &mut max_subkey,
                null_mut(),
                null_mut(),
                &mut max_name,
                &mut max_data,
                null_mut(),
                null_mut(),
            )
        };
        if rc != ERROR_SUCCESS {
            return Err(format!("cannot query the key (error {rc})"));
        }
        Ok((max_subkey, max_name, max_data))
    }

    pub fn values(hive: Hive, path: &str) -> Result<Option<Vec<(String, RegValue)>>, String> {
        let Some(key) = open(hive, path)? else {
            return Ok(None);
        };
        let (_, max_name, max_data) = sizes(&key)?;
        let mut name = vec![0u16; max_name as usize + 1];
        let mut data = vec![0u8; (max_data as usize).max(16)];
        let mut out = Vec::new();
        let mut index = 0u32;
        loop {
            let mut name_len = name.len() as u32;
            let mut data_len = data.len() as u32;
            let mut kind = 0u32;
            // SAFETY: the buffers are writable for the lengths passed, which the call
            // updates to what it wrote.
            let rc = unsafe {
                RegEnumValueW(
                    key.0,
                    index,
                    name.as_mut_ptr(),
                    &mut name_len,
                    std::ptr::null(),
                    &mut kind,
                    data.as_mut_ptr(),
                    &mut data_len,
                )
            };
            match rc {
                ERROR_SUCCESS => {
                    let n = String::from_utf16_lossy(&name[..name_len as usize]);
                    out.push((n, convert(kind, &data[..data_len as usize])));
                    index += 1;
                }
                // A value grew since the key was measured: grow the buffers and retry it.
                ERROR_MORE_DATA => {
                    name.resize(name.len() * 2, 0);
                    data.resize((data.len() * 2).max(data_len as usize), 0);
                }
                ERROR_NO_MORE_ITEMS => return Ok(Some(out)),
                other => {
                    return Err(format!(
                        "cannot list the values of {}\\{path} (error {other})",
                        hive.short()
                    ))
                }
            }
        }
    }

    pub fn subkeys(hive: Hive, path: &str) -> Result<Option<Vec<String>>, String> {
        let Some(key) = open(hive, path)? else {
            return Ok(None);
        };
        let (max_subkey, _, _) = sizes(&key)?;
        let mut name = vec![0u16; max_subkey as usize + 1];
        let mut out = Vec::new();
        let mut index = 0u32;
        loop {
            let mut len = name.len() as u32;
            // SAFETY: `name` is writable for `len` units; the other pointers are null
            // (class and time not wanted).
            let rc = unsafe {
                RegEnumKeyExW(
                    key.0,
                    index,
                    name.as_mut_ptr(),
                    &mut len,
                    std::ptr::null(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            match rc {
                ERROR_SUCCESS => {
                    out.push(String::from_utf16_lossy(&name[..len as usize]));
                    index += 1;
                }
                ERROR_MORE_DATA => name.resize(name.len() * 2, 0),
                ERROR_NO_MORE_ITEMS => return Ok(Some(out)),
                other => {
                    return Err(format!(
                        "cannot list the subkeys of {}\\{path} (error {other})",
                        hive.short()
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn converts_the_value_types_windows_returns() {
        assert_eq!(convert(4, &1u32.to_le_bytes()), RegValue::Dword(1));
        assert_eq!(convert(11, &0x800u64.to_le_bytes()), RegValue::Qword(0x800));
        assert_eq!(convert(1, &utf16("1\0")), RegValue::Sz("1".into()));
        assert_eq!(
            convert(1, &utf16("no terminator")),
            RegValue::Sz("no terminator".into())
        );
        assert_eq!(
            convert(2, &utf16("%SystemRoot%\\x\0")),
            RegValue::ExpandSz("%SystemRoot%\\x".into())
        );
        assert_eq!(
            convert(7, &utf16("a\0b\0\0")),
            RegValue::MultiSz(vec!["a".into(), "b".into()])
        );
        assert_eq!(convert(3, &[1, 2]), RegValue::Binary(vec![1, 2]));
        // A DWORD with the wrong length is not silently read as a number.
        assert_eq!(convert(4, &[1, 0]), RegValue::Other { kind: 4, len: 2 });
    }

    #[test]
    fn numbers_come_from_dwords_and_from_strings_typed_by_hand() {
        assert_eq!(RegValue::Dword(0).as_number(), Some(0));
        assert_eq!(RegValue::Sz(" 1 ".into()).as_number(), Some(1));
        assert_eq!(RegValue::Sz("0xA00".into()).as_number(), Some(0xA00));
        assert_eq!(RegValue::Sz("yes".into()).as_number(), None);
        assert_eq!(RegValue::Qword(u64::MAX).as_number(), None);
        assert!(RegValue::Dword(1).is_dword() && !RegValue::Sz("1".into()).is_dword());
    }

    #[test]
    fn value_names_match_without_case() {
        let k = Key::with(
            Hive::CurrentUser,
            "Software\\X",
            [("EnableADAL", RegValue::Dword(0))],
        );
        assert_eq!(k.value("enableadal"), Some(&RegValue::Dword(0)));
        assert_eq!(k.value("DisableAADWAM"), None);
        assert_eq!(k.describe("EnableADAL"), "0 (REG_DWORD 0x0)");
        assert_eq!(k.describe("Other"), "not set");
        assert_eq!(
            Key::missing(Hive::LocalMachine, "A").describe("B"),
            "not set (key absent)"
        );
        assert_eq!(k.display_path(), "HKCU\\Software\\X");
    }

    #[test]
    fn the_scratch_view_keeps_both_hives_under_one_user_key() {
        let v = View::scratch("Software\\m365mon-test\\");
        assert_eq!(
            v.locate(Hive::LocalMachine, "SOFTWARE\\A"),
            (
                Hive::CurrentUser,
                "Software\\m365mon-test\\HKLM\\SOFTWARE\\A".into()
            )
        );
        assert_eq!(
            v.reg_path(Hive::CurrentUser, "B"),
            "HKCU\\Software\\m365mon-test\\HKCU\\B"
        );
        assert_eq!(View::system().reg_path(Hive::LocalMachine, "C"), "HKLM\\C");
    }

    /// Reads a key written by `reg.exe`: proves the Win32 side (names, types, subkeys and a
    /// missing key) on Windows and under Wine. Uses a scratch key, so it changes nothing
    /// that matters and cleans up after itself.
    #[cfg(windows)]
    #[test]
    fn reads_values_and_subkeys_written_by_reg_exe() {
        let base = format!("Software\\m365mon-test-registry-{}", std::process::id());
        let reg = |args: &[&str]| {
            let out = std::process::Command::new("reg")
                .args(args)
                .output()
                .expect("run reg.exe");
            assert!(
                out.status.success(),
                "reg {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        struct Cleanup(String);
        impl Drop for Cleanup {
            fn drop(&mut self) {
                let _ = std::process::Command::new("reg")
                    .args(["delete", &self.0, "/f"])
                    .output();
            }
        }
        let full = format!("HKCU\\{base}");
        let _cleanup = Cleanup(full.clone());
        reg(&[
            "add",
            &full,
            "/v",
            "Number",
            "/t",
            "REG_DWORD",
            "/d",
            "2048",
            "/f",
        ]);
        reg(&["add", &full, "/v", "Text", "/t", "REG_SZ", "/d", "Grüße", "/f"]);
        reg(&[
            "add",
            &format!("{full}\\Child_ADAL"),
            "/v",
            "EmailAddress",
            "/t",
            "REG_SZ",
            "/d",
            "a@b.example",
            "/f",
        ]);

        let key = read_key(&View::system(), Hive::CurrentUser, &base);
        assert_eq!(key.value("number"), Some(&RegValue::Dword(2048)), "{key:?}");
        assert_eq!(key.value("TEXT").and_then(RegValue::as_text), Some("Grüße"));
        assert_eq!(
            subkeys(&View::system(), Hive::CurrentUser, &base),
            Ok(Some(vec!["Child_ADAL".to_owned()]))
        );
        let missing = read_key(&View::system(), Hive::CurrentUser, &format!("{base}\\Nope"));
        assert_eq!(missing.state, KeyState::Missing);
        assert_eq!(
            subkeys(&View::system(), Hive::CurrentUser, &format!("{base}\\Nope")),
            Ok(None)
        );
    }
}
