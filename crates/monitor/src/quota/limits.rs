//! Quota limits: how many tokens and requests a team may spend on a model per window.

use std::num::NonZeroU64;
use std::time::Duration;

use serde::Serialize;

/// The span a limit counts over, ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum QuotaWindow {
    /// The last 60 seconds.
    Minute,
    /// The last hour.
    Hour,
    /// The last 24 hours.
    Day,
}

impl QuotaWindow {
    /// The window's length.
    pub const fn duration(self) -> Duration {
        Duration::from_secs(match self {
            Self::Minute => 60,
            Self::Hour => 3600,
            Self::Day => 86_400,
        })
    }
}

/// A limit on a team's (or everyone's) use of a model (or all models) over a window.
///
/// A `None` team or model means "all together": a limit with no team counts every team's usage
/// against one budget, as a provider's organisation-wide limit does.
///
/// ```
/// use elf_resilience_monitor::{QuotaLimit, QuotaWindow};
///
/// let limit = QuotaLimit::new(QuotaWindow::Minute).team("sales").model("gpt-4").tokens(90_000).requests(500);
/// assert!(limit.validate().is_ok());
/// assert!(QuotaLimit::new(QuotaWindow::Hour).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaLimit {
    /// The team it applies to; `None`: all teams together.
    pub team: Option<String>,
    /// The model it applies to; `None`: all models together.
    pub model: Option<String>,
    /// The window.
    pub window: QuotaWindow,
    /// Tokens allowed per window.
    pub max_tokens: Option<u64>,
    /// Requests allowed per window.
    pub max_requests: Option<u64>,
}

/// A quota configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuotaConfigError {
    /// A limit sets neither tokens nor requests.
    #[error("quota limit for team {team:?}, model {model:?} sets neither tokens nor requests")]
    Empty {
        /// The limit's team.
        team: Option<String>,
        /// The limit's model.
        model: Option<String>,
    },
    /// A limit of zero would refuse everything.
    #[error("quota limit for team {team:?}, model {model:?} is zero")]
    Zero {
        /// The limit's team.
        team: Option<String>,
        /// The limit's model.
        model: Option<String>,
    },
}

impl QuotaLimit {
    /// A limit over `window` for all teams and models, with no amounts set yet.
    pub const fn new(window: QuotaWindow) -> Self {
        Self { team: None, model: None, window, max_tokens: None, max_requests: None }
    }

    /// Restricts it to one team.
    pub fn team(mut self, team: impl Into<String>) -> Self {
        self.team = Some(team.into());
        self
    }

    /// Restricts it to one model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the tokens allowed per window.
    pub const fn tokens(mut self, max: u64) -> Self {
        self.max_tokens = Some(max);
        self
    }

    /// Sets the requests allowed per window.
    pub const fn requests(mut self, max: u64) -> Self {
        self.max_requests = Some(max);
        self
    }

    /// Checks that it limits something, and not to zero.
    pub fn validate(&self) -> Result<(), QuotaConfigError> {
        let (team, model) = (self.team.clone(), self.model.clone());
        match (self.max_tokens, self.max_requests) {
            (None, None) => Err(QuotaConfigError::Empty { team, model }),
            (Some(0), _) | (_, Some(0)) => Err(QuotaConfigError::Zero { team, model }),
            _ => Ok(()),
        }
    }

    /// Whether it covers a call by `team` on `model`.
    pub fn applies_to(&self, team: Option<&str>, model: Option<&str>) -> bool {
        let covers = |scope: &Option<String>, v: Option<&str>| scope.as_deref().is_none_or(|s| Some(s) == v);
        covers(&self.team, team) && covers(&self.model, model)
    }

    /// The percent used, the higher of tokens and requests.
    pub fn percent(&self, used: super::Usage) -> f64 {
        let pct = |used: u64, max: Option<u64>| {
            max.and_then(NonZeroU64::new).map(|m| used as f64 * 100.0 / m.get() as f64)
        };
        pct(used.tokens, self.max_tokens)
            .into_iter()
            .chain(pct(used.requests, self.max_requests))
            .fold(0.0, f64::max)
    }
}
