//! Generating sequences one step at a time from a trained model, carrying the recurrent
//! state: a character model that samples names letter by letter. `no_std`, and nothing is
//! allocated.

use crate::Float;
use crate::layers::{
    DenseSteps, DenseStepsShape, Embedding, EmbeddingShape, Recurrent, RecurrentShape, Values,
};
use crate::linalg::{Gemm, Op, gemm};
use bytemuck::Zeroable;
use rand_core::Rng;

/// Draws a class from `softmax(logits / temperature)`: `temperature` 1 samples the model's
/// own distribution, below 1 sharpens it, above 1 flattens it, and 0 takes the most likely
/// class (the first one on a tie). One 32-bit draw from `rng` per call (none at 0), so a
/// seed gives the same choices on every platform for the same logits.
///
/// ```
/// use sinew::{generate::sample, rng};
/// let logits = [0.0_f32, 3.0, 1.0];
/// assert_eq!(sample(&logits, 0.0, &mut rng(1)), 1);
/// let picks = (0..1000).filter(|_| sample(&logits, 1.0, &mut rng(0)) == 1).count();
/// assert!(picks == 0 || picks == 1000); // the same seed, the same draw
/// ```
///
/// # Panics
/// If `logits` is empty or `temperature` is negative or not finite.
pub fn sample<T: Float, R: Rng + ?Sized>(logits: &[T], temperature: f64, rng: &mut R) -> usize {
    assert!(!logits.is_empty(), "sample: no logits");
    assert!(
        temperature.is_finite() && temperature >= 0.0,
        "sample: the temperature must be finite and >= 0, found {temperature}"
    );
    let best = (1..logits.len()).fold(0, |best, c| if logits[c] > logits[best] { c } else { best });
    if temperature == 0.0 {
        return best;
    }
    let max = logits[best].as_f64();
    let weight = |v: T| nalgebra::ComplexField::exp((v.as_f64() - max) / temperature);
    let total: f64 = logits.iter().map(|&v| weight(v)).sum();
    let mut u = f64::from(rng.next_u32()) / 4_294_967_296.0 * total;
    for (c, &v) in logits.iter().enumerate() {
        u -= weight(v);
        if u < 0.0 {
            return c;
        }
    }
    // Rounding left a sliver of mass: the last class with any.
    logits.len() - 1
}

/// The state of a character model (`Embedding`, one recurrent layer over every step, then
/// `Dense(.., steps = all)`) generating one token at a time: the recurrent state and
/// scratch, sized by the layers' shape types. Built once; [`next`](Self::next) allocates
/// nothing and works in `no_std`.
///
/// ```
/// use sinew::generate::Generator;
/// use sinew::network;
///
/// network! {
///     pub struct Chars {
///         input: Tokens(8, vocab = 27),
///         emb: Embedding(4),
///         rnn: Gru(8),
///         out: Dense(27, steps = all),
///     }
/// }
///
/// let net = Chars::<f32>::init(&mut sinew::rng(1));
/// let mut generator = Generator::new();
/// let mut name = [0usize; 8];
/// let len = generator.generate(&net.emb, &net.rnn, &net.out, 0, 0, 0.8, &mut name, &mut sinew::rng(2));
/// assert!(len <= 8 && name[..len].iter().all(|&t| t < 27));
/// ```
#[derive(Clone, Debug)]
pub struct Generator<T: Float, E: EmbeddingShape, S: RecurrentShape, D: DenseStepsShape> {
    state: S::State<T, 1>,
    cell: S::State<T, 1>,
    gates: S::Step<T, 2>,
    states: S::State<T, 3>,
    logits: D::Bias<T>,
    _embedding: core::marker::PhantomData<E>,
}

impl<T: Float, E: EmbeddingShape, S: RecurrentShape, D: DenseStepsShape> Default for Generator<T, E, S, D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float, E: EmbeddingShape, S: RecurrentShape, D: DenseStepsShape> Generator<T, E, S, D> {
    /// Checks, once per model, that the three layers fit together.
    const FITS: () = assert!(
        E::DIM == S::FEATURES && S::HIDDEN == D::INPUTS && D::OUTPUTS == E::VOCAB,
        "Generator: the embedding, the recurrent layer and the dense layer do not fit together"
    );

    /// A generator at the start of a sequence (zero state).
    pub fn new() -> Self {
        let () = Self::FITS;
        Self {
            state: Zeroable::zeroed(),
            cell: Zeroable::zeroed(),
            gates: Zeroable::zeroed(),
            states: Zeroable::zeroed(),
            logits: Zeroable::zeroed(),
            _embedding: core::marker::PhantomData,
        }
    }

    /// Back to the start of a sequence.
    pub fn reset(&mut self) {
        self.state.values_mut().fill(T::zero());
        self.cell.values_mut().fill(T::zero());
    }

    /// The logits of the last step.
    pub fn logits(&self) -> &[T] {
        self.logits.values()
    }

    /// Feeds `token` (`< V`) as the next step and returns the token drawn for the step after
    /// it (see [`sample`]).
    ///
    /// # Panics
    /// If `token` is not below the vocabulary size.
    pub fn next<R: Rng + ?Sized>(
        &mut self,
        embedding: &Embedding<T, E>,
        recurrent: &Recurrent<T, S>,
        dense: &DenseSteps<T, D>,
        token: usize,
        temperature: f64,
        rng: &mut R,
    ) -> usize {
        assert!(token < E::VOCAB, "token {token} is not below the vocabulary size {}", E::VOCAB);
        let x = &embedding.weight.values()[token * E::DIM..][..E::DIM];
        recurrent.step(
            x,
            self.state.values_mut(),
            self.cell.values_mut(),
            self.gates.values_mut(),
            self.states.values_mut(),
        );
        let logits = self.logits.values_mut();
        logits.copy_from_slice(dense.bias.values());
        let desc = Gemm { m: D::OUTPUTS, n: 1, k: D::INPUTS, a: Op::N, b: Op::N, accumulate: true };
        gemm(desc, dense.weight.values(), self.state.values(), logits);
        sample(self.logits.values(), temperature, rng)
    }

    /// A whole sequence from the start: feeds `start`, then each drawn token, until `end` is
    /// drawn or `out` is full. Writes the tokens drawn (without `end`) into `out` and
    /// returns how many; the state is reset first.
    #[allow(clippy::too_many_arguments)]
    pub fn generate<R: Rng + ?Sized>(
        &mut self,
        embedding: &Embedding<T, E>,
        recurrent: &Recurrent<T, S>,
        dense: &DenseSteps<T, D>,
        start: usize,
        end: usize,
        temperature: f64,
        out: &mut [usize],
        rng: &mut R,
    ) -> usize {
        self.reset();
        let mut token = start;
        for (len, slot) in out.iter_mut().enumerate() {
            token = self.next(embedding, recurrent, dense, token, temperature, rng);
            if token == end {
                return len;
            }
            *slot = token;
        }
        out.len()
    }
}
