//! One execution: the primary call, then the strategies in order, recording every decision.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use super::attempt::{Attempt, DegradeLevel};
use super::error::FallbackError;
use super::gate::GateReading;
use super::hooks::{FallbackEvent, FallbackStage};
use super::inner::Inner;
use super::outcome::{Outcome, Served, Trace, TraceEvent, TraceKind};
use super::request::FallbackRequest;
use super::strategy::FallbackStrategy;
use crate::resource::Priority;
use crate::stripes::Gauge;

/// How an execution waits between retries.
pub(crate) enum Sleeper<'a> {
    Async,
    Blocking(&'a (dyn Fn(Duration) + Send + Sync)),
}

pub(crate) type Finished<T, E> = Result<Outcome<T>, FallbackError<E>>;

/// What a step decided: go on with the next one, or finish.
pub(crate) enum Flow<T, E> {
    Next,
    Done(Finished<T, E>),
}

/// Counts an execution as in flight for its lifetime: up on the thread it starts on, down on
/// the one it ends on (see [`Gauge`]), with no locked instruction on most threads.
pub(crate) struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    pub(crate) fn enter(counter: &'a Gauge) -> Self {
        counter.up();
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.down();
    }
}

/// A primary call made by the caller of a lean execution, in flight until it is dropped or
/// handed to [`Run::resume`].
pub(crate) struct LeanStart<'p> {
    pub(crate) guard: InFlight<'p>,
    pub(crate) provider: Option<&'p str>,
}

pub(crate) struct Run<'p, T, E, F> {
    pub(crate) p: &'p Inner,
    pub(crate) req: FallbackRequest<T>,
    op: F,
    sleeper: Sleeper<'p>,
    pub(crate) order: Cow<'p, [FallbackStrategy]>,
    pub(crate) trace: Trace,
    pub(crate) attempts: u32,
    pub(crate) strategy: Option<FallbackStrategy>,
    pub(crate) provider: Option<String>,
    pub(crate) usable_provider: Option<String>,
    pub(crate) tried: Vec<String>,
    pub(crate) last: Option<E>,
    pub(crate) breaker_open: Option<Option<Duration>>,
    pub(crate) in_flight: usize,
    started: Duration,
}

