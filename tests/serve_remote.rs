//! `serve` and `attach` end to end over loopback: a lab with a refused endpoint, the
//! exporter in front of its monitor, and the remote view reading it back; and the token
//! rule, from the outside.

mod support;

use m365mon::engine::{EventKind, MonitorCommand, MonitorHandle, Snapshot};
use m365mon::lab::FaultMode;
use m365mon::model::{Cause, CheckKind, CheckResult, Status};
use m365mon::remote::{self, RemoteError};
use m365mon::serve::{Access, Server};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::http::http_get;
use support::serve::*;
use tokio::sync::{mpsc, oneshot, watch};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_shows_what_the_served_monitor_sees() {
    let (lab, mon) = lab_monitor(
        scenario(ACTIVATION, FaultMode::Refuse, 0.0, None),
        Duration::from_millis(500),
        Duration::from_secs(1),
    )
    .await;
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), Access::Open)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let served = tokio::spawn(server.run(mon.handle.clone(), async {
        let _ = stop_rx.await;
    }));

    let remote = remote::attach(&format!("http://{addr}"), None, Duration::from_millis(200))
        .await
        .expect("attach");
    let mut view = remote.handle.snapshots.clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    let seen: Arc<Snapshot> = loop {
        let s = view.borrow_and_update().clone();
        if s.sweeps >= 1 {
            break s;
        }
        assert!(Instant::now() < deadline, "no sweep reached the remote view");
        let _ = tokio::time::timeout(Duration::from_secs(1), view.changed()).await;
    };
    let activation = check(&seen, ACTIVATION_CHECK).expect("activation check in the remote view");
    assert_eq!(activation.status, Status::Fail);
    assert_eq!(activation.cause, Some(Cause::TcpRefused));
    assert_eq!(
        status_of(&seen, "endpoint:login.microsoftonline.com"),
        Some(Status::Pass)
    );
    assert_eq!(
        seen.host.hostname, "lab-pc",
        "the remote machine's header, not ours"
    );
    assert!(seen
        .findings
        .iter()
        .any(|f| f.checks.iter().any(|c| c == ACTIVATION_CHECK)));
    // Commands are accepted and go nowhere: the view is read-only. Nothing receives them,
    // and the served monitor goes on sweeping, unpaused and unmarked, as the view shows.
    assert!(
        remote.handle.commands.is_closed(),
        "nothing receives the remote view's commands"
    );
    let marker = "marker sent through the read-only view";
    let commands = &remote.handle;
    commands.send(MonitorCommand::SetPaused(true));
    commands.send(MonitorCommand::Mark(marker.into()));
    let untouched =
        |s: &Snapshot| !s.paused && !s.events.iter().any(|e| e.text == marker || e.text == "paused");
    let sweeps = mon.handle.snapshot().sweeps;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // Two sweeps later the command has long been handled, had it arrived.
        let s = view.borrow_and_update().clone();
        if s.sweeps >= sweeps + 2 {
            assert!(untouched(&s), "the remote view: {:?}", s.events);
            break;
        }
        assert!(untouched(&s), "the remote view: {:?}", s.events);
        assert!(
            Instant::now() < deadline,
            "the served monitor stopped sweeping after a command through the view"
        );
        let _ = tokio::time::timeout(Duration::from_secs(1), view.changed()).await;
    }
    let served_state = mon.handle.snapshot();
    assert!(untouched(&served_state), "{:?}", served_state.events);

    // The same monitor through /metrics.
    let (status, metrics) = tokio::task::spawn_blocking(move || http_get(addr, "/metrics", None))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(
        metrics.contains(&format!(
            "m365mon_check_status{{check=\"{ACTIVATION_CHECK}\",kind=\"endpoint\"}} 2\n"
        )),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(
        "m365mon_check_cause_info{{check=\"{ACTIVATION_CHECK}\",cause=\"tcp-refused\"}} 1"
    )));
    assert!(metrics.contains("phase=\"resolve\""));

    // The exporter stops; the view keeps the last state and says it lost contact.
    stop_tx.send(()).unwrap();
    served.await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = view.borrow_and_update().clone();
        if let Some(e) = s
            .events
            .back()
            .filter(|e| e.kind == EventKind::Info && e.text.starts_with("lost contact"))
        {
            assert!(e.text.contains("cannot reach the monitor"), "{}", e.text);
            assert_eq!(
                status_of(&s, ACTIVATION_CHECK),
                Some(Status::Fail),
                "last state kept"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no lost-contact line after the exporter stopped"
        );
        let _ = tokio::time::timeout(Duration::from_secs(1), view.changed()).await;
    }
    drop(remote);
    mon.task.abort();
    lab.shutdown().await;
}

