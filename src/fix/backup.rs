//! Backing up, verifying, changing and restoring one item of a fix.
//!
//! Files are handled with `std::fs` on every OS (so the file-based fix is tested with
//! temporary folders on Linux as well as under Wine). Registry values, credentials and
//! the WinHTTP proxy go through the small [`Host`] trait: [`SystemHost`] makes the real
//! Win32 calls on Windows (through a registry [`View`], so tests write to a scratch key)
//! and says "Windows only" elsewhere.
//!
//! Each backup is checked against the live state before anything changes
//! ([`verify`]), and every restore reads the item back and compares it with the backup.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Action;
use crate::platform::windows::credentials_write::{CredAttribute, FullCredential, Secret};
use crate::platform::windows::registry::{Hive, View};
use crate::platform::windows::registry_write::RawValue;
use crate::platform::windows::winhttp_proxy::DefaultProxy;

/// The resources a fix changes other than files.
pub trait Host {
    fn reg_read(&self, hive: Hive, key: &str, name: &str) -> Result<Option<RawValue>, String>;
    fn reg_write(&self, hive: Hive, key: &str, name: &str, value: &RawValue) -> Result<(), String>;
    fn reg_delete(&self, hive: Hive, key: &str, name: &str) -> Result<(), String>;
    fn reg_key_exists(&self, hive: Hive, key: &str) -> Result<bool, String>;
    /// Deletes the key if it holds no values and no subkeys; `Ok(false)` when it stays.
    fn reg_delete_empty_key(&self, hive: Hive, key: &str) -> Result<bool, String>;
    /// Targets of the generic credentials whose target starts with `prefix` (no case).
    fn cred_targets(&self, prefix: &str) -> Result<Vec<String>, String>;
    fn cred_read(&self, target: &str) -> Result<Option<FullCredential>, String>;
    fn cred_write(&self, c: &FullCredential) -> Result<(), String>;
    fn cred_delete(&self, target: &str) -> Result<(), String>;
    /// Seals backup bytes that hold a secret (DPAPI on Windows).
    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, String>;
    fn unseal(&self, sealed: &[u8]) -> Result<Vec<u8>, String>;
    fn proxy_get(&self) -> Result<DefaultProxy, String>;
    fn proxy_set(&self, p: &DefaultProxy) -> Result<(), String>;
}

/// The real machine (registry through `view`).
pub struct SystemHost {
    pub view: View,
}

#[cfg(not(windows))]
const WINDOWS_ONLY: &str = "this works only on Windows";

#[cfg(windows)]
impl Host for SystemHost {
    fn reg_read(&self, hive: Hive, key: &str, name: &str) -> Result<Option<RawValue>, String> {
        crate::platform::windows::registry_write::read_value(&self.view, hive, key, name)
    }
    fn reg_write(&self, hive: Hive, key: &str, name: &str, value: &RawValue) -> Result<(), String> {
        crate::platform::windows::registry_write::set_value(&self.view, hive, key, name, value)
    }
    fn reg_delete(&self, hive: Hive, key: &str, name: &str) -> Result<(), String> {
        crate::platform::windows::registry_write::delete_value(&self.view, hive, key, name)
    }
    fn reg_key_exists(&self, hive: Hive, key: &str) -> Result<bool, String> {
        crate::platform::windows::registry_write::key_exists(&self.view, hive, key)
    }
    fn reg_delete_empty_key(&self, hive: Hive, key: &str) -> Result<bool, String> {
        crate::platform::windows::registry_write::delete_key_if_empty(&self.view, hive, key)
    }
    fn cred_targets(&self, prefix: &str) -> Result<Vec<String>, String> {
        let all = crate::platform::windows::credentials::list()?;
        Ok(all
            .into_iter()
            .filter(|c| c.kind == "generic" && starts_with_ignore_case(&c.target, prefix))
            .map(|c| c.target)
            .collect())
    }
    fn cred_read(&self, target: &str) -> Result<Option<FullCredential>, String> {
        use crate::platform::windows::credentials_write::{read, CRED_TYPE_GENERIC};
        read(target, CRED_TYPE_GENERIC)
    }
    fn cred_write(&self, c: &FullCredential) -> Result<(), String> {
        crate::platform::windows::credentials_write::write(c)
    }
    fn cred_delete(&self, target: &str) -> Result<(), String> {
        use crate::platform::windows::credentials_write::{delete, CRED_TYPE_GENERIC};
        delete(target, CRED_TYPE_GENERIC)
    }
    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, String> {
        crate::platform::windows::credentials_write::protect(plain)
    }
    fn unseal(&self, sealed: &[u8]) -> Result<Vec<u8>, String> {
        crate::platform::windows::credentials_write::unprotect(sealed)
    }
    fn proxy_get(&self) -> Result<DefaultProxy, String> {
        crate::platform::windows::winhttp_proxy::get()
    }
    fn proxy_set(&self, p: &DefaultProxy) -> Result<(), String> {
        crate::platform::windows::winhttp_proxy::set(p)
    }
}

