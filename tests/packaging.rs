//! The package manifests (winget and Scoop) that `scripts/manifests.sh` writes, and those
//! kept in `packaging/` once `scripts/dist.sh` has built a release: they parse, every field
//! the winget and Scoop schemas constrain has an allowed value, they name this version and
//! one and the same zip (URL and SHA-256), and the kept ones are exactly what the script
//! writes, so nobody edits them by hand. No schema file is vendored: the field rules below
//! follow winget's manifest schema 1.6.0 and Scoop's `schema.json`.
#![cfg(unix)] // the generator is a bash script

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

const ID: &str = "M365Mon.M365Mon";
const SCHEMA: &str = "1.6.0";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The winget folder of the manifests under `packaging`.
fn winget_dir(packaging: &Path) -> PathBuf {
    packaging.join("winget/manifests/m/M365Mon/M365Mon")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    serde_yaml_ng::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Version {
    package_identifier: String,
    package_version: String,
    default_locale: String,
    manifest_type: String,
    manifest_version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Installer {
    package_identifier: String,
    package_version: String,
    installer_type: String,
    nested_installer_type: String,
    nested_installer_files: Vec<NestedFile>,
    commands: Vec<String>,
    installers: Vec<InstallerEntry>,
    manifest_type: String,
    manifest_version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct NestedFile {
    relative_file_path: String,
    portable_command_alias: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct InstallerEntry {
    architecture: String,
    installer_url: String,
    installer_sha256: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Locale {
    package_identifier: String,
    package_version: String,
    package_locale: String,
    publisher: String,
    publisher_url: String,
    package_name: String,
    package_url: String,
    license: String,
    license_url: String,
    short_description: String,
    description: String,
    moniker: String,
    tags: Vec<String>,
    manifest_type: String,
    manifest_version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scoop {
    #[serde(rename = "##")]
    comment: String,
    version: String,
    description: String,
    homepage: String,
    license: String,
    architecture: BTreeMap<String, ScoopDownload>,
    bin: String,
    checkver: BTreeMap<String, String>,
    autoupdate: ScoopAutoupdate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoopDownload {
    url: String,
    #[serde(default)]
    hash: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoopAutoupdate {
    architecture: BTreeMap<String, ScoopDownload>,
}

/// The manifests of this version under `packaging`, parsed: (version, installer, locale).
fn winget(packaging: &Path) -> (Version, Installer, Locale) {
    let dir = winget_dir(packaging).join(env!("CARGO_PKG_VERSION"));
    (
        yaml(&dir.join(format!("{ID}.yaml"))),
        yaml(&dir.join(format!("{ID}.installer.yaml"))),
        yaml(&dir.join(format!("{ID}.locale.en-US.yaml"))),
    )
}

fn scoop(packaging: &Path) -> Scoop {
    let path = packaging.join("scoop/m365mon.json");
    serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// winget's `PackageIdentifier` pattern: 2 to 8 dot-separated parts of 1 to 32
/// characters, none of `\/:*?"<>|`, whitespace or control characters.
fn winget_identifier_ok(id: &str) -> bool {
    let parts: Vec<&str> = id.split('.').collect();
    (2..=8).contains(&parts.len())
        && parts.iter().all(|p| {
            (1..=32).contains(&p.chars().count())
                && p.chars()
                    .all(|c| !c.is_whitespace() && !c.is_control() && !"\\/:*?\"<>|".contains(c))
        })
        && id.len() <= 128
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn is_semver_triple(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && (p.len() == 1 || !p.starts_with('0'))
        })
}

fn repository() -> String {
    let cargo: toml::Table = toml::from_str(&read(&root().join("Cargo.toml"))).unwrap();
    cargo["package"]["repository"].as_str().unwrap().to_string()
}

/// Runs `scripts/manifests.sh` for this version into `out`, with the release URL that
/// scripts/dist.sh gives it and `sha` as the zip's checksum.
fn generate(out: &Path, url: &str, sha: &str) {
    let status = std::process::Command::new("bash")
        .arg(root().join("scripts/manifests.sh"))
        .args([env!("CARGO_PKG_VERSION"), url, sha, &repository()])
        .arg(out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "scripts/manifests.sh: {status}");
}

/// The zip's URL as scripts/dist.sh makes it.
fn release_zip_url() -> String {
    let v = env!("CARGO_PKG_VERSION");
    format!(
        "{}/releases/download/v{v}/m365mon-{v}-x86_64-pc-windows-gnu.zip",
        repository()
    )
}

/// A zip's SHA-256 as the script gets it (this one is the digest of empty input, in the
/// lower case `sha256sum` prints).
const SOME_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// All the checks on the manifests under `packaging`.
fn check_manifests(packaging: &Path) {
    check_winget(packaging);
    check_scoop(packaging);
}

#[test]
fn the_script_writes_manifests_that_follow_the_schemas() {
    let out = tempfile::tempdir().unwrap();
    let sha = SOME_SHA256;
    generate(out.path(), &release_zip_url(), sha);
    check_manifests(out.path());
    let (_, i, _) = winget(out.path());
    assert_eq!(i.installers[0].installer_sha256, sha.to_uppercase());
    assert_eq!(scoop(out.path()).architecture["64bit"].hash.as_deref(), Some(sha));
}

/// The manifests kept in the repository: none before the first release build, else the
/// current version's, complete, and exactly what the script writes from their own
/// checksum (so a hand edit or a stale version fails here).
#[test]
fn kept_manifests_are_what_the_script_generates() {
    let packaging = root().join("packaging");
    if !packaging.exists() {
        // Not a skip: there is nothing kept to check until scripts/dist.sh has run.
        return;
    }
    check_manifests(&packaging);
    let (_, i, _) = winget(&packaging);
    let entry = &i.installers[0];
    let out = tempfile::tempdir().unwrap();
    generate(out.path(), &entry.installer_url, &entry.installer_sha256);
    let v = env!("CARGO_PKG_VERSION");
    let mut compared = 0;
    for rel in [
        format!("winget/manifests/m/M365Mon/M365Mon/{v}/{ID}.yaml"),
        format!("winget/manifests/m/M365Mon/M365Mon/{v}/{ID}.installer.yaml"),
        format!("winget/manifests/m/M365Mon/M365Mon/{v}/{ID}.locale.en-US.yaml"),
        "scoop/m365mon.json".to_string(),
    ] {
        assert_eq!(
            read(&out.path().join(&rel)),
            read(&packaging.join(&rel)),
            "packaging/{rel} differs from what scripts/manifests.sh writes: run scripts/dist.sh"
        );
        compared += 1;
    }
    assert_eq!(compared, 4);
}

fn check_winget(packaging: &Path) {
    let version = env!("CARGO_PKG_VERSION");
    // Only this version's folder: the repository keeps the current manifests.
    let folders: Vec<String> = std::fs::read_dir(winget_dir(packaging))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(folders, [version], "{}", winget_dir(packaging).display());

    let (v, i, l) = winget(packaging);
    for (kind, id, pv, mt, mv) in [
        (
            "version",
            &v.package_identifier,
            &v.package_version,
            &v.manifest_type,
            &v.manifest_version,
        ),
        (
            "installer",
            &i.package_identifier,
            &i.package_version,
            &i.manifest_type,
            &i.manifest_version,
        ),
        (
            "defaultLocale",
            &l.package_identifier,
            &l.package_version,
            &l.manifest_type,
            &l.manifest_version,
        ),
    ] {
        assert_eq!(id, ID, "{kind}");
        assert!(winget_identifier_ok(id), "{kind}: PackageIdentifier {id:?}");
        assert_eq!(pv, version, "{kind}: PackageVersion");
        assert_eq!(mt, kind, "ManifestType");
        assert_eq!(mv, SCHEMA, "{kind}: ManifestVersion");
        assert!(is_semver_triple(mv), "{kind}: ManifestVersion {mv:?}");
    }
    assert_eq!(v.default_locale, "en-US");
    assert_eq!(l.package_locale, v.default_locale);

    // A zip holding one portable exe, on the PATH as `m365mon`.
    assert_eq!(i.installer_type, "zip");
    assert_eq!(i.nested_installer_type, "portable");
    assert_eq!(i.nested_installer_files.len(), 1);
    assert_eq!(i.nested_installer_files[0].relative_file_path, "m365mon.exe");
    assert_eq!(i.nested_installer_files[0].portable_command_alias, "m365mon");
    assert_eq!(i.commands, ["m365mon"]);
    assert_eq!(i.installers.len(), 1);
    let entry = &i.installers[0];
    assert_eq!(entry.architecture, "x64");
    assert!(
        entry.installer_url.starts_with("https://"),
        "{}",
        entry.installer_url
    );
    assert!(
        entry.installer_url.ends_with(&format!(
            "/v{version}/m365mon-{version}-x86_64-pc-windows-gnu.zip"
        )),
        "{}",
        entry.installer_url
    );
    assert!(is_sha256(&entry.installer_sha256), "{}", entry.installer_sha256);

    // The locale's lengths and forms, as the schema bounds them.
    let len = |s: &str| s.chars().count();
    assert!((2..=256).contains(&len(&l.publisher)));
    assert!((2..=256).contains(&len(&l.package_name)));
    assert!((3..=512).contains(&len(&l.license)));
    assert!((3..=256).contains(&len(&l.short_description)));
    assert!((3..=10_000).contains(&len(&l.description)));
    assert!((1..=40).contains(&len(&l.moniker)));
    assert!(l.tags.len() <= 16);
    for tag in &l.tags {
        assert!((1..=40).contains(&len(tag)) && !tag.contains(' '), "tag {tag:?}");
    }
    let repo = repository();
    for url in [&l.publisher_url, &l.package_url, &l.license_url] {
        assert!(url.starts_with(&repo), "{url} is not under {repo}");
    }
    assert!(entry.installer_url.starts_with(&repo));
}

fn check_scoop(packaging: &Path) {
    let version = env!("CARGO_PKG_VERSION");
    let s = scoop(packaging);
    assert!(s.comment.contains("scripts/manifests.sh"));
    assert_eq!(s.version, version);
    assert_eq!(s.homepage, repository());
    assert_eq!(s.license, "MIT|Apache-2.0");
    assert!(!s.description.is_empty());
    assert_eq!(s.bin, "m365mon.exe");
    assert_eq!(s.architecture.keys().collect::<Vec<_>>(), ["64bit"]);
    let download = &s.architecture["64bit"];
    let hash = download.hash.as_deref().expect("a hash for the 64-bit zip");
    assert!(is_sha256(hash), "{hash}");
    assert_eq!(s.checkver.get("github"), Some(&s.homepage));

    let (_, i, _) = winget(packaging);
    let entry = &i.installers[0];
    assert_eq!(download.url, entry.installer_url, "one zip for both");
    assert_eq!(
        hash.to_lowercase(),
        entry.installer_sha256.to_lowercase(),
        "one checksum"
    );
    // autoupdate's URL is this URL with the version as Scoop's `$version`.
    let auto = &s.autoupdate.architecture["64bit"];
    assert!(auto.hash.is_none());
    assert_eq!(auto.url.replace("$version", version), download.url);
}

#[test]
fn the_script_refuses_a_malformed_checksum() {
    let out = tempfile::tempdir().unwrap();
    let result = std::process::Command::new("bash")
        .arg(root().join("scripts/manifests.sh"))
        .args([
            "0.1.0",
            "https://example.invalid/m365mon.zip",
            "not-a-checksum",
            "https://example.invalid",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("ZIP_SHA256 'not-a-checksum'"), "{stderr}");
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "wrote nothing"
    );
}
