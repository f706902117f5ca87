//! The main job's LeNet-5 (`examples/mnist.rs`) in WebAssembly, for `demo/index.html`.
//!
//! `#![no_std]` with no allocator: the weights are a `static` built by the compiler from
//! `out/lenet.safetensors` (written by `cargo run --release --example mnist`), the input and
//! output are statics, and the workspace lives on the stack of [`classify`]. The exports are
//! plain functions; the page writes 784 standardised pixels at [`input`], calls
//! [`classify`], and reads ten probabilities at [`output`]:
//!
//! ```text
//! x = input()  (784 f32, row-major 28 × 28, standardised as the main job does)
//! c = classify()  (the most likely digit; probabilities at output(), 10 f32)
//! ```
//!
//! The buffers are arrays of atomics so that they can be `static` without `unsafe`: the page
//! writes and reads their memory between calls (WebAssembly here is single-threaded).
#![no_std]

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};
use sinew::SMatrix;

sinew::network! {
    /// LeNet-5 (LeCun et al., 1998) with ReLU and max pooling, for 28 x 28 digits: the
    /// main job's declaration, with its trained weights.
    #[weights("../../out/lenet.safetensors")]
    pub struct LeNet {
        input: [1, 28, 28],
        c1: Conv2d(6, kernel = 5, padding = 2) -> Relu,
        s2: MaxPool2d(2),
        c3: Conv2d(16, kernel = 5) -> Relu,
        s4: MaxPool2d(2) => [16, 5, 5],
        flat: Flatten => 400,
        f5: Dense(120) -> Relu,
        f6: Dense(84) -> Relu,
        out: Dense(10),
    }
}

/// The network, with the weights of `out/lenet.safetensors`.
static NET: LeNet = LeNet::EMBEDDED;

/// The 784 input pixels (`f32` bits), written by the page.
static INPUT: [AtomicU32; 784] = [const { AtomicU32::new(0) }; 784];
/// The ten probabilities (`f32` bits) of the last [`classify`].
static OUTPUT: [AtomicU32; 10] = [const { AtomicU32::new(0) }; 10];

/// The address of the input: 784 `f32`, row-major 28 × 28, standardised.
#[unsafe(no_mangle)]
pub extern "C" fn input() -> *mut f32 {
    AtomicU32::as_ptr(&INPUT[0]).cast()
}

/// The address of the output: 10 `f32`, the softmax of the network's logits.
#[unsafe(no_mangle)]
pub extern "C" fn output() -> *const f32 {
    AtomicU32::as_ptr(&OUTPUT[0]).cast_const().cast()
}

/// Classifies the input: writes the ten probabilities at [`output`] and returns the most
/// likely digit. Allocates nothing (the module has no allocator).
#[unsafe(no_mangle)]
pub extern "C" fn classify() -> u32 {
    let x = SMatrix::<f32, 784, 1>::from_fn(|i, _| f32::from_bits(INPUT[i].load(Relaxed)));
    let mut ws = LeNetWorkspace::<1, f32>::zeroed();
    let mut p = [0.0f32; 10];
    p.copy_from_slice(NET.forward(&x, &mut ws).as_slice());
    sinew::activation::softmax_in_place(&mut p);
    for (o, v) in OUTPUT.iter().zip(p) {
        o.store(v.to_bits(), Relaxed);
    }
    sinew::metrics::predicted_class(&p, 0.5) as u32
}

/// Bytes of weights and biases in the module.
#[unsafe(no_mangle)]
pub extern "C" fn parameter_bytes() -> u32 {
    LeNet::<f32>::PARAMETER_BYTES as u32
}

/// Bytes of the inference workspace (on the stack of [`classify`]).
#[unsafe(no_mangle)]
pub extern "C" fn workspace_bytes() -> u32 {
    core::mem::size_of::<LeNetWorkspace<1, f32>>() as u32
}

/// The address of the network's summary (UTF-8, [`summary_len`] bytes): its layers, shapes
/// and parameter counts.
#[unsafe(no_mangle)]
pub extern "C" fn summary() -> *const u8 {
    LeNet::<f32>::SUMMARY.as_ptr()
}

/// The length of the summary in bytes.
#[unsafe(no_mangle)]
pub extern "C" fn summary_len() -> u32 {
    LeNet::<f32>::SUMMARY.len() as u32
}

/// A panic stops the module (there is no panic in the classify path; this is the handler a
/// `no_std` module must have).
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