#[cfg(not(windows))]
impl Host for SystemHost {
    fn reg_read(&self, _: Hive, _: &str, _: &str) -> Result<Option<RawValue>, String> {
        Err(WINDOWS_ONLY.into())
    }
    fn reg_write(&self, _: Hive, _: &str, _: &str, _: &RawValue) -> Result<(), String> {
        Err(WINDOWS_ONLY.into())
    }
    fn reg_delete(&self, _: Hive, _: &str, _: &str) -> Result<(), String> {
        Err(WINDOWS_ONLY.into())
    }
    fn reg_key_exists(&self, _: Hive, _: &str) -> Result<bool, String> {
        Err(WINDOWS_ONLY.into())
    }
    fn reg_delete_empty_key(&self, _: Hive, _: &str) -> Result<bool, String> {
        Err(WINDOWS_ONLY.into())
    }
    fn cred_targets(&self, _: &str) -> Result<Vec<String>, String> {
        Err(WINDOWS_ONLY.into())
    }
    fn cred_read(&self, _: &str) -> Result<Option<FullCredential>, String> {
        Err(WINDOWS_ONLY.into())
    }
    fn cred_write(&self, _: &FullCredential) -> Result<(), String> {
        Err(WINDOWS_ONLY.into())
    }
    fn cred_delete(&self, _: &str) -> Result<(), String> {
        Err(WINDOWS_ONLY.into())
    }
    fn seal(&self, _: &[u8]) -> Result<Vec<u8>, String> {
        Err(WINDOWS_ONLY.into())
    }
    fn unseal(&self, _: &[u8]) -> Result<Vec<u8>, String> {
        Err(WINDOWS_ONLY.into())
    }
    fn proxy_get(&self) -> Result<DefaultProxy, String> {
        Err(WINDOWS_ONLY.into())
    }
    fn proxy_set(&self, _: &DefaultProxy) -> Result<(), String> {
        Err(WINDOWS_ONLY.into())
    }
}

/// The outermost key on the way to `key` that does not exist (`Software\A` for
/// `Software\A\B` when neither exists); `None` when `key` exists.
fn first_missing_key(host: &dyn Host, hive: Hive, key: &str) -> Result<Option<String>, String> {
    if host.reg_key_exists(hive, key)? {
        return Ok(None);
    }
    let parts: Vec<&str> = key.split('\\').collect();
    for n in 1..=parts.len() {
        let prefix = parts[..n].join("\\");
        if !host.reg_key_exists(hive, &prefix)? {
            return Ok(Some(prefix));
        }
    }
    Ok(Some(key.to_owned()))
}

/// Deletes `key` and its parents up to `top` (which the fix created), deepest first, each
/// only while empty: a key something else has written to since stays, and so do its parents.
fn remove_created_keys(host: &dyn Host, hive: Hive, key: &str, top: &str) -> Result<(), String> {
    if !key.eq_ignore_ascii_case(top) && !starts_with_ignore_case(key, &format!("{top}\\")) {
        return Err(format!(
            "{top} is not a parent of {key}; the journal is inconsistent"
        ));
    }
    let mut k = key.to_owned();
    loop {
        if !host.reg_delete_empty_key(hive, &k)? {
            return Ok(());
        }
        if k.len() <= top.len() {
            return Ok(());
        }
        match k.rfind('\\') {
            Some(i) => k.truncate(i),
            None => return Ok(()),
        }
    }
}

