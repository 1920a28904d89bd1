//! What each call of the wrapped operation receives: the attempt and its knobs.

use serde::{Deserialize, Serialize};

use super::strategy::FallbackStrategy;
use crate::resource::Context;

/// One quality level for `DegradeService`: scales applied to the call's knobs.
///
/// Level 0 is full quality (all scales 1.0). Scales lie in `(0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DegradeLevel {
    /// Index in the protocol's level list; 0 is full quality.
    pub level: usize,
    /// Share of the full `max_tokens`.
    pub max_tokens_scale: f64,
    /// Share of the full temperature.
    pub temperature_scale: f64,
    /// Share of the full batch size.
    pub batch_size_scale: f64,
}

impl DegradeLevel {
    /// Full quality.
    pub const FULL: DegradeLevel =
        DegradeLevel { level: 0, max_tokens_scale: 1.0, temperature_scale: 1.0, batch_size_scale: 1.0 };

    /// A level scaling every knob by `scale`.
    pub const fn uniform(level: usize, scale: f64) -> Self {
        Self { level, max_tokens_scale: scale, temperature_scale: scale, batch_size_scale: scale }
    }

    /// `full` max_tokens at this level, at least 1.
    pub fn max_tokens(&self, full: u32) -> u32 {
        ((f64::from(full) * self.max_tokens_scale).round() as u32).max(1)
    }

    /// `full` temperature at this level.
    pub fn temperature(&self, full: f32) -> f32 {
        (f64::from(full) * self.temperature_scale) as f32
    }

    /// `full` batch size at this level, at least 1.
    pub fn batch_size(&self, full: usize) -> usize {
        ((full as f64 * self.batch_size_scale).round() as usize).max(1)
    }

    /// Whether this is full quality.
    pub fn is_full(&self) -> bool {
        self.level == 0
    }
}

/// The default levels: 100 %, 50 % and 25 % of max_tokens and batch size, with temperature
/// lowered to 70 % and 40 %.
pub fn default_degrade_levels() -> Vec<DegradeLevel> {
    vec![
        DegradeLevel::FULL,
        DegradeLevel { level: 1, max_tokens_scale: 0.5, temperature_scale: 0.7, batch_size_scale: 0.5 },
        DegradeLevel { level: 2, max_tokens_scale: 0.25, temperature_scale: 0.4, batch_size_scale: 0.25 },
    ]
}

/// One call of the wrapped operation, as the protocol sets it up.
///
/// ```
/// use elf_resilience_core::{Attempt, Context, DegradeLevel};
///
/// let a = Attempt::first(Context::new().model("gpt-4"));
/// assert_eq!(a.number, 1);
/// assert_eq!(a.model_or("fallback"), "gpt-4");
/// assert_eq!(a.max_tokens(2000), 2000);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1 for the first call, counting every call of this execution.
    pub number: u32,
    /// The strategy that made this call, `None` for the first (primary) call.
    pub strategy: Option<FallbackStrategy>,
    /// The provider or model to use, when the protocol knows one.
    pub provider: Option<String>,
    /// The quality level to run at.
    pub degrade: DegradeLevel,
    /// The call's context (team, operation, priority, tags).
    pub context: Context,
}

impl Attempt {
    /// The primary attempt for `context`, at full quality with the context's model.
    pub fn first(context: Context) -> Self {
        let provider = context.model.clone();
        Self { number: 1, strategy: None, provider, degrade: DegradeLevel::FULL, context }
    }

    /// The provider to use, or `default` when the protocol has none.
    pub fn model_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.provider.as_deref().unwrap_or(default)
    }

    /// `full` max_tokens at this attempt's degrade level.
    pub fn max_tokens(&self, full: u32) -> u32 {
        self.degrade.max_tokens(full)
    }

    /// `full` temperature at this attempt's degrade level.
    pub fn temperature(&self, full: f32) -> f32 {
        self.degrade.temperature(full)
    }

    /// `full` batch size at this attempt's degrade level.
    pub fn batch_size(&self, full: usize) -> usize {
        self.degrade.batch_size(full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_levels_step_down_the_knobs() {
        let levels = default_degrade_levels();
        let tokens: Vec<u32> = levels.iter().map(|l| l.max_tokens(2000)).collect();
        assert_eq!(tokens, [2000, 1000, 500]);
        let batches: Vec<usize> = levels.iter().map(|l| l.batch_size(10_000)).collect();
        assert_eq!(batches, [10_000, 5_000, 2_500]);
        assert!(levels[2].temperature(0.7) < levels[1].temperature(0.7));
        assert_eq!(DegradeLevel::uniform(3, 0.001).max_tokens(10), 1);
    }
}
