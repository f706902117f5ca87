use super::{InvalidHyperparameter, check_nonnegative};

/// A learning-rate schedule: the rate for an epoch, from the initial rate `lr0`.
///
/// | schedule | rate at epoch `e` (from 0) |
/// |---|---|
/// | [`Constant`](Schedule::Constant) | `lr0` |
/// | [`InverseTime`](Schedule::InverseTime) | `lr0 / (1 + k e)` |
/// | [`Exponential`](Schedule::Exponential) | `lr0 γᵉ` |
/// | [`Step`](Schedule::Step) | `lr0 γ^⌊e / every⌋` |
///
/// ```
/// use sinew::optim::Schedule;
/// assert_eq!(Schedule::InverseTime { k: 1.0 }.rate(0.1, 1), 0.05);
/// assert_eq!(Schedule::Step { every: 10, gamma: 0.5 }.rate(1.0, 25), 0.25);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Schedule {
    /// The same rate every epoch.
    #[default]
    Constant,
    /// `lr0 / (1 + k · epoch)`.
    InverseTime {
        /// Decay rate `k`.
        k: f64,
    },
    /// `lr0 · gamma^epoch`.
    Exponential {
        /// Factor per epoch.
        gamma: f64,
    },
    /// `lr0 · gamma^(epoch / every)`, with integer division.
    Step {
        /// Epochs between reductions.
        every: usize,
        /// Factor per reduction.
        gamma: f64,
    },
}

impl Schedule {
    /// Checks the schedule's own settings: `k` and `gamma` finite and `≥ 0`.
    ///
    /// # Errors
    /// [`InvalidHyperparameter`] naming the one out of range.
    pub fn check(&self) -> Result<(), InvalidHyperparameter> {
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::InverseTime { k } => check_nonnegative("schedule's k", k),
            Schedule::Exponential { gamma } | Schedule::Step { gamma, .. } => {
                check_nonnegative("schedule's gamma", gamma)
            }
        }
    }

    /// The learning rate at `epoch` (counted from 0).
    pub fn rate(&self, lr0: f64, epoch: usize) -> f64 {
        match *self {
            Schedule::Constant => lr0,
            Schedule::InverseTime { k } => lr0 / (1.0 + k * epoch as f64),
            Schedule::Exponential { gamma } => lr0 * powi(gamma, epoch),
            Schedule::Step { every, gamma } => lr0 * powi(gamma, epoch / every.max(1)),
        }
    }
}

/// `x^n` by repeated squaring: `O(log n)` multiplications, so any epoch is cheap.
fn powi(x: f64, n: usize) -> f64 {
    let (mut result, mut base, mut n) = (1.0, x, n);
    while n > 0 {
        if n & 1 == 1 {
            result *= base;
        }
        base *= base;
        n >>= 1;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any epoch is cheap (the rate was a loop over the epochs) and extremes saturate.
    #[test]
    fn late_epochs_are_cheap() {
        assert_eq!(Schedule::Exponential { gamma: 0.5 }.rate(1.0, usize::MAX), 0.0);
        assert_eq!(Schedule::Exponential { gamma: 2.0 }.rate(1.0, usize::MAX), f64::INFINITY);
        assert_eq!(powi(3.0, 5), 243.0);
    }

    #[test]
    fn closed_forms() {
        assert_eq!(Schedule::Constant.rate(0.3, 100), 0.3);
        assert_eq!(Schedule::InverseTime { k: 0.5 }.rate(1.0, 2), 0.5);
        assert!((Schedule::Exponential { gamma: 0.9 }.rate(1.0, 3) - 0.729).abs() < 1e-15);
        assert_eq!(Schedule::Step { every: 3, gamma: 0.1 }.rate(1.0, 2), 1.0);
        assert!((Schedule::Step { every: 3, gamma: 0.1 }.rate(1.0, 3) - 0.1).abs() < 1e-15);
    }
}