pub fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// What the backup holds for one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Saved {
    /// A copy of the file, relative to the backup folder, and its permissions: the Unix
    /// mode, or on Windows its access list (a self-relative security descriptor, hex).
    /// Both are absent in journals of older versions.
    File {
        copy: String,
        bytes: u64,
        modified: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        acl: Option<String>,
    },
    /// The folder existed (it is recreated on restore, with its permissions).
    Folder {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        acl: Option<String>,
    },
    /// The registry value before: its type and bytes (hex), or absent; and the outermost
    /// key that did not exist yet (writing the value creates it and the keys below it),
    /// so undo can remove what the fix created. Absent in journals of older versions.
    Registry {
        previous: Option<RegRecord>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        created_key: Option<String>,
    },
    /// The whole credential, sealed, in this file of the backup folder.
    Credential { copy: String },
    /// The WinHTTP default proxy before.
    WinHttpProxy { previous: ProxyRecord },
}

/// A registry value as recorded: type number and raw bytes in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegRecord {
    pub kind: u32,
    pub data_hex: String,
    /// The value in words, for people reading the journal.
    pub shown: String,
}

impl RegRecord {
    pub fn from_raw(v: &RawValue) -> RegRecord {
        RegRecord {
            kind: v.kind,
            data_hex: hex(&v.data),
            shown: v.describe(),
        }
    }
    pub fn to_raw(&self) -> Result<RawValue, String> {
        Ok(RawValue {
            kind: self.kind,
            data: unhex(&self.data_hex)?,
        })
    }
}

/// The WinHTTP default proxy as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyRecord {
    pub access_type: u32,
    pub proxy: Option<String>,
    pub bypass: Option<String>,
}

impl From<&DefaultProxy> for ProxyRecord {
    fn from(p: &DefaultProxy) -> Self {
        ProxyRecord {
            access_type: p.access_type,
            proxy: p.proxy.clone(),
            bypass: p.bypass.clone(),
        }
    }
}

impl From<&ProxyRecord> for DefaultProxy {
    fn from(p: &ProxyRecord) -> Self {
        DefaultProxy {
            access_type: p.access_type,
            proxy: p.proxy.clone(),
            bypass: p.bypass.clone(),
        }
    }
}

/// A credential in the backup (serialised, then sealed).
#[derive(Serialize, Deserialize)]
struct CredentialRecord {
    format: String,
    kind: u32,
    target: String,
    flags: u32,
    comment: Option<String>,
    persist: u32,
    target_alias: Option<String>,
    user_name: Option<String>,
    attributes: Vec<(String, u32, String)>,
    blob_hex: String,
}

const CREDENTIAL_FORMAT: &str = "m365mon.credential/1";

fn encode_credential(c: &FullCredential) -> Vec<u8> {
    let r = CredentialRecord {
        format: CREDENTIAL_FORMAT.into(),
        kind: c.kind,
        target: c.target.clone(),
        flags: c.flags,
        comment: c.comment.clone(),
        persist: c.persist,
        target_alias: c.target_alias.clone(),
        user_name: c.user_name.clone(),
        attributes: c
            .attributes
            .iter()
            .map(|a| (a.keyword.clone(), a.flags, hex(&a.value.0)))
            .collect(),
        blob_hex: hex(&c.blob.0),
    };
    serde_json::to_vec(&r).unwrap_or_default()
}

