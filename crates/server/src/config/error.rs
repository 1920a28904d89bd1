//! Config errors that point at `file:line:col`.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a config file was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        reason: String,
    },
    /// The file was read but is not a valid config.
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// What was expected and what was found.
        message: String,
    },
}

impl std::error::Error for ConfigError {}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, reason } => write!(f, "{}:1:1: cannot read config: {reason}", path.display()),
            Self::Invalid { path, line, col, message } => {
                write!(f, "{}:{line}:{col}: {message}", path.display())
            }
        }
    }
}

impl ConfigError {
    /// Turns a toml error into a positioned one.
    pub(crate) fn from_toml(path: &Path, text: &str, err: &toml::de::Error) -> Self {
        let offset = err.span().map_or(0, |s| s.start);
        let message = err.message().trim().replace('\n', " ");
        Self::at_offset(path, text, offset, message)
    }

    /// An error at the first place `needle` appears (quoted if possible), else at 1:1.
    pub(crate) fn at_text(path: &Path, text: &str, needle: &str, message: String) -> Self {
        let quoted = format!("\"{needle}\"");
        let offset = text.find(&quoted).or_else(|| text.find(needle)).unwrap_or(0);
        Self::at_offset(path, text, offset, message)
    }

    /// An error at the first line that sets `key` (`key = ...`, comments skipped), else at 1:1.
    pub(crate) fn at_key(path: &Path, text: &str, key: &str, message: String) -> Self {
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let indent = line.len() - line.trim_start().len();
            let rest = line.trim_start().strip_prefix(key).map(str::trim_start);
            if rest.is_some_and(|r| r.starts_with('=')) {
                return Self::at_offset(path, text, offset + indent, message);
            }
            offset += line.len();
        }
        Self::at_offset(path, text, 0, message)
    }

    fn at_offset(path: &Path, text: &str, offset: usize, message: String) -> Self {
        let (line, col) = line_col(text, offset);
        Self::Invalid { path: path.to_owned(), line, col, message }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_and_columns() {
        let text = "a = 1\nbé = x\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 11), (2, 5));
    }

    #[test]
    fn toml_errors_carry_a_position() {
        let err = crate::config::Config::parse("[server]\nbind = 5\n", Path::new("f.toml")).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("f.toml:2:8: "), "{shown}");
    }
}
