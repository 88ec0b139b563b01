//! The `--log-file`: appended to, and rotated by size so a long run at debug level cannot
//! fill the disk (a debug log grew by 76 MB in 27 minutes before this).
//!
//! When the file would grow past its limit, `FILE.2` is removed, `FILE.1` becomes `FILE.2`,
//! `FILE` becomes `FILE.1` and a fresh `FILE` is started: at most [`KEEP`] files, the
//! newest lines always in `FILE`, as logrotate would leave them.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The default size limit of one file.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Files kept: the current one and two older ones.
pub const KEEP: usize = 3;

/// A log file that rotates itself; give it to the log writer behind a mutex.
pub struct RotatingLog {
    path: PathBuf,
    max_bytes: u64,
    file: File,
    size: u64,
}

impl RotatingLog {
    /// Opens `path` for appending (creating it), to be rotated past `max_bytes`.
    pub fn open(path: &Path, max_bytes: u64) -> io::Result<Self> {
        let file = append(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path: path.to_path_buf(),
            max_bytes: max_bytes.max(1),
            file,
            size,
        })
    }

    /// `FILE.n`.
    fn older(&self, n: usize) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        // Windows cannot rename onto an existing file: make room first.
        match std::fs::remove_file(self.older(KEEP - 1)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        for n in (1..KEEP - 1).rev() {
            match std::fs::rename(self.older(n), self.older(n + 1)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        std::fs::rename(&self.path, self.older(1))?;
        self.file = append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Write for RotatingLog {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > self.max_bytes {
            // A failed rotation (a read-only folder, the file renamed away) must not stop
            // the logging: go on appending to the file that is open.
            let _ = self.rotate();
        }
        let n = self.file.write(buf)?;
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Parses a size for `--log-max-size`: bytes, or with a `K`, `M` or `G` suffix (powers of
/// 1024), e.g. `10M`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let unit = match unit.trim().to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 1,
        "K" => 1024,
        "M" => 1024 * 1024,
        "G" => 1024 * 1024 * 1024,
        _ => {
            return Err(format!(
                "{s:?} is not a size: use bytes, or a number with K, M or G"
            ))
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size: use bytes, or a number with K, M or G"))?;
    match n.checked_mul(unit) {
        Some(0) | None => Err(format!("{s:?}: the size must be between 1 byte and 16 EiB")),
        Some(b) => Ok(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_past_the_limit_keeping_three_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m365mon.log");
        let mut log = RotatingLog::open(&path, 100).unwrap();
        // One write per line, as the log writer makes one per event.
        for i in 0..50 {
            log.write_all(format!("line {i:02} {}\n", "x".repeat(20)).as_bytes())
                .unwrap();
        }
        log.flush().unwrap();
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        let current = read(&path);
        assert!(current.len() <= 100, "{}", current.len());
        assert!(
            current.ends_with(&format!("line 49 {}\n", "x".repeat(20))),
            "{current}"
        );
        assert!(
            read(&log.older(1)).contains("line 46"),
            "the lines before the newest"
        );
        assert!(log.older(2).exists());
        assert!(!log.older(3).exists(), "at most three files");
        // Every line whole: rotation happens between writes, never inside one.
        for p in [path.clone(), log.older(1), log.older(2)] {
            assert!(read(&p).lines().all(|l| l.len() == 28), "{}", read(&p));
        }
    }

    #[test]
    fn reopening_counts_what_is_already_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m365mon.log");
        std::fs::write(&path, "x".repeat(90)).unwrap();
        let mut log = RotatingLog::open(&path, 100).unwrap();
        log.write_all(&[b'y'; 20]).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), vec![b'y'; 20]);
        assert_eq!(std::fs::read(log.older(1)).unwrap().len(), 90);
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("10M"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_size("512k"), Ok(512 * 1024));
        assert_eq!(parse_size("2MiB"), Ok(2 * 1024 * 1024));
        assert_eq!(parse_size("4096"), Ok(4096));
        for bad in ["", "0", "ten", "5T", "-1", "99999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
