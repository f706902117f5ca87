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
//! # use sinew::{io, layers::Dense};
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
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WeightError {
    /// The file could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        error: std::io::Error,
    },
    /// The bytes are not a valid safetensors file.
    #[error("not a valid safetensors file ({kind:?}): {message}")]
    Format {
        /// What is wrong.
        kind: FormatError,
        /// The parser's message.
        message: String,
    },
    /// A tensor the network needs is not in the file.
    #[error("tensor `{name}` is missing from the file")]
    Missing {
        /// The tensor's name.
        name: String,
    },
    /// The file holds tensors the network does not have (strict loading only).
    #[error(
        "the file has tensors the network does not: {}; use `load_partial` to load only the tensors both have",
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    )]
    Unexpected {
        /// Their names.
        names: Vec<String>,
    },
    /// A tensor has the wrong element type.
    #[error("tensor `{name}` is {found} in the file, but the network is {expected}")]
    Dtype {
        /// The tensor's name.
        name: String,
        /// The network's dtype (`"F32"` or `"F64"`).
        expected: &'static str,
        /// The file's dtype.
        found: String,
    },
    /// A tensor has the wrong shape.
    #[error("tensor `{name}` has shape {found:?} in the file, but the network expects {expected:?}")]
    Shape {
        /// The tensor's name.
        name: String,
        /// The network's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// A metadata entry is missing or malformed (checkpoints).
    #[error("metadata `{key}`: {message}")]
    Metadata {
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A partial load found none of the network's tensors in the file (wrong file, or a
    /// prefix is needed).
    #[error(
        "none of the network's {expected} tensors (e.g. `{example}`) is in the file, whose tensors are {}; is a prefix needed?",
        found.iter().take(5).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    )]
    NothingToLoad {
        /// How many tensors the network has.
        expected: usize,
        /// The first of them, with the prefix.
        example: String,
        /// The file's tensor names.
        found: Vec<String>,
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
/// # use sinew::{io::WeightWriter, layers::Dense, data::Normalizer};
/// # let net = Dense::<f32, 4, 2>::zeroed(); let norm = Normalizer::<f32, 4>::identity();
/// WeightWriter::new()
///     .add("", &net)
///     .add("normalizer.", &norm)
///     .metadata("trained_on", "iris")
///     .save("model.safetensors")?;
/// # Ok::<(), sinew::io::WeightError>(())
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

/// The prefix of the temporary files of atomic saves: `.sinew-tmp-` followed by random
/// characters and the destination's extension. A process killed in the middle of a save
/// can leave one behind (never the destination half-written); any file with this prefix
/// that no running program is writing can be deleted.
pub const TEMP_PREFIX: &str = ".sinew-tmp-";

/// Writes a file atomically: `write` fills a uniquely named temporary file in `path`'s
/// directory (see [`TEMP_PREFIX`]), which is then flushed to disk and renamed over `path`.
/// If `write` fails, or anything else does, the temporary file is removed and `path` is
/// left as it was. Concurrent saves to one path each write their own temporary file, so
/// the destination is always one whole file.
///
/// # Errors
/// [`WeightError::Io`] naming `path`.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), WeightError> {
    replace_with(path, |tmp| {
        write(tmp.as_file_mut())?;
        tmp.as_file().sync_all()
    })
}

