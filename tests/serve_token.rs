//! `m365mon serve` through the binary with a token: from `--token` or `M365MON_TOKEN`,
//! the flag winning over the variable; without it or with a wrong one, 401; a token too
//! short to be safe stops the command. Loopback only.

mod support;

use std::time::{Duration, Instant};
use support::bin::{code, command, output, text};
use support::http::http_get;
use support::served::Served;

const TOKEN: &str = "serve-token-0123456789abcdef";
const OTHER: &str = "other-token-0123456789abcdef";
const LAB: [&str; 6] = ["--lab", "healthy", "--interval", "1", "--timeout", "1"];

/// Waits for the first sweep to be exported, reading with `token`: the metrics text.
fn metrics_after_a_sweep(served: &Served, token: &str) -> String {
    let start = Instant::now();
    loop {
        let (status, body) = http_get(served.addr, "/metrics", Some(token));
        assert_eq!(status, 200, "{body}");
        if body.contains("\nm365mon_sweeps_total ") && !body.contains("\nm365mon_sweeps_total 0\n") {
            return body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no sweep exported: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn assert_only(served: &Served, token: &str, refused: &str, how: &str) {
    for path in ["/metrics", "/api/state"] {
        assert_eq!(
            http_get(served.addr, path, None).0,
            401,
            "{how}: {path} without a token"
        );
        assert_eq!(
            http_get(served.addr, path, Some(refused)).0,
            401,
            "{how}: {path} with another token"
        );
        assert_eq!(
            http_get(served.addr, path, Some(token)).0,
            200,
            "{how}: {path} with the token"
        );
    }
    assert_eq!(
        http_get(served.addr, "/healthz", None).0,
        200,
        "{how}: liveness is open"
    );
}

#[test]
fn serve_takes_its_token_from_the_flag_or_the_environment() {
    let flag = [&LAB[..], &["--token", TOKEN]].concat();
    for (how, args, env) in [
        ("--token", flag.as_slice(), &[][..]),
        ("M365MON_TOKEN", &LAB[..], &[("M365MON_TOKEN", TOKEN)][..]),
    ] {
        let served = Served::start(args, env);
        assert!(
            served.ready.contains("clients must send the token"),
            "{how}: {}",
            served.ready
        );
        assert!(
            !served.ready.contains(TOKEN),
            "{how}: a given token is never printed: {}",
            served.ready
        );
        let body = metrics_after_a_sweep(&served, TOKEN);
        assert!(
            body.contains(
                "m365mon_check_status{check=\"endpoint:login.microsoftonline.com\",kind=\"endpoint\"} 0"
            ),
            "{how}: {body}"
        );
        assert_only(&served, TOKEN, OTHER, how);
    }
}

#[test]
fn the_token_flag_wins_over_the_environment() {
    let args = [&LAB[..], &["--token", TOKEN]].concat();
    let served = Served::start(&args, &[("M365MON_TOKEN", OTHER)]);
    assert_only(&served, TOKEN, OTHER, "both");
}

#[test]
fn a_short_token_stops_serve_with_the_reason() {
    for (args, env) in [
        (vec!["--token", "short"], vec![]),
        (vec![], vec![("M365MON_TOKEN", "short")]),
    ] {
        let mut cmd = command(&["serve", "--listen", "127.0.0.1:0", "--lab", "healthy"]);
        cmd.args(&args).env_remove("M365MON_TOKEN");
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = output(&mut cmd);
        let all = text(&out);
        assert_eq!(code(&out), 3, "{args:?} {env:?}: {all}");
        assert!(all.contains("at least 16"), "{args:?} {env:?}: {all}");
    }
}

/// A token file in a fresh folder.
fn token_file(content: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, content).unwrap();
    (dir, path)
}

#[test]
fn serve_reads_its_token_from_a_file_kept_out_of_the_process_list() {
    let (_dir, path) = token_file(&format!("{TOKEN}\n"));
    let path = path.to_str().unwrap();
    let args = [&LAB[..], &["--token-file", path]].concat();
    // The file wins over the variable.
    let served = Served::start(&args, &[("M365MON_TOKEN", OTHER)]);
    assert_only(&served, TOKEN, OTHER, "--token-file");
    #[cfg(target_os = "linux")]
    {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", served.pid())).unwrap();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        assert!(cmdline.contains("--token-file"), "{cmdline}");
        assert!(
            !cmdline.contains(TOKEN),
            "the token is in the process list: {cmdline}"
        );
    }
    drop(served);
    // And from M365MON_TOKEN_FILE.
    let served = Served::start(&LAB, &[("M365MON_TOKEN_FILE", path)]);
    assert_only(&served, TOKEN, OTHER, "M365MON_TOKEN_FILE");
}

#[test]
fn a_bad_token_file_stops_serve_and_attach_naming_the_file() {
    let (_d1, empty) = token_file("\n \n");
    let (_d2, two) = token_file(&format!("{TOKEN}\n{OTHER}\n"));
    let (_d3, short) = token_file("short\n");
    let missing = empty.with_file_name("missing");
    let cases = [
        (&missing, "file not found", ""),
        (&empty, "the token file is empty", ""),
        (&two, "on one line", ":2:"),
        (&short, "at least 16", ""),
    ];
    for (file, why, line) in cases {
        let f = file.to_str().unwrap();
        for words in [
            &["serve", "--listen", "127.0.0.1:0", "--lab", "healthy"][..],
            &["attach", "http://127.0.0.1:9"][..],
        ] {
            if words[0] == "attach" && why.contains("16") {
                continue; // attach sends what it is given; the server judges it.
            }
            let mut cmd = command(words);
            cmd.args(["--token-file", f]).env_remove("M365MON_TOKEN");
            let out = output(&mut cmd);
            let all = text(&out);
            assert_eq!(code(&out), 3, "{words:?} {f}: {all}");
            assert!(all.contains(why), "{words:?} {f}: {all}");
            if why != "at least 16" {
                assert!(
                    all.contains(&format!("{f}{line}")),
                    "{words:?}: the file is named: {all}"
                );
            }
        }
    }
}
