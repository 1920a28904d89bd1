//! [`FallbackProtocol::answer`]: an execution for a caller that wants only the answer.
//!
//! When the call may go lean (no hooks, no `LoadShed`, no per-call breaker) and the gate is
//! not pressured, the primary call is made in place: a success costs a gate reading and the
//! in-flight count, and records no trace. Anything else (a pressured gate, a failed primary)
//! runs the protocol's engine, boxed, exactly as [`FallbackProtocol::execute`] would.

use std::fmt;
use std::future::Future;

use super::attempt::{Attempt, DegradeLevel};
use super::engine::{InFlight, LeanStart, Run};
use super::error::FallbackError;
use super::outcome::Outcome;
use super::protocol::FallbackProtocol;
use super::queue::Ticket;
use super::request::FallbackRequest;
use super::strategy::FallbackStrategy;
use crate::resource::{Context, ResourceType};

/// What [`FallbackProtocol::answer`] yields: the answer, or the ticket of a queued request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Answer<T> {
    /// The operation's value (from the primary call, a fallback strategy or the cache).
    Value(T),
    /// The request was queued for later replay.
    Queued(Ticket),
}

impl<T> From<Outcome<T>> for Answer<T> {
    fn from(outcome: Outcome<T>) -> Self {
        match outcome {
            Outcome::Value { value, .. } => Answer::Value(value),
            Outcome::Queued { ticket, .. } => Answer::Queued(ticket),
        }
    }
}

impl FallbackProtocol {
    /// Runs `op` for `ctx` and `resource` with the strategies of `order`, keeping only the
    /// answer: what a pipeline's fallback layer and other callers that need no [`Trace`]
    /// of a success call.
    ///
    /// Decides as [`execute`](Self::execute) does. An answer of the primary call made in place
    /// (see the module docs) is counted in `elf_fallback_served_total{by="primary"}` but
    /// records no trace; the trace of a failure is in the [`FallbackError`]. The operation's
    /// [`Attempt`] clones `ctx` (no allocation for an empty context) and the provider's name
    /// (one allocation when `ctx` names a model or the protocol lists providers).
    ///
    /// [`Trace`]: super::Trace
    ///
    /// ```
    /// use elf_resilience_core::{Answer, Context, FallbackProtocol, FallbackStrategy, ResourceType};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let protocol = FallbackProtocol::builder().providers(["gpt-4", "claude"]).build().unwrap();
    /// let order = [FallbackStrategy::SwitchProvider];
    /// let answer = protocol
    ///     .answer(&Context::new(), ResourceType::ApiQuota, &order, |a| async move {
    ///         match a.provider.as_deref() {
    ///             Some("gpt-4") => Err("rate limited"),
    ///             other => Ok(format!("from {other:?}")),
    ///         }
    ///     })
    ///     .await;
    /// assert_eq!(answer.unwrap(), Answer::Value("from Some(\"claude\")".to_owned()));
    /// # });
    /// ```
    pub async fn answer<T, E, F, Fut>(
        &self,
        ctx: &Context,
        resource: ResourceType,
        order: &[FallbackStrategy],
        mut op: F,
    ) -> Result<Answer<T>, FallbackError<E>>
    where
        E: fmt::Display,
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let Some(start) = self.lean_start(ctx, resource, order) else {
            let req = FallbackRequest::new(resource).context(ctx.clone()).strategies(order.iter().copied());
            return Box::pin(self.execute(req, op)).await.map(Answer::from);
        };
        let attempt = Attempt {
            number: 1,
            strategy: None,
            provider: start.provider.map(str::to_owned),
            degrade: DegradeLevel::FULL,
            context: ctx.clone(),
        };
        match op(attempt).await {
            Ok(value) => {
                self.served(start, resource);
                Ok(Answer::Value(value))
            }
            Err(failed) => {
                let req = FallbackRequest::new(resource).context(ctx.clone());
                let run = Run::lean(&self.inner, req, order, op);
                Box::pin(run.resume(start, failed)).await.map(Answer::from)
            }
        }
    }

    /// Whether a call with `order` may go lean: no hooks, no shedding, no per-call breaker.
    fn lean_possible(&self, order: &[FallbackStrategy]) -> bool {
        let p = &*self.inner;
        let per_call_breaker = p.breakers.is_some() && order.contains(&FallbackStrategy::CircuitBreak);
        p.hooks.is_empty() && !per_call_breaker && !order.contains(&FallbackStrategy::LoadShed)
    }

    /// Starts a lean execution, if `order` allows one and the gate is not pressured for the
    /// primary's provider.
    fn lean_start<'p>(
        &'p self,
        ctx: &'p Context,
        resource: ResourceType,
        order: &[FallbackStrategy],
    ) -> Option<LeanStart<'p>> {
        if !self.lean_possible(order) {
            return None;
        }
        let p = &*self.inner;
        let provider = ctx.model.as_deref().or_else(|| p.providers.first().map(String::as_str));
        if p.gate.reading(resource, ctx, provider).status.is_pressured() {
            return None;
        }
        Some(LeanStart { guard: InFlight::enter(&p.inflight), provider })
    }

    /// A lean execution's primary call succeeded.
    fn served(&self, start: LeanStart<'_>, resource: ResourceType) {
        served_by_primary(resource);
        tracing::debug!(%resource, by = "primary", calls = 1, "fallback served");
        drop(start);
    }
}

