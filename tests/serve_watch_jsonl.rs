//! `watch --jsonl` end to end: a consumer reads the stream line by line, over a real
//! socket, while a lab fault on the activation endpoint comes and goes.

mod support;

use m365mon::lab::FaultMode;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::serve::*;
use tokio::sync::oneshot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_sees_the_fault_come_and_go() {
    // The fault starts 1.5 s after the lab and ends at 4 s; sweeps every 300 ms.
    let (lab, mon) = lab_monitor(
        scenario(ACTIVATION, FaultMode::Refuse, 1.5, Some(4.0)),
        Duration::from_millis(300),
        Duration::from_secs(1),
    )
    .await;

    // The consumer: the far end of a socket, reading lines as they come.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let writer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (reader, _) = listener.accept().unwrap();
    let (line_tx, lines) = mpsc::channel::<String>();
    let consumer = std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let handle = mon.handle.clone();
    let streaming = tokio::spawn(async move {
        m365mon::report::stream::watch_jsonl(handle, writer, async {
            let _ = stop_rx.await;
        })
        .await
    });

    // Read until activation has passed, failed, and passed again.
    let mut received: Vec<Value> = Vec::new();
    let mut phase = 0; // 0: waiting for a passing sweep, 1: for the failure, 2: for the recovery
    let deadline = Instant::now() + Duration::from_secs(30);
    while phase < 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = tokio::task::block_in_place(|| lines.recv_timeout(left))
            .unwrap_or_else(|_| panic!("stream stalled in phase {phase}; got {received:#?}"));
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
        let activation_status = || {
            v["checks"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["id"] == ACTIVATION_CHECK))
                .map(|c| c["status"].clone())
        };
        match (phase, v["type"].as_str()) {
            (0, Some("sweep")) if activation_status() == Some("pass".into()) => phase = 1,
            (1, Some("change")) if v["check"] == ACTIVATION_CHECK => {
                assert_eq!(
                    (v["from"].as_str(), v["to"].as_str()),
                    (Some("pass"), Some("fail")),
                    "{v}"
                );
                phase = 2;
            }
            // While failing, every sweep says so, with the cause and the finding.
            (2, Some("sweep")) if activation_status() == Some("fail".into()) => {
                let c = v["checks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["id"] == ACTIVATION_CHECK)
                    .unwrap();
                assert_eq!(c["cause"], "tcp-refused");
                assert!(!v["findings"].as_array().unwrap().is_empty(), "{v}");
                assert_eq!(v["status"], "fail");
            }
            (2, Some("change")) if v["check"] == ACTIVATION_CHECK => {
                assert_eq!(
                    (v["from"].as_str(), v["to"].as_str()),
                    (Some("fail"), Some("pass")),
                    "{v}"
                );
                assert!(v["text"].as_str().unwrap().starts_with("recovered"), "{v}");
                phase = 3;
            }
            _ => {}
        }
        received.push(v);
    }

    // The stream opened with its schema, and sweeps count up without gaps or repeats.
    assert_eq!(received[0]["type"], "start");
    assert_eq!(received[0]["schema"], m365mon::report::stream::SCHEMA);
    let sweeps: Vec<u64> = received
        .iter()
        .filter(|v| v["type"] == "sweep")
        .map(|v| v["sweep"].as_u64().unwrap())
        .collect();
    assert!(sweeps.windows(2).all(|w| w[1] == w[0] + 1), "{sweeps:?}");
    for v in received.iter().filter(|v| v["type"] == "sweep") {
        for key in ["at", "status", "sweep_ms", "checks", "findings"] {
            assert!(!v[key].is_null(), "sweep line lacks {key}: {v}");
        }
        // The twenty endpoints of the catalog, and whatever host and network checks run.
        let endpoints = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["id"].as_str().unwrap().starts_with("endpoint:"));
        assert_eq!(endpoints.count(), 20, "{v}");
    }

    // Stopping ends the stream: the writer is dropped and the consumer sees the end.
    stop_tx.send(()).unwrap();
    streaming.await.unwrap().expect("stream ends cleanly");
    tokio::task::block_in_place(|| consumer.join()).unwrap();
    mon.task.abort();
    lab.shutdown().await;
}
