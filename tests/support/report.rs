//! Reading a `check --format json` report in the end-to-end tests.

use serde_json::Value;

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
