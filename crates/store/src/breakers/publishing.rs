//! [`BreakerPublisher::spawn`]: ticking on a tokio runtime. Every store call runs on the
//! blocking pool, so a store that stops answering (a paused Redis, a locked SQLite file) holds
//! a blocking thread, never an async worker; and one call at a time, so a slow tick makes the
//! next ones skip instead of piling up behind it.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::{BreakerPublisher, BreakerStoreError};

/// A store call still running on its blocking thread, if any.
type InFlight = Option<JoinHandle<()>>;

impl BreakerPublisher {
    /// Ticks every `interval` on the current tokio runtime until the handle is stopped.
    ///
    /// Each tick runs on a blocking thread and is waited for at most
    /// [`tick_timeout`](Self::tick_timeout); a tick still running when the next one falls due
    /// makes that one skip.
    pub fn spawn(self, interval: Duration) -> PublisherHandle {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(self, interval, stopped));
        PublisherHandle { stop, task }
    }
}

async fn run(publisher: BreakerPublisher, interval: Duration, mut stopped: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(interval);
    every.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut in_flight: InFlight = None;
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stopped.wait_for(|s| *s) => break,
        }
        if in_flight.as_ref().is_some_and(|call| !call.is_finished()) {
            tracing::debug!("the last breaker publishing still waits on the store; this tick is skipped");
            continue;
        }
        let call = off_the_runtime(&publisher, "publishing breakers", |p| p.tick().map(drop));
        in_flight = wait(publisher.tick_timeout(), "publishing breakers", call).await;
    }
    withdraw(&publisher, in_flight).await;
}

/// Withdraws the snapshots once the last tick is done, so that tick cannot publish them again
/// after the withdraw; a tick stuck past the timeout leaves them to go stale instead.
async fn withdraw(publisher: &BreakerPublisher, in_flight: InFlight) {
    if let Some(call) = in_flight
        && wait(publisher.tick_timeout(), "publishing breakers", call).await.is_some()
    {
        tracing::warn!("breakers not withdrawn: the store still does not answer");
        return;
    }
    let call = off_the_runtime(publisher, "withdrawing breakers", BreakerPublisher::withdraw);
    let _ = wait(publisher.tick_timeout(), "withdrawing breakers", call).await;
}

fn off_the_runtime(
    publisher: &BreakerPublisher,
    what: &'static str,
    call: fn(&BreakerPublisher) -> Result<(), BreakerStoreError>,
) -> JoinHandle<()> {
    let publisher = publisher.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(error) = call(&publisher) {
            tracing::warn!(%error, "{what} failed");
        }
    })
}

/// Waits at most `timeout` for `call`; gives it back when it is still running.
async fn wait(timeout: Duration, what: &'static str, mut call: JoinHandle<()>) -> InFlight {
    match tokio::time::timeout(timeout, &mut call).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => {
            tracing::warn!(%error, "{what} panicked");
            None
        }
        Err(_) => {
            tracing::warn!(
                after = ?timeout,
                "{what}: the breaker store did not answer in time; ticks are skipped until it does"
            );
            Some(call)
        }
    }
}

/// A spawned [`BreakerPublisher`]; [`stop`](Self::stop) withdraws its snapshots.
#[derive(Debug)]
pub struct PublisherHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl PublisherHandle {
    /// Stops ticking and withdraws the snapshots; returns when done, after at most twice the
    /// publisher's [`tick_timeout`](BreakerPublisher::tick_timeout) when the store hangs.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::{Instant, SystemTime};

    use elf_resilience_core::CircuitBreakerRegistry;

    use super::*;
    use crate::{BreakerCommand, BreakerSnapshot, BreakerStateStore, Owner};

    /// A store whose `take_commands` waits while it is held, counting the calls in it.
    #[derive(Debug, Default)]
    struct Gated {
        held: Mutex<bool>,
        released: Condvar,
        entered: AtomicUsize,
        inside: AtomicUsize,
        most_inside: AtomicUsize,
        published: Mutex<HashMap<String, usize>>,
    }

    impl Gated {
        fn release(&self) {
            *self.held.lock().unwrap() = false;
            self.released.notify_all();
        }
    }

    impl BreakerStateStore for Gated {
        fn publish(&self, owner_id: &str, snapshots: &[BreakerSnapshot]) -> Result<(), BreakerStoreError> {
            self.published.lock().unwrap().insert(owner_id.to_owned(), snapshots.len());
            Ok(())
        }
        fn snapshots(&self) -> Result<Vec<BreakerSnapshot>, BreakerStoreError> {
            Ok(Vec::new())
        }
        fn send_command(&self, _: &str, _: &str, _: BreakerCommand) -> Result<(), BreakerStoreError> {
            Ok(())
        }
        fn take_commands(&self, _: &str) -> Result<Vec<(String, BreakerCommand)>, BreakerStoreError> {
            self.entered.fetch_add(1, Ordering::SeqCst);
            let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_inside.fetch_max(now, Ordering::SeqCst);
            let held = self.held.lock().unwrap();
            drop(self.released.wait_while(held, |held| *held).unwrap());
            self.inside.fetch_sub(1, Ordering::SeqCst);
            Ok(Vec::new())
        }
        fn remove_older_than(&self, _: SystemTime) -> Result<usize, BreakerStoreError> {
            Ok(0)
        }
    }

    /// Waits (20 s at most) until `store` has seen `calls` calls of `take_commands`.
    async fn until_entered(store: &Gated, calls: usize) {
        let until = Instant::now() + Duration::from_secs(20);
        let mut pace = tokio::time::interval(Duration::from_millis(5));
        while store.entered.load(Ordering::SeqCst) < calls {
            assert!(Instant::now() < until, "{calls} calls never came");
            pace.tick().await;
        }
    }

    /// On a single-threaded runtime a held store leaves the runtime free (the test itself goes
    /// on), the ticks that fall due while it is held are skipped rather than run beside the
    /// held one or queued, and publishing resumes once the store answers.
    #[tokio::test]
    async fn a_held_store_skips_ticks_and_never_holds_the_runtime() {
        let store = Arc::new(Gated { held: Mutex::new(true), ..Gated::default() });
        let registry = Arc::new(CircuitBreakerRegistry::default());
        registry.get_or_create("openai");
        let publisher = BreakerPublisher::new(registry, store.clone()).owner(Owner::named("w"));
        let handle = publisher.timeout(Duration::from_millis(20)).spawn(Duration::from_millis(10));

        until_entered(&store, 1).await;
        tokio::time::sleep(Duration::from_millis(200)).await; // some 20 ticks fall due meanwhile
        assert_eq!(store.entered.load(Ordering::SeqCst), 1, "a tick overlapped the held one");
        store.release();
        until_entered(&store, 3).await;
        assert_eq!(store.most_inside.load(Ordering::SeqCst), 1, "two ticks ran at once");
        assert_eq!(store.published.lock().unwrap()["w"], 1);

        handle.stop().await;
        assert_eq!(store.published.lock().unwrap()["w"], 0, "stopping withdraws the snapshots");
    }
}
