//! The direction of dependency between the rooms of `src/` (its top-level modules), kept
//! true by a test rather than by memory. ARCHITECTURE.md explains the order; this file
//! holds it.
//!
//! A room may use the rooms listed before it in [`ROOMS`], never one listed after it, so
//! no two rooms can depend on each other. Unit tests (`#[cfg(test)]` modules, `tests.rs`
//! and `fixtures.rs` files) may reach anywhere; comments and doc links do not count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom first. Each room may use only the rooms above it in this list.
const ROOMS: &[&str] = &[
    // the vocabulary: results, causes, input errors
    "model",
    // HTTP/1.1 on the wire
    "http",
    // what to probe
    "catalog",
    // facts from the operating system
    "platform",
    // how each endpoint is reached this sweep
    "route",
    // measuring an endpoint stage by stage
    "probe",
    // the imitation Microsoft 365 the tests and demos run against
    "lab",
    // findings, remediation, error codes
    "diagnosis",
    // network and host checks
    "checks",
    // sweeps, the scheduler, snapshots, sessions
    "engine",
    // consumers of snapshots
    "report",
    "serve",
    "remote",
    "fix",
    // the command line and the configuration file
    "cli",
    "tui",
];

/// One reference from a file of one room to another room.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    from: String,
    to: String,
    file: PathBuf,
    line: usize,
}

/// The rooms of a `src/` folder: its top-level `.rs` files and folders, less the crate
/// roots.
fn rooms_of(src: &Path) -> Vec<String> {
    let mut rooms: Vec<String> = std::fs::read_dir(src)
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                Some(name)
            } else {
                name.strip_suffix(".rs").map(str::to_string)
            }
        })
        .filter(|n| n != "lib" && n != "main")
        .collect();
    rooms.sort();
    rooms
}

/// The module path of a file below `src/` (`probe/tls.rs` → `["probe", "tls"]`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

/// The code of a file without comments and without `#[cfg(test)]` modules.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut skipping_test_module = false;
    let mut depth: i64 = 0;
    let mut pending_cfg_test = false;
    for (i, raw) in text.lines().enumerate() {
        let line = match raw.find("//") {
            // `//` inside a string is rare in `use` lines; good enough for paths.
            Some(at) if !raw[..at].contains('"') => &raw[..at],
            _ => raw,
        };
        let trimmed = line.trim();
        if skipping_test_module {
            depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
            if depth <= 0 {
                skipping_test_module = false;
            }
            continue;
        }
        if trimmed.starts_with("#[cfg(test)]") {
            pending_cfg_test = true;
            continue;
        }
        if pending_cfg_test {
            pending_cfg_test = false;
            let is_module = trimmed.starts_with("mod ") || trimmed.starts_with("pub mod ");
            if is_module && trimmed.ends_with('{') {
                skipping_test_module = true;
                depth = 1;
                continue;
            }
            if is_module || trimmed.starts_with("use ") {
                continue;
            }
        }
        out.push((i + 1, line.to_string()));
    }
    out
}

/// The rooms a line refers to: `crate::x`, `crate::{x, y::z}`, and `super::` chains that
/// climb out of the file's room.
fn referenced_rooms(line: &str, module: &[String], rooms: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for item in inner.split(',') {
                let head = item.trim().split("::").next().unwrap_or("").trim();
                if rooms.iter().any(|r| r == head) {
                    found.push(head.to_string());
                }
            }
        } else {
            let head: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if rooms.contains(&head) {
                found.push(head);
            }
        }
        rest = after;
    }
    // `super::super::x` from `a/b/c.rs` climbs to the crate root, then names room `x`.
    let mut rest = line;
    while let Some(at) = rest.find("super::") {
        let preceded_by_path = at >= 2 && &rest[at - 2..at] == "::";
        let mut after = &rest[at..];
        let mut climbs = 0;
        while let Some(a) = after.strip_prefix("super::") {
            climbs += 1;
            after = a;
        }
        if !preceded_by_path && climbs >= module.len() {
            let head: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if rooms.contains(&head) {
                found.push(head);
            }
        }
        rest = &rest[at + "super::".len() * climbs.max(1)..];
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Every reference between rooms in `src`, outside unit tests.
fn references(src: &Path) -> Vec<Reference> {
    let rooms = rooms_of(src);
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let module = module_path(src, &file);
        let Some(room) = module.first().cloned() else {
            continue;
        };
        if room == "lib" || room == "main" {
            continue;
        }
        let name = file.file_name().unwrap().to_string_lossy();
        if name == "tests.rs" || name == "fixtures.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (line_no, line) in code_lines(&text) {
            for to in referenced_rooms(&line, &module, &rooms) {
                if to != room {
                    out.push(Reference {
                        from: room.clone(),
                        to,
                        file: file.clone(),
                        line: line_no,
                    });
                }
            }
        }
    }
    out
}

