use std::path::PathBuf;
use std::prelude::rust_2024::*;

/// Why data could not be loaded or divided. Every variant names the file and, where it
/// applies, the line and column; loaders and splits never panic on bad input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be read (missing, unreadable).
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error; `kind()` is `NotFound` for a missing file.
        #[source]
        error: std::io::Error,
    },
    /// The CSV reader failed (e.g. invalid UTF-8).
    #[error("{}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The reader's message.
        message: String,
    },
    /// A row has a different number of fields than expected.
    #[error("{}:{line}: expected {expected} fields, found {found}", path.display())]
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
    #[error("{}:{line}: field {} is `{text}`, not a number", path.display(), column + 1)]
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
    #[error("{}:{line}: the label `{text}` is not a class index (a non-negative integer)", path.display())]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line (CSV) or 0-based item (IDX) number.
        line: u64,
        /// The label's text.
        text: String,
    },
    /// An IDX file starts with the wrong magic number.
    #[error(
        "{}: not an IDX file of the expected kind: magic number {found:#010x}, expected {expected:#010x}",
        path.display()
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number expected (`0x0000_0803` for images, `0x0000_0801` for labels).
        expected: u32,
        /// The magic number found.
        found: u32,
    },
    /// A file is shorter than its header says.
    #[error("{}: truncated: the header promises {expected} bytes, the file has {found}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// A file is longer than its header says.
    #[error(
        "{}: {} bytes after the {expected} its header describes; is it the right file?",
        path.display(),
        found - expected
    )]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The samples have a different number of features than the network input.
    #[error("{}: samples have {found} features, but {expected} were expected", path.display())]
    WrongWidth {
        /// The file.
        path: PathBuf,
        /// Features the caller expects (`N`).
        expected: usize,
        /// Features in the file.
        found: usize,
    },
    /// Two files, or samples and targets, disagree on the number of samples.
    #[error("{samples} samples but {targets} targets")]
    CountMismatch {
        /// Samples.
        samples: usize,
        /// Targets.
        targets: usize,
    },
    /// The file holds no samples.
    #[error("{}: no samples", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A sample's class index is not below the number of classes (the network's outputs,
    /// or 2 for a one-output binary classifier).
    #[error(
        "{}sample {sample} has class {class}, but there are only {classes} classes (0 to {}); check the labels or the network's number of outputs",
        origin.as_ref().map(|(p, l)| format!("{}:{l}: ", p.display())).unwrap_or_default(),
        classes.saturating_sub(1)
    )]
    ClassOutOfRange {
        /// 0-based index of the sample in the dataset.
        sample: usize,
        /// Its class.
        class: usize,
        /// The number of classes.
        classes: usize,
        /// The file and 1-based line (CSV) or 0-based item (IDX) it was read from.
        origin: Option<(PathBuf, u64)>,
    },
    /// A target has no class index (regression targets) where classes are needed.
    #[error("sample {sample} has no class index, but {needed} needs class targets")]
    NotAClass {
        /// 0-based index of the sample.
        sample: usize,
        /// What needed it.
        needed: &'static str,
    },
    /// Split fractions that cannot divide the data: negative, NaN or infinite, or not
    /// summing to 1.
    #[error("split fractions {fractions:?} {problem}")]
    BadFractions {
        /// The fractions given.
        fractions: Vec<f64>,
        /// What is wrong.
        problem: &'static str,
    },
    /// A number of cross-validation folds that cannot work (`k < 2` or more folds than
    /// samples).
    #[error("{k} folds cannot be made from {samples} samples: k must be between 2 and the number of samples")]
    BadFolds {
        /// The folds asked for.
        k: usize,
        /// The samples there are.
        samples: usize,
    },
    /// An operation that needs samples was given none.
    #[error("{what} needs at least one sample")]
    NoSamples {
        /// The operation.
        what: &'static str,
    },
}
