//! What [`FallbackLayer`](super::FallbackLayer) derives from each request: the context, the
//! cache key for `UseCache` and the queue payload for `QueueRequest`.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::fallback::request::FallbackRequest;
use crate::resource::Context;

/// Derives the [`Context`] of an execution from the request.
///
/// Implemented by [`EmptyContext`] and by every `Fn(&Req) -> Context`.
pub trait ContextFromRequest<Req> {
    /// The context for `req`.
    fn context_for(&self, req: &Req) -> Context;
}

/// The default context source of a `FallbackLayer`: `Context::new()` for every request.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyContext;

impl<Req> ContextFromRequest<Req> for EmptyContext {
    fn context_for(&self, _req: &Req) -> Context {
        Context::new()
    }
}

impl<Req, F: Fn(&Req) -> Context> ContextFromRequest<Req> for F {
    fn context_for(&self, req: &Req) -> Context {
        self(req)
    }
}

/// Gives an execution for `Req` answering `T` its cache key, so `UseCache` can answer from
/// the protocol's cache and successful answers are stored there.
///
/// Implemented by [`NoCacheKey`] (the default) and [`CacheKeyFn`], made by
/// `FallbackLayer::cache_key`.
pub trait CacheKeyFromRequest<Req, T> {
    /// `call` with the cache key for `req`, if it has one.
    fn apply(&self, req: &Req, call: FallbackRequest<T>) -> FallbackRequest<T>;
}

/// No cache key: `UseCache` is skipped ("no cache key" in the trace).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCacheKey;

impl<Req, T> CacheKeyFromRequest<Req, T> for NoCacheKey {
    fn apply(&self, _req: &Req, call: FallbackRequest<T>) -> FallbackRequest<T> {
        call
    }
}

/// A cache key computed by a closure returning `String` or `Option<String>` (`None`: this
/// request is not cached).
#[derive(Clone)]
pub struct CacheKeyFn<F>(pub(super) F);

impl<F> fmt::Debug for CacheKeyFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CacheKeyFn")
    }
}

impl<Req, T, F, K> CacheKeyFromRequest<Req, T> for CacheKeyFn<F>
where
    F: Fn(&Req) -> K,
    K: Into<Option<String>>,
    T: Serialize + DeserializeOwned,
{
    fn apply(&self, req: &Req, call: FallbackRequest<T>) -> FallbackRequest<T> {
        match (self.0)(req).into() {
            Some(key) => call.cache_key(key),
            None => call,
        }
    }
}

/// Gives an execution for `Req` the payload `QueueRequest` enqueues.
///
/// Implemented by [`NoQueuePayload`] (the default) and [`QueuePayloadFn`], made by
/// `FallbackLayer::queue_payload`.
pub trait QueuePayloadFromRequest<Req> {
    /// `call` with the queue payload for `req`.
    fn apply<T>(&self, req: &Req, call: FallbackRequest<T>) -> FallbackRequest<T>;
}

/// No queue payload: `QueueRequest` is skipped ("no queue payload" in the trace).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoQueuePayload;

impl<Req> QueuePayloadFromRequest<Req> for NoQueuePayload {
    fn apply<T>(&self, _req: &Req, call: FallbackRequest<T>) -> FallbackRequest<T> {
        call
    }
}

/// A queue payload computed by a closure returning any `Serialize` value, queued for the
/// handler registered under `handler` (see `QueueWorker::register`).
#[derive(Clone)]
pub struct QueuePayloadFn<F> {
    pub(super) handler: Arc<str>,
    pub(super) payload: F,
}

impl<F> fmt::Debug for QueuePayloadFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueuePayloadFn").field("handler", &self.handler).finish_non_exhaustive()
    }
}

impl<Req, F, P> QueuePayloadFromRequest<Req> for QueuePayloadFn<F>
where
    F: Fn(&Req) -> P,
    P: Serialize,
{
    fn apply<T>(&self, req: &Req, call: FallbackRequest<T>) -> FallbackRequest<T> {
        match serde_json::to_value((self.payload)(req)) {
            Ok(payload) => call.queue_payload(&*self.handler, payload),
            Err(e) => {
                // The trace then says "no queue payload" where QueueRequest would have acted.
                tracing::warn!(handler = %self.handler, error = %e, "queue payload does not serialize");
                call
            }
        }
    }
}
