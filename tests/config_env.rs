//! Precedence with the environment: command line > M365MON_* > file > default.
//!
//! Its own test binary (one test), because environment variables are process-wide and
//! other tests parse the command line too.

use clap::CommandFactory;
use m365mon::cli::config;
use m365mon::cli::Cli;

#[test]
fn environment_sits_between_the_command_line_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = config::parse(
        &dir.path().join("config.toml"),
        "timeout = 7\ninterval = 9\nconcurrency = 3\n",
    )
    .unwrap();
    std::env::set_var("M365MON_TIMEOUT", "4");
    std::env::set_var("M365MON_INTERVAL", "6");

    let apply = |args: &[&str]| {
        let matches = Cli::command().try_get_matches_from(args).unwrap();
        let mut cli = Cli::from_matches(&matches).unwrap();
        config::apply(&mut cli, &matches, &file);
        cli
    };
    let cli = apply(&["m365mon", "--interval", "1"]);
    assert_eq!(cli.live.poll.interval, 1.0, "command line over environment");
    assert_eq!(cli.live.target.probe.timeout, 4.0, "environment over file");
    assert_eq!(cli.live.target.probe.concurrency, 3, "file over default");

    std::env::remove_var("M365MON_TIMEOUT");
    std::env::remove_var("M365MON_INTERVAL");
    let cli = apply(&["m365mon"]);
    assert_eq!(
        (cli.live.target.probe.timeout, cli.live.poll.interval),
        (7.0, 9.0),
        "file once the environment is gone"
    );
}