fn decode_credential(bytes: &[u8]) -> Result<FullCredential, String> {
    let r: CredentialRecord =
        serde_json::from_slice(bytes).map_err(|e| format!("the credential backup cannot be read: {e}"))?;
    if r.format != CREDENTIAL_FORMAT {
        return Err(format!("unknown credential backup format {:?}", r.format));
    }
    Ok(FullCredential {
        kind: r.kind,
        target: r.target,
        flags: r.flags,
        comment: r.comment,
        persist: r.persist,
        target_alias: r.target_alias,
        user_name: r.user_name,
        attributes: r
            .attributes
            .into_iter()
            .map(|(keyword, flags, v)| {
                Ok(CredAttribute {
                    keyword,
                    flags,
                    value: Secret(unhex(&v)?),
                })
            })
            .collect::<Result<_, String>>()?,
        blob: Secret(unhex(&r.blob_hex)?),
    })
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err("odd-length hex in the backup".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| "bad hex in the backup".to_owned()))
        .collect()
}

fn hive(name: &str) -> Result<Hive, String> {
    match name {
        "HKLM" => Ok(Hive::LocalMachine),
        "HKCU" => Ok(Hive::CurrentUser),
        other => Err(format!("unknown registry hive {other:?}")),
    }
}

fn io(what: &str, path: &Path, e: std::io::Error) -> String {
    format!("cannot {what} {}: {e}", path.display())
}

/// The access list to keep with a backup on Windows (hex of a self-relative security
/// descriptor with the DACL), so a restored file has the access it had rather than only
/// what its folder passes on. `None` elsewhere (the mode does that job) and when it
/// cannot be read (the file is still backed up: its content is what matters most).
fn acl_of(path: &Path) -> Option<String> {
    #[cfg(windows)]
    {
        crate::platform::windows::file_security::dacl(path)
            .ok()
            .map(|d| hex(&d))
    }
    #[cfg(not(windows))]
    {
        let _ = path;
        None
    }
}

/// Gives `path` the access list kept by [`acl_of`]; nothing to do for `None`.
fn set_acl(path: &Path, acl: Option<&str>) -> Result<(), String> {
    #[cfg(windows)]
    if let Some(acl) = acl {
        crate::platform::windows::file_security::set_dacl(path, &unhex(acl)?)?;
    }
    #[cfg(not(windows))]
    let _ = (path, acl);
    Ok(())
}

/// The permission bits to keep with a backup: the Unix mode. `None` on Windows, where
/// the access list ([`acl_of`]) is kept instead.
fn mode_of(meta: &std::fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(meta.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Sets the permission bits kept by [`mode_of`]; nothing to do for `None`.
fn set_mode(path: &Path, mode: Option<u32>) -> Result<(), String> {
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| io("set the permissions of", path, e))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Writes `data` to `path` (created or truncated), then gives it `mode` and, when given,
/// the modification time `modified`. With a mode to keep, a file it creates is readable
/// by its owner only until then: a token cache never lies open while it is written.
fn write_keeping(
    path: &Path,
    data: &[u8],
    mode: Option<u32>,
    modified: Option<std::time::SystemTime>,
) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if mode.is_some() {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| io("write", path, e))?;
    file.write_all(data).map_err(|e| io("write", path, e))?;
    if let Some(t) = modified {
        // Best effort: the content is what matters; the time helps people reading it.
        let _ = file.set_modified(t);
    }
    drop(file);
    set_mode(path, mode)
}

fn modified(path: &Path) -> Option<DateTime<Utc>> {
    std::fs::symlink_metadata(path)
        .ok()?
        .modified()
        .ok()
        .map(DateTime::<Utc>::from)
}

/// Copies what step `index` will change into `dir` and says what was kept.
pub fn backup(host: &dyn Host, dir: &Path, index: usize, action: &Action) -> Result<Saved, String> {
    match action {
        Action::DeleteFile { path, .. } => {
            let meta = std::fs::symlink_metadata(path).map_err(|e| io("read", path, e))?;
            if !meta.is_file() {
                return Err(format!("{} is no longer a plain file", path.display()));
            }
            let copy = format!("files/{index:05}");
            let target = dir.join(&copy);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
            }
            // Read and write rather than fs::copy: the bytes are what is verified, and
            // CopyFileExW under Wine reports 0 bytes copied. The copy gets the file's
            // mode, so a private token cache does not become readable in the backup.
            let data = read_file(path)?;
            let mode = mode_of(&meta);
            let acl = acl_of(path);
            write_keeping(&target, &data, mode, None)?;
            set_acl(&target, acl.as_deref())?;
            Ok(Saved::File {
                copy,
                bytes: data.len() as u64,
                modified: modified(path),
                mode,
                acl,
            })
        }
        Action::RemoveFolder { path } => {
            let meta = std::fs::symlink_metadata(path).map_err(|e| io("read", path, e))?;
            if !meta.is_dir() {
                return Err(format!("{} is no longer a folder", path.display()));
            }
            Ok(Saved::Folder {
                mode: mode_of(&meta),
                acl: acl_of(path),
            })
        }
        Action::SetRegistryValue {
            hive: h, key, name, ..
        } => {
            let hive = hive(h)?;
            let previous = host.reg_read(hive, key, name)?;
            Ok(Saved::Registry {
                previous: previous.as_ref().map(RegRecord::from_raw),
                created_key: first_missing_key(host, hive, key)?,
            })
        }
        Action::DeleteCredential { target } => {
            let c = host
                .cred_read(target)?
                .ok_or_else(|| format!("credential {target} is no longer there"))?;
            let sealed = host.seal(&encode_credential(&c))?;
            let copy = format!("credentials/{index:05}.sealed");
            let path = dir.join(&copy);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
            }
            std::fs::write(&path, &sealed).map_err(|e| io("write", &path, e))?;
            Ok(Saved::Credential { copy })
        }
        Action::ResetWinHttpProxy => Ok(Saved::WinHttpProxy {
            previous: ProxyRecord::from(&host.proxy_get()?),
        }),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| io("read", path, e))
}

