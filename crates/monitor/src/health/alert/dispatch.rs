//! One lane per sink: a bounded queue and a task that delivers in order, with retries.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, mpsc};

use super::{AlertRetry, HealthCheckResult, SharedAlertSink};

/// Alerts queued or being delivered, so callers can wait until all are done.
#[derive(Debug, Default)]
struct Pending {
    count: AtomicUsize,
    idle: Notify,
}

impl Pending {
    fn done(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }
}

type Rx = mpsc::Receiver<Arc<HealthCheckResult>>;

#[derive(Debug)]
struct Lane {
    sink: SharedAlertSink,
    tx: mpsc::Sender<Arc<HealthCheckResult>>,
    rx: Mutex<Option<Rx>>,
}

/// Fans alerts out to the sinks without ever waiting on them.
#[derive(Debug)]
pub(crate) struct AlertDispatcher {
    lanes: Vec<Lane>,
    pending: Arc<Pending>,
    retry: AlertRetry,
}

impl AlertDispatcher {
    pub(crate) fn new(sinks: Vec<SharedAlertSink>, capacity: usize, retry: AlertRetry) -> Self {
        let lanes = sinks
            .into_iter()
            .map(|sink| {
                let (tx, rx) = mpsc::channel(capacity.max(1));
                Lane { sink, tx, rx: Mutex::new(Some(rx)) }
            })
            .collect();
        Self { lanes, pending: Arc::default(), retry }
    }

    /// Spawns the lane tasks not started yet. Must run inside a tokio runtime.
    pub(crate) fn ensure_started(&self) {
        for lane in &self.lanes {
            let rx = lane.rx.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(rx) = rx {
                tokio::spawn(deliver_all(lane.sink.clone(), rx, self.pending.clone(), self.retry));
            }
        }
    }

    /// Queues the alert on every lane; a full lane drops it (counted and logged).
    pub(crate) fn dispatch(&self, alert: HealthCheckResult) {
        self.ensure_started();
        let alert = Arc::new(alert);
        for lane in &self.lanes {
            self.pending.count.fetch_add(1, Ordering::AcqRel);
            if lane.tx.try_send(alert.clone()).is_err() {
                self.pending.done();
                metrics::counter!("elf_health_alerts_total", "outcome" => "dropped").increment(1);
                tracing::warn!(sink = lane.sink.name(), check = %alert.name, "alert queue full; alert dropped");
            }
        }
    }

    /// Waits until every queued alert has been delivered or given up on.
    pub(crate) async fn idle(&self) {
        loop {
            let notified = self.pending.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.pending.count.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

async fn deliver_all(sink: SharedAlertSink, mut rx: Rx, pending: Arc<Pending>, retry: AlertRetry) {
    while let Some(alert) = rx.recv().await {
        let delivered = deliver(&sink, &alert, retry).await;
        let outcome = if delivered { "sent" } else { "failed" };
        metrics::counter!("elf_health_alerts_total", "outcome" => outcome).increment(1);
        pending.done();
    }
}

async fn deliver(sink: &SharedAlertSink, alert: &HealthCheckResult, retry: AlertRetry) -> bool {
    let mut delays = retry.delays();
    loop {
        match sink.send(alert).await {
            Ok(()) => return true,
            Err(e) => match delays.next() {
                Some(d) => {
                    tracing::debug!(sink = sink.name(), check = %alert.name, error = %e, retry_in = ?d, "alert failed; retrying");
                    tokio::time::sleep(d).await;
                }
                None => {
                    tracing::warn!(sink = sink.name(), check = %alert.name, error = %e, "alert given up");
                    return false;
                }
            },
        }
    }
}
