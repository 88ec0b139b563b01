//! Running the system's own diagnostic tools (`dsregcmd`, `wevtutil`, `mdfind`) and
//! capturing what they print.
//!
//! A monitor must never hang on a tool that hangs, so every run has a deadline after which
//! the child is killed. The tools print in whatever encoding the console uses (UTF-8,
//! UTF-16 with a byte-order mark, or an OEM code page), so output is decoded leniently:
//! the parsers only rely on the ASCII parts.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What became of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolRun {
    /// It ran to the end; `code` is its exit code (None if killed by a signal).
    Ran {
        code: Option<i32>,
        stdout: String,
        stderr: String,
    },
    /// No such program on this machine.
    NotFound,
    /// It could not be started, or its output could not be read.
    Failed(String),
    /// It ran past the deadline and was stopped.
    TimedOut(Duration),
}

impl ToolRun {
    /// Standard output of a run that ended with exit code 0.
    pub fn success(&self) -> Option<&str> {
        match self {
            ToolRun::Ran {
                code: Some(0),
                stdout,
                ..
            } => Some(stdout),
            _ => None,
        }
    }

    /// One line saying why there is no usable output (for a check's facts).
    pub fn problem(&self, program: &str) -> String {
        match self {
            ToolRun::Ran { code, stderr, stdout } => {
                let said = first_line(stderr)
                    .or_else(|| first_line(stdout))
                    .unwrap_or("no output");
                match code {
                    Some(c) => format!("{program} exited with code {c}: {said}"),
                    None => format!("{program} was stopped by a signal: {said}"),
                }
            }
            ToolRun::NotFound => format!("{program} is not available on this machine"),
            ToolRun::Failed(e) => format!("{program} could not run: {e}"),
            ToolRun::TimedOut(d) => format!(
                "{program} did not finish within {} s and was stopped",
                d.as_secs()
            ),
        }
    }
}

fn first_line(s: &str) -> Option<&str> {
    s.lines().map(str::trim).find(|l| !l.is_empty())
}

/// Runs `program args` with no input, waits at most `timeout`, and captures its output.
pub fn run(program: &str, args: &[&str], timeout: Duration) -> ToolRun {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(windows)]
    {
        // A console tool started from the monitor must not flash a window.
        use std::os::windows::process::CommandExt;
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        cmd.creation_flags(CREATE_NO_WINDOW);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return ToolRun::NotFound,
        Err(e) => return ToolRun::Failed(e.to_string()),
    };
    // Read both pipes on their own threads so a chatty tool never blocks on a full pipe.
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = reader(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return ToolRun::TimedOut(timeout);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return ToolRun::Failed(e.to_string()),
        }
    };
    let stdout = out.join().map(|b| decode(&b)).unwrap_or_default();
    let stderr = err.join().map(|b| decode(&b)).unwrap_or_default();
    ToolRun::Ran {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// Turns a tool's output into text: UTF-16 (with a byte-order mark, or plainly ASCII-heavy
/// UTF-16LE as some Windows tools write when redirected), else UTF-8, else each byte as
/// Latin-1 (an OEM code page is not worth a table: the parsers read ASCII labels).
pub fn decode(bytes: &[u8]) -> String {
    let utf16 = |b: &[u8]| {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    // UTF-16LE without a mark: most high bytes of ASCII text are zero.
    let odd_zeros = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if bytes.len() >= 4 && bytes.len().is_multiple_of(2) && odd_zeros * 4 >= bytes.len() * 3 / 2 {
        return utf16(bytes);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_encodings_windows_tools_write() {
        let text = "AzureAdJoined : YES\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&le), text);
        let mut bom = vec![0xFF, 0xFE];
        bom.extend_from_slice(&le);
        assert_eq!(decode(&bom), text);
        assert_eq!(decode("Gerätestatus".as_bytes()), "Gerätestatus");
        assert_eq!(decode(b"\xEF\xBB\xBFok"), "ok");
        // CP850 "ä" (0x84) is not UTF-8: the ASCII around it survives.
        let oem = decode(b"Ger\x84testatus : JA");
        assert!(oem.starts_with("Ger") && oem.ends_with("testatus : JA"), "{oem}");
    }

    #[test]
    fn a_missing_program_is_reported_as_not_found() {
        let r = run("m365mon-no-such-tool-4711", &[], Duration::from_secs(5));
        assert_eq!(r, ToolRun::NotFound);
        assert!(r.problem("dsregcmd").contains("not available"));
    }

    /// A real tool of each OS: output is captured and the exit code is kept.
    #[test]
    fn captures_output_and_exit_code() {
        let (prog, args): (&str, &[&str]) = if cfg!(windows) {
            ("cmd", &["/c", "echo m365mon-tool-test& exit 3"])
        } else {
            ("sh", &["-c", "echo m365mon-tool-test; exit 3"])
        };
        match run(prog, args, Duration::from_secs(30)) {
            ToolRun::Ran { code, stdout, .. } => {
                assert_eq!(code, Some(3));
                assert!(stdout.contains("m365mon-tool-test"), "{stdout:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_tool_that_hangs_is_stopped_at_the_deadline() {
        let (prog, args): (&str, &[&str]) = if cfg!(windows) {
            ("ping", &["-n", "30", "127.0.0.1"])
        } else {
            ("sleep", &["30"])
        };
        let started = Instant::now();
        let r = run(prog, args, Duration::from_millis(500));
        assert_eq!(r, ToolRun::TimedOut(Duration::from_millis(500)));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
        assert!(r.problem(prog).contains("did not finish"));
    }
}
