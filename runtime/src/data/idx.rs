//! IDX files, the byte format of the original MNIST distribution: a big-endian header
//! (magic `0x0000_08TD`, T = 08 for unsigned bytes, D dimensions, then D sizes) followed by
//! the raw bytes.

use super::{DataError, Dataset};
use crate::Float;
use std::path::Path;
use std::prelude::rust_2024::*;
use std::vec::Vec;

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// The images of an IDX file: `count` images of `rows × columns` bytes, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Images<'a> {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub columns: usize,
    /// `count · rows · columns` pixels.
    pub pixels: &'a [u8],
}

/// Parses an images file already in memory; `path` is only used in errors.
///
/// # Errors
/// [`DataError::BadMagic`], [`DataError::Truncated`] (short header or body),
/// [`DataError::TrailingBytes`]. Never panics, whatever the bytes.
pub fn parse_images<'a>(path: &Path, bytes: &'a [u8]) -> Result<Images<'a>, DataError> {
    let (dims, body) = header(path, bytes, IMAGES_MAGIC)?;
    let pixels = body_of(path, bytes, body, &dims)?;
    Ok(Images { count: dims[0], rows: dims[1], columns: dims[2], pixels })
}

/// Parses a labels file already in memory; `path` is only used in errors.
///
/// # Errors
/// As [`parse_images`].
pub fn parse_labels<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a [u8], DataError> {
    let (dims, body) = header(path, bytes, LABELS_MAGIC)?;
    body_of(path, bytes, body, &dims)
}

/// Loads an MNIST-style pair of files: images (scaled from bytes to `[0, 1]`, each
/// flattened row-major into `N = rows · columns` features) and their labels.
///
/// # Errors
/// [`DataError::Io`] for unreadable files, the errors of [`parse_images`], and
/// [`DataError::WrongWidth`] if `rows · columns != N`, [`DataError::CountMismatch`] if
/// the files hold different numbers of items, [`DataError::Empty`] if they hold none.
/// `N = 0` is [`DataError::WrongWidth`] (an image has at least one pixel).
///
/// ```no_run
/// let mnist = sinew::data::idx::mnist::<f32, 784>(
///     "data/mnist5k-images.idx3-ubyte",
///     "data/mnist5k-labels.idx1-ubyte",
/// )?;
/// assert_eq!(mnist.len(), 5000);
/// # Ok::<(), sinew::data::DataError>(())
/// ```
pub fn mnist<T: Float, const N: usize>(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
) -> Result<Dataset<T, N, usize>, DataError> {
    let (images, labels) = (images.as_ref(), labels.as_ref());
    let read =
        |path: &Path| std::fs::read(path).map_err(|error| DataError::Io { path: path.to_path_buf(), error });
    let image_bytes = read(images)?;
    let label_bytes = read(labels)?;
    let parsed = parse_images(images, &image_bytes)?;
    let classes = parse_labels(labels, &label_bytes)?;
    if parsed.rows * parsed.columns != N || N == 0 {
        return Err(DataError::WrongWidth {
            path: images.to_path_buf(),
            expected: N,
            found: parsed.rows * parsed.columns,
        });
    }
    if parsed.count != classes.len() {
        return Err(DataError::CountMismatch { samples: parsed.count, targets: classes.len() });
    }
    if parsed.count == 0 {
        return Err(DataError::Empty { path: images.to_path_buf() });
    }
    let samples: Vec<[T; N]> = parsed
        .pixels
        .chunks_exact(N)
        .map(|image| core::array::from_fn(|i| T::cast(f64::from(image[i]) / 255.0)))
        .collect();
    let items = (0..parsed.count as u64).collect();
    Ok(Dataset::new(samples, classes.iter().map(|&c| usize::from(c)).collect())?.with_origin(labels, items))
}

/// Checks the magic number and reads the dimension sizes; returns them and the offset of
/// the body.
fn header(path: &Path, bytes: &[u8], magic: u32) -> Result<(Vec<usize>, usize), DataError> {
    let truncated = |expected: usize| DataError::Truncated {
        path: path.to_path_buf(),
        expected: expected as u64,
        found: bytes.len() as u64,
    };
    let word =
        |at: usize| -> Option<u32> { Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?)) };
    let found = word(0).ok_or_else(|| truncated(4))?;
    if found != magic {
        return Err(DataError::BadMagic { path: path.to_path_buf(), expected: magic, found });
    }
    let ndims = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndims;
    let dims = (0..ndims)
        .map(|d| word(4 + 4 * d).map(|v| v as usize))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| truncated(header_len))?;
    Ok((dims, header_len))
}

/// The body after the header, exactly as long as the dimensions say (sizes multiplied
/// with overflow checks, so absurd headers are reported, not trusted).
fn body_of<'a>(path: &Path, bytes: &'a [u8], start: usize, dims: &[usize]) -> Result<&'a [u8], DataError> {
    let expected = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .and_then(|len| len.checked_add(start as u64))
        .unwrap_or(u64::MAX);
    let found = bytes.len() as u64;
    if found < expected {
        Err(DataError::Truncated { path: path.to_path_buf(), expected, found })
    } else if found > expected {
        Err(DataError::TrailingBytes { path: path.to_path_buf(), expected, found })
    } else {
        Ok(&bytes[start..])
    }
}
