//! Running the binary cargo built for these tests.

use std::process::{Command, Output};

/// The path of the built `m365mon`.
pub const BIN: &str = env!("CARGO_BIN_EXE_m365mon");

/// `m365mon args` with `NO_COLOR=1`, for more settings before it runs.
pub fn command(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).env("NO_COLOR", "1");
    c
}

/// Runs `cmd` to the end: its output.
pub fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("run m365mon")
}

/// Runs `m365mon args` with `NO_COLOR=1` to the end: its output.
pub fn m365mon(args: &[&str]) -> Output {
    output(&mut command(args))
}

/// The exit code; -1 when a signal ended the process.
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Runs `cmd` to the end and fails the test when it panicked: (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = output(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic in {cmd:?}: {stderr}");
    (
        code(&out),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// Standard output followed by standard error, as text.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
