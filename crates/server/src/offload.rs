//! Queue calls that may block for long (Redis stalled or slow, up to its I/O timeout) handed
//! off the async worker thread that makes them, so timers, health checks and HTTP go on.
//!
//! The queue worker calls its `RequestQueue` directly from async code, each call taken to be
//! short. A stalled Redis makes each one last up to the client's 5 s I/O timeout, and a worker
//! thread stuck in a call stalls the runtime's timers with it: a 1 s health check timed out
//! only after 5 s. Under `block_in_place` the runtime moves its other work to another thread
//! for the duration of the call.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use elf_resilience::{EnqueueRequest, QueueError, QueuedRequest, RequestQueue, Ticket, TicketStatus};
use tokio::runtime::{Handle, RuntimeFlavor};

/// A queue whose calls run under [`tokio::task::block_in_place`] on a multi-threaded runtime,
/// and as they are elsewhere (no runtime, a current-thread one, a blocking-pool thread).
#[derive(Debug)]
pub struct Offloaded(pub Arc<dyn RequestQueue>);

/// Runs `f`, off the async worker when it is on one of a multi-threaded runtime.
fn offload<T>(f: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl RequestQueue for Offloaded {
    fn enqueue(&self, req: EnqueueRequest, now: SystemTime) -> Result<Ticket, QueueError> {
        offload(|| self.0.enqueue(req, now))
    }

    fn lease(
        &self,
        handler: Option<&str>,
        now: SystemTime,
        lease_for: Duration,
    ) -> Result<Option<QueuedRequest>, QueueError> {
        offload(|| self.0.lease(handler, now, lease_for))
    }

    fn ack(&self, ticket: &Ticket, result: Option<serde_json::Value>) -> Result<(), QueueError> {
        offload(|| self.0.ack(ticket, result))
    }

    fn nack(
        &self,
        ticket: &Ticket,
        error: &str,
        now: SystemTime,
        retry_in: Duration,
    ) -> Result<TicketStatus, QueueError> {
        offload(|| self.0.nack(ticket, error, now, retry_in))
    }

    fn get(&self, ticket: &Ticket) -> Result<Option<QueuedRequest>, QueueError> {
        offload(|| self.0.get(ticket))
    }

    fn list(&self, status: Option<TicketStatus>, limit: usize) -> Result<Vec<QueuedRequest>, QueueError> {
        offload(|| self.0.list(status, limit))
    }

    fn purge(&self, status: TicketStatus) -> Result<usize, QueueError> {
        offload(|| self.0.purge(status))
    }

    fn status(&self, ticket: &Ticket) -> Result<Option<TicketStatus>, QueueError> {
        offload(|| self.0.status(ticket))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use elf_resilience::InMemoryQueue;

    #[test]
    fn without_a_runtime_calls_run_as_they_are() {
        let q = Offloaded(Arc::new(InMemoryQueue::new()));
        let t = q.enqueue(EnqueueRequest::new("h", serde_json::json!(1)), SystemTime::now()).unwrap();
        assert_eq!(q.status(&t).unwrap(), Some(TicketStatus::Pending));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn on_a_current_thread_runtime_calls_run_as_they_are() {
        let q = Offloaded(Arc::new(InMemoryQueue::new()));
        let t = q.enqueue(EnqueueRequest::new("h", serde_json::json!(1)), SystemTime::now()).unwrap();
        assert_eq!(q.list(None, 10).unwrap()[0].ticket, t);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_long_call_on_the_only_worker_holds_up_no_timer() {
        #[derive(Debug)]
        struct Stalled;
        impl RequestQueue for Stalled {
            fn enqueue(&self, _: EnqueueRequest, _: SystemTime) -> Result<Ticket, QueueError> {
                unreachable!()
            }
            fn lease(
                &self,
                _: Option<&str>,
                _: SystemTime,
                _: Duration,
            ) -> Result<Option<QueuedRequest>, QueueError> {
                std::thread::sleep(Duration::from_millis(600)); // the stalled backend itself
                Ok(None)
            }
            fn ack(&self, _: &Ticket, _: Option<serde_json::Value>) -> Result<(), QueueError> {
                unreachable!()
            }
            fn nack(
                &self,
                _: &Ticket,
                _: &str,
                _: SystemTime,
                _: Duration,
            ) -> Result<TicketStatus, QueueError> {
                unreachable!()
            }
            fn get(&self, _: &Ticket) -> Result<Option<QueuedRequest>, QueueError> {
                unreachable!()
            }
            fn list(&self, _: Option<TicketStatus>, _: usize) -> Result<Vec<QueuedRequest>, QueueError> {
                unreachable!()
            }
            fn purge(&self, _: TicketStatus) -> Result<usize, QueueError> {
                unreachable!()
            }
        }
        let stalled = tokio::spawn(async {
            Offloaded(Arc::new(Stalled)).lease(None, SystemTime::now(), Duration::ZERO)
        });
        let started = std::time::Instant::now();
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(started.elapsed() < Duration::from_millis(400), "the timer waited {:?}", started.elapsed());
        stalled.await.unwrap().unwrap();
    }
}
