//! `network:msoid`: the tenant domain's `msoid` CNAME.
//!
//! `msoid.<domain>` pointing at `clientconfig.partner.microsoftonline-p.net.cn` sends
//! Office's sign-in discovery to the cloud operated by 21Vianet. That is right only for
//! tenants in that cloud; anywhere else activation fails with "the custom domain isn't in
//! our system" (the activation article, section "Check external DNS for incorrect CNAME
//! records").
//!
//! For 21Vianet the rule is reversed: Microsoft asks every custom domain of such a tenant
//! to carry the record. Without it, Office authenticates against the default (worldwide)
//! endpoint, which is slower; with a wrong target, it cannot authenticate at all ("What's
//! the purpose of the Office 365 CNAME record for MSOID?",
//! <https://learn.microsoft.com/microsoft-365/admin/services-in-china/purpose-of-cname>).
//!
//! The record is looked up with the sweep's resolver.

use std::time::Instant;

use super::Instance;
use super::Sweep;
use crate::model::{ms, CheckKind, CheckResult, Status};
use crate::probe::Dns;

/// Check id.
pub const ID: &str = "network:msoid";
/// Where the record points for tenants operated by 21Vianet.
pub const CHINA_TARGET: &str = "clientconfig.partner.microsoftonline-p.net.cn";

/// The `network:msoid` check.
pub async fn check(plan: &Sweep<'_>) -> CheckResult {
    let started = Instant::now();
    let Some(domain) = plan
        .checks
        .domain
        .as_deref()
        .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
    else {
        let mut r = CheckResult::simple(
            ID,
            CheckKind::Network,
            "msoid record",
            Status::Skip,
            "no tenant domain given",
        );
        r.facts.push((
            "why".into(),
            "the msoid record is looked up for the domain given with --domain".into(),
        ));
        return r;
    };
    let name = format!("msoid.{domain}");
    let lookup = match Dns::new(&plan.settings.dns, plan.settings.timeout) {
        Ok(resolver) => resolver
            .cname(&name, plan.settings.timeout)
            .await
            .map_err(|f| f.detail),
        Err(why) => Err(why),
    };
    let mut r = judge(&name, lookup, plan.checks.instance);
    r.duration_ms = ms(started.elapsed());
    r
}

/// The check's result from the lookup: `Ok(None)` when there is no CNAME.
pub fn judge(name: &str, lookup: Result<Option<String>, String>, instance: Instance) -> CheckResult {
    let cloud = instance.as_str();
    let (status, summary, remediation) = match (&lookup, instance) {
        // The resolver itself failing is reported by the DNS checks and the endpoints; here
        // it only means the record could not be checked.
        (Err(why), _) => (Status::Skip, format!("cannot look up {name}: {why}"), None),
        (Ok(Some(target)), Instance::China) if target == CHINA_TARGET => (
            Status::Pass,
            format!("{name} points at 21Vianet, as a tenant in China needs"),
            None,
        ),
        (Ok(None), Instance::China) => (
            Status::Warn,
            format!("{name} has no CNAME: a 21Vianet tenant needs one for {CHINA_TARGET}"),
            Some("msoid-china"),
        ),
        (Ok(Some(target)), Instance::China) => (
            Status::Fail,
            format!("{name} points at {target}, not {CHINA_TARGET}: sign-in cannot authenticate"),
            Some("msoid-china"),
        ),
        (Ok(None), _) => (Status::Pass, format!("{name} has no CNAME"), None),
        (Ok(Some(target)), _) if target == CHINA_TARGET => (
            Status::Fail,
            format!("{name} points at 21Vianet (China): activation fails for a {cloud} tenant"),
            Some("msoid-cname"),
        ),
        (Ok(Some(target)), _) => (Status::Pass, format!("{name} is a CNAME for {target}"), None),
    };
    let mut r = CheckResult::simple(ID, CheckKind::Network, name, status, summary);
    let shown = match &lookup {
        Ok(Some(t)) => format!("CNAME {t}"),
        Ok(None) => "no CNAME".into(),
        Err(why) => format!("lookup failed: {why}"),
    };
    r.facts.push(("record".into(), shown));
    r.facts.push(("cloud".into(), instance.as_str().into()));
    r.remediation = remediation.map(str::to_string);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_cname_fails_outside_china_only() {
        let target = Ok(Some(CHINA_TARGET.to_string()));
        let r = judge("msoid.contoso.com", target.clone(), Instance::Worldwide);
        assert_eq!(
            (r.status, r.remediation.as_deref()),
            (Status::Fail, Some("msoid-cname"))
        );
        assert!(r.summary.contains("worldwide"), "{}", r.summary);
        assert_eq!(
            judge("msoid.contoso.com", target, Instance::China).status,
            Status::Pass
        );
        assert_eq!(
            judge("msoid.contoso.com", Ok(None), Instance::Worldwide).status,
            Status::Pass
        );
        let other = judge(
            "msoid.contoso.com",
            Ok(Some("clientconfig.microsoftonline-p.net".into())),
            Instance::Worldwide,
        );
        assert_eq!(other.status, Status::Pass);
        let r = judge("msoid.contoso.com", Err("SERVFAIL".into()), Instance::Worldwide);
        assert_eq!(
            (r.status, r.remediation.as_deref()),
            (Status::Skip, None),
            "not checked is not a pass"
        );
        for cloud in [Instance::GccHigh, Instance::Dod] {
            let r = judge("msoid.contoso.us", Ok(Some(CHINA_TARGET.into())), cloud);
            assert_eq!(r.status, Status::Fail, "{}", cloud.as_str());
        }
    }

    #[test]
    fn a_21vianet_tenant_needs_the_record_and_its_exact_target() {
        let missing = judge("msoid.contoso.cn", Ok(None), Instance::China);
        assert_eq!(
            (missing.status, missing.remediation.as_deref()),
            (Status::Warn, Some("msoid-china"))
        );
        let typo = judge(
            "msoid.contoso.cn",
            Ok(Some("clientconfig.partner.microsoftonline-p.net".into())),
            Instance::China,
        );
        assert_eq!(
            (typo.status, typo.remediation.as_deref()),
            (Status::Fail, Some("msoid-china"))
        );
        assert!(typo.summary.contains(CHINA_TARGET), "{}", typo.summary);
        let skipped = judge("msoid.contoso.cn", Err("timeout".into()), Instance::China);
        assert_eq!(skipped.status, Status::Skip);
    }
}