/// Like [`write_atomic`], for writers that want a path: `write` writes the file at the
/// temporary path it is given (which keeps `path`'s extension), and it is then renamed
/// over `path`. If `write` fails the temporary file is removed and `path` is untouched.
///
/// # Errors
/// [`WeightError::Io`] naming `path`.
pub fn replace_atomic(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<(), WeightError> {
    replace_with(path, |tmp| {
        write(tmp.path())?;
        std::fs::File::open(tmp.path())?.sync_all()
    })
}

fn replace_with(
    path: &Path,
    write: impl FnOnce(&mut tempfile::NamedTempFile) -> std::io::Result<()>,
) -> Result<(), WeightError> {
    let io = |error: std::io::Error| WeightError::Io { path: path.to_path_buf(), error };
    if path.file_name().is_none() {
        return Err(io(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name")));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let suffix = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(&suffix);
    // The permissions `File::create` gives (0o666 less the umask), not tempfile's private
    // 0o600: a saved model is an ordinary file.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    // Dropping `tmp` on any error removes the temporary file.
    let mut tmp = builder.tempfile_in(dir).map_err(io)?;
    write(&mut tmp).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    // Make the rename itself durable where directories can be synced.
    #[cfg(unix)]
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(())
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
        self.load_tensors(prefix, params, false).map(|_| ())
    }

    /// Transfer learning: loads every tensor of `params` that the file has (as
    /// `prefix + name`) and leaves the others as they are, e.g. a trained body into a
    /// network with a new head. Each tensor found must have the network's dtype and shape;
    /// everything is checked before anything is written, so on error nothing is changed.
    /// The report says what was loaded, what the network kept and what the file had
    /// besides.
    ///
    /// # Errors
    /// [`WeightError::Dtype`] or [`WeightError::Shape`] for a tensor that is present but
    /// does not fit, [`WeightError::NothingToLoad`] if no tensor of the network is in the
    /// file (a wrong file or a missing prefix, never a silent no-op).
    pub fn load_available<T: Float, P: Parameters<T>>(
        &mut self,
        prefix: &str,
        params: &mut P,
    ) -> Result<PartialLoad, WeightError> {
        let loaded = self.load_tensors(prefix, params, true)?;
        if loaded.is_empty() && !P::TENSORS.is_empty() {
            return Err(WeightError::NothingToLoad {
                expected: P::TENSORS.len(),
                example: format!("{prefix}{}", P::TENSORS[0].name),
                found: self.names(),
            });
        }
        let kept = P::TENSORS
            .iter()
            .map(|t| format!("{prefix}{}", t.name))
            .filter(|n| !loaded.contains(n))
            .collect();
        Ok(PartialLoad { loaded, kept, unused: self.unused() })
    }

    /// Checks the tensors of `params` (those the file has when `optional`), then copies
    /// them in; returns the names loaded.
    fn load_tensors<T: Float, P: Parameters<T>>(
        &mut self,
        prefix: &str,
        params: &mut P,
        optional: bool,
    ) -> Result<Vec<String>, WeightError> {
        let file = SafeTensors::deserialize(&self.bytes).map_err(format_error)?;
        let mut views = Vec::with_capacity(P::TENSORS.len());
        for (i, info) in P::TENSORS.iter().enumerate() {
            let name = format!("{prefix}{}", info.name);
            let view = match file.tensor(&name) {
                Ok(view) => view,
                Err(_) if optional => continue,
                Err(_) => return Err(WeightError::Missing { name }),
            };
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
            views.push((i, name, view));
        }
        let mut loaded = Vec::with_capacity(views.len());
        for (i, name, view) in views {
            let info = &P::TENSORS[i];
            // The data may not be aligned for `T`: decode value by value.
            let row_major: Vec<T> = view
                .data()
                .chunks_exact(core::mem::size_of::<T>())
                .map(bytemuck::pod_read_unaligned)
                .collect();
            info.from_row_major(&row_major, params.tensor_mut(i));
            self.used.insert(name.clone());
            loaded.push(name);
        }
        Ok(loaded)
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
/// returned. Every tensor of the network must still be in the file: to load a subset
/// (transfer learning) use [`load_partial`].
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

/// What a partial load ([`load_partial`], [`WeightFile::load_available`]) did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartialLoad {
    /// The network's tensors loaded from the file.
    pub loaded: Vec<String>,
    /// The network's tensors the file does not have: left as they were.
    pub kept: Vec<String>,
    /// The file's tensors the network does not have (or that no load has used yet).
    pub unused: Vec<String>,
}

impl fmt::Display for PartialLoad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |names: &[String]| {
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        };
        writeln!(f, "loaded {} tensors: {}", self.loaded.len(), list(&self.loaded))?;
        writeln!(f, "kept {} tensors as they were: {}", self.kept.len(), list(&self.kept))?;
        write!(f, "ignored {} tensors of the file: {}", self.unused.len(), list(&self.unused))
    }
}

/// Transfer learning in one call: loads from `path` every tensor of `params` the file has
/// (a trained body), keeps the others (a new head) and reports which were which. A tensor
/// the file has under the network's name must fit it exactly; nothing is written unless
/// everything fits.
///
/// ```no_run
/// # use sinew::{io, layers::Dense};
/// let mut layer = Dense::<f32, 4, 2>::zeroed();
/// let report = io::load_partial("body.safetensors", &mut layer)?;
/// println!("{report}");
/// # Ok::<(), io::WeightError>(())
/// ```
///
/// # Errors
/// [`WeightError::Io`] or [`WeightError::Format`] for the file,
/// [`WeightError::Dtype`] or [`WeightError::Shape`] for a tensor present with the wrong
/// type or shape, [`WeightError::NothingToLoad`] if no tensor of the network is there.
pub fn load_partial<T: Float, P: Parameters<T>>(
    path: impl AsRef<Path>,
    params: &mut P,
) -> Result<PartialLoad, WeightError> {
    WeightFile::read(path)?.load_available("", params)
}