/// Counts an answer of the primary call in `elf_fallback_served_total`, with keys made at
/// compile time (a key with labels made per call would allocate them and hash them).
fn served_by_primary(resource: ResourceType) {
    use metrics::{Key, Label, Level, Metadata};
    const ALL: [ResourceType; 8] = ResourceType::ALL;
    const fn labels(r: ResourceType) -> [Label; 2] {
        [Label::from_static_parts("resource", r.as_str()), Label::from_static_parts("by", "primary")]
    }
    static LABELS: [[Label; 2]; 8] = [
        labels(ALL[0]),
        labels(ALL[1]),
        labels(ALL[2]),
        labels(ALL[3]),
        labels(ALL[4]),
        labels(ALL[5]),
        labels(ALL[6]),
        labels(ALL[7]),
    ];
    const NAME: &str = "elf_fallback_served_total";
    static KEYS: [Key; 8] = [
        Key::from_static_parts(NAME, &LABELS[0]),
        Key::from_static_parts(NAME, &LABELS[1]),
        Key::from_static_parts(NAME, &LABELS[2]),
        Key::from_static_parts(NAME, &LABELS[3]),
        Key::from_static_parts(NAME, &LABELS[4]),
        Key::from_static_parts(NAME, &LABELS[5]),
        Key::from_static_parts(NAME, &LABELS[6]),
        Key::from_static_parts(NAME, &LABELS[7]),
    ];
    static METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));
    let Some(i) = ALL.iter().position(|r| *r == resource) else { return };
    metrics::with_recorder(|r| r.register_counter(&KEYS[i], &METADATA).increment(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_is_exact_when_calls_end_on_other_threads() {
        let protocol = FallbackProtocol::builder().providers(["a"]).build().unwrap_or_else(|e| panic!("{e}"));
        let ctx = Context::new();
        let (threads, calls) = (12, 50);
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            for _ in 0..threads {
                let (tx, protocol, ctx) = (tx.clone(), &protocol, &ctx);
                s.spawn(move || {
                    for _ in 0..calls {
                        let started = protocol.lean_start(ctx, ResourceType::ApiQuota, &[]);
                        let start = started.unwrap_or_else(|| panic!("gate is not pressured"));
                        tx.send(start).unwrap_or_else(|_| panic!("receiver gone"));
                    }
                });
            }
            drop(tx);
            let started: Vec<_> = rx.iter().collect();
            assert_eq!(protocol.in_flight(), threads * calls);
            for (n, start) in started.into_iter().enumerate() {
                protocol.served(start, ResourceType::ApiQuota);
                assert_eq!(protocol.in_flight(), threads * calls - n - 1);
            }
        });
    }
}
