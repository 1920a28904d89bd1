//! How failures become exit codes: 2 for bad config or usage, 1 for anything else.

use std::process::ExitCode;

use crate::config::ConfigError;

/// A failed command.
#[derive(Debug)]
pub enum Failure {
    /// The config was rejected: exit 2.
    Config(ConfigError),
    /// Anything else: exit 1.
    Other(anyhow::Error),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::Other(e)
    }
}

impl Failure {
    /// Prints the failure to stderr and returns its exit code.
    pub fn report(self) -> ExitCode {
        match self {
            Self::Config(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
            Self::Other(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        }
    }
}
