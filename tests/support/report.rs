//! Reading a `check --format json` report in the end-to-end tests.

use serde_json::Value;
use std::process::{Command, Output};

/// The report on `out`'s standard output; panics with both outputs when it is not JSON.
/// `what` names the run in that message.
pub fn parse(out: &Output, what: &str) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Runs `cmd` (a `check --format json`) to the end: (exit code, report).
pub fn run_check(cmd: &mut Command, what: &str) -> (i32, Value) {
    let out = super::bin::output(cmd);
    (super::bin::code(&out), parse(&out, what))
}

/// The check with this id; panics naming it when the report has none.
pub fn by_id<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {v}"))
}

/// The endpoint checks, in report order.
pub fn endpoints(v: &Value) -> Vec<&Value> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "endpoint")
        .collect()
}

/// The value of a check's fact `key`, if it has one.
pub fn fact<'a>(check: &'a Value, key: &str) -> Option<&'a str> {
    check["facts"]
        .as_array()?
        .iter()
        .find(|f| f[0] == key)
        .and_then(|f| f[1].as_str())
}

/// The ids of the report's findings, in report order.
pub fn finding_ids(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}
