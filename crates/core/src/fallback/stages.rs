//! The strategies as steps of a [`Run`].

use std::fmt;
use std::future::Future;
use std::time::Duration;

use super::attempt::{Attempt, DegradeLevel};
use super::engine::{Flow, Run, describe};
use super::error::FallbackError;
use super::hooks::FallbackStage;
use super::outcome::{Outcome, TraceKind};
use super::queue::EnqueueRequest;
use super::strategy::FallbackStrategy;
use crate::circuit_breaker::OwnedCircuitPermit;
use crate::resource::ResourceStatus;

impl<T, E, F, Fut> Run<'_, T, E, F>
where
    E: fmt::Display,
    F: FnMut(Attempt) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    pub(crate) async fn retry_stage(&mut self) -> Flow<T, E> {
        let provider = self.primary_provider();
        for delay in (self.p.backoff)() {
            if self.breaker_open.is_some() {
                self.skip("circuit open: no more retries".into());
                break;
            }
            let reading = self.reading(provider.as_deref());
            if reading.status.is_pressured() {
                self.skip(describe(self.req.resource, &reading));
                break;
            }
            self.sleep(delay).await;
            if let Flow::Done(r) = self.call(provider.clone(), DegradeLevel::FULL).await {
                return Flow::Done(r);
            }
        }
        Flow::Next
    }

    fn primary_provider(&self) -> Option<String> {
        self.req.context.model.clone().or_else(|| self.p.providers.first().cloned())
    }

    fn candidates(&self) -> Vec<String> {
        let list = if self.p.providers.is_empty() {
            self.p.gate.alternatives(self.req.resource, &self.req.context)
        } else {
            self.p.providers.clone()
        };
        let primary = self.primary_provider();
        list.into_iter().filter(|c| !self.tried.contains(c) && primary.as_ref() != Some(c)).collect()
    }

    pub(crate) async fn switch_stage(&mut self) -> Flow<T, E> {
        let candidates = self.candidates();
        if candidates.is_empty() {
            self.skip("no alternative provider".into());
        }
        for candidate in candidates {
            let reading = self.reading(Some(&candidate));
            if reading.status.is_pressured() {
                self.skip(format!("{candidate}: {}", describe(self.req.resource, &reading)));
                continue;
            }
            if self.breaker_is_open(&candidate) {
                self.skip(format!("{candidate}: circuit open"));
                continue;
            }
            self.usable_provider.get_or_insert_with(|| candidate.clone());
            if let Flow::Done(r) = self.call(Some(candidate), DegradeLevel::FULL).await {
                return Flow::Done(r);
            }
        }
        Flow::Next
    }

    pub(crate) async fn degrade_stage(&mut self) -> Flow<T, E> {
        let provider = self.usable_provider.clone().or_else(|| self.primary_provider());
        let levels: Vec<DegradeLevel> = self.p.levels.iter().skip(1).copied().collect();
        for level in levels {
            let reading = self.reading(provider.as_deref());
            if reading.status == ResourceStatus::Exhausted {
                self.skip(describe(self.req.resource, &reading));
                break;
            }
            if let Flow::Done(r) = self.call(provider.clone(), level).await {
                return Flow::Done(r);
            }
        }
        Flow::Next
    }

    pub(crate) async fn queue_stage(&mut self) -> Flow<T, E> {
        let (Some(spec), Some(queue)) = (&self.req.queue, &self.p.queue) else {
            let why = if self.p.queue.is_none() { "no queue configured" } else { "no queue payload" };
            self.skip(why.into());
            return Flow::Next;
        };
        let req = EnqueueRequest::new(spec.handler.clone(), spec.payload.clone())
            .context(self.req.context.clone())
            .max_attempts(self.p.queue_max_attempts);
        match queue.enqueue(req, self.p.wall_now()) {
            Ok(ticket) => {
                self.push(TraceKind::Queued, 0, None, Some(format!("ticket {ticket}")), Duration::ZERO);
                self.fire(FallbackStage::Served, Some(ticket.to_string())).await;
                metrics::counter!("elf_fallback_queued_total", "resource" => self.req.resource.as_str())
                    .increment(1);
                Flow::Done(Ok(Outcome::Queued { ticket, trace: self.take_trace() }))
            }
            Err(e) => {
                self.skip(format!("enqueue failed: {e}"));
                Flow::Next
            }
        }
    }

    pub(crate) async fn cache_stage(&mut self) -> Flow<T, E> {
        let (Some(spec), Some(cache)) = (&self.req.cache, &self.p.cache) else {
            self.skip(if self.p.cache.is_none() { "no cache configured" } else { "no cache key" }.into());
            return Flow::Next;
        };
        let hit = cache.get(&spec.key, self.p.wall_now(), self.p.max_staleness);
        let decoded = match hit {
            Ok(Some(hit)) => (spec.decode)(hit.value.clone()).map(|v| (v, hit)),
            Ok(None) => None,
            Err(e) => {
                self.skip(format!("cache read failed: {e}"));
                return Flow::Next;
            }
        };
        let Some((value, hit)) = decoded else {
            self.skip("cache miss".into());
            return Flow::Next;
        };
        let note = format!("age {:?}{}", hit.age, if hit.stale { ", stale" } else { "" });
        self.push(TraceKind::FromCache, 0, None, Some(note), Duration::ZERO);
        let served = self.served(0, true, hit.stale);
        self.finish_served(value, served).await
    }

    pub(crate) fn store_in_cache(&mut self, value: &T) {
        if !self.order.contains(&FallbackStrategy::UseCache) {
            return;
        }
        let (Some(spec), Some(cache)) = (&self.req.cache, &self.p.cache) else { return };
        let Some(json) = (spec.encode)(value) else { return };
        let ttl = spec.ttl.unwrap_or(self.p.cache_ttl);
        if let Err(e) = cache.put(&spec.key, json, self.p.wall_now(), ttl) {
            tracing::warn!(key = %spec.key, error = %e, "storing a fallback answer in the cache failed");
        }
    }

    pub(crate) async fn breaker_stage(&mut self) -> Flow<T, E> {
        let Some(name) = self.breaker_name() else {
            self.skip("no breakers configured".into());
            return Flow::Next;
        };
        let open_now = self.breaker_is_open(&name);
        if self.breaker_open.is_none() && !open_now {
            self.skip(format!("circuit `{name}` closed"));
            return Flow::Next;
        }
        let retry_after = self.breaker_open.flatten();
        self.push(TraceKind::Rejected, 0, None, Some(format!("circuit `{name}` open")), Duration::ZERO);
        self.fire(FallbackStage::Exhausted, Some(format!("circuit `{name}` open"))).await;
        let trace = Box::new(self.take_trace());
        Flow::Done(Err(FallbackError::CircuitOpen { name, retry_after, trace }))
    }

    pub(crate) async fn shed_stage(&mut self) -> Flow<T, E> {
        let Some(reason) = self.shed_reason() else { return Flow::Next };
        if self.is_exempt() {
            self.skip(format!("{reason}; not shed: priority {:?}", self.req.context.priority));
            return Flow::Next;
        }
        self.push(TraceKind::Rejected, 0, None, Some(reason.clone()), Duration::ZERO);
        self.fire(FallbackStage::Exhausted, Some(reason.clone())).await;
        metrics::counter!("elf_fallback_shed_total", "resource" => self.req.resource.as_str()).increment(1);
        Flow::Done(Err(FallbackError::Shed { reason, trace: Box::new(self.take_trace()) }))
    }

    fn shed_reason(&self) -> Option<String> {
        let reading = self.reading(None);
        if reading.status.is_pressured() {
            return Some(describe(self.req.resource, &reading));
        }
        let limit = self.p.shed_limit?;
        (self.in_flight > limit).then(|| format!("concurrency limit {limit} reached"))
    }

    fn breaker_name(&self) -> Option<String> {
        self.p.breakers.as_ref()?;
        let op = self.req.context.operation.as_deref().unwrap_or("default");
        Some(format!("{}:{op}", self.req.resource))
    }

    fn breaker_is_open(&self, name: &str) -> bool {
        let breaker = self.p.breakers.as_ref().and_then(|r| r.get(name));
        breaker.is_some_and(|cb| cb.state().is_open())
    }

    /// `None`: the breaker refused (recorded). `Some(permit)`: go ahead, report to the permit.
    pub(crate) fn acquire_breaker(&mut self) -> Option<Option<OwnedCircuitPermit>> {
        if !self.order.contains(&FallbackStrategy::CircuitBreak) {
            return Some(None);
        }
        let (Some(name), Some(registry)) = (self.breaker_name(), self.p.breakers.as_ref()) else {
            return Some(None);
        };
        match registry.get_or_create(&name).try_acquire_owned() {
            Ok(permit) => Some(Some(permit)),
            Err(open) => {
                self.breaker_open = Some(open.retry_after);
                self.skip(open.to_string());
                None
            }
        }
    }

    pub(crate) fn record_breaker(&self, permit: Option<OwnedCircuitPermit>, success: bool) {
        match (permit, success) {
            (Some(p), true) => p.success(),
            (Some(p), false) => p.failure(),
            (None, _) => {}
        }
    }
}
