//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

/// A tensor read from a safetensors file, converted to `f64`, in row-major order.
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

/// Every tensor of a fixture file in `tests/fixtures/`.
pub fn fixture(name: &str) -> HashMap<String, Tensor> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("valid safetensors");
    file.tensors()
        .into_iter()
        .map(|(name, view)| {
            let data = match view.dtype() {
                safetensors::Dtype::F64 => {
                    view.data().chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect()
                }
                safetensors::Dtype::F32 => view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f64::from(f32::from_le_bytes(b.try_into().unwrap())))
                    .collect(),
                // Batch norm's `num_batches_tracked`.
                safetensors::Dtype::I64 => view
                    .data()
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f64)
                    .collect(),
                other => panic!("unexpected dtype {other:?}"),
            };
            (name, Tensor { shape: view.shape().to_vec(), data })
        })
        .collect()
}

/// `max |a - b| / max |b|`: the inf-norm relative error of `a` against the reference `b`.
pub fn rel_inf(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    let diff = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    let scale = b.iter().map(|y| y.abs()).fold(0.0, f64::max);
    if scale == 0.0 { diff } else { diff / scale }
}

/// Values as `f64`.
pub fn as_f64<T: sinew::Float>(values: &[T]) -> Vec<f64> {
    values.iter().map(|v| v.as_f64()).collect()
}

/// Tensor `i` of `net` in PyTorch's row-major layout, as `f64`.
pub fn row_major<T: sinew::Float, P: sinew::Parameters<T>>(net: &P, i: usize) -> Vec<f64> {
    let info = &P::TENSORS[i];
    let mut out = vec![T::zero(); info.len()];
    info.to_row_major(net.tensor(i), &mut out);
    as_f64(&out)
}
