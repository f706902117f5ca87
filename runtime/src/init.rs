//! Weight initialisation.
//!
//! | scheme | distribution | used before |
//! |---|---|---|
//! | [`Init::He`] (Kaiming normal) | `N(0, 2 / ((1 + slope²) fan_in))` | `Relu`, `LeakyRelu(slope)` |
//! | [`Init::Xavier`] (Glorot normal) | `N(0, 2 / (fan_in + fan_out))` | `Tanh`, `Sigmoid`, `Softmax`, no activation |
//! | [`Init::Normal`] | `N(0, std_dev²)` | embeddings (PyTorch's `N(0, 1)`) |
//! | [`Init::Uniform`] | `U(−bound, bound)` | recurrent layers (PyTorch's `1/√hidden`), biases included |
//!
//! Biases start at zero. Values are drawn as `f64` and rounded, so the same seed gives the
//! same network in `f32` and `f64` (up to rounding) and the same bits on every platform.

use crate::Float;
use rand_core::Rng;
use rand_distr::{Distribution, Open01, StandardNormal};

/// How to draw the initial weights of a layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// He (Kaiming) normal initialisation for the ReLU family, with the negative slope
    /// of the activation (0 for ReLU).
    He {
        /// Negative slope of the following activation.
        negative_slope: f64,
    },
    /// Xavier (Glorot) normal initialisation, for saturating or linear outputs.
    Xavier,
    /// Normal with a given standard deviation whatever the fans: PyTorch's initialisation
    /// of `nn.Embedding` (`std_dev = 1`).
    Normal {
        /// The standard deviation.
        std_dev: f64,
    },
    /// Uniform on `[−bound, bound]` whatever the fans: PyTorch's initialisation of `nn.RNN`,
    /// `nn.GRU` and `nn.LSTM` (`bound = 1/√hidden`).
    Uniform {
        /// The largest magnitude drawn.
        bound: f64,
    },
}

impl Init {
    /// The standard deviation for a layer with the given fan-in and fan-out.
    pub fn std_dev(self, fan_in: usize, fan_out: usize) -> f64 {
        match self {
            Init::He { negative_slope } => {
                nalgebra::ComplexField::sqrt(2.0 / ((1.0 + negative_slope * negative_slope) * fan_in as f64))
            }
            Init::Xavier => nalgebra::ComplexField::sqrt(2.0 / (fan_in + fan_out) as f64),
            Init::Normal { std_dev } => std_dev,
            Init::Uniform { bound } => bound / nalgebra::ComplexField::sqrt(3.0),
        }
    }

    /// Fills `values` with independent draws.
    ///
    /// ```
    /// use sinew::{init::Init, rng};
    /// let mut w = [0.0_f64; 1000];
    /// Init::Xavier.fill(&mut w, 10, 10, &mut rng(7));
    /// let var = w.iter().map(|v| v * v).sum::<f64>() / 1000.0;
    /// assert!((var - 0.1).abs() < 0.02);
    /// ```
    pub fn fill<T: Float, R: Rng + ?Sized>(
        self,
        values: &mut [T],
        fan_in: usize,
        fan_out: usize,
        rng: &mut R,
    ) {
        if let Init::Uniform { bound } = self {
            for v in values {
                let u: f64 = Open01.sample(rng);
                *v = T::cast((2.0 * u - 1.0) * bound);
            }
            return;
        }
        let std_dev = self.std_dev(fan_in, fan_out);
        for v in values {
            let z: f64 = StandardNormal.sample(rng);
            *v = T::cast(z * std_dev);
        }
    }
}
