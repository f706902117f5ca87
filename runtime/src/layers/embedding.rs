use super::{Buffers, Element, Layer, Shape, Store, Value, Values};
use crate::Float;
use crate::init::Init;
use crate::params::{Layout, Parameters, Role, TensorInfo};
use bytemuck::Zeroable;
use rand_core::Rng;

/// The shape of an [`Embedding`]: a vocabulary of `VOCAB` tokens, each mapped to `DIM`
/// features, over `STEPS` steps (`IN = T`, `OUT = T·DIM`). `network!` writes one per layer.
pub trait EmbeddingShape: Shape {
    /// `V`, the number of distinct tokens: ids are `0 .. V`.
    const VOCAB: usize;
    /// `E`, the features of one token.
    const DIM: usize;
    /// `T`, the steps of a sequence.
    const STEPS: usize;
    /// The table, PyTorch's `(V, E)` row-major, stored as an `(E, V)` matrix: column `v`
    /// is token `v`'s features.
    type Weight<E: Element>: Values<E>;
}

/// A lookup table from token ids to feature vectors, as PyTorch's `nn.Embedding` (the
/// course's embedding matrix, one column per word).
///
/// # Shapes
/// - `weight`: PyTorch's `(V, E)`;
/// - input `(T, B)`: token ids, one column per sample, stored as numbers of the network's
///   scalar type (exact integers up to 2^24 in `f32`); output `(T·E, B)`: step `t` of
///   sample `b` is row `id` of the table, a sequence in sinew's layout (see
///   [`Recurrent`](super::Recurrent)).
///
/// # Gradients
/// `dL/dweight[id] = Σ` of the output gradients of the steps that read `id` (rows of unused
/// ids are 0). Token ids have no gradient: `dL/dx` is 0.
///
/// # Panics
/// In the forward pass, on an id that is not an integer in `0 .. V`.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float, S: EmbeddingShape")]
pub struct Embedding<T: Float, S: EmbeddingShape> {
    /// The table, `(V, E)` in PyTorch's layout.
    pub weight: S::Weight<T>,
}

/// Checks, once per shape type, that its sizes agree.
const fn check_shape<S: EmbeddingShape>() {
    assert!(
        S::IN == S::STEPS && S::OUT == S::STEPS * S::DIM && size_of::<S::Weight<u8>>() == S::VOCAB * S::DIM,
        "EmbeddingShape: sizes disagree"
    );
}

impl<T: Float, S: EmbeddingShape> Embedding<T, S> {
    /// All zero.
    pub fn zeroed() -> Self {
        Zeroable::zeroed()
    }

    /// PyTorch's initialisation: every entry from `N(0, 1)`.
    pub fn init<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        Init::Normal { std_dev: 1.0 }.fill(self.weight.values_mut(), 0, 0, rng);
    }

    /// The token id held by `v`.
    ///
    /// # Panics
    /// If `v` is not an integer in `0 .. V`.
    #[inline]
    fn token(v: T) -> usize {
        let id = v.as_f64();
        assert!(
            id >= 0.0 && id < S::VOCAB as f64 && (id as usize) as f64 == id,
            "token id {id} is not an integer below the vocabulary size {}",
            S::VOCAB
        );
        id as usize
    }

    /// `y[t] = weight[x[t]]` for every step of every sample.
    fn lookup(&self, x: &[T], y: &mut [T]) {
        const { check_shape::<S>() };
        let (e, table) = (S::DIM, self.weight.values());
        for (&v, out) in x.iter().zip(y.chunks_exact_mut(e)) {
            out.copy_from_slice(&table[Self::token(v) * e..][..e]);
        }
    }
}

impl<T: Float, S: EmbeddingShape, const B: usize> Layer<T, B> for Embedding<T, S> {
    type Input = S::Input<T, B>;
    type Output = S::Output<T, B>;
    type Inference = Value<S::Output<T, B>>;
    type Training = Buffers<S::Output<T, B>>;

    fn forward(&self, x: &Self::Input, ws: &mut Self::Inference) {
        self.lookup(x.values(), ws.value.values_mut());
    }

    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        _: usize,
        _: &mut R,
    ) {
        self.lookup(x.values(), tw.value.values_mut());
    }

    /// Scatters the output gradients into the rows of the ids read.
    fn backward(
        &self,
        x: &Self::Input,
        tw: &mut Self::Training,
        grads: Option<&mut Self>,
        dx: Option<(&mut Self::Input, Store)>,
        _: usize,
    ) {
        if let Some(grads) = grads {
            let (e, table) = (S::DIM, grads.weight.values_mut());
            table.fill(T::zero());
            for (&v, g) in x.values().iter().zip(tw.grad.values().chunks_exact(e)) {
                let row = &mut table[Self::token(v) * e..][..e];
                row.iter_mut().zip(g).for_each(|(r, &g)| *r += g);
            }
        }
        if let Some((dx, Store::Overwrite)) = dx {
            dx.values_mut().fill(T::zero());
        }
    }
}

impl<T: Float, S: EmbeddingShape> Parameters<T> for Embedding<T, S> {
    const TENSORS: &'static [TensorInfo] = &[TensorInfo {
        name: "weight",
        shape: &[S::VOCAB, S::DIM],
        role: Role::Weight,
        layout: Layout::RowMajor,
    }];

    fn tensor(&self, index: usize) -> &[T] {
        match index {
            0 => self.weight.values(),
            _ => panic!("`Embedding` has 1 tensor, not {}", index + 1),
        }
    }

    fn tensor_mut(&mut self, index: usize) -> &mut [T] {
        match index {
            0 => self.weight.values_mut(),
            _ => panic!("`Embedding` has 1 tensor, not {}", index + 1),
        }
    }
}

/// Trained as a whole: its gradients have its own type.
impl<T: Float, S: EmbeddingShape> crate::params::Trainable<T> for Embedding<T, S> {
    type Grads = Self;
    fn trainable_mut(&mut self, index: usize) -> &mut [T] {
        self.tensor_mut(index)
    }
}
