//! Helpers shared by the integration tests.
#![allow(dead_code)]

use sinew::prelude::*;
use sinew::{Role, TrainsHead};
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

/// A network against a PyTorch fixture, its parameters loaded by their PyTorch names: the
/// training-mode output, the loss, the batch-norm running statistics after that pass,
/// every parameter gradient, the input gradient (when the fixture has one), and the
/// parameters after three Adam steps, each to `tol` relative to the tensor's largest entry.
/// `target` reads the targets from the fixture.
pub fn check_fixture<N, T, L, Y, const IN: usize, const OUT: usize, const B: usize>(
    file: &str,
    loss: L,
    target: impl Fn(&HashMap<String, Tensor>) -> Y,
    tol: f64,
) where
    T: Float,
    N: Model<T, IN, OUT> + sinew::Trainable<T, Grads = N> + Zeroable,
    N::TrainWorkspace<B>: Zeroable,
    L: Loss<T, OUT, B, Y> + TrainsHead<N::Head>,
{
    let tensors = fixture(file);
    let mut net = N::zeroed();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(file);
    let unused = sinew::io::load_lenient(&path, &mut net).unwrap();
    // Every tensor of the network came from the file, by its PyTorch name.
    assert!(unused.iter().all(|n| !N::TENSORS.iter().any(|t| t.name == n)));
    for info in N::TENSORS {
        assert!(tensors.contains_key(info.name), "{file}: no `{}` in the fixture", info.name);
    }
    let x = SMatrix::<T, IN, B>::from_iterator(tensors["x"].data.iter().map(|&v| T::cast(v)));
    let y = target(&tensors);

    // The training-mode forward pass (batch statistics), as the fixture's `out`.
    let mut tw = N::TrainWorkspace::<B>::zeroed();
    net.forward_train(&x, &mut tw, &mut sinew::rng(0));
    let (out, grad) = N::output_and_grad(&mut tw);
    let err = rel_inf(&as_f64(out.as_slice()), &tensors["out"].data);
    assert!(err < tol, "{file}: out differs by {err:e}");
    let value = loss.gradient(out, &y, grad);
    let err = rel_inf(&[value.as_f64()], &tensors["loss"].data);
    assert!(err < tol, "{file}: loss {value} vs {:?} ({err:e})", tensors["loss"].data);
    // Running statistics after that one pass.
    let mut stats = 0;
    for (i, info) in N::TENSORS.iter().enumerate() {
        if info.role == Role::Buffer {
            let err = rel_inf(&row_major(&net, i), &tensors[&format!("after1.{}", info.name)].data);
            assert!(err < tol, "{file}: after1.{} differs by {err:e}", info.name);
            stats += 1;
        }
    }
    let mut dx = SMatrix::<T, IN, B>::zeros();
    net.backward(&x, &mut tw, Some(&mut dx));
    let mut grads = 0;
    for (i, info) in N::TENSORS.iter().enumerate() {
        if info.role == Role::Buffer {
            continue;
        }
        let err = rel_inf(&row_major(N::gradients(&tw), i), &tensors[&format!("grad.{}", info.name)].data);
        assert!(err < tol, "{file}: grad.{} differs by {err:e}", info.name);
        grads += 1;
    }
    if let Some(expected) = tensors.get("grad.x") {
        let err = rel_inf(&as_f64(dx.as_slice()), &expected.data);
        assert!(err < tol, "{file}: grad.x differs by {err:e}");
    }
    let expected_grads = tensors.keys().filter(|k| k.starts_with("grad.") && *k != "grad.x").count();
    assert_eq!(grads, expected_grads, "{file}: every parameter gradient compared");
    let expected_stats = tensors.keys().filter(|k| k.starts_with("after1.")).count();
    assert_eq!(stats, expected_stats, "{file}: every running statistic compared");

    // Three Adam steps (each also updating the running statistics, as in PyTorch).
    let mut net = N::zeroed();
    sinew::io::load_lenient(&path, &mut net).unwrap();
    let mut adam = Adam::<T, N>::new(AdamConfig::with_lr(T::cast(0.01)));
    for _ in 0..3 {
        sinew::model::train_step(&mut net, &x, &y, B, &loss, &mut adam, &mut tw, &mut sinew::rng(0)).unwrap();
    }
    for (i, info) in N::TENSORS.iter().enumerate() {
        if info.role == Role::Buffer {
            continue;
        }
        let err = rel_inf(&row_major(&net, i), &tensors[&format!("adam3.{}", info.name)].data);
        assert!(err < tol, "{file}: adam3.{} differs by {err:e}", info.name);
    }
}

/// The fixture's `y` as class indices.
pub fn classes<const B: usize>(tensors: &HashMap<String, Tensor>) -> [usize; B] {
    std::array::from_fn(|i| tensors["y"].data[i] as usize)
}

/// The fixture's `y` as a matrix, one column per sample (PyTorch's rows).
pub fn matrix<T: sinew::Float, const N: usize, const B: usize>(
    tensors: &HashMap<String, Tensor>,
) -> SMatrix<T, N, B> {
    SMatrix::from_iterator(tensors["y"].data.iter().map(|&v| T::cast(v)))
}
