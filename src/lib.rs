//! **sinew**: neural networks declared inline with [`network!`], with every shape checked
//! at compile time and forward *and* backward code generated as plain Rust over
//! statically shaped nalgebra matrices. The same declaration trains on a laptop and runs
//! in a `no_std`, allocation-free firmware.
//!
//! # Example
//!
//! ```
//! use sinew::prelude::*;
//!
//! network! {
//!     /// Learns XOR.
//!     pub struct Xor {
//!         input: 2,
//!         hidden: Dense(8) -> Tanh,
//!         out: Dense(1),
//!     }
//! }
//!
//! let x = SMatrix::<f32, 2, 4>::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.]);
//! let y = SMatrix::<f32, 1, 4>::from_column_slice(&[0., 1., 1., 0.]);
//!
//! let mut rng = sinew::rng(0);
//! let mut net = Xor::<f32>::init(&mut rng);
//! let mut adam = Adam::new(AdamConfig::with_lr(0.05));
//! let mut tw = XorTrainWorkspace::<4>::zeroed();
//! for _ in 0..500 {
//!     net.train_step(&x, &y, &SigmoidBinaryCrossEntropy, &mut adam, &mut tw, &mut rng).unwrap();
//! }
//!
//! let mut ws = XorWorkspace::<4>::zeroed();
//! let logits = net.forward(&x, &mut ws);
//! assert_eq!(logits.map(|z| u8::from(z > 0.0)).as_slice(), &[0, 1, 1, 0]);
//! ```
//!
//! # Behaviour
//!
//! - **Shapes are checked when the macro expands.** Each layer's input size is inferred
//!   from the one before it; a size that is written out and does not match is a compile
//!   error on that token, naming both layers and both sizes and saying how to fix it.
//!   Every mistake in a declaration is reported, not just the first, and the macro never
//!   panics on any input.
//! - **The declaration expands to a plain struct**, one public field per layer with
//!   parameters (`hidden: Dense<T, 2, 8>`, holding `weight: (8, 2)` and `bias: (8, 1)`),
//!   generic over the scalar `T` (`f32` by default, `f64` for exact checks), plus:
//!   - `Xor::INPUT`, `Xor::OUTPUT`, `Xor::PARAMETERS`, `Xor::SUMMARY`;
//!   - `XorInput<B>` / `XorOutput<B>`: batches of `B` samples, one column each;
//!   - `XorWorkspace<B>` (inference buffers) and `XorTrainWorkspace<B>` (training buffers,
//!     including the parameter gradients `grads`, a value of type `Xor`);
//!   - `init(&mut rng)` (He before the ReLU family, Xavier otherwise, zero biases),
//!     `zeroed()`, and on the host `boxed_init` / `boxed_zeroed` / `boxed`, which build
//!     directly on the heap so that large networks never touch the stack;
//!   - `forward` (inference), `forward_train` (records what backward needs, draws dropout
//!     masks), `backward` (hand-derived, generated layer by layer), `train_step`;
//!   - [`Parameters`] with PyTorch `state_dict` names (`hidden.weight`, `(out, in)`), and
//!     [`Model`] for code generic over networks;
//!   - byte counts as consts (see [Memory](#memory)), and with `#[frozen]` layers a
//!     `XorGrads` type for the gradients of the trained layers only.
//! - **Nothing allocates** in `forward`, `forward_train`, `backward` or an optimizer step.
//! - **Losses** ([`loss`]) are means over the batch; the cross-entropies are fused with
//!   softmax/sigmoid and computed from logits. A network whose last layer already applies
//!   `Softmax` cannot be trained with [`SoftmaxCrossEntropy`](loss::SoftmaxCrossEntropy):
//!   that is a compile error.
//!
//! # Syntax
//!
//! ```text
//! network! {
//!     #[attributes]  /// docs
//!     pub struct Name {
//!         input: <features> | [<channels>, <height>, <width>],
//!         <layer>: Dense(<out> [, bias = false]) [-> <activation>] [=> <shape>],
//!         <layer>: Dense(<in> => <out>) ...,
//!         <layer>: Conv2d(<out channels>, kernel = k | (kh, kw) [, stride = s | (sh, sw)]
//!                         [, padding = p | (ph, pw) | same] [, bias = false]) ...,
//!         <layer>: ConvTranspose2d(<out channels>, kernel = .., stride = .., padding = ..) ...,
//!         <layer>: MaxPool2d(k [, stride = ..] [, padding = ..]) ...,
//!         <layer>: AvgPool2d(k [, stride = ..] [, padding = ..]) ...,
//!         <layer>: Flatten,
//!         <layer>: BatchNorm[(eps = 1e-5, momentum = 0.1)] [-> <activation>],
//!         <layer>: Dropout(keep = <p>),
//!         ...
//!     }
//! }
//! ```
//!
//! `padding = same` keeps a convolution's height and width: stride 1 and an odd kernel,
//! padded by `(k − 1) / 2` on each axis (PyTorch's `padding='same'`).
//!
//! `=> [C, H, W]` or `=> N` after a layer asserts its output shape. Images are stored one
//! sample per column in channel-major (NCHW) order, as PyTorch flattens them, so `Flatten`
//! is free and dense weights after it have PyTorch's layout.
//!
//! Activations: `Identity`, `Sigmoid`, `Tanh`, `Relu`, `LeakyRelu` (slope 0.01, or
//! `LeakyRelu(0.2)` / `LeakyRelu(slope = 0.2)`), `Softmax`. `Dropout(keep = p)` keeps each
//! unit with probability `p` in `(0, 1]` during training (inverted dropout; PyTorch's `p` is
//! `1 - keep`) and is the identity at inference.
//!
//! # Frozen layers
//!
//! `#[frozen]` on a layer with parameters keeps it as it is: it gets no gradient buffer and
//! no optimizer state (the gradients and optimizer moments are a generated `NameGrads`
//! holding the trained layers only, the [`Trainable::Grads`] of the network), and no
//! optimizer ever updates it. The backward pass still goes through it to the trained layers
//! before it, and stops below the last trained layer unless `dL/dx` is asked for. Saving
//! and loading still cover every tensor. Fine-tuning the head of a trained network:
//!
//! ```
//! use sinew::prelude::*;
//!
//! network! {
//!     pub struct Head {
//!         input: 4,
//!         #[frozen]
//!         features: Dense(16) -> Relu,
//!         out: Dense(3),
//!     }
//! }
//!
//! assert_eq!(Head::<f32>::GRADIENT_BYTES, (16 * 3 + 3) * 4); // `out` only
//! let mut net = Head::<f32>::init(&mut sinew::rng(0));
//! let frozen = net.features.clone();
//! let mut adam = Adam::<f32, HeadGrads>::new(AdamConfig::default());
//! let mut tw = HeadTrainWorkspace::<2>::zeroed();
//! let x = SMatrix::<f32, 4, 2>::from_fn(|i, j| (i + j) as f32 / 4.0);
//! net.train_step(&x, &[0, 2], &SoftmaxCrossEntropy, &mut adam, &mut tw, &mut sinew::rng(1)).unwrap();
//! assert_eq!(net.features, frozen);
//! ```
//!
//! # Memory
//!
//! Every network states what it needs, in bytes of its scalar type `T`:
//! `Name::<T>::PARAMETER_BYTES` (the network value: weights, biases, buffers),
//! `GRADIENT_BYTES` (one gradient copy, trained layers only), `SGD_STATE_BYTES`,
//! `MOMENTUM_STATE_BYTES`, `RMSPROP_STATE_BYTES`, `ADAM_STATE_BYTES` (optimizer state),
//! and `NameWorkspace::<B, T>::BYTES` / `NameTrainWorkspace::<B, T>::BYTES` (buffers for a
//! batch of `B`; the training workspace includes the gradients).
//!
//! `#[budget(flash = 64K, ram = 16K, batch = 8, optimizer = Adam)]` on the network makes a
//! declaration that does not fit a compile error naming the numbers, counted in `f32`:
//! `flash` holds the parameters; `ram` holds the inference workspace for `batch` samples
//! (default 1) or, with `optimizer` (`Sgd`, `Momentum`, `RmsProp` or `Adam`), everything
//! training needs: the network, the training workspace and the optimizer state. Sizes are
//! bytes, or `K` / `M` (KiB / MiB).
//!
//! ```compile_fail
//! sinew::network! {
//!     #[budget(flash = 32K)]
//!     struct Big {
//!         input: 64,
//!         hidden: Dense(128) -> Relu,
//!         out: Dense(10),
//!     }
//! }
//! ```
//!
//! ```text
//! error: network `Big` needs 38,440 bytes of flash for its parameters (f32), over its budget of 32,768 bytes by 5,672; the largest layer is `hidden` (33,280 bytes)
//! ```
//!
//! # Weights embedded at compile time
//!
//! `#[weights("model.safetensors")]` (a path relative to the source file, like
//! `include_bytes!`) checks the file against the declaration when the macro expands (every
//! tensor present, with the declared shape, as `F32` or `F64`, and nothing else; an error
//! names the tensor, the layer and both shapes) and gives the network a const
//! `Name::EMBEDDED` (`f32`; `EMBEDDED_F64` for `f64`). The compiler decodes the file's
//! bytes ([`embed`]), so `static NET: Name = Name::EMBEDDED;` is initialised data: in a
//! firmware it stays in flash and is read in place, and a change to the file rebuilds the
//! crate. See `firmware/` in the repository for a complete `no_std` program.
//!
//! # Gradient checking
//!
//! [`gradcheck::check_gradients`] compares the generated `backward` with central
//! differences, for every parameter tensor and for the input:
//!
//! ```
//! use sinew::prelude::*;
//! use sinew::gradcheck::check_gradients;
//!
//! network! {
//!     struct Small {
//!         input: 3,
//!         a: Dense(4) -> Tanh,
//!         drop: Dropout(keep = 0.5),
//!         out: Dense(2),
//!     }
//! }
//!
//! let mut net = Small::<f64>::init(&mut sinew::rng(1));
//! let x = SMatrix::<f64, 3, 5>::from_fn(|i, j| (i + 2 * j) as f64 / 10.0 - 0.4);
//! let y = SMatrix::<f64, 2, 5>::zeros();
//! let mut tw = SmallTrainWorkspace::<5, f64>::zeroed();
//! let report = check_gradients(&mut net, &x, &y, &L2, 7, 1e-6, &mut tw);
//! assert!(report.max_relative_error() < 1e-6, "{:?}", report.worst);
//! assert_eq!(report.tensors, 5); // four parameter tensors and the input
//! ```
//!
//! A mismatched size does not compile:
//!
//! ```compile_fail
//! sinew::network! {
//!     struct Bad {
//!         input: 4,
//!         hidden: Dense(8) -> Relu,
//!         out: Dense(16 => 2),
//!     }
//! }
//! ```
//!
//! ```text
//! error: layer `out` expects 16 inputs, but the previous layer `hidden` produces 8; write `Dense(8 => 2)`, or leave the input size out to infer it
//! ```