/// Re-reads the backup of one step and compares it with the live item, byte for byte
/// (files, credentials) or value for value (registry, proxy).
pub fn verify(host: &dyn Host, dir: &Path, action: &Action, saved: &Saved) -> Result<(), String> {
    match (action, saved) {
        (Action::DeleteFile { path, .. }, Saved::File { copy, bytes, .. }) => {
            let kept = read_file(&dir.join(copy))?;
            let live = read_file(path)?;
            if kept.len() as u64 != *bytes || kept != live {
                return Err(format!(
                    "the backup copy of {} differs from the file ({} bytes kept, {} live)",
                    path.display(),
                    kept.len(),
                    live.len()
                ));
            }
            Ok(())
        }
        (Action::RemoveFolder { path }, Saved::Folder { .. }) => match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => Ok(()),
            _ => Err(format!("{} is no longer a folder", path.display())),
        },
        (
            Action::SetRegistryValue {
                hive: h, key, name, ..
            },
            Saved::Registry { previous, .. },
        ) => {
            let live = host.reg_read(hive(h)?, key, name)?;
            let kept = previous.as_ref().map(RegRecord::to_raw).transpose()?;
            if live != kept {
                return Err(format!(
                    "the recorded value of {h}\\{key} {name} differs from the registry"
                ));
            }
            Ok(())
        }
        (Action::DeleteCredential { target }, Saved::Credential { copy }) => {
            let kept = decode_credential(&host.unseal(&read_file(&dir.join(copy))?)?)?;
            let live = host.cred_read(target)?;
            if live.as_ref() != Some(&kept) {
                return Err(format!(
                    "the backup of credential {target} differs from Credential Manager"
                ));
            }
            Ok(())
        }
        (Action::ResetWinHttpProxy, Saved::WinHttpProxy { previous }) => {
            let live = ProxyRecord::from(&host.proxy_get()?);
            if &live != previous {
                return Err("the recorded WinHTTP proxy differs from the current one".into());
            }
            Ok(())
        }
        _ => Err("the backup does not match the step (damaged journal?)".into()),
    }
}

