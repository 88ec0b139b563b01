//! A real Prometheus scrapes the exporter (with the bearer token, as the example config in
//! contrib/ does) while the lab starts dropping the activation endpoint; Prometheus' own
//! query API must then return that endpoint as failing. The contrib/ alert rules and
//! dashboard queries are checked against the same Prometheus, and the rules' unit tests
//! run with promtool.
//!
//! Needs /usr/bin/prometheus and /usr/bin/promtool (Debian package `prometheus`); skips
//! loudly (`support::skip`) where they are absent, and fails under CI. Loopback only.

mod support;

use m365mon::lab::FaultMode;
use m365mon::serve::{Access, Server};
use serde_json::Value;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::http::{free_port, http_get};
use support::serve::*;
use support::skip;

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";
const TOKEN: &str = "prometheus-test-token-0123456789";

fn contrib(rel: &str) -> PathBuf {
    support::files::repo("contrib").join(rel)
}

/// The Prometheus process; killed when the test ends, however it ends.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start(target: SocketAddr) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), TOKEN).unwrap();
        std::fs::copy(
            contrib("prometheus/m365mon-alerts.yml"),
            dir.path().join("m365mon-alerts.yml"),
        )
        .unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - m365mon-alerts.yml\n\
             scrape_configs:\n  - job_name: m365mon\n    scrape_interval: 1s\n    scrape_timeout: 1s\n\
             \x20   authorization:\n      type: Bearer\n      credentials_file: {}\n\
             \x20   static_configs:\n      - targets: ['{target}']\n",
            dir.path().join("token").display()
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        Prometheus {
            child,
            addr,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// The `data` of an instant query.
    fn query(&self, promql: &str) -> Value {
        let (status, body) = http_get(
            self.addr,
            &format!("/api/v1/query?query={}", encode(promql)),
            None,
        );
        assert_eq!(status, 200, "query {promql}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "success", "{v}");
        v["data"].clone()
    }

    /// Polls until `ready` returns something, for at most `within`.
    fn wait_for<T>(&mut self, within: Duration, what: &str, mut ready: impl FnMut(&Self) -> Option<T>) -> T {
        let deadline = Instant::now() + within;
        loop {
            if let Some(v) = ready(self) {
                return v;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "prometheus exited ({status}) while waiting for {what}:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {within:?}; prometheus log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// Percent-encoding for a query parameter.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn results(data: &Value) -> Vec<Value> {
    data["result"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_sees_the_endpoint_fail() {
    if !Path::new(PROMETHEUS).exists() {
        return skip::because(
            "prometheus_sees_the_endpoint_fail",
            &format!("{PROMETHEUS} is not installed (apt-get install prometheus; CI installs it)"),
        );
    }
    let started = Instant::now();
    // Activation starts dropping packets 4 s after the lab starts.
    let (lab, mon) = lab_monitor(
        scenario(ACTIVATION, FaultMode::Blackhole, 4.0, None),
        Duration::from_millis(500),
        Duration::from_millis(800),
    )
    .await;
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), Access::Token(TOKEN.into()))
        .await
        .unwrap();
    let target = server.local_addr().unwrap();
    let served = tokio::spawn(server.run(mon.handle.clone(), std::future::pending()));

    let failing = tokio::task::spawn_blocking(move || {
        let mut prom = Prometheus::start(target);
        prom.wait_for(Duration::from_secs(20), "ready Prometheus", |p| {
            std::net::TcpStream::connect(p.addr)
                .ok()
                .and_then(|_| (http_get(p.addr, "/-/ready", None).0 == 200).then_some(()))
        });
        // Scraped with the token: up == 1 and the checks are there, passing at first.
        prom.wait_for(Duration::from_secs(15), "successful scrape", |p| {
            let up = results(&p.query("up{job=\"m365mon\"}"));
            (up.first().map(|r| r["value"][1] == "1") == Some(true)
                && !results(&p.query("m365mon_check_status")).is_empty())
            .then_some(())
        });
        // Then the blackholed endpoint shows as failing, and nothing else does.
        let failing = prom.wait_for(Duration::from_secs(30), "failing endpoint in Prometheus", |p| {
            let r = results(&p.query("m365mon_check_status == 2"));
            (!r.is_empty()).then_some(r)
        });
        let cause = results(&prom.query(&format!(
            "m365mon_check_cause_info{{check=\"{ACTIVATION_CHECK}\"}}"
        )));
        let phases = results(&prom.query(&format!(
            "m365mon_probe_phase_duration_seconds{{check=\"{ACTIVATION_CHECK}\"}}"
        )));
        let finding = results(&prom.query("m365mon_finding_active == 1"));

        // The contrib/ rules loaded and evaluate without error.
        let (status, body) = http_get(prom.addr, "/api/v1/rules", None);
        assert_eq!(status, 200);
        let rules: Value = serde_json::from_str(&body).unwrap();
        let loaded: Vec<&Value> = rules["data"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap())
            .collect();
        assert_eq!(loaded.len(), 4, "{rules}");
        prom.wait_for(Duration::from_secs(10), "evaluated rules", |p| {
            let (_, body) = http_get(p.addr, "/api/v1/rules", None);
            let v: Value = serde_json::from_str(&body).unwrap();
            let all: Vec<Value> = v["data"]["groups"][0]["rules"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            all.iter().all(|r| r["health"] == "ok").then_some(())
        });
        // Every dashboard query is valid PromQL and finds data.
        let dashboard: Value = serde_json::from_str(
            &std::fs::read_to_string(contrib("grafana/m365mon-dashboard.json")).unwrap(),
        )
        .unwrap();
        let all = |q: &str| {
            q.replace("$instance", ".*")
                .replace("$check", ".*")
                .replace("$cloud", ".*")
        };
        // The variables' queries too: `label_values(SELECTOR, label)` offers nothing to pick
        // unless SELECTOR finds series.
        for var in dashboard["templating"]["list"].as_array().unwrap() {
            let Some(q) = var["query"]["query"].as_str() else {
                continue;
            };
            let selector = q
                .strip_prefix("label_values(")
                .and_then(|rest| rest.rsplit_once(','))
                .map(|(selector, _)| all(selector))
                .unwrap_or_else(|| panic!("variable {}: {q}", var["name"]));
            assert!(
                !results(&prom.query(&selector)).is_empty(),
                "variable {}: {selector} finds nothing",
                var["name"]
            );
        }
        for panel in dashboard["panels"].as_array().unwrap() {
            for t in panel["targets"].as_array().unwrap() {
                let expr = all(t["expr"].as_str().unwrap());
                let data = prom.query(&expr);
                assert!(
                    !results(&data).is_empty(),
                    "panel {:?}: {expr} finds nothing",
                    panel["title"]
                );
            }
        }
        (failing, cause, phases, finding)
    })
    .await
    .unwrap();

    let (failing, cause, phases, finding) = failing;

    // promtool's linter agrees with the exposition (names, units, HELP and TYPE lines).
    if !Path::new(PROMTOOL).exists() {
        skip::because(
            "prometheus_sees_the_endpoint_fail (its promtool lint only)",
            &format!("{PROMTOOL} is not installed (apt-get install prometheus; CI installs it)"),
        );
    } else {
        let (status, metrics) =
            tokio::task::spawn_blocking(move || http_get(target, "/metrics", Some(TOKEN)))
                .await
                .unwrap();
        assert_eq!(status, 200);
        let mut lint = Command::new(PROMTOOL)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        lint.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
        let out = lint.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && text.trim().is_empty(),
            "promtool check metrics:\n{text}"
        );
    }
    assert_eq!(failing.len(), 1, "{failing:#?}");
    assert_eq!(failing[0]["metric"]["check"], ACTIVATION_CHECK);
    assert_eq!(failing[0]["metric"]["kind"], "endpoint");
    assert_eq!(
        cause[0]["metric"]["cause"], "tcp-timeout",
        "a blackhole is a connect timeout"
    );
    let phase_names: Vec<&str> = phases
        .iter()
        .map(|p| p["metric"]["phase"].as_str().unwrap())
        .collect();
    assert!(
        phase_names.contains(&"resolve") && phase_names.contains(&"connect"),
        "{phase_names:?}"
    );
    assert!(!finding.is_empty(), "a finding explains the failure");
    eprintln!("prometheus test took {:.1} s", started.elapsed().as_secs_f64());

    served.abort();
    mon.task.abort();
    lab.shutdown().await;
}

#[test]
fn contrib_rules_and_config_pass_promtool() {
    if !Path::new(PROMTOOL).exists() {
        return skip::because(
            "contrib_rules_and_config_pass_promtool",
            &format!("{PROMTOOL} is not installed (apt-get install prometheus; CI installs it)"),
        );
    }
    let run = |args: &[&str], dir: &Path| {
        let out = Command::new(PROMTOOL)
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run promtool");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "promtool {args:?}:\n{text}");
        text
    };
    let prom_dir = contrib("prometheus");
    let text = run(&["test", "rules", "m365mon-alerts.test.yml"], &prom_dir);
    assert!(text.contains("SUCCESS"), "{text}");
    run(&["check", "rules", "m365mon-alerts.yml"], &prom_dir);

    // The example config, with its token file pointed at a real file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), TOKEN).unwrap();
    std::fs::copy(
        prom_dir.join("m365mon-alerts.yml"),
        dir.path().join("m365mon-alerts.yml"),
    )
    .unwrap();
    let example = std::fs::read_to_string(prom_dir.join("prometheus.yml")).unwrap();
    assert!(example.contains("credentials_file: /etc/prometheus/m365mon.token"));
    let config = example.replace(
        "/etc/prometheus/m365mon.token",
        &dir.path().join("token").display().to_string(),
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    run(&["check", "config", "prometheus.yml"], dir.path());
}
