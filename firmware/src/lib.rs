//! sinew on a Cortex-M: the networks (`model`, shared with the host example
//! `04-firmware`) and the board helpers the two firmwares use (`board`).
//!
//! `#![no_std]`, no allocator: the weights are a `static` built by the compiler from
//! `weights/digits.safetensors` (so they sit in flash), and every buffer is a static or
//! a stack value of a size known at compile time.

#![no_std]
#![forbid(unsafe_code)]

/// The networks and the code that runs them, shared with the host.
pub mod model {
    include!("model.rs");
}

pub mod baseline;
pub mod board;
