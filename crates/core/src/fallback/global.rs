//! The process-wide protocol used by `#[with_fallback]`, and turning outcomes into plain results.

use std::fmt;
use std::sync::{PoisonError, RwLock};

use super::error::FallbackError;
use super::outcome::{Outcome, Trace};
use super::protocol::FallbackProtocol;
use super::queue::Ticket;

static GLOBAL: RwLock<Option<FallbackProtocol>> = RwLock::new(None);

impl FallbackProtocol {
    /// The process-wide protocol: the one given to [`set_global`](Self::set_global), else
    /// [`FallbackProtocol::default`]. `#[with_fallback]` functions run through it.
    ///
    /// ```
    /// use elf_resilience_core::{FallbackProtocol, StaticGate};
    /// use std::sync::Arc;
    ///
    /// let protocol = FallbackProtocol::builder().gate(Arc::new(StaticGate::new())).providers(["gpt-4", "claude"]).build()?;
    /// FallbackProtocol::set_global(protocol);
    /// assert_eq!(format!("{:?}", FallbackProtocol::global()).contains("claude"), true);
    /// # Ok::<(), elf_resilience_core::InvalidFallbackConfig>(())
    /// ```
    pub fn global() -> FallbackProtocol {
        let current = GLOBAL.read().unwrap_or_else(PoisonError::into_inner).clone();
        current.unwrap_or_else(|| {
            let mut slot = GLOBAL.write().unwrap_or_else(PoisonError::into_inner);
            slot.get_or_insert_with(FallbackProtocol::default).clone()
        })
    }

    /// Replaces the process-wide protocol (typically once at start-up, with the resource
    /// manager as gate); calls already running keep the protocol they started with.
    pub fn set_global(protocol: FallbackProtocol) {
        *GLOBAL.write().unwrap_or_else(PoisonError::into_inner) = Some(protocol);
    }
}

/// A call the fallback protocol did not answer and that has no error of its own to return:
/// shed, breaker open, queued for later, or refused before the operation ran.
///
/// Functions under `#[with_fallback]` return it through their error type, which must
/// implement `From<FallbackRejection>` (`Box<dyn Error + Send + Sync>` and `anyhow::Error` do).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FallbackRejection {
    /// What happened, in words.
    pub reason: String,
    /// The ticket, when the request was queued.
    pub ticket: Option<Ticket>,
    /// The decisions taken.
    pub trace: Box<Trace>,
}

impl fmt::Display for FallbackRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for FallbackRejection {}

/// Flattens an execution into the operation's own result: the value, the operation's last
/// error, or a [`FallbackRejection`] converted into `E`.
///
/// ```
/// use elf_resilience_core::{fallback_into_result, Context, FallbackProtocol, FallbackRejection, ResourceType};
///
/// #[derive(Debug)]
/// enum MyError { Io(String), Fallback(FallbackRejection) }
/// impl From<FallbackRejection> for MyError {
///     fn from(r: FallbackRejection) -> Self { MyError::Fallback(r) }
/// }
/// impl std::fmt::Display for MyError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "{self:?}") }
/// }
///
/// let protocol = FallbackProtocol::default();
/// let run = protocol.execute_blocking(Context::new(), ResourceType::Memory, |a| Ok::<_, MyError>(a.batch_size(10)));
/// assert_eq!(fallback_into_result(run).unwrap(), 10);
/// ```
pub fn fallback_into_result<T, E: From<FallbackRejection>>(
    run: Result<Outcome<T>, FallbackError<E>>,
) -> Result<T, E> {
    match run {
        Ok(Outcome::Value { value, .. }) => Ok(value),
        Ok(Outcome::Queued { ticket, trace }) => {
            let reason = format!("request queued as ticket {ticket}");
            Err(E::from(FallbackRejection { reason, ticket: Some(ticket), trace: Box::new(trace) }))
        }
        Err(FallbackError::Exhausted { last: Some(e), .. }) => Err(e),
        Err(other) => Err(E::from(rejection(other))),
    }
}

fn rejection<E>(err: FallbackError<E>) -> FallbackRejection {
    let reason = match &err {
        FallbackError::Exhausted { resource, .. } => {
            format!("all fallback strategies exhausted for {resource}")
        }
        FallbackError::Shed { reason, .. } => format!("request shed: {reason}"),
        FallbackError::CircuitOpen { name, .. } => format!("circuit breaker `{name}` is open"),
        FallbackError::Queue { source, .. } => format!("queueing the request failed: {source}"),
    };
    FallbackRejection { reason, ticket: None, trace: Box::new(err.trace().clone()) }
}