/// Makes the change of one step.
pub fn change(host: &dyn Host, action: &Action) -> Result<(), String> {
    match action {
        Action::DeleteFile { path, .. } => std::fs::remove_file(path).map_err(|e| io("delete", path, e)),
        Action::RemoveFolder { path } => {
            std::fs::remove_dir(path).map_err(|e| io("remove the folder", path, e))
        }
        Action::SetRegistryValue {
            hive: h,
            key,
            name,
            dword,
        } => {
            let hive = hive(h)?;
            let want = RawValue::dword(*dword);
            host.reg_write(hive, key, name, &want)?;
            match host.reg_read(hive, key, name)? {
                Some(v) if v == want => Ok(()),
                other => Err(format!(
                    "{h}\\{key} {name} reads back as {} after writing",
                    other.map_or("absent".into(), |v| v.describe())
                )),
            }
        }
        Action::DeleteCredential { target } => {
            host.cred_delete(target)?;
            match host.cred_read(target)? {
                None => Ok(()),
                Some(_) => Err(format!("credential {target} is still there after deleting it")),
            }
        }
        Action::ResetWinHttpProxy => {
            host.proxy_set(&DefaultProxy::direct())?;
            let now = host.proxy_get()?;
            if now.is_direct() {
                Ok(())
            } else {
                Err(format!("WinHTTP still says {} after the reset", now.describe()))
            }
        }
    }
}

/// Puts one item back from the backup and checks that it reads back the same.
pub fn restore(host: &dyn Host, dir: &Path, action: &Action, saved: &Saved) -> Result<(), String> {
    match (action, saved) {
        (
            Action::DeleteFile { path, .. },
            Saved::File {
                copy,
                modified,
                mode,
                acl,
                ..
            },
        ) => {
            let kept = read_file(&dir.join(copy))?;
            // Still there and identical (the delete never happened): nothing to do.
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) && read_file(path)? == kept {
                return Ok(());
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
            }
            write_keeping(path, &kept, *mode, modified.map(std::time::SystemTime::from))?;
            set_acl(path, acl.as_deref())?;
            if read_file(path)? != kept {
                return Err(format!("{} does not read back as the backup", path.display()));
            }
            Ok(())
        }
        (Action::RemoveFolder { path }, Saved::Folder { mode, acl }) => {
            std::fs::create_dir_all(path).map_err(|e| io("create", path, e))?;
            set_mode(path, *mode)?;
            set_acl(path, acl.as_deref())
        }
        (
            Action::SetRegistryValue {
                hive: h, key, name, ..
            },
            Saved::Registry {
                previous,
                created_key,
            },
        ) => {
            let hive = hive(h)?;
            let kept = previous.as_ref().map(RegRecord::to_raw).transpose()?;
            match &kept {
                Some(v) => host.reg_write(hive, key, name, v)?,
                None => host.reg_delete(hive, key, name)?,
            }
            if host.reg_read(hive, key, name)? != kept {
                return Err(format!("{h}\\{key} {name} does not read back as the backup"));
            }
            if let Some(top) = created_key {
                remove_created_keys(host, hive, key, top)?;
            }
            Ok(())
        }
        (Action::DeleteCredential { target }, Saved::Credential { copy }) => {
            let kept = decode_credential(&host.unseal(&read_file(&dir.join(copy))?)?)?;
            host.cred_write(&kept)?;
            if host.cred_read(target)?.as_ref() != Some(&kept) {
                return Err(format!("credential {target} does not read back as the backup"));
            }
            Ok(())
        }
        (Action::ResetWinHttpProxy, Saved::WinHttpProxy { previous }) => {
            let want = DefaultProxy::from(previous);
            host.proxy_set(&want)?;
            let now = host.proxy_get()?;
            if now.normalised() != want.normalised() {
                return Err(format!(
                    "WinHTTP says {} after restoring {}",
                    now.describe(),
                    want.describe()
                ));
            }
            Ok(())
        }
        _ => Err("the backup does not match the step (damaged journal?)".into()),
    }
}

