//! Weight files: [safetensors](https://github.com/huggingface/safetensors) with PyTorch
//! `state_dict` names and layouts, so that files move both ways between sinew and
//! PyTorch (`safetensors.torch.save_file(model.state_dict(), path)` loads into the same
//! declaration, and what sinew saves loads with `load_file` + `load_state_dict`).
//!
//! - **Saving is atomic**: the file is written next to its destination under a temporary
//!   name, flushed to disk, then renamed over the destination, so a crash or an error
//!   mid-save leaves the previous file intact ([`write_atomic`]).
//! - **Loading checks everything before changing anything**: every expected tensor must be
//!   present with the right dtype and shape (the error names the tensor and both values),
//!   and in strict mode no tensor may be left over. The network is only written once all
//!   checks pass.
//!
//! ```no_run
//! # use sinew_runtime::{io, layers::Dense};
//! let layer = Dense::<f32, 4, 2>::zeroed();
//! io::save("layer.safetensors", &layer)?;
//! let mut copy = Dense::<f32, 4, 2>::zeroed();
//! io::load("layer.safetensors", &mut copy)?;
//! # Ok::<(), io::WeightError>(())
//! ```

use crate::Float;
use crate::params::{Parameters, TensorInfo};
use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::prelude::rust_2024::*;

/// What is wrong with a weight file.
#[derive(Debug)]
#[non_exhaustive]
pub enum WeightError {
    /// The file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The bytes are not a valid safetensors file.
    Format {
        /// What is wrong.
        kind: FormatError,
        /// The parser's message.
        message: String,
    },
    /// A tensor the network needs is not in the file.
    Missing {
        /// The tensor's name.
        name: String,
    },
    /// The file holds tensors the network does not have (strict loading only).
    Unexpected {
        /// Their names.
        names: Vec<String>,
    },
    /// A tensor has the wrong element type.
    Dtype {
        /// The tensor's name.
        name: String,
        /// The network's dtype (`"F32"` or `"F64"`).
        expected: &'static str,
        /// The file's dtype.
        found: String,
    },
    /// A tensor has the wrong shape.
    Shape {
        /// The tensor's name.
        name: String,
        /// The network's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// A metadata entry is missing or malformed (checkpoints).
    Metadata {
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// Ways the bytes of a file can fail to be safetensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// Fewer than the 8 bytes of the header length.
    TruncatedHeader,
    /// The header length says more bytes than the file has.
    HeaderLargerThanFile,
    /// The header length is beyond the format's limit (100 MB).
    HeaderTooLarge,
    /// The header is not valid UTF-8 JSON of the expected form.
    InvalidHeader,
    /// Tensor offsets do not cover the data exactly (truncated or padded data).
    InvalidLayout,
}

impl fmt::Display for WeightError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            WeightError::Format { kind, message } => {
                write!(f, "not a valid safetensors file ({kind:?}): {message}")
            }
            WeightError::Missing { name } => write!(f, "tensor `{name}` is missing from the file"),
            WeightError::Unexpected { names } => write!(
                f,
                "the file has tensors the network does not: {}; load leniently to ignore them",
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ),
            WeightError::Dtype { name, expected, found } => {
                write!(f, "tensor `{name}` is {found} in the file, but the network is {expected}")
            }
            WeightError::Shape { name, expected, found } => {
                write!(
                    f,
                    "tensor `{name}` has shape {found:?} in the file, but the network expects {expected:?}"
                )
            }
            WeightError::Metadata { key, message } => write!(f, "metadata `{key}`: {message}"),
        }
    }
}

impl std::error::Error for WeightError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WeightError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

fn format_error(error: SafeTensorError) -> WeightError {
    let kind = match &error {
        SafeTensorError::HeaderTooSmall => FormatError::TruncatedHeader,
        SafeTensorError::InvalidHeaderLength => FormatError::HeaderLargerThanFile,
        SafeTensorError::HeaderTooLarge => FormatError::HeaderTooLarge,
        SafeTensorError::InvalidHeader(_)
        | SafeTensorError::InvalidHeaderDeserialization(_)
        | SafeTensorError::JsonError(_) => FormatError::InvalidHeader,
        _ => FormatError::InvalidLayout,
    };
    WeightError::Format { kind, message: error.to_string() }
}

fn dtype_of<T: Float>() -> Dtype {
    if T::DTYPE == "F64" { Dtype::F64 } else { Dtype::F32 }
}

