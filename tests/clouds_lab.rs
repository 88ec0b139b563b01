//! `--instance`: each cloud probes its own sign-in and licensing hosts, and the MSOID rule
//! turns around for 21Vianet. End to end: the real binary against the real lab, which
//! serves whatever catalog the cloud selects.

mod support;

use serde_json::Value;
use std::process::{Command, Output};
use support::bin;
use support::report::{self, by_id, endpoints};

/// The binary with `NO_COLOR=1` and no cloud from the environment.
fn command(args: &[&str]) -> Command {
    let mut c = bin::command(args);
    c.env_remove("M365MON_INSTANCE");
    c
}

fn m365mon(args: &[&str]) -> Output {
    bin::output(&mut command(args))
}

/// `check --format json` against a built-in scenario in one cloud: (exit code, report).
fn check(cloud: &str, scenario: &str) -> (i32, Value) {
    report::run_check(
        &mut command(&[
            "check",
            "--format",
            "json",
            "--timeout",
            "1",
            "--instance",
            cloud,
            "--lab",
            scenario,
        ]),
        &format!("{cloud} {scenario}"),
    )
}

fn status_of<'a>(v: &'a Value, id: &str) -> &'a str {
    by_id(v, id)["status"].as_str().unwrap()
}

#[test]
fn us_government_clouds_probe_the_us_sign_in_host_and_pass_in_a_healthy_lab() {
    for cloud in ["gcc-high", "dod"] {
        let (code, v) = check(cloud, "healthy");
        assert_eq!(code, 0, "{cloud}: {}", v["findings"]);
        assert_eq!(v["host"]["instance"], cloud);
        let eps = endpoints(&v);
        assert_eq!(eps.len(), 18, "{cloud}");
        assert!(eps.iter().all(|c| c["status"] == "pass"), "{cloud}");
        let ids: Vec<&str> = eps.iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert!(ids.contains(&"endpoint:login.microsoftonline.us"), "{ids:?}");
        assert!(ids.contains(&"endpoint:ols.officeapps.live.com/olsc"), "{ids:?}");
        assert!(!ids.iter().any(|i| i.ends_with(".cn")), "{ids:?}");
    }
}

#[test]
fn china_licenses_at_its_own_host_and_a_firewall_on_it_is_an_activation_finding() {
    let (_, healthy) = check("china", "healthy");
    let ids: Vec<&str> = endpoints(&healthy)
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"endpoint:login.partner.microsoftonline.cn"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"endpoint:ols.officeapps.partner.office365.cn"),
        "{ids:?}"
    );
    assert!(!ids.contains(&"endpoint:ols.officeapps.live.com/olsc"), "{ids:?}");

    let (code, v) = check("china", "firewall");
    assert_eq!(code, 2, "{}", v["findings"]);
    assert_eq!(
        status_of(&v, "endpoint:ols.officeapps.partner.office365.cn"),
        "fail"
    );
    assert_eq!(status_of(&v, "endpoint:login.partner.microsoftonline.cn"), "pass");
    let findings = v["findings"].as_array().unwrap();
    let activation = findings
        .iter()
        .find(|f| f["id"] == "activation-blocked")
        .unwrap_or_else(|| panic!("{findings:?}"));
    let checks = activation["checks"].to_string();
    assert!(checks.contains("ols.officeapps.partner.office365.cn"), "{checks}");
}

#[test]
fn the_msoid_rule_is_reversed_for_21vianet() {
    // The lab's tenant domain has no msoid record: right everywhere but in China.
    let (_, worldwide) = check("worldwide", "healthy");
    assert_eq!(status_of(&worldwide, "network:msoid"), "pass");
    let (code, china) = check("china", "healthy");
    assert_eq!(status_of(&china, "network:msoid"), "warn");
    assert_eq!(code, 1, "a warning is exit 1");
    let f = &china["findings"][0];
    assert_eq!(f["remediation"]["id"], "msoid-china", "{f}");

    // The record pointing at 21Vianet: activation breaks outside China, right inside.
    let (code, gcc) = check("gcc-high", "msoid-china");
    assert_eq!((code, status_of(&gcc, "network:msoid")), (2, "fail"));
    let (code, china) = check("china", "msoid-china");
    assert_eq!(status_of(&china, "network:msoid"), "pass");
    assert_eq!(code, 0, "{}", china["findings"]);
}

#[test]
fn endpoints_lists_the_clouds_list_with_set_ids_and_its_page() {
    let out = m365mon(&["endpoints", "--instance", "dod"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("https://login.microsoftonline.us/"), "{text}");
    assert!(
        text.contains("cloud dod (Microsoft's list: https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-dod-endpoints)"),
        "{text}"
    );
    let out = m365mon(&["endpoints", "--instance", "gcc-high", "--format", "json"]);
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let login = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["host"] == "login.microsoftonline.us")
        .expect("GCC High signs in at login.microsoftonline.us");
    assert_eq!(login["ms_ids"], serde_json::json!([13]));
    assert_eq!(login["category"], "Allow");
}

#[test]
fn the_cloud_comes_from_the_environment_and_the_config_file_too() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("m365mon.toml");
    std::fs::write(&config, "instance = \"china\"\n").unwrap();
    let hosts = |out: Output| -> String { String::from_utf8_lossy(&out.stdout).into_owned() };
    let from_file = hosts(m365mon(&["endpoints", "--config", config.to_str().unwrap()]));
    assert!(
        from_file.contains("login.partner.microsoftonline.cn"),
        "{from_file}"
    );
    let from_env = Command::new(bin::BIN)
        .args(["endpoints", "--config", config.to_str().unwrap()])
        .env("M365MON_INSTANCE", "gcc-high")
        .output()
        .unwrap();
    let from_env = hosts(from_env);
    assert!(
        from_env.contains("login.microsoftonline.us"),
        "the environment beats the file: {from_env}"
    );
    assert!(!from_env.contains(".cn/"), "{from_env}");
}

#[test]
fn gcc_is_the_worldwide_cloud_not_gcc_high() {
    // GCC tenants use the worldwide endpoints (Microsoft lists them as "Worldwide
    // (including GCC)"); `gcc` must not be taken, or suggested, as GCC High.
    let gcc = m365mon(&["endpoints", "--instance", "gcc"]);
    assert!(gcc.status.success(), "{}", String::from_utf8_lossy(&gcc.stderr));
    let text = String::from_utf8_lossy(&gcc.stdout);
    assert!(text.contains("cloud worldwide"), "{text}");
    assert!(!text.contains(".us/"), "{text}");
}
