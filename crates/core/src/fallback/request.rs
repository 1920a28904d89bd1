//! One call's fallback settings: resource, context, order, cache key and queue payload.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::queue::QueueError;
use super::strategy::FallbackStrategy;
use crate::resource::{Context, ResourceType};

pub(crate) struct CacheSpec<T> {
    pub(crate) key: String,
    pub(crate) ttl: Option<Duration>,
    pub(crate) encode: fn(&T) -> Option<serde_json::Value>,
    pub(crate) decode: fn(serde_json::Value) -> Option<T>,
}

pub(crate) struct QueueSpec {
    pub(crate) handler: String,
    pub(crate) payload: serde_json::Value,
}

/// What one execution is about: the resource, the context, and optionally a strategy order,
/// a cache key (for `UseCache`) and a queue payload (for `QueueRequest`).
///
/// ```
/// use elf_resilience_core::{Context, FallbackRequest, FallbackStrategy, ResourceType};
///
/// #[derive(serde::Serialize)]
/// struct Query { id: u32 }
///
/// let req = FallbackRequest::<Vec<String>>::new(ResourceType::Database)
///     .context(Context::new().operation("get_user"))
///     .strategies([FallbackStrategy::Retry, FallbackStrategy::UseCache])
///     .cache_key("user:7")
///     .queue_as("get_user", &Query { id: 7 })?;
/// assert_eq!(req.order(), [FallbackStrategy::Retry, FallbackStrategy::UseCache]);
/// # Ok::<(), elf_resilience_core::QueueError>(())
/// ```
pub struct FallbackRequest<T> {
    pub(crate) resource: ResourceType,
    pub(crate) context: Context,
    pub(crate) strategies: Option<Vec<FallbackStrategy>>,
    pub(crate) cache: Option<CacheSpec<T>>,
    pub(crate) queue: Option<QueueSpec>,
}

impl<T> fmt::Debug for FallbackRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackRequest")
            .field("resource", &self.resource)
            .field("context", &self.context)
            .field("strategies", &self.strategies)
            .field("cache_key", &self.cache.as_ref().map(|c| &c.key))
            .field("queue_handler", &self.queue.as_ref().map(|q| &q.handler))
            .finish()
    }
}

impl<T> FallbackRequest<T> {
    /// A request for `resource` with an empty context and the resource's default order.
    pub fn new(resource: ResourceType) -> Self {
        Self { resource, context: Context::new(), strategies: None, cache: None, queue: None }
    }

    /// Sets the context.
    pub fn context(mut self, ctx: Context) -> Self {
        self.context = ctx;
        self
    }

    /// Sets a custom strategy order for this call.
    pub fn strategies(mut self, order: impl IntoIterator<Item = FallbackStrategy>) -> Self {
        self.strategies = Some(order.into_iter().collect());
        self
    }

    /// The strategy order this call will use if the protocol has no override.
    pub fn order(&self) -> &[FallbackStrategy] {
        match &self.strategies {
            Some(order) => order,
            None => FallbackStrategy::default_order(self.resource),
        }
    }

    /// Queues the call as `payload` for the handler registered under `handler`.
    pub fn queue_payload(mut self, handler: impl Into<String>, payload: serde_json::Value) -> Self {
        self.queue = Some(QueueSpec { handler: handler.into(), payload });
        self
    }

    /// Queues the call as the serialized `request` for the handler `handler`.
    pub fn queue_as<R: Serialize>(self, handler: impl Into<String>, request: &R) -> Result<Self, QueueError> {
        let payload = serde_json::to_value(request).map_err(|e| QueueError::Serialization(e.to_string()))?;
        Ok(self.queue_payload(handler, payload))
    }