/// Builds a weight file: tensors from one or more [`Parameters`] values, each under a
/// name prefix, and string metadata.
///
/// ```no_run
/// # use sinew_runtime::{io::WeightWriter, layers::Dense, data::Normalizer};
/// # let net = Dense::<f32, 4, 2>::zeroed(); let norm = Normalizer::<f32, 4>::identity();
/// WeightWriter::new()
///     .add("", &net)
///     .add("normalizer.", &norm)
///     .metadata("trained_on", "iris")
///     .save("model.safetensors")?;
/// # Ok::<(), sinew_runtime::io::WeightError>(())
/// ```
#[derive(Default)]
pub struct WeightWriter {
    tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)>,
    metadata: HashMap<String, String>,
}

impl WeightWriter {
    /// An empty file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every tensor of `params`, named `prefix + name`, in PyTorch's layout.
    pub fn add<T: Float, P: Parameters<T>>(mut self, prefix: &str, params: &P) -> Self {
        params.for_each_tensor(|info, values| self.push(prefix, info, values));
        self
    }

    /// Adds one tensor (in sinew's layout, described by `info`) named `prefix + info.name`.
    pub fn push<T: Float>(&mut self, prefix: &str, info: &TensorInfo, values: &[T]) {
        let mut row_major = vec![T::zero(); info.len()];
        info.to_row_major(values, &mut row_major);
        let bytes: Vec<u8> = bytemuck::cast_slice(&row_major).to_vec();
        self.tensors.push((format!("{prefix}{}", info.name), dtype_of::<T>(), info.shape.to_vec(), bytes));
    }

    /// Adds a metadata entry.
    pub fn metadata(mut self, key: &str, value: &str) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The file's bytes.
    ///
    /// # Errors
    /// [`WeightError::Format`] if two tensors have the same name.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WeightError> {
        let mut names = BTreeSet::new();
        for (name, ..) in &self.tensors {
            if !names.insert(name) {
                return Err(WeightError::Format {
                    kind: FormatError::InvalidLayout,
                    message: format!("two tensors named `{name}`"),
                });
            }
        }
        let views = self
            .tensors
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                TensorView::new(*dtype, shape.clone(), bytes)
                    .map(|v| (name.as_str(), v))
                    .map_err(format_error)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let metadata = if self.metadata.is_empty() { None } else { Some(self.metadata.clone()) };
        safetensors::serialize(views, metadata).map_err(format_error)
    }

    /// Writes the file atomically (see [`write_atomic`]).
    ///
    /// # Errors
    /// [`WeightError::Io`] if it cannot be written; the previous file is then intact.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), WeightError> {
        let bytes = self.to_bytes()?;
        write_atomic(path.as_ref(), |file| file.write_all(&bytes))
    }
}

/// Saves every tensor of `params` to `path`, atomically.
///
/// # Errors
/// [`WeightError::Io`] if the file cannot be written; the previous file is then intact.
pub fn save<T: Float, P: Parameters<T>>(path: impl AsRef<Path>, params: &P) -> Result<(), WeightError> {
    WeightWriter::new().add("", params).save(path)
}

/// Writes a file atomically: `write` fills a temporary file beside `path`, which is then
/// flushed to disk and renamed over `path`. If `write` fails, or anything else does, the
/// temporary file is removed and `path` is left as it was.
///
/// # Errors
/// [`WeightError::Io`] naming `path`.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), WeightError> {
    replace_atomic(path, |tmp| {
        let mut file = std::fs::File::create(tmp)?;
        write(&mut file)?;
        file.sync_all()
    })
}

