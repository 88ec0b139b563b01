//! Stage clocks that leave out the monitor's own queueing.
//!
//! With many probes in flight on few cores, a probe whose connection is ready may wait for
//! a worker thread before it runs again; a wall clock would charge that wait to the
//! network ("TLS 5.6 ms" at 216 endpoints for a 0.7 ms loopback handshake). A probe runs
//! inside [`measured`], which notes when its task is woken and when it is next polled:
//! the gap is local queueing. A [`Stopwatch`] started inside it reports the stage's own
//! time without that gap ([`Stopwatch::elapsed`]) and the gap itself
//! ([`Stopwatch::queued`]), which the probe shows separately when it is large.
//! Outside [`measured`] a stopwatch is a plain wall clock.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

tokio::task_local! {
    static STAMP: Arc<Stamp>;
}

/// What a probe's waker records: when it was woken, and the waits so far.
#[derive(Debug, Default)]
struct Stamp {
    /// The runtime's waker of the task, to pass the wake on.
    waker: Mutex<Option<Waker>>,
    woken_at: Mutex<Option<Instant>>,
    queued_ns: AtomicU64,
}

impl Stamp {
    fn queued(&self) -> Duration {
        Duration::from_nanos(self.queued_ns.load(Ordering::Relaxed))
    }
}

impl Wake for Stamp {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Ok(mut at) = self.woken_at.lock() {
            at.get_or_insert_with(Instant::now);
        }
        if let Ok(w) = self.waker.lock() {
            if let Some(w) = w.as_ref() {
                w.wake_by_ref();
            }
        }
    }
}

/// A future whose wake-to-poll gaps are added up in its [`Stamp`].
struct Measured<F> {
    inner: Pin<Box<F>>,
    stamp: Arc<Stamp>,
}

impl<F: Future> Future for Measured<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let now = Instant::now();
        if let Some(at) = self.stamp.woken_at.lock().ok().and_then(|mut a| a.take()) {
            let waited = now.saturating_duration_since(at).as_nanos() as u64;
            self.stamp.queued_ns.fetch_add(waited, Ordering::Relaxed);
        }
        if let Ok(mut w) = self.stamp.waker.lock() {
            match w.as_ref() {
                Some(old) if old.will_wake(cx.waker()) => {}
                _ => *w = Some(cx.waker().clone()),
            }
        }
        let waker = Waker::from(self.stamp.clone());
        let mut inner_cx = Context::from_waker(&waker);
        self.inner.as_mut().poll(&mut inner_cx)
    }
}

/// Runs `f`, keeping count of the time it is ready but waiting to be run.
pub async fn measured<F: Future>(f: F) -> F::Output {
    let stamp = Arc::new(Stamp::default());
    let inner = Measured {
        inner: Box::pin(f),
        stamp: stamp.clone(),
    };
    STAMP.scope(stamp, inner).await
}

/// The local queueing so far in this [`measured`] task (zero outside one).
fn queued_now() -> Duration {
    STAMP.try_with(|s| s.queued()).unwrap_or_default()
}

/// A stage's clock: wall time minus the local queueing since it started.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    started: Instant,
    queued_at_start: Duration,
}

impl Stopwatch {
    /// Starts the clock; call it when the stage's work starts.
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
            queued_at_start: queued_now(),
        }
    }

    /// The stage's own time so far: wall time without the local queueing.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.queued())
    }

    /// The local queueing since the start.
    pub fn queued(&self) -> Duration {
        queued_now().saturating_sub(self.queued_at_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task woken while the only thread is busy: its wait is counted as queueing, not
    /// as its own time.
    #[tokio::test(flavor = "current_thread")]
    async fn a_wait_for_the_worker_is_queueing_not_stage_time() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let probe = tokio::spawn(measured(async move {
            let clock = Stopwatch::start();
            rx.await.unwrap();
            (clock.elapsed(), clock.queued())
        }));
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Wake the probe, then keep the only thread busy for 50 ms before yielding.
        tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let (own, queued) = probe.await.unwrap();
        assert!(queued >= Duration::from_millis(45), "queued {queued:?}");
        // Its own time is the 20 ms it really waited for the message, not the 70 ms.
        assert!(own < Duration::from_millis(45), "own {own:?}, queued {queued:?}");
    }

    #[tokio::test]
    async fn outside_a_measured_task_a_stopwatch_is_a_wall_clock() {
        let clock = Stopwatch::start();
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(clock.queued(), Duration::ZERO);
        assert!(clock.elapsed() >= Duration::from_millis(5));
    }
}