/// References that go against `order` (to a room listed later, or to a room not listed),
/// and rooms that are not listed at all.
fn violations(src: &Path, order: &[&str]) -> Vec<String> {
    let rank = |r: &str| order.iter().position(|o| *o == r);
    let mut problems: Vec<String> = rooms_of(src)
        .into_iter()
        .filter(|r| rank(r).is_none())
        .map(|r| format!("room `{r}` is not placed in the order"))
        .collect();
    let mut seen = BTreeMap::new();
    for r in references(src) {
        let ok = matches!((rank(&r.from), rank(&r.to)), (Some(a), Some(b)) if b < a);
        if !ok {
            seen.entry((r.from.clone(), r.to.clone())).or_insert_with(|| {
                format!(
                    "{} uses {} at {}:{}, but {} sits below {} (see ARCHITECTURE.md)",
                    r.from,
                    r.to,
                    r.file.display(),
                    r.line,
                    r.from,
                    r.to
                )
            });
        }
    }
    problems.extend(seen.into_values());
    problems
}

#[test]
fn rooms_depend_one_way_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = violations(&src, ROOMS);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_room_is_named_in_architecture_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let missing: Vec<String> = rooms_of(&root.join("src"))
        .into_iter()
        .filter(|r| !doc.contains(&format!("`{r}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "rooms not described in ARCHITECTURE.md: {missing:?}"
    );
}

/// The checker itself, on a small tree made here: it must see a cycle (both directions
/// cannot be in order), references through `crate::{..}` and `super::super::`, and
/// ignore comments and unit tests.
#[test]
fn the_checker_catches_a_deliberate_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("low")).unwrap();
    std::fs::create_dir_all(src.join("high")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod low; pub mod high;\n").unwrap();
    std::fs::write(
        src.join("low/mod.rs"),
        "//! Uses nothing; [`crate::high`] in a comment does not count.\npub mod part;\n\
         #[cfg(test)]\nmod tests {\n    use crate::high::X;\n}\n",
    )
    .unwrap();
    std::fs::write(src.join("low/part.rs"), "pub struct Y;\n").unwrap();
    std::fs::write(
        src.join("high/mod.rs"),
        "pub mod part;\nuse crate::{low::part::Y};\npub struct X(Y);\n",
    )
    .unwrap();
    std::fs::write(src.join("high/part.rs"), "pub struct Z;\n").unwrap();
    assert_eq!(violations(src, &["low", "high"]), Vec::<String>::new());

    // The deliberate cycle: low reaches up to high, by `super::super::`.
    std::fs::write(
        src.join("low/part.rs"),
        "pub struct Y(super::super::high::part::Z);\n",
    )
    .unwrap();
    let found = violations(src, &["low", "high"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("low uses high at "), "{found:?}");
    assert!(found[0].contains("part.rs:1"), "{found:?}");

    // A room nobody placed is a problem too.
    std::fs::write(src.join("stray.rs"), "").unwrap();
    assert!(violations(src, &["low", "high"])
        .iter()
        .any(|p| p.contains("`stray`")));
}
