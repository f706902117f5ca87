//! Data-parallel training steps: a mini-batch cut into fixed chunks, each trained on its
//! own copy of the network in its own workspace on any free core, the gradients reduced in
//! chunk order, one optimizer step.

use crate::data::{Batch, Dataset, Target};
use crate::loss::Loss;
use crate::model::{Model, NonFiniteLoss, TrainsHead};
use crate::optim::Optimizer;
use crate::params::{Parameters, Role};
use crate::{Float, Rng};
use bytemuck::Zeroable;
use rand_core::{Rng as _, SeedableRng};
use rayon::prelude::*;
use std::boxed::Box;
use std::prelude::rust_2024::*;

/// Values per parallel piece of the gradient reduction.
const PIECE: usize = 4096;

/// One chunk's copy of the network, its buffers, its samples and its generator.
struct Slot<T: Float, M: Model<T, IN, OUT>, Y: Target<T>, const IN: usize, const OUT: usize, const C: usize> {
    net: Box<M>,
    tw: Box<M::TrainWorkspace<C>>,
    batch: Box<Batch<T, IN, C, Y>>,
    rng: Rng,
    value: T,
}

/// Training steps on a mini-batch of up to `chunks · C` samples cut into chunks of `C`,
/// the chunks trained in parallel on rayon's current thread pool.
///
/// Each chunk has its own copy of the network and its own training workspace, all made
/// once by [`new`](Self::new). A [`step`](Self::step):
/// 1. draws one seed per chunk from `rng`, in chunk order, for the chunks' dropout masks
///    (only if the network has dropout, [`Model::RANDOM`]: otherwise `rng` is untouched);
/// 2. on any free thread, copies the network into each chunk's copy and runs the training
///    forward pass, the loss gradient and the backward pass on the chunk (`L_j`, the mean
///    loss over its `n_j` samples);
/// 3. reduces in chunk order, whatever the thread that ran a chunk:
///    `g = Σ_j (n_j / n) ∇L_j`, the gradient of the mean loss over the `n = Σ n_j` samples,
///    and the loss `L = Σ_j (n_j / n) L_j`;
/// 4. sets batch norm's running statistics to `Σ_j (n_j / n) r_j`, where `r_j` is the
///    chunk's update of the statistics the step started from;
/// 5. steps the optimizer once.
///
/// So the weights after any number of steps are bit for bit the same on 1, 2 or 16
/// threads: the chunks, their generators and the order of every sum depend only on `C`
/// and the data. For networks whose samples do not interact (no batch norm), the step is
/// the whole-batch step up to rounding; with batch norm each chunk is normalised with its
/// own statistics, as PyTorch's `DistributedDataParallel` does without `SyncBatchNorm`.
///
/// Nothing is allocated by a step run inside a rayon pool, as [`Fit`](super::Fit) runs its
/// whole loop (`tests/allocations.rs` counts); called from outside one, rayon queues the
/// work for its pool, and that queue may allocate.
///
/// ```
/// use sinew::prelude::*;
/// use sinew::{data::Dataset, train::DataParallel};
///
/// network! {
///     pub struct Xor { input: 2, hidden: Dense(8) -> Tanh, out: Dense(2) }
/// }
///
/// let data = Dataset::<f32, 2>::new(vec![[0., 0.], [0., 1.], [1., 0.], [1., 1.]], vec![0, 1, 1, 0]).unwrap();
/// let mut rng = sinew::rng(1);
/// let mut net = Xor::<f32>::boxed_init(&mut rng);
/// let mut adam = Adam::<f32, Xor>::boxed(AdamConfig::with_lr(0.05));
/// // Batches of 4 in 2 chunks of 2.
/// let mut chunks = DataParallel::<f32, Xor<f32>, usize, 2, 2, 2>::new(2);
/// let first = {
///     chunks.load(&data, &[0, 1, 2, 3]);
///     chunks.step(&mut *net, &SoftmaxCrossEntropy, &mut *adam, &mut rng).unwrap()
/// };
/// for _ in 0..300 {
///     chunks.load(&data, &[0, 1, 2, 3]);
///     chunks.step(&mut *net, &SoftmaxCrossEntropy, &mut *adam, &mut rng).unwrap();
/// }
/// chunks.load(&data, &[0, 1, 2, 3]);
/// let last = chunks.step(&mut *net, &SoftmaxCrossEntropy, &mut *adam, &mut rng).unwrap();
/// assert!(last < 0.1 * first, "{first} -> {last}");
/// ```
pub struct DataParallel<T, M, Y, const IN: usize, const OUT: usize, const C: usize>
where
    T: Float,
    M: Model<T, IN, OUT>,
    Y: Target<T>,
{
    slots: Vec<Slot<T, M, Y, IN, OUT, C>>,
    /// The reduced gradient.
    grads: Box<M::Grads>,
    /// Chunks loaded for the next step.
    loaded: usize,
}