/// Like [`write_atomic`], for writers that want a path: `write` creates the file at the
/// temporary path it is given (which keeps `path`'s extension), and it is then renamed
/// over `path`. If `write` fails the temporary file is removed and `path` is untouched.
///
/// # Errors
/// [`WeightError::Io`] naming `path`.
pub fn replace_atomic(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<(), WeightError> {
    let io = |error: std::io::Error| WeightError::Io { path: path.to_path_buf(), error };
    let name = path.file_name().ok_or_else(|| io(std::io::Error::other("not a file name")))?;
    let mut tmp_name = std::ffi::OsString::from(format!(".tmp-{}-", std::process::id()));
    tmp_name.push(name);
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        write(&tmp)?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable where directories can be synced.
        #[cfg(unix)]
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// A weight file read into memory and parsed, to load values from (possibly several, under
/// different prefixes) and read metadata.
pub struct WeightFile {
    bytes: Vec<u8>,
    used: BTreeSet<String>,
}

impl WeightFile {
    /// Reads and parses `path`.
    ///
    /// # Errors
    /// [`WeightError::Io`] if it cannot be read, [`WeightError::Format`] if it is not
    /// safetensors.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, WeightError> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|error| WeightError::Io { path: path.to_path_buf(), error })?;
        Self::from_bytes(bytes)
    }

    /// Parses bytes (e.g. from `include_bytes!`). Never panics, whatever the bytes.
    ///
    /// # Errors
    /// [`WeightError::Format`] if they are not safetensors.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, WeightError> {
        SafeTensors::deserialize(&bytes).map_err(format_error)?;
        Ok(Self { bytes, used: BTreeSet::new() })
    }

    fn parsed(&self) -> SafeTensors<'_> {
        // `from_bytes` validated the bytes, which are never changed afterwards.
        SafeTensors::deserialize(&self.bytes).expect("validated when the file was read")
    }

    /// The names of all tensors in the file.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.parsed().names().into_iter().map(String::from).collect();
        names.sort();
        names
    }

    /// A metadata value.
    pub fn metadata(&self, key: &str) -> Option<String> {
        let (_, meta) = SafeTensors::read_metadata(&self.bytes).ok()?;
        meta.metadata().as_ref()?.get(key).cloned()
    }

    /// Checks that every tensor of `params` exists as `prefix + name` with its dtype and
    /// shape, then copies them all in (converting from PyTorch's layout). On error nothing
    /// is changed.
    ///
    /// # Errors
    /// [`WeightError::Missing`], [`WeightError::Dtype`] or [`WeightError::Shape`] for the
    /// first tensor that does not fit.
    pub fn load_into<T: Float, P: Parameters<T>>(
        &mut self,
        prefix: &str,
        params: &mut P,
    ) -> Result<(), WeightError> {
        let file = SafeTensors::deserialize(&self.bytes).map_err(format_error)?;
        let mut views = Vec::with_capacity(P::TENSORS.len());
        for info in P::TENSORS {
            let name = format!("{prefix}{}", info.name);
            let view = file.tensor(&name).map_err(|_| WeightError::Missing { name: name.clone() })?;
            if view.dtype() != dtype_of::<T>() {
                return Err(WeightError::Dtype {
                    name,
                    expected: T::DTYPE,
                    found: format!("{:?}", view.dtype()),
                });
            }
            if view.shape() != info.shape {
                return Err(WeightError::Shape {
                    name,
                    expected: info.shape.to_vec(),
                    found: view.shape().to_vec(),
                });
            }
            views.push((name, view));
        }
        for (i, (name, view)) in views.into_iter().enumerate() {
            let info = &P::TENSORS[i];
            // The data may not be aligned for `T`: decode value by value.
            let row_major: Vec<T> = view
                .data()
                .chunks_exact(core::mem::size_of::<T>())
                .map(bytemuck::pod_read_unaligned)
                .collect();
            info.from_row_major(&row_major, params.tensor_mut(i));
            self.used.insert(name);
        }
        Ok(())
    }

    /// Tensors not loaded by any [`load_into`](Self::load_into) so far.
    pub fn unused(&self) -> Vec<String> {
        self.names().into_iter().filter(|n| !self.used.contains(n)).collect()
    }

    /// Errors if some tensor was never loaded (strict loading).
    ///
    /// # Errors
    /// [`WeightError::Unexpected`] with their names.
    pub fn ensure_all_used(&self) -> Result<(), WeightError> {
        let names = self.unused();
        if names.is_empty() { Ok(()) } else { Err(WeightError::Unexpected { names }) }
    }
}

/// Loads `params` from `path`: every tensor must be present with the right dtype and shape,
/// and the file must hold nothing else. On error `params` is unchanged.
///
/// # Errors
/// Any [`WeightError`], naming the offending tensor.
pub fn load<T: Float, P: Parameters<T>>(path: impl AsRef<Path>, params: &mut P) -> Result<(), WeightError> {
    let mut file = WeightFile::read(path)?;
    let unexpected: Vec<String> = file.names().into_iter().filter(|n| !expected::<T, P>(n)).collect();
    if !unexpected.is_empty() {
        return Err(WeightError::Unexpected { names: unexpected });
    }
    file.load_into("", params)
}

/// Whether a tensor of the file belongs to `P`: one of its tensors, or the
/// `num_batches_tracked` counter PyTorch keeps beside each batch norm's running statistics
/// (sinew does not use it; PyTorch fills it in when it loads a file without it).
fn expected<T: Float, P: Parameters<T>>(name: &str) -> bool {
    P::TENSORS.iter().any(|t| t.name == name)
        || name.strip_suffix("num_batches_tracked").is_some_and(|prefix| {
            let running = format!("{prefix}running_mean");
            P::TENSORS.iter().any(|t| t.name == running)
        })
}

/// Like [`load`], but tensors the network does not have are ignored; their names are
/// returned.
///
/// # Errors
/// Any [`WeightError`] but [`WeightError::Unexpected`].
pub fn load_lenient<T: Float, P: Parameters<T>>(
    path: impl AsRef<Path>,
    params: &mut P,
) -> Result<Vec<String>, WeightError> {
    let mut file = WeightFile::read(path)?;
    file.load_into("", params)?;
    Ok(file.unused())
}
