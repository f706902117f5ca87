//! Numeric CSV files: one header line, one sample per line, features then targets.

use super::{DataError, Dataset, Target};
use crate::Float;
use std::path::{Path, PathBuf};
use std::prelude::rust_2024::*;
use std::vec::Vec;

/// Loads a classification dataset: `N` numeric feature columns, then a class index
/// column (a non-negative integer), after one header line. Fields are trimmed.
///
/// # Errors
/// [`DataError::Io`] for a missing or unreadable file, [`DataError::WrongWidth`] if the
/// first row does not have `N + 1` fields, [`DataError::Ragged`] for a later row of a
/// different length, [`DataError::NotANumber`] and [`DataError::BadLabel`] for bad
/// fields, [`DataError::Empty`] if there is no row.
///
/// ```no_run
/// let iris = sinew::data::csv::classification::<f32, 4>("data/iris.csv")?;
/// assert_eq!(iris.len(), 150);
/// # Ok::<(), sinew::data::DataError>(())
/// ```
pub fn classification<T: Float, const N: usize>(
    path: impl AsRef<Path>,
) -> Result<Dataset<T, N, usize>, DataError> {
    load(path.as_ref(), 1, |path, line, fields| {
        let text = fields[0].trim();
        text.parse::<usize>().map_err(|_| DataError::BadLabel {
            path: path.to_path_buf(),
            line,
            text: text.into(),
        })
    })
}

/// Loads a regression dataset: `N` numeric feature columns, then `K` numeric target
/// columns, after one header line.
///
/// # Errors
/// As [`classification`], with [`DataError::NotANumber`] for bad targets.
pub fn regression<T: Float, const N: usize, const K: usize>(
    path: impl AsRef<Path>,
) -> Result<Dataset<T, N, [T; K]>, DataError> {
    load(path.as_ref(), K, |path, line, fields| {
        let mut target = [T::zero(); K];
        for (k, (t, field)) in target.iter_mut().zip(fields).enumerate() {
            *t = number(path, line, N + k, field)?;
        }
        Ok(target)
    })
}

fn number<T: Float>(path: &Path, line: u64, column: usize, field: &str) -> Result<T, DataError> {
    let text = field.trim();
    match text.parse::<f64>() {
        Ok(v) => Ok(T::cast(v)),
        Err(_) => Err(DataError::NotANumber { path: path.to_path_buf(), line, column, text: text.into() }),
    }
}

/// Reads every row: `N` features, then `targets` fields given to `target`.
fn load<T: Float, const N: usize, Y: Target<T>>(
    path: &Path,
    targets: usize,
    target: impl Fn(&Path, u64, &[&str]) -> Result<Y, DataError>,
) -> Result<Dataset<T, N, Y>, DataError> {
    let io = |error: std::io::Error| DataError::Io { path: path.to_path_buf(), error };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut reader = ::csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(file);
    let width = N + targets;
    let (mut samples, mut ys, mut lines) = (Vec::new(), Vec::new(), Vec::new());
    let mut record = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(path, e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != width {
            return Err(if samples.is_empty() {
                DataError::WrongWidth {
                    path: path.to_path_buf(),
                    expected: N,
                    found: record.len().saturating_sub(targets),
                }
            } else {
                DataError::Ragged { path: path.to_path_buf(), line, expected: width, found: record.len() }
            });
        }
        let fields: Vec<&str> = record.iter().collect();
        let mut x = [T::zero(); N];
        for (i, (v, field)) in x.iter_mut().zip(&fields).enumerate() {
            *v = number(path, line, i, field)?;
        }
        ys.push(target(path, line, &fields[N..])?);
        samples.push(x);
        lines.push(line);
    }
    if samples.is_empty() {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    Ok(Dataset::new(samples, ys)?.with_origin(path, lines))
}

fn csv_error(path: &Path, error: ::csv::Error) -> DataError {
    let path: PathBuf = path.to_path_buf();
    match error.into_kind() {
        ::csv::ErrorKind::Io(error) => DataError::Io { path, error },
        other => DataError::Csv { path, message: format!("{:?}", other) },
    }
}