#![cfg_attr(not(feature = "host"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The code `network!` generates names `::sinew::...`; this makes that path work inside the
// crate too (for `example`).
extern crate self as sinew;

pub use sinew_macros::network;
pub use sinew_runtime::*;

/// Types that are valid when all their bytes are zero: every network, workspace and
/// optimizer. `T::zeroed()` builds one by value; on the host the generated `boxed*`
/// constructors build them directly on the heap.
pub use bytemuck::Zeroable;

pub mod example {
    //! A network generated by [`network!`](crate::network), to show in the documentation
    //! what every declaration expands to: [`Mlp`] itself (one public field per layer with
    //! parameters, the consts, `init`, `forward`, `forward_train`, `backward`,
    //! `train_step`), its batch aliases [`MlpInput`] and [`MlpOutput`], its buffers
    //! [`MlpWorkspace`] and [`MlpTrainWorkspace`], and its impls of
    //! [`Parameters`](crate::Parameters), [`Trainable`](crate::Trainable) and
    //! [`Model`](crate::Model) (where `output_and_grad` and `gradients` live). It was
    //! declared as:
    //!
    //! ```
    //! sinew::network! {
    //!     /// A classifier of 28 × 28 images given as 784 features.
    //!     pub struct Mlp {
    //!         input: 784,
    //!         hidden: Dense(128) -> Relu,
    //!         drop: Dropout(keep = 0.8),
    //!         out: Dense(10),
    //!     }
    //! }
    //! ```
    //!
    //! Every network you declare gets the same items, named after it. [`Residual`] shows a
    //! graph: branches, `Concat`, a block used twice, `GlobalAvgPool`.