/// A monitor that never sweeps: one fixed snapshot.
fn fixed_monitor() -> (MonitorHandle, watch::Sender<Arc<Snapshot>>) {
    let mut s = Snapshot {
        sweeps: 1,
        ..Default::default()
    };
    s.checks.push(CheckResult::simple(
        ACTIVATION_CHECK,
        CheckKind::Endpoint,
        "x",
        Status::Fail,
        "refused",
    ));
    let (tx, rx) = watch::channel(Arc::new(s));
    let (cmd_tx, _cmd_rx) = mpsc::unbounded_channel();
    (
        MonitorHandle {
            snapshots: rx,
            commands: cmd_tx,
        },
        tx,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_mode_refuses_missing_and_wrong_tokens() {
    let (handle, _keep) = fixed_monitor();
    let token = "0123456789abcdef0123456789abcdef";
    // Loopback, but in token mode, as any non-loopback address is.
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), Access::Token(token.into()))
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let served = tokio::spawn(server.run(handle, std::future::pending()));
    let url = format!("http://{addr}/");

    let err = remote::attach(&url, None, Duration::from_secs(1))
        .await
        .err()
        .expect("no token, no state");
    assert!(matches!(err, RemoteError::TokenMissing { .. }), "{err}");
    assert!(err.to_string().contains("--token or M365MON_TOKEN"));
    let err = remote::attach(
        &url,
        Some("0123456789abcdef0123456789abcdeX".into()),
        Duration::from_secs(1),
    )
    .await
    .err()
    .expect("wrong token, no state");
    assert!(matches!(err, RemoteError::TokenRefused { .. }), "{err}");
    let ok = remote::attach(&url, Some(token.into()), Duration::from_secs(1))
        .await
        .expect("right token");
    assert_eq!(
        status_of(&ok.handle.snapshot(), ACTIVATION_CHECK),
        Some(Status::Fail)
    );

    let answers = tokio::task::spawn_blocking(move || {
        [
            http_get(addr, "/metrics", None),
            http_get(addr, "/api/state", Some("wrong-token-wrong-token")),
            http_get(addr, "/healthz", None),
            http_get(addr, "/metrics", Some(token)),
        ]
    })
    .await
    .unwrap();
    for (status, body) in &answers[..2] {
        assert_eq!(*status, 401);
        assert!(
            !body.contains("activation"),
            "nothing of the state without the token: {body}"
        );
    }
    assert_eq!(answers[2], (200, "ok\n".to_string()), "health needs no token");
    assert_eq!(answers[3].0, 200);
    assert!(answers[3].1.contains(ACTIVATION_CHECK));
    served.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = Server::bind(addr, Access::Open).await.err().expect("port in use");
    assert!(
        err.to_string().starts_with(&format!("cannot listen on {addr}: ")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_serves_several_requests_on_one_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (handle, _keep) = fixed_monitor();
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), Access::Open)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let served = tokio::spawn(server.run(handle, std::future::pending()));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut all = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut all))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(all.matches("HTTP/1.1 200 OK").count(), 2, "{all}");
    assert!(all.ends_with("ok\n"));
    served.abort();
}
