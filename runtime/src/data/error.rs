use std::fmt;
use std::path::PathBuf;
use std::prelude::rust_2024::*;

/// Why data could not be loaded. Every variant names the file and, where it applies,
/// the line and column; loaders never panic on bad input.
#[derive(Debug)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be read (missing, unreadable).
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error; `kind()` is `NotFound` for a missing file.
        error: std::io::Error,
    },
    /// The CSV reader failed (e.g. invalid UTF-8).
    Csv {
        /// The file.
        path: PathBuf,
        /// The reader's message.
        message: String,
    },
    /// A row has a different number of fields than expected.
    Ragged {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Fields expected.
        expected: usize,
        /// Fields found.
        found: usize,
    },
    /// A feature or target field is not a number.
    NotANumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// 0-based column.
        column: usize,
        /// The field's text.
        text: String,
    },
    /// A class label is not a non-negative integer.
    BadLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line (CSV) or 0-based item (IDX) number.
        line: u64,
        /// The label's text.
        text: String,
    },
    /// An IDX file starts with the wrong magic number.
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number expected (`0x0000_0803` for images, `0x0000_0801` for labels).
        expected: u32,
        /// The magic number found.
        found: u32,
    },
    /// A file is shorter than its header says.
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// A file is longer than its header says.
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The samples have a different number of features than the network input.
    WrongWidth {
        /// The file.
        path: PathBuf,
        /// Features the caller expects (`N`).
        expected: usize,
        /// Features in the file.
        found: usize,
    },
    /// Two files, or samples and targets, disagree on the number of samples.
    CountMismatch {
        /// Samples.
        samples: usize,
        /// Targets.
        targets: usize,
    },
    /// The file holds no samples.
    Empty {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            DataError::Csv { path, message } => write!(f, "{}: {message}", path.display()),
            DataError::Ragged { path, line, expected, found } => {
                write!(f, "{}:{line}: expected {expected} fields, found {found}", path.display())
            }
            DataError::NotANumber { path, line, column, text } => {
                write!(f, "{}:{line}: field {} is `{text}`, not a number", path.display(), column + 1)
            }
            DataError::BadLabel { path, line, text } => write!(
                f,
                "{}:{line}: the label `{text}` is not a class index (a non-negative integer)",
                path.display()
            ),
            DataError::BadMagic { path, expected, found } => write!(
                f,
                "{}: not an IDX file of the expected kind: magic number {found:#010x}, expected {expected:#010x}",
                path.display()
            ),
            DataError::Truncated { path, expected, found } => write!(
                f,
                "{}: truncated: the header promises {expected} bytes, the file has {found}",
                path.display()
            ),
            DataError::TrailingBytes { path, expected, found } => write!(
                f,
                "{}: {} bytes after the {expected} its header describes; is it the right file?",
                path.display(),
                found - expected
            ),
            DataError::WrongWidth { path, expected, found } => {
                write!(f, "{}: samples have {found} features, but {expected} were expected", path.display())
            }
            DataError::CountMismatch { samples, targets } => {
                write!(f, "{samples} samples but {targets} targets")
            }
            DataError::Empty { path } => write!(f, "{}: no samples", path.display()),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}
