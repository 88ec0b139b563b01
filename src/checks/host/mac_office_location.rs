//! `host:mac-office-location`: are the Office for Mac apps in /Applications?
//!
//! Apps moved out of /Applications (or extra copies started from elsewhere) are the
//! article's reason for repeated keychain prompts. An app found only outside
//! /Applications fails; an app in place with another copy elsewhere warns (whichever is
//! started decides); no Office app at all means the check does not apply.

use crate::model::{CheckResult, Status};
use crate::platform::macos_office::{expected_path, AppLocation};

use super::{fact, result, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:mac-office-location",
    target: "Office apps in /Applications",
    os: HostOs::MacOs,
    reads: "/Applications/Microsoft *.app and Spotlight (mdfind) for other copies of the Office apps",
    remediation: Some("mac-keychain"),
};

pub fn check(found: &Result<Vec<AppLocation>, String>) -> CheckResult {
    let apps = match found {
        Err(e) => {
            let mut r = result(&CHECK, Status::Warn, "cannot look for the Office apps");
            fact(&mut r, "error", e.clone());
            r.remediation = Some("mac-keychain".into());
            return r;
        }
        Ok(apps) => apps,
    };
    let present: Vec<&AppLocation> = apps
        .iter()
        .filter(|a| a.in_applications || !a.elsewhere.is_empty())
        .collect();
    if present.is_empty() {
        return result(&CHECK, Status::Skip, "no Office for Mac app found");
    }
    let moved: Vec<&&AppLocation> = present.iter().filter(|a| !a.in_applications).collect();
    let copies: Vec<&&AppLocation> = present
        .iter()
        .filter(|a| a.in_applications && !a.elsewhere.is_empty())
        .collect();
    let (status, summary) = if let Some(a) = moved.first() {
        (
            Status::Fail,
            format!(
                "{} is not in /Applications (found at {}): expect keychain prompts",
                a.name, a.elsewhere[0]
            ),
        )
    } else if let Some(a) = copies.first() {
        (
            Status::Warn,
            format!("another copy of {} exists at {}", a.name, a.elsewhere[0]),
        )
    } else {
        (
            Status::Pass,
            format!("{} Office app(s) in /Applications", present.len()),
        )
    };
    let mut r = result(&CHECK, status, summary);
    for a in &present {
        let place = if a.in_applications {
            expected_path(a.name)
        } else {
            "not in /Applications".to_owned()
        };
        let other = if a.elsewhere.is_empty() {
            String::new()
        } else {
            format!("; also {}", a.elsewhere.join(", "))
        };
        fact(&mut r, a.name, format!("{place}{other}"));
    }
    r
}

/// Looks for the apps on this Mac.
#[cfg(target_os = "macos")]
pub fn read() -> Result<Vec<AppLocation>, String> {
    crate::platform::macos_office::read()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::macos_office::locate;

    fn fixture() -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/host/mdfind-word.txt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn apps_in_place_pass() {
        let word = locate(
            "Microsoft Word",
            "com.microsoft.Word",
            |_| true,
            "/Applications/Microsoft Word.app\n",
        );
        let excel = locate("Microsoft Excel", "com.microsoft.Excel", |_| false, "");
        let r = check(&Ok(vec![word, excel]));
        assert_eq!(
            (r.status, r.summary.as_str()),
            (Status::Pass, "1 Office app(s) in /Applications")
        );
    }

    #[test]
    fn a_moved_app_fails_and_an_extra_copy_warns() {
        let moved = locate("Microsoft Word", "com.microsoft.Word", |_| false, &fixture());
        let r = check(&Ok(vec![moved]));
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.summary, "Microsoft Word is not in /Applications (found at /Users/ada/Downloads/Microsoft Word.app): expect keychain prompts");
        assert_eq!(r.remediation.as_deref(), Some("mac-keychain"));
        let extra = locate("Microsoft Word", "com.microsoft.Word", |_| true, &fixture());
        assert_eq!(check(&Ok(vec![extra])).status, Status::Warn);
    }

    #[test]
    fn no_office_is_a_skip_and_an_error_a_warning() {
        assert_eq!(check(&Ok(vec![])).status, Status::Skip);
        assert_eq!(check(&Err("mdfind failed".into())).status, Status::Warn);
    }
}
