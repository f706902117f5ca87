//! The arithmetic behind [sinew](https://docs.rs/sinew): layer kernels, activations,
//! losses, optimizers, initialisers and gradient checking, for networks whose every size
//! is a const generic.
//!
//! The `network!` macro (in the `sinew` crate) declares a network and generates the code
//! that wires these pieces together; everything here is also usable by hand.
//!
//! # Example
//!
//! ```
//! use sinew::{layers::Dense, loss::{Loss, L2}, SMatrix};
//!
//! let mut layer = Dense::<f64, 2, 1>::zeroed();
//! layer.weight = SMatrix::<f64, 1, 2>::new(0.5, -0.5);
//! let x = SMatrix::<f64, 2, 3>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
//! let mut z = SMatrix::<f64, 1, 3>::zeros();
//! layer.forward(&x, &mut z);
//! assert_eq!(z, SMatrix::<f64, 1, 3>::new(-1.5, -1.5, -1.5));
//! assert_eq!(L2.value(&z, &SMatrix::zeros()), 0.5 * 1.5 * 1.5 * 3.0 / 3.0);
//! ```
//!
//! # Behaviour
//!
//! - `#![no_std]`, no allocator: every buffer is a statically sized nalgebra matrix. The
//!   `std` feature adds heap constructors (`boxed`) and a SIMD GEMM for large products.
//! - Matrices are column-major with **one column per sample**: a batch is `(features, B)`.
//! - Parameters follow PyTorch's `state_dict` names and shapes (see [`params`]).
//! - Hot paths (forward, backward, optimizer steps) allocate nothing.
//! - `f32` `tanh`, `exp` and sigmoid use branch-free approximations within 1e-6 relative
//!   error ([`fastmath`]); `f64` uses the exact functions.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "host")]
#[macro_use]
extern crate std;

pub mod activation;
pub mod augment;
pub mod boxes;
pub mod data;
pub mod embed;
pub mod fastmath;
mod float;
pub mod generate;
pub mod gradcheck;
pub mod init;
#[cfg(feature = "io")]
pub mod io;
#[cfg(feature = "host")]
mod kernels;
pub mod layers;
pub mod linalg;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod params;
#[cfg(feature = "plot")]
pub mod plot;
#[cfg(feature = "train")]
pub mod train;

pub use float::Float;
pub use model::{Model, NonFiniteLoss, TrainsHead, head};
pub use nalgebra::{SMatrix, SVector};
pub use params::{Layout, Parameters, Role, TensorInfo, Trainable};

/// The pseudo-random generator sinew uses everywhere: xoshiro256++ (fast, `no_std`, 256
/// bits of state), from `rand_xoshiro`.
pub type Rng = rand_xoshiro::Xoshiro256PlusPlus;

/// A generator seeded from a `u64`; the same seed gives the same stream on every platform.
///
/// ```
/// use rand_core::Rng as _;
/// assert_eq!(sinew::rng(1).next_u64(), sinew::rng(1).next_u64());
/// ```
pub fn rng(seed: u64) -> Rng {
    rand_core::SeedableRng::seed_from_u64(seed)
}