    crate::network! {
        /// A classifier of 28 × 28 images given as 784 features: `Dense(128) -> Relu`,
        /// `Dropout(keep = 0.8)`, `Dense(10)` (logits; train with `SoftmaxCrossEntropy`).
        pub struct Mlp {
            input: 784,
            hidden: Dense(128) -> Relu,
            drop: Dropout(keep = 0.8),
            out: Dense(10),
        }
    }

    crate::network! {
        /// Two branches on one input, concatenated, then a residual block declared once
        /// and used twice (`b1.*`, `b2.*` in the weight files); fields `b1_c1`, ... Built
        /// for `no_std` targets too: graphs need no allocator.
        ///
        /// ```text
        /// block Res(channels) {
        ///     c1: Conv2d(channels, kernel = 3, padding = same, bias = false),
        ///     n1: BatchNorm -> Relu,
        ///     c2: Conv2d(channels, kernel = 3, padding = same, bias = false),
        ///     n2: BatchNorm,
        ///     sum: Add(n2, input) -> Relu,
        /// }
        ///
        /// pub struct Residual {
        ///     input: [1, 8, 8],
        ///     wide: Conv2d(4, kernel = 3, padding = same) -> Relu,
        ///     narrow: Conv2d(4, kernel = 1, from = input) -> Relu,
        ///     both: Concat(wide, narrow) => [8, 8, 8],
        ///     b1: Res(8),
        ///     b2: Res(8),
        ///     pool: GlobalAvgPool,
        ///     out: Dense(10),
        /// }
        /// ```
        block Res(channels) {
            c1: Conv2d(channels, kernel = 3, padding = same, bias = false),
            n1: BatchNorm -> Relu,
            c2: Conv2d(channels, kernel = 3, padding = same, bias = false),
            n2: BatchNorm,
            sum: Add(n2, input) -> Relu,
        }

        /// A small graph network: branches joined by `Concat`, two residual blocks, global
        /// average pooling (see the declaration above).
        pub struct Residual {
            input: [1, 8, 8],
            wide: Conv2d(4, kernel = 3, padding = same) -> Relu,
            narrow: Conv2d(4, kernel = 1, from = input) -> Relu,
            both: Concat(wide, narrow) => [8, 8, 8],
            b1: Res(8),
            b2: Res(8),
            pool: GlobalAvgPool,
            out: Dense(10),
        }
    }
}