    /// Queues the call as its named arguments (one JSON object) for the handler `handler`:
    /// what `#[with_fallback(.., queue = "handler")]` does. If an argument failed to
    /// serialize, the call has no queue payload (`QueueRequest` is skipped and says so) and
    /// the error is logged.
    ///
    /// ```
    /// use elf_resilience_core::{FallbackRequest, QueueArgs, ResourceType};
    ///
    /// let args = QueueArgs::new().arg("job", "nightly-report").arg("rows", &10_000u32);
    /// assert_eq!(args.clone().payload()?, serde_json::json!({"job": "nightly-report", "rows": 10000}));
    /// let req = FallbackRequest::<u32>::new(ResourceType::Memory).queue_args("batch-jobs", args);
    /// assert!(format!("{req:?}").contains("batch-jobs"));
    /// # Ok::<(), elf_resilience_core::QueueError>(())
    /// ```
    pub fn queue_args(self, handler: impl Into<String>, args: QueueArgs) -> Self {
        let handler = handler.into();
        match args.payload() {
            Ok(payload) => self.queue_payload(handler, payload),
            Err(e) => {
                tracing::warn!(handler, error = %e, "queue payload does not serialize");
                self
            }
        }
    }
}

/// A call's arguments serialized one by one into a JSON object, `{"name": value, ..}`: the
/// queue payload of [`FallbackRequest::queue_args`]. A replay handler deserializes it into a
/// struct with the same field names.
#[derive(Debug, Clone, Default)]
pub struct QueueArgs {
    args: serde_json::Map<String, serde_json::Value>,
    error: Option<String>,
}

impl QueueArgs {
    /// No arguments yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the argument `name` (the first serialization error is kept for [`payload`](Self::payload)).
    pub fn arg<A: Serialize + ?Sized>(mut self, name: &str, value: &A) -> Self {
        if self.error.is_none() {
            match serde_json::to_value(value) {
                Ok(v) => {
                    self.args.insert(name.to_owned(), v);
                }
                Err(e) => self.error = Some(format!("argument `{name}`: {e}")),
            }
        }
        self
    }

    /// The JSON object, or the first argument that did not serialize.
    pub fn payload(self) -> Result<serde_json::Value, QueueError> {
        match self.error {
            Some(e) => Err(QueueError::Serialization(e)),
            None => Ok(serde_json::Value::Object(self.args)),
        }
    }
}

impl<T: Serialize + DeserializeOwned> FallbackRequest<T> {
    /// Caches successful answers under `key` (with the protocol's TTL) and lets `UseCache`
    /// answer from it.
    pub fn cache_key(mut self, key: impl Into<String>) -> Self {
        let encode = |v: &T| serde_json::to_value(v).ok();
        let decode = |v: serde_json::Value| serde_json::from_value(v).ok();
        self.cache = Some(CacheSpec { key: key.into(), ttl: None, encode, decode });
        self
    }

    /// Like [`cache_key`](Self::cache_key), with a TTL for this call.
    pub fn cache_key_with_ttl(self, key: impl Into<String>, ttl: Duration) -> Self {
        let mut this = self.cache_key(key);
        if let Some(spec) = this.cache.as_mut() {
            spec.ttl = Some(ttl);
        }
        this
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn an_argument_that_does_not_serialize_leaves_the_call_without_payload() {
        let bad: BTreeMap<(u8, u8), u8> = BTreeMap::from([((1, 2), 3)]);
        let args = QueueArgs::new().arg("id", &7u32).arg("grid", &bad).arg("later", "x");
        let err = args.clone().payload().unwrap_err().to_string();
        assert!(err.contains("argument `grid`"), "{err}");
        let req = FallbackRequest::<u32>::new(ResourceType::Memory).queue_args("jobs", args);
        assert!(req.queue.is_none());
        let ok = FallbackRequest::<u32>::new(ResourceType::Memory)
            .queue_args("jobs", QueueArgs::new().arg("id", &7u32));
        assert_eq!(
            ok.queue.map(|q| (q.handler, q.payload)),
            Some(("jobs".to_owned(), serde_json::json!({"id": 7})))
        );
    }
}