impl<T, M, Y, const IN: usize, const OUT: usize, const C: usize> DataParallel<T, M, Y, IN, OUT, C>
where
    T: Float,
    M: Model<T, IN, OUT> + Zeroable + Send + Sync,
    M::TrainWorkspace<C>: Zeroable + Send + Sync,
    Y: Target<T>,
    Y::Batch<C>: Send + Sync,
{
    /// Buffers for up to `chunks` chunks of `C` samples: per chunk a copy of the network,
    /// a training workspace and a batch.
    ///
    /// # Panics
    /// If `chunks` or `C` is 0.
    pub fn new(chunks: usize) -> Self {
        assert!(chunks > 0 && C > 0, "DataParallel needs at least one chunk of at least one sample");
        let slots = (0..chunks)
            .map(|_| Slot {
                net: bytemuck::zeroed_box(),
                tw: bytemuck::zeroed_box(),
                batch: Batch::boxed(),
                rng: Rng::seed_from_u64(0),
                value: T::zero(),
            })
            .collect();
        Self { slots, grads: bytemuck::zeroed_box(), loaded: 0 }
    }

    /// The number of chunks a step can take.
    pub fn chunks(&self) -> usize {
        self.slots.len()
    }

    /// Loads the samples `indices` of `data` (at most `chunks · C`) for the next step, `C`
    /// to a chunk in order, and returns the number of chunks used.
    ///
    /// # Panics
    /// If `indices` is empty, too long, or holds an index out of range.
    pub fn load(&mut self, data: &Dataset<T, IN, Y>, indices: &[usize]) -> usize {
        assert!(
            !indices.is_empty() && indices.len() <= C * self.slots.len(),
            "DataParallel: {} samples do not fit {} chunks of {C}",
            indices.len(),
            self.slots.len()
        );
        self.loaded = 0;
        for (slot, part) in self.slots.iter_mut().zip(indices.chunks(C)) {
            data.fill_batch(part, &mut slot.batch);
            self.loaded += 1;
        }
        self.loaded
    }

    /// The loaded chunks' batches, in order (to change their inputs, e.g. augmentation).
    pub fn loaded_mut(&mut self) -> impl Iterator<Item = &mut Batch<T, IN, C, Y>> {
        self.slots[..self.loaded].iter_mut().map(|s| &mut *s.batch)
    }

    /// One training step on the loaded chunks (see the type's documentation); returns the
    /// mean loss over their samples. If that loss is not finite, nothing is changed (the
    /// network, its running statistics and the optimizer are as they were) and
    /// [`NonFiniteLoss`] is returned.
    ///
    /// # Panics
    /// If nothing is loaded.
    pub fn step<L, O>(
        &mut self,
        net: &mut M,
        loss: &L,
        optimizer: &mut O,
        rng: &mut Rng,
    ) -> Result<T, NonFiniteLoss>
    where
        L: Loss<T, OUT, C, Y::Batch<C>> + TrainsHead<M::Head> + Sync,
        O: Optimizer<T, M>,
    {
        let k = self.loaded;
        assert!(k > 0, "DataParallel::step: no chunk is loaded");
        if M::RANDOM {
            for slot in &mut self.slots[..k] {
                slot.rng = Rng::seed_from_u64(rng.next_u64());
            }
        }
        let shared: &M = net;
        self.slots[..k].par_iter_mut().with_max_len(1).for_each(|slot| {
            let Slot { net: copy, tw, batch, rng, value } = slot;
            Parameters::copy_from(&mut **copy, shared);
            copy.forward_train_partial(&batch.x, batch.samples, &mut **tw, rng);
            let (output, grad) = M::output_and_grad(tw);
            *value = loss.gradient_partial(output, &batch.y, batch.samples, grad);
            if value.is_finite() {
                copy.backward(&batch.x, tw, None);
            }
        });
        let slots = &self.slots[..k];
        let total: usize = slots.iter().map(|s| s.batch.samples).sum();
        let weight = |s: &Slot<T, M, Y, IN, OUT, C>| T::cast(s.batch.samples as f64 / total as f64);
        let mut value = T::zero();
        for s in slots {
            value += weight(s) * s.value;
        }
        if !value.is_finite() {
            return Err(NonFiniteLoss { value: value.as_f64() });
        }
        // Each value is the same sum in chunk order, whichever thread takes its piece.
        for i in 0..<M::Grads as Parameters<T>>::TENSORS.len() {
            let into = self.grads.tensor_mut(i);
            into.par_chunks_mut(PIECE).enumerate().for_each(|(piece, into)| {
                let at = piece * PIECE;
                let w0 = weight(&slots[0]);
                for (g, &v) in into.iter_mut().zip(&M::gradients(&slots[0].tw).tensor(i)[at..]) {
                    *g = w0 * v;
                }
                for s in &slots[1..] {
                    let w = weight(s);
                    for (g, &v) in into.iter_mut().zip(&M::gradients(&s.tw).tensor(i)[at..]) {
                        *g += w * v;
                    }
                }
            });
        }
        for (i, info) in M::TENSORS.iter().enumerate() {
            if info.role == Role::Buffer {
                let into = net.tensor_mut(i);
                let w0 = weight(&slots[0]);
                for (r, &v) in into.iter_mut().zip(slots[0].net.tensor(i)) {
                    *r = w0 * v;
                }
                for s in &slots[1..] {
                    let w = weight(s);
                    for (r, &v) in into.iter_mut().zip(s.net.tensor(i)) {
                        *r += w * v;
                    }
                }
            }
        }
        optimizer.step(net, &self.grads);
        Ok(value)
    }
}

/// Runs `f` on a rayon pool of `threads` threads (made for the call), or, with `None`, on
/// the pool the caller already runs in, or a new one with a thread per available core.
pub(crate) fn in_pool<R: Send>(threads: Option<usize>, f: impl FnOnce() -> R + Send) -> Result<R, String> {
    if threads.is_none() && rayon::current_thread_index().is_some() {
        return Ok(f());
    }
    let n = match threads {
        Some(0) => return Err("`threads: Some(0)`: at least one thread is needed".into()),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().map_err(|e| e.to_string())?;
    Ok(pool.install(f))
}
