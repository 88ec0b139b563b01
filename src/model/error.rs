//! Errors that reach the user.
//!
//! Bad input (a malformed catalog, scenario, theme or config) must name the file, the line
//! and what is wrong, and make the process exit with status 3 ("could not run", in the
//! monitoring-plugin convention). [`InputError`] carries exactly that, so every loader
//! returns it and `main` turns it into one line on stderr.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with something the user gave us: a file, a flag value, a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file at fault, when there is one.
    pub file: Option<PathBuf>,
    /// 1-based line in that file, when known.
    pub line: Option<usize>,
    /// What is wrong, in plain words.
    pub message: String,
}

impl InputError {
    /// An error about a whole file (missing, unreadable).
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Self {
            file: Some(path.to_path_buf()),
            line: None,
            message: message.into(),
        }
    }

    /// An error at a line of a file.
    pub fn at(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self {
            file: Some(path.to_path_buf()),
            line: Some(line),
            message: message.into(),
        }
    }

    /// An error not tied to a file (a bad flag value, an unknown name).
    pub fn plain(message: impl Into<String>) -> Self {
        Self {
            file: None,
            line: None,
            message: message.into(),
        }
    }

    /// Converts a TOML parse or schema error into an error at the right line.
    pub fn from_toml(path: &Path, text: &str, err: &toml::de::Error) -> Self {
        let line = err.span().map(|span| line_of(text, span.start));
        let message = err.message().trim().to_string();
        Self {
            file: Some(path.to_path_buf()),
            line,
            message,
        }
    }

    /// Converts a JSON error into an error at the right line.
    pub fn from_json(path: &Path, err: &serde_json::Error) -> Self {
        let line = (err.line() > 0).then_some(err.line());
        // serde_json appends " at line L column C"; we print the line ourselves.
        let text = err.to_string();
        let message = match text.rfind(" at line ") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        Self {
            file: Some(path.to_path_buf()),
            line,
            message,
        }
    }
}

/// 1-based line number of a byte offset in `text`. It reads `text` up to the offset, so
/// call it for the one error being reported, never for every entry of a file (that made
/// loading large files quadratic).
pub fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{}: {}", file.display(), line, self.message),
            (Some(file), None) => write!(f, "{}: {}", file.display(), self.message),
            _ => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// Reads a file the user named, turning I/O errors into an [`InputError`].
pub fn read_input(path: &Path) -> Result<String, InputError> {
    std::fs::read_to_string(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "file not found".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            std::io::ErrorKind::InvalidData => "not valid UTF-8 text".to_string(),
            _ => e.to_string(),
        };
        InputError::file(path, why)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_counts_newlines_before_offset() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
        assert_eq!(line_of("a", 99), 1);
    }

    #[test]
    fn display_names_file_and_line() {
        let e = InputError::at(Path::new("x.toml"), 3, "bad port");
        assert_eq!(e.to_string(), "x.toml:3: bad port");
    }
}