/// Before an undo: an item that changed since the fix (a file written again, say) would
/// be overwritten by the restore; such conflicts stop the undo before it starts.
pub fn undo_conflict(action: &Action, dir: &Path, saved: &Saved) -> Option<String> {
    match (action, saved) {
        (Action::DeleteFile { path, .. }, Saved::File { copy, .. }) => {
            match std::fs::symlink_metadata(path) {
                Err(_) => None,
                Ok(m) if m.is_file() => {
                    let same = std::fs::read(path).ok() == std::fs::read(dir.join(copy)).ok();
                    (!same).then(|| format!("{} was written again since the fix", path.display()))
                }
                Ok(_) => Some(format!("{} is now a folder", path.display())),
            }
        }
        (Action::RemoveFolder { path }, Saved::Folder { .. }) => match std::fs::symlink_metadata(path) {
            Ok(m) if !m.is_dir() => Some(format!("{} is now a file", path.display())),
            _ => None,
        },
        _ => None,
    }
}

/// The folder where backups go: `%LOCALAPPDATA%\m365mon\backups` on Windows,
/// `$XDG_DATA_HOME/m365mon/backups` (or `~/.local/share/m365mon/backups`) elsewhere.
pub fn default_root(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty()).map(PathBuf::from);
    let base = if cfg!(windows) {
        nonempty("LOCALAPPDATA")?
    } else {
        nonempty("XDG_DATA_HOME").or_else(|| nonempty("HOME").map(|h| h.join(".local").join("share")))?
    };
    Some(base.join("m365mon").join("backups"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let b = vec![0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&b), "0001abff");
        assert_eq!(unhex("0001abff"), Ok(b));
        assert!(unhex("abc").is_err() && unhex("zz").is_err());
    }

    #[test]
    fn credentials_serialise_whole_and_back() {
        let c = FullCredential {
            kind: 1,
            target: "MicrosoftOffice16_Data:SSPI:a@b.example".into(),
            flags: 0,
            comment: Some("c".into()),
            persist: 2,
            target_alias: None,
            user_name: Some("a@b.example".into()),
            attributes: vec![CredAttribute {
                keyword: "k".into(),
                flags: 0,
                value: Secret(vec![9, 8]),
            }],
            blob: Secret(vec![1, 2, 3]),
        };
        assert_eq!(decode_credential(&encode_credential(&c)), Ok(c));
        assert!(decode_credential(b"{}").is_err());
    }

    #[test]
    fn journals_without_modes_still_read_and_modes_are_written_when_known() {
        // Journals written before modes were kept.
        let folder: Saved = serde_json::from_str(r#"{"kind":"folder"}"#).unwrap();
        assert_eq!(
            folder,
            Saved::Folder {
                mode: None,
                acl: None
            }
        );
        let file: Saved =
            serde_json::from_str(r#"{"kind":"file","copy":"files/00000","bytes":3,"modified":null}"#)
                .unwrap();
        assert!(
            matches!(
                file,
                Saved::File {
                    mode: None,
                    bytes: 3,
                    ..
                }
            ),
            "{file:?}"
        );
        // Without a mode the record is what it was; with one, the mode is in it.
        assert_eq!(
            serde_json::to_string(&Saved::Folder {
                mode: None,
                acl: None
            })
            .unwrap(),
            r#"{"kind":"folder"}"#
        );
        let kept = Saved::Folder {
            mode: Some(0o700),
            acl: None,
        };
        let text = serde_json::to_string(&kept).unwrap();
        assert_eq!(text, r#"{"kind":"folder","mode":448}"#);
        assert_eq!(serde_json::from_str::<Saved>(&text).unwrap(), kept);
    }

    #[test]
    fn backups_go_to_the_users_data_folder() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        if cfg!(windows) {
            assert_eq!(
                default_root(env(&[("LOCALAPPDATA", "C:\\Users\\a\\AppData\\Local")])),
                Some(
                    PathBuf::from("C:\\Users\\a\\AppData\\Local")
                        .join("m365mon")
                        .join("backups")
                )
            );
        } else {
            assert_eq!(
                default_root(env(&[("XDG_DATA_HOME", "/x"), ("HOME", "/h")])),
                Some(PathBuf::from("/x/m365mon/backups"))
            );
            assert_eq!(
                default_root(env(&[("HOME", "/h")])),
                Some(PathBuf::from("/h/.local/share/m365mon/backups"))
            );
            assert_eq!(default_root(env(&[])), None);
        }
    }
}
