//! Reading the check results a sweep in the test process returns.

use m365mon::model::CheckResult;

/// The value of the fact `key`; panics listing the facts when there is none.
pub fn fact<'a>(r: &'a CheckResult, key: &str) -> &'a str {
    r.facts
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {:#?}", r.facts))
}

/// The result with this id; panics naming it when there is none.
pub fn find<'a>(checks: &'a [CheckResult], id: &str) -> &'a CheckResult {
    checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
}