impl<'p, T, E, F, Fut> Run<'p, T, E, F>
where
    E: fmt::Display,
    F: FnMut(Attempt) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    pub(crate) fn new(p: &'p Inner, mut req: FallbackRequest<T>, op: F, sleeper: Sleeper<'p>) -> Self {
        let order = match (req.strategies.take(), p.orders.get(&req.resource)) {
            (Some(own), _) => Cow::Owned(own),
            (None, Some(configured)) => Cow::Borrowed(configured.as_slice()),
            (None, None) => Cow::Borrowed(FallbackStrategy::default_order(req.resource)),
        };
        Self::with_order(p, req, order, op, sleeper)
    }

    /// A run that goes on after a primary call its caller made itself (see [`LeanStart`]).
    pub(crate) fn lean(p: &'p Inner, req: FallbackRequest<T>, order: &'p [FallbackStrategy], op: F) -> Self {
        Self::with_order(p, req, Cow::Borrowed(order), op, Sleeper::Async)
    }

    fn with_order(
        p: &'p Inner,
        req: FallbackRequest<T>,
        order: Cow<'p, [FallbackStrategy]>,
        op: F,
        sleeper: Sleeper<'p>,
    ) -> Self {
        let provider = req.context.model.clone().or_else(|| p.providers.first().cloned());
        let trace = Trace { resource: Some(req.resource), ..Trace::default() };
        Self {
            p,
            req,
            op,
            sleeper,
            order,
            trace,
            attempts: 0,
            strategy: None,
            provider,
            usable_provider: None,
            tried: Vec::new(),
            last: None,
            breaker_open: None,
            in_flight: 0,
            started: p.clock.now(),
        }
    }

    pub(crate) async fn run(mut self) -> Finished<T, E> {
        let _guard = InFlight::enter(&self.p.inflight);
        if self.order.contains(&FallbackStrategy::LoadShed) {
            // Summing the stripes is kept for the calls that may be shed.
            self.in_flight = self.p.inflight.get();
            if let Flow::Done(r) = self.shed_stage().await {
                return r;
            }
        }
        if let Flow::Done(r) = self.primary().await {
            return r;
        }
        self.fall_back().await
    }

    /// Goes on after a primary call that `start`'s caller made and saw fail with `failed`.
    pub(crate) async fn resume(mut self, start: LeanStart<'p>, failed: E) -> Finished<T, E> {
        let LeanStart { guard, provider } = start;
        self.attempts = 1;
        let provider = provider.map(str::to_owned);
        self.tried.extend(provider.iter().cloned());
        self.provider = provider;
        // The primary call was not timed (a clock read per call for a trace kept only when
        // something goes wrong): its event has no duration, and the trace's time starts here.
        self.push(
            TraceKind::Failed,
            DegradeLevel::FULL.level,
            Some(failed.to_string()),
            None,
            Duration::ZERO,
        );
        tracing::debug!(resource = %self.req.resource, attempt = 1, error = %failed, "fallback attempt failed");
        self.last = Some(failed);
        let finished = self.fall_back().await;
        drop(guard);
        finished
    }

    /// The strategies in order, after the primary call.
    async fn fall_back(&mut self) -> Finished<T, E> {
        for k in 0..self.order.len() {
            let strategy = self.order[k];
            self.switch_to(strategy).await;
            if let Flow::Done(r) = self.apply(strategy).await {
                return r;
            }
        }
        self.exhausted().await
    }

    async fn primary(&mut self) -> Flow<T, E> {
        let provider = self.provider.clone();
        let reading = self.reading(provider.as_deref());
        if reading.status.is_pressured() {
            self.skip(describe(self.req.resource, &reading));
            return Flow::Next;
        }
        self.call(provider, DegradeLevel::FULL).await
    }

    async fn apply(&mut self, strategy: FallbackStrategy) -> Flow<T, E> {
        match strategy {
            FallbackStrategy::Retry => self.retry_stage().await,
            FallbackStrategy::SwitchProvider => self.switch_stage().await,
            FallbackStrategy::DegradeService => self.degrade_stage().await,
            FallbackStrategy::QueueRequest => self.queue_stage().await,
            FallbackStrategy::UseCache => self.cache_stage().await,
            FallbackStrategy::CircuitBreak => self.breaker_stage().await,
            FallbackStrategy::LoadShed => self.shed_stage().await,
        }
    }

    /// Calls the operation once with `provider` at `level`, under the call's breaker.
    pub(crate) async fn call(&mut self, provider: Option<String>, level: DegradeLevel) -> Flow<T, E> {
        let Some(breaker) = self.acquire_breaker() else { return Flow::Next };
        self.attempts += 1;
        if let Some(p) = &provider
            && !self.tried.contains(p)
        {
            self.tried.push(p.clone());
        }
        self.provider.clone_from(&provider);
        self.fire(FallbackStage::AttemptStarted, None).await;
        let attempt = Attempt {
            number: self.attempts,
            strategy: self.strategy,
            provider,
            degrade: level,
            context: self.req.context.clone(),
        };
        let start = self.p.clock.now();
        let result = (self.op)(attempt).await;
        self.record_breaker(breaker, result.is_ok());
        let took = self.p.clock.now().saturating_sub(start);
        match result {
            Ok(value) => self.succeeded(value, level, took).await,
            Err(err) => {
                self.push(TraceKind::Failed, level.level, Some(err.to_string()), None, took);
                tracing::debug!(resource = %self.req.resource, attempt = self.attempts, error = %err, "fallback attempt failed");
                self.last = Some(err);
                Flow::Next
            }
        }
    }

    async fn succeeded(&mut self, value: T, level: DegradeLevel, took: Duration) -> Flow<T, E> {
        self.push(TraceKind::Succeeded, level.level, None, None, took);
        self.store_in_cache(&value);
        let served = self.served(level.level, false, false);
        self.finish_served(value, served).await
    }

    pub(crate) async fn finish_served(&mut self, value: T, served: Served) -> Flow<T, E> {
        self.fire(FallbackStage::Served, None).await;
        let by = served.by.map_or("primary", FallbackStrategy::as_str);
        metrics::counter!("elf_fallback_served_total", "resource" => self.req.resource.as_str(), "by" => by)
            .increment(1);
        tracing::debug!(resource = %self.req.resource, by, calls = served.trace.calls(), "fallback served");
        Flow::Done(Ok(Outcome::Value { value, served }))
    }

    pub(crate) fn served(&mut self, level: usize, from_cache: bool, stale: bool) -> Served {
        Served {
            by: self.strategy,
            provider: self.provider.clone(),
            degrade_level: level,
            from_cache,
            stale,
            trace: self.take_trace(),
        }
    }

    pub(crate) fn take_trace(&mut self) -> Trace {
        self.trace.elapsed = self.p.clock.now().saturating_sub(self.started);
        std::mem::take(&mut self.trace)
    }

    async fn switch_to(&mut self, strategy: FallbackStrategy) {
        let previous = self.strategy.map_or("primary", FallbackStrategy::as_str);
        self.strategy = Some(strategy);
        tracing::debug!(resource = %self.req.resource, from = previous, to = %strategy, "fallback strategy");
        self.fire(FallbackStage::StrategyChanged, Some(previous.to_owned())).await;
    }

    async fn exhausted(&mut self) -> Finished<T, E> {
        let detail = self.last.as_ref().map(ToString::to_string);
        self.fire(FallbackStage::Exhausted, detail).await;
        metrics::counter!("elf_fallback_exhausted_total", "resource" => self.req.resource.as_str())
            .increment(1);
        let trace = Box::new(self.take_trace());
        Err(FallbackError::Exhausted { resource: self.req.resource, last: self.last.take(), trace })
    }

    pub(crate) fn reading(&self, provider: Option<&str>) -> GateReading {
        self.p.gate.reading(self.req.resource, &self.req.context, provider)
    }

    pub(crate) async fn sleep(&mut self, delay: Duration) {
        match &self.sleeper {
            #[cfg(feature = "tokio")]
            Sleeper::Async => tokio::time::sleep(delay).await,
            #[cfg(not(feature = "tokio"))]
            Sleeper::Async => (self.p.blocking_sleep)(delay),
            Sleeper::Blocking(sleep) => sleep(delay),
        }
        self.push(TraceKind::Waited, 0, None, Some(format!("{delay:?}")), delay);
    }

    pub(crate) fn skip(&mut self, note: String) {
        tracing::debug!(resource = %self.req.resource, strategy = ?self.strategy, note, "fallback step skipped");
        self.push(TraceKind::Skipped, 0, None, Some(note), Duration::ZERO);
    }

    pub(crate) fn push(
        &mut self,
        kind: TraceKind,
        degrade_level: usize,
        error: Option<String>,
        note: Option<String>,
        duration: Duration,
    ) {
        self.trace.events.push(TraceEvent {
            strategy: self.strategy,
            kind,
            attempt: self.attempts,
            provider: self.provider.clone(),
            degrade_level,
            error,
            note,
            duration,
        });
    }

    /// Runs the hooks for `stage`; the future borrows only the protocol, so a run stays `Send`
    /// without its value and error types being `Sync`.
    pub(crate) fn fire(&self, stage: FallbackStage, detail: Option<String>) -> impl Future<Output = ()> + 'p {
        let hooks = &self.p.hooks;
        let event = (!hooks.is_empty()).then(|| FallbackEvent {
            stage,
            resource: self.req.resource,
            context: self.req.context.clone(),
            strategy: self.strategy,
            attempt: self.attempts,
            provider: self.provider.clone(),
            detail,
        });
        async move {
            if let Some(event) = event {
                hooks.fire(event).await;
            }
        }
    }

    pub(crate) fn is_exempt(&self) -> bool {
        self.req.context.priority >= Priority::High
    }
}

/// "api_quota exhausted (100%): reason".
pub(crate) fn describe(resource: crate::resource::ResourceType, r: &GateReading) -> String {
    let reason = r.reason.as_deref().map(|x| format!(": {x}")).unwrap_or_default();
    format!("{resource} {} ({:.0}%){reason}", r.status, r.usage_percent)
}