/// Everything a program using `network!` needs, in one import.
pub mod prelude {
    pub use crate::activation::{argmax, softmax};
    #[cfg(feature = "data")]
    pub use crate::data::Dataset;
    pub use crate::loss::{
        L1, L2, Loss, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy, StepCrossEntropy, StepTargets,
    };
    pub use crate::metrics::{ClassCounts, Metric};
    pub use crate::network;
    pub use crate::optim::{
        Adam, AdamConfig, Momentum, MomentumConfig, Optimizer, RmsProp, RmsPropConfig, Schedule, Sgd,
    };
    #[cfg(feature = "train")]
    pub use crate::train::{EarlyStopping, Fit};
    pub use crate::{Float, Model, Parameters, SMatrix, SVector, Zeroable};
}

/// Used by the code `network!` generates; not public API.
#[doc(hidden)]
pub mod __private {
    pub use bytemuck::{self, Zeroable};
    pub use rand_core::Rng;

    #[cfg(feature = "host")]
    pub use std::boxed::Box;

    /// A value of `T` allocated zeroed, directly on the heap.
    #[cfg(feature = "host")]
    pub fn zeroed_box<T: Zeroable>() -> Box<T> {
        bytemuck::zeroed_box()
    }
}

/// Expands its input only when sinew is built with `host` (host-only generated items).
#[cfg(feature = "host")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_std {
    ($($items:tt)*) => { $($items)* };
}

/// Expands its input only when sinew is built with `host` (host-only generated items).
#[cfg(not(feature = "host"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_std {
    ($($items:tt)*) => {};
}

/// The README's example compiles and runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
