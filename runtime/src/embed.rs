//! Weights baked into the binary at compile time: the support of `#[weights("file")]`.
//!
//! A network declared with `#[weights("model.safetensors")]` gets a const `EMBEDDED`: the
//! macro checks the file's tensor names, shapes and dtypes against the declaration when it
//! expands (a mismatch is a compile error naming the tensor and both shapes), and the
//! const is built by the `const fn`s of this module from the file's bytes
//! (`include_bytes!`). The decoding runs in the compiler, so a `static NET: Net =
//! Net::EMBEDDED;` is plain initialised data: on a microcontroller it sits in flash and is
//! read in place, never copied to RAM, and the file's raw bytes are not in the binary at
//! all. Nothing here reinterprets bytes as floats, so the file needs no alignment.
//!
//! These functions are public for the generated code; call them directly only to build
//! such constants by hand.
//!
//! ```
//! use sinew::embed::{Dtype, matrix_f32};
//! use sinew::{Layout, SMatrix};
//! // A 2 × 3 tensor in PyTorch's row-major order, little-endian f32, after 4 other bytes.
//! const BYTES: &[u8] = &[
//!     0, 0, 0, 0, //
//!     0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, // 1 2 3
//!     0, 0, 128, 64, 0, 0, 160, 64, 0, 0, 192, 64, // 4 5 6
//! ];
//! const W: SMatrix<f32, 2, 3> = matrix_f32(BYTES, 4, Dtype::F32, Layout::ColumnMajor);
//! assert_eq!(W, SMatrix::<f32, 2, 3>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0));
//! ```

use crate::params::Layout;
use nalgebra::{ArrayStorage, SMatrix};

/// The element type of a tensor in the file (safetensors' `F32` / `F64`, little-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE 754 single precision.
    F32,
    /// IEEE 754 double precision.
    F64,
}

impl Dtype {
    /// Bytes per value.
    pub const fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

/// The `index`-th value of the tensor starting at byte `start`, as `f64` (exact for both
/// dtypes).
const fn value(bytes: &[u8], start: usize, dtype: Dtype, index: usize) -> f64 {
    let at = start + index * dtype.size();
    match dtype {
        Dtype::F32 => {
            let word = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
            f32::from_bits(u32::from_le_bytes(word)) as f64
        }
        Dtype::F64 => {
            let mut word = [0u8; 8];
            let mut i = 0;
            while i < 8 {
                word[i] = bytes[at + i];
                i += 1;
            }
            f64::from_bits(u64::from_le_bytes(word))
        }
    }
}

/// Which file value goes to row `r`, column `c` of an `R × C` storage matrix.
const fn source(layout: Layout, r: usize, c: usize, rows: usize, cols: usize) -> usize {
    match layout {
        // The file is PyTorch's row-major `R × C`; the storage is its column-major copy.
        Layout::ColumnMajor => r * cols + c,
        // The storage has the file's order: column after column.
        Layout::RowMajor => c * rows + r,
    }
}

/// Panics (at compile time, in a const) unless the tensor lies inside `bytes`.
const fn check_bounds(bytes: &[u8], start: usize, dtype: Dtype, len: usize) {
    assert!(
        start + len * dtype.size() <= bytes.len(),
        "embedded tensor runs past the end of the weight file"
    );
}

/// Generates the decoder and the zero matrix of one scalar type (const fns cannot be
/// generic over the float conversion, so there is one pair per type).
macro_rules! decoders {
    ($matrix:ident, $zeros:ident, $t:ty, $doc:literal) => {
        #[doc = $doc]
        ///
        /// # Panics
        /// If the tensor does not lie inside `bytes` (at compile time when used in a const).
        pub const fn $matrix<const R: usize, const C: usize>(
            bytes: &[u8],
            start: usize,
            dtype: Dtype,
            layout: Layout,
        ) -> SMatrix<$t, R, C> {
            check_bounds(bytes, start, dtype, R * C);
            let mut data = [[0.0; R]; C];
            let mut c = 0;
            while c < C {
                let mut r = 0;
                while r < R {
                    data[c][r] = value(bytes, start, dtype, source(layout, r, c, R, C)) as $t;
                    r += 1;
                }
                c += 1;
            }
            SMatrix::from_array_storage(ArrayStorage(data))
        }

        /// A zero matrix (the bias of a layer declared with `bias = false`).
        pub const fn $zeros<const R: usize, const C: usize>() -> SMatrix<$t, R, C> {
            SMatrix::from_array_storage(ArrayStorage([[0.0; R]; C]))
        }
    };
}

decoders!(
    matrix_f32,
    zeros_f32,
    f32,
    "The `R × C` matrix of the tensor at byte `start` of a safetensors file, in sinew's storage `layout` (see [`Layout`]), as `f32` (an `F64` file is rounded to nearest)."
);
decoders!(matrix_f64, zeros_f64, f64, "[`matrix_f32`] as `f64` (exact for both dtypes).");

#[cfg(test)]
mod tests {
    use super::*;

    fn file_f32(values: &[f32]) -> std::vec::Vec<u8> {
        let mut bytes = std::vec![0xAA; 3]; // an odd offset: nothing needs alignment
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn layouts() {
        let bytes = file_f32(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        // (out = 2, in = 3) dense weight: the column-major copy of the row-major file.
        let w: SMatrix<f32, 2, 3> = matrix_f32(&bytes, 3, Dtype::F32, Layout::ColumnMajor);
        assert_eq!(w, SMatrix::<f32, 2, 3>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0));
        // A kernel stored as (patch = 3) × (channels = 2): the file's order, column by column.
        let k: SMatrix<f32, 3, 2> = matrix_f32(&bytes, 3, Dtype::F32, Layout::RowMajor);
        assert_eq!(k.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn dtypes_convert_exactly_or_round_to_nearest() {
        let mut bytes = std::vec::Vec::new();
        for v in [0.1f64, -2.5, 1e-300] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let d: SMatrix<f64, 3, 1> = matrix_f64(&bytes, 0, Dtype::F64, Layout::RowMajor);
        assert_eq!(d.as_slice(), &[0.1, -2.5, 1e-300]);
        let s: SMatrix<f32, 3, 1> = matrix_f32(&bytes, 0, Dtype::F64, Layout::RowMajor);
        assert_eq!(s.as_slice(), &[0.1f32, -2.5, 0.0]);
        let bytes = file_f32(&[f32::MIN_POSITIVE, -0.0, f32::MAX]);
        let up: SMatrix<f64, 3, 1> = matrix_f64(&bytes, 3, Dtype::F32, Layout::RowMajor);
        assert_eq!(up.as_slice(), &[f32::MIN_POSITIVE as f64, -0.0, f32::MAX as f64]);
        assert!(up[1].is_sign_negative());
    }

    #[test]
    #[should_panic(expected = "runs past the end")]
    fn a_short_file_panics() {
        let bytes = file_f32(&[1.0, 2.0]);
        let _: SMatrix<f32, 3, 1> = matrix_f32(&bytes, 3, Dtype::F32, Layout::RowMajor);
    }

    #[test]
    fn zeros() {
        assert_eq!(zeros_f32::<2, 3>(), SMatrix::<f32, 2, 3>::zeros());
        assert_eq!(zeros_f64::<1, 4>(), SMatrix::<f64, 1, 4>::zeros());
    }
}
