//! The library's error type. Variants name the file, rule or backend involved and never
//! carry a secret value.

use std::path::{Path, PathBuf};

/// Errors returned by library modules.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on a named path. The OS error is part of the message and not a
    /// `source`, so that a chain printed with `{:#}` says it once.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// A rule file could not be parsed.
    #[error("{origin}: invalid rule file: {message}")]
    Rules {
        /// The rule file.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A rule is invalid (bad regex, missing keyword, failing examples...).
    #[error("{0}")]
    RuleProblems(String),
    /// Anything else, with a message that says what to do.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            cause: source,
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
