//! Recurrent layers: the tanh RNN, the GRU and the LSTM, with PyTorch's parameters, gate
//! order and GRU form, run over a fixed number of steps and backpropagated through time.
//!
//! # Sequences
//! A batch of sequences of `T` steps of `F` features is a `(T·F, B)` matrix like every other
//! value in sinew: one column per sample, and within a column the steps one after the
//! other, each step's `F` features together (`x[t·F + f]`). That is PyTorch's
//! `(batch, T, features)` (`batch_first=True`) with each sample flattened, so a column is a
//! row of PyTorch's tensor. Seen as an `(F, B·T)` matrix, column `b·T + t` is sample `b`'s
//! step `t`: the input projections of every step of every sample are one matrix product.
//!
//! Inside the layer the states are kept time-major (`(H, T·B)`, column `t·B + b`), so that the
//! states of one step are a contiguous `(H, B)` block for the recurrent product.

use super::{Element, Layer, Shape, Store, Values};
use crate::Float;
use crate::init::Init;
use crate::linalg::{Gemm, Op, gemm};
use crate::params::{Layout, Parameters, Role, TensorInfo};
use bytemuck::Zeroable;
use rand_core::Rng;

/// The kind of recurrent cell, with PyTorch's gate order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`: PyTorch's `nn.RNN`, one gate.
    Rnn,
    /// PyTorch's `nn.GRU`, gates `r, z, n`:
    /// `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h + b_hz)`,
    /// `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`.
    Gru,
    /// PyTorch's `nn.LSTM`, gates `i, f, g, o` (each `act(W_i* x + b_i* + W_h* h + b_h*)`,
    /// `g` with tanh, the others with σ): `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`.
    Lstm,
}

impl Cell {
    /// Gates per hidden unit: the `G` in PyTorch's `(G·H, F)` weights.
    pub const fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Gru => 3,
            Cell::Lstm => 4,
        }
    }

    /// Rows per hidden unit of the per-step values a training pass keeps besides the
    /// gates: the GRU's `W_hn h + b_hn`, the LSTM's cell state `c`; none for the RNN.
    pub const fn extra(self) -> usize {
        match self {
            Cell::Rnn => 0,
            Cell::Gru | Cell::Lstm => 1,
        }
    }
}

/// The shape and settings of a [`Recurrent`] layer: its cell, `STEPS` steps of `FEATURES`
/// features in (`IN = T·F`), `HIDDEN` units, and either every step's state out
/// (`EVERY_STEP`, many-to-many: `OUT = T·H`) or the last step's (many-to-one: `OUT = H`).
/// `network!` writes one per layer; the storage types are matrices of the sizes their docs
/// give, with `G = CELL.gates()`.
pub trait RecurrentShape: Shape {
    /// The cell.
    const CELL: Cell;
    /// `T`, the steps.
    const STEPS: usize;
    /// `F`, the features per step.
    const FEATURES: usize;
    /// `H`, the hidden units.
    const HIDDEN: usize;
    /// Every step's state out, or only the last one's.
    const EVERY_STEP: bool;
    /// `W_ih`, PyTorch's `(G·H, F)` row-major, stored as an `(F, G·H)` matrix.
    type WeightIh<E: Element>: Values<E>;
    /// `W_hh`, PyTorch's `(G·H, H)` row-major, stored as an `(H, G·H)` matrix.
    type WeightHh<E: Element>: Values<E>;
    /// `b_ih` or `b_hh`, `(G·H, 1)`.
    type Bias<E: Element>: Values<E>;
    /// Per-step values of the whole batch, `(G·H, T·B)`: input projections, then their
    /// gradients; the gates.
    type Gates<E: Element, const B: usize>: Values<E>;
    /// Per-step states of the whole batch, `(H, T·B)`, time-major.
    type States<E: Element, const B: usize>: Values<E>;
    /// The cell's extra per-step values, `(H·CELL.extra(), T·B)`.
    type Extra<E: Element, const B: usize>: Values<E>;
    /// One step of the batch's gate values, `(G·H, B)`.
    type Step<E: Element, const B: usize>: Values<E>;
    /// One step of the batch's states, `(H, B)`.
    type State<E: Element, const B: usize>: Values<E>;
}

/// Checks, once per shape type, that its sizes agree.
const fn check_shape<S: RecurrentShape>() {
    let (t, f, h, g) = (S::STEPS, S::FEATURES, S::HIDDEN, S::CELL.gates());
    assert!(t > 0 && f > 0 && h > 0, "RecurrentShape: sizes must be positive");
    assert!(S::IN == t * f, "RecurrentShape: IN must be STEPS · FEATURES");
    assert!(
        S::OUT == if S::EVERY_STEP { t * h } else { h },
        "RecurrentShape: OUT must be STEPS · HIDDEN or HIDDEN"
    );
    assert!(
        size_of::<S::WeightIh<u8>>() == g * h * f
            && size_of::<S::WeightHh<u8>>() == g * h * h
            && size_of::<S::Bias<u8>>() == g * h,
        "RecurrentShape: parameter sizes disagree"
    );
    assert!(
        size_of::<S::Gates<u8, 1>>() == g * h * t
            && size_of::<S::States<u8, 1>>() == h * t
            && size_of::<S::Extra<u8, 1>>() == h * t * S::CELL.extra()
            && size_of::<S::Step<u8, 1>>() == g * h
            && size_of::<S::State<u8, 1>>() == h,
        "RecurrentShape: buffer sizes disagree"
    );
}

/// A recurrent layer, PyTorch's `nn.RNN` (tanh), `nn.GRU` or `nn.LSTM` with one layer and
/// `batch_first=True`, run over `T` steps from a zero state. Its cell and sizes are those
/// of its [`RecurrentShape`] `S`.
///
/// # Shapes
/// - `weight_ih`: PyTorch's `(G·H, F)`; `weight_hh`: `(G·H, H)`; `bias_ih`, `bias_hh`:
///   `(G·H)`, both used as PyTorch does. Gate rows in PyTorch's order (`r, z, n` for the GRU,
///   `i, f, g, o` for the LSTM).
/// - input `(T·F, B)`, output `(T·H, B)` (every step) or `(H, B)` (the last step); see the
///   `Sequences` below for the layout.
///
/// # Sequences
/// A batch of sequences of `T` steps of `F` features is a `(T·F, B)` matrix like every other
/// value in sinew: one column per sample, and within a column the steps one after the
/// other, each step's `F` features together (`x[t·F + f]`). That is PyTorch's
/// `(batch, T, features)` (`batch_first=True`) with each sample flattened: a column holds
/// the bytes of a row of PyTorch's tensor. Seen as an `(F, B·T)` matrix, column `b·T + t`
/// is sample `b`'s step `t`, so the input projections of every step of every sample are one
/// matrix product. Inside the layer the states are kept time-major (`(H, T·B)`, column
/// `t·B + b`), so that one step's states are a contiguous `(H, B)` block for the recurrent
/// product.
///
/// # Backward
/// Through time: from the last step to the first, the gradient reaching each step's state
/// (from the output, and from the next step) goes through the cell's gates; the weight
/// gradients are summed over the steps, and the input projections' gradients of every
/// step give `dW_ih` and `dL/dx` in one product each.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float, S: RecurrentShape")]
pub struct Recurrent<T: Float, S: RecurrentShape> {
    /// `W_ih`.
    pub weight_ih: S::WeightIh<T>,
    /// `W_hh`.
    pub weight_hh: S::WeightHh<T>,
    /// `b_ih`.
    pub bias_ih: S::Bias<T>,
    /// `b_hh`.
    pub bias_hh: S::Bias<T>,
}

/// The buffers of a [`Recurrent`] layer, at inference and in training: its output `Y` and
/// its gradient, the input projections (then their gradients) and gates of every step
/// `P`, the states `S`, the cell's extra values `X`, and one step's scratch `Q` (gates)
/// and `H` (states). At inference the gates and the gradients are not kept (`G` and `Y2`
/// are then `()`).
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(
    bound = "Y: Zeroable, Y2: Zeroable, P: Zeroable, G: Zeroable, S: Zeroable, X: Zeroable, Q: Zeroable, H: Zeroable"
)]
pub struct RecurrentBuffers<Y, Y2, P, G, S, X, Q, H> {
    /// The layer's output.
    pub value: Y,
    /// The gradient with respect to the output (training only).
    pub grad: Y2,
    /// Input projections `W_ih x + b_ih` of every step, `(G·H, B·T)` in the input's column
    /// order; their gradients after backward.
    pub inputs: P,
    /// The gates of every step, `(G·H, T·B)` (training only).
    pub gates: G,
    /// The state after every step, `(H, T·B)`, time-major.
    pub states: S,
    /// The GRU's `W_hn h + b_hn` or the LSTM's cell state of every step, `(H, T·B)`.
    pub extra: X,
    /// One step's recurrent projections, then their gradients, `(G·H, B)`.
    pub step: Q,
    /// The gradient reaching one step's state, `(H, B)`.
    pub dh: H,
    /// The gradient reaching one step's cell state (LSTM), `(H, B)`.
    pub dc: H,
}

/// σ(v).
#[inline(always)]
fn sigmoid<T: Float>(v: T) -> T {
    T::one() / (T::one() + (-v).exp())
}

impl<T: Float, S: RecurrentShape> Recurrent<T, S> {
    const GH: usize = S::CELL.gates() * S::HIDDEN;

    /// All weights and biases zero.
    pub fn zeroed() -> Self {
        Zeroable::zeroed()
    }

    /// PyTorch's initialisation: every weight and bias uniform on `[−1/√H, 1/√H]`.
    pub fn init<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let bound = 1.0 / nalgebra::ComplexField::sqrt(S::HIDDEN as f64);
        for values in [self.weight_ih.values_mut(), self.weight_hh.values_mut()] {
            Init::Uniform { bound }.fill(values, 0, 0, rng);
        }
        for values in [self.bias_ih.values_mut(), self.bias_hh.values_mut()] {
            Init::Uniform { bound }.fill(values, 0, 0, rng);
        }
    }

    /// The forward pass over every step: `x` is the `(T·F, B)` input, `b` the batch size.
    /// Fills `inputs`, `states`, `extra`, the output `value` and, when given, `gates`.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        b: usize,
        x: &[T],
        inputs: &mut [T],
        mut gates: Option<&mut [T]>,
        states: &mut [T],
        extra: &mut [T],
        step: &mut [T],
        value: &mut [T],
    ) {
        const { check_shape::<S>() };
        let (t_max, f, h, gh) = (S::STEPS, S::FEATURES, S::HIDDEN, Self::GH);
        // Every step's input projection at once: (G·H, F)·(F, B·T).
        let desc = Gemm { m: gh, n: b * t_max, k: f, a: Op::T, b: Op::N, accumulate: false };
        gemm(desc, self.weight_ih.values(), x, inputs);
        let bias_ih = self.bias_ih.values();
        for column in inputs.chunks_exact_mut(gh) {
            column.iter_mut().zip(bias_ih).for_each(|(v, &bias)| *v += bias);
        }
        let bias_hh = self.bias_hh.values();
        for t in 0..t_max {
            // The recurrent projection of the previous state: (G·H, H)·(H, B) + b_hh.
            for column in step.chunks_exact_mut(gh) {
                column.copy_from_slice(bias_hh);
            }
            let (before, now) = states.split_at_mut(t * h * b);
            if t > 0 {
                let desc = Gemm { m: gh, n: b, k: h, a: Op::T, b: Op::N, accumulate: true };
                gemm(desc, self.weight_hh.values(), &before[(t - 1) * h * b..], step);
            }
            let now = &mut now[..h * b];
            let (extra_before, extra_now) = extra.split_at_mut(t * h * b * S::CELL.extra());
            for s in 0..b {
                let pi = &inputs[(s * t_max + t) * gh..][..gh];
                let ph = &step[s * gh..][..gh];
                let previous = (t > 0).then(|| &before[((t - 1) * b + s) * h..][..h]);
                let state = &mut now[s * h..][..h];
                let gate = gates.as_deref_mut().map(|g| &mut g[(t * b + s) * gh..][..gh]);
                let old_cell =
                    (t > 0 && S::CELL == Cell::Lstm).then(|| &extra_before[((t - 1) * b + s) * h..][..h]);
                let extra = &mut extra_now[s * h * S::CELL.extra()..][..h * S::CELL.extra()];
                Self::cell(pi, ph, previous, old_cell, state, extra, gate);
                if S::EVERY_STEP {
                    value[(s * t_max + t) * h..][..h].copy_from_slice(state);
                } else if t + 1 == t_max {
                    value[s * h..][..h].copy_from_slice(state);
                }
            }
        }
    }

    /// One step of one sample: the new state into `state` from the input projection `pi`
    /// (`W_ih x + b_ih`) and the recurrent one `ph` (`W_hh h + b_hh`), given the previous
    /// state (`None`: zero) and, for the LSTM, the previous cell state. `extra` receives
    /// the GRU's `W_hn h + b_hn` or the LSTM's new cell state (empty for the RNN), `gate`
    /// (when given) the gate values backward needs.
    #[inline(always)]
    fn cell(
        pi: &[T],
        ph: &[T],
        previous: Option<&[T]>,
        old_cell: Option<&[T]>,
        state: &mut [T],
        extra: &mut [T],
        mut gate: Option<&mut [T]>,
    ) {
        let h = S::HIDDEN;
        match S::CELL {
            Cell::Rnn => {
                for u in 0..h {
                    state[u] = (pi[u] + ph[u]).tanh();
                }
                if let Some(g) = gate {
                    g.copy_from_slice(state);
                }
            }
            Cell::Gru => {
                for u in 0..h {
                    let r = sigmoid(pi[u] + ph[u]);
                    let z = sigmoid(pi[h + u] + ph[h + u]);
                    let n = (pi[2 * h + u] + r * ph[2 * h + u]).tanh();
                    let old = previous.map_or(T::zero(), |p| p[u]);
                    state[u] = (T::one() - z) * n + z * old;
                    extra[u] = ph[2 * h + u];
                    if let Some(g) = gate.as_deref_mut() {
                        (g[u], g[h + u], g[2 * h + u]) = (r, z, n);
                    }
                }
            }
            Cell::Lstm => {
                for u in 0..h {
                    let i = sigmoid(pi[u] + ph[u]);
                    let fg = sigmoid(pi[h + u] + ph[h + u]);
                    let g = (pi[2 * h + u] + ph[2 * h + u]).tanh();
                    let o = sigmoid(pi[3 * h + u] + ph[3 * h + u]);
                    let c = fg * old_cell.map_or(T::zero(), |c| c[u]) + i * g;
                    extra[u] = c;
                    state[u] = o * c.tanh();
                    if let Some(gv) = gate.as_deref_mut() {
                        (gv[u], gv[h + u], gv[2 * h + u], gv[3 * h + u]) = (i, fg, g, o);
                    }
                }
            }
        }
    }

    /// One step for one sample, carrying the state: for generating a sequence one step at
    /// a time (a character model sampling its next character). `x` is the step's `F`
    /// features; `state` the `H` values of the state (zero before the first step), and for
    /// the LSTM `cell` its `H` cell values (unused otherwise); both are updated in place.
    /// `gates` holds `2·G·H` values of scratch and `states` `3·H`. Allocates nothing; the
    /// same arithmetic as [`Layer::forward`], step by step.
    ///
    /// # Panics
    /// If the slices do not have those sizes.
    pub fn step(&self, x: &[T], state: &mut [T], cell: &mut [T], gates: &mut [T], states: &mut [T]) {
        const { check_shape::<S>() };
        let (f, h, gh) = (S::FEATURES, S::HIDDEN, Self::GH);
        assert!(
            x.len() == f
                && state.len() == h
                && cell.len() == h
                && gates.len() == 2 * gh
                && states.len() == 3 * h,
            "Recurrent::step: {f} features, {h} state values, {h} cell values, {} and {} scratch values",
            2 * gh,
            3 * h
        );
        let (pi, ph) = gates.split_at_mut(gh);
        let (previous, rest) = states.split_at_mut(h);
        let (old_cell, extra) = rest.split_at_mut(h);
        pi.copy_from_slice(self.bias_ih.values());
        gemm(
            Gemm { m: gh, n: 1, k: f, a: Op::T, b: Op::N, accumulate: true },
            self.weight_ih.values(),
            x,
            pi,
        );
        ph.copy_from_slice(self.bias_hh.values());
        gemm(
            Gemm { m: gh, n: 1, k: h, a: Op::T, b: Op::N, accumulate: true },
            self.weight_hh.values(),
            state,
            ph,
        );
        previous.copy_from_slice(state);
        old_cell.copy_from_slice(cell);
        let extra = &mut extra[..h * S::CELL.extra()];
        Self::cell(pi, ph, Some(previous), Some(old_cell), state, extra, None);
        if S::CELL == Cell::Lstm {
            cell.copy_from_slice(extra);
        }
    }
}

/// Training buffers of a recurrent layer with shape `S` on batches of `B`.
pub type RecurrentTraining<T, S, const B: usize> = RecurrentBuffers<
    <S as Shape>::Output<T, B>,
    <S as Shape>::Output<T, B>,
    <S as RecurrentShape>::Gates<T, B>,
    <S as RecurrentShape>::Gates<T, B>,
    <S as RecurrentShape>::States<T, B>,
    <S as RecurrentShape>::Extra<T, B>,
    <S as RecurrentShape>::Step<T, B>,
    <S as RecurrentShape>::State<T, B>,
>;

/// Inference buffers of a recurrent layer with shape `S` on batches of `B`.
pub type RecurrentInference<T, S, const B: usize> = RecurrentBuffers<
    <S as Shape>::Output<T, B>,
    (),
    <S as RecurrentShape>::Gates<T, B>,
    (),
    <S as RecurrentShape>::States<T, B>,
    <S as RecurrentShape>::Extra<T, B>,
    <S as RecurrentShape>::Step<T, B>,
    (),
>;

impl<T: Float, S: RecurrentShape, const B: usize> Layer<T, B> for Recurrent<T, S> {
    type Input = S::Input<T, B>;
    type Output = S::Output<T, B>;
    type Inference = RecurrentInference<T, S, B>;
    type Training = RecurrentTraining<T, S, B>;

    fn forward(&self, x: &Self::Input, ws: &mut Self::Inference) {
        self.run(
            B,
            x.values(),
            ws.inputs.values_mut(),
            None,
            ws.states.values_mut(),
            ws.extra.values_mut(),
            ws.step.values_mut(),
            ws.value.values_mut(),
        );
    }

    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        _: usize,
        _: &mut R,
    ) {
        self.run(
            B,
            x.values(),
            tw.inputs.values_mut(),
            Some(tw.gates.values_mut()),
            tw.states.values_mut(),
            tw.extra.values_mut(),
            tw.step.values_mut(),
            tw.value.values_mut(),
        );
    }

    /// Backpropagation through time (see [`Recurrent`]).
    fn backward(
        &self,
        x: &Self::Input,
        tw: &mut Self::Training,
        mut grads: Option<&mut Self>,
        dx: Option<(&mut Self::Input, Store)>,
        _: usize,
    ) {
        let (t_max, f, h, gh, b) = (S::STEPS, S::FEATURES, S::HIDDEN, Self::GH, B);
        let grad = tw.grad.values();
        let (gates, states, extra) = (tw.gates.values(), tw.states.values(), tw.extra.values());
        let dpre_i = tw.inputs.values_mut();
        let dpre_h = tw.step.values_mut();
        let (dh, dc) = (tw.dh.values_mut(), tw.dc.values_mut());
        dh.fill(T::zero());
        dc.fill(T::zero());
        if let Some(grads) = grads.as_deref_mut() {
            for values in [grads.weight_hh.values_mut(), grads.bias_hh.values_mut()] {
                values.fill(T::zero());
            }
        }
        for t in (0..t_max).rev() {
            for s in 0..b {
                let out = if S::EVERY_STEP {
                    Some(&grad[(s * t_max + t) * h..][..h])
                } else {
                    (t + 1 == t_max).then(|| &grad[s * h..][..h])
                };
                let dh_s = &mut dh[s * h..][..h];
                if let Some(out) = out {
                    dh_s.iter_mut().zip(out).for_each(|(d, &g)| *d += g);
                }
                let gate = &gates[(t * b + s) * gh..][..gh];
                let previous = (t > 0).then(|| &states[((t - 1) * b + s) * h..][..h]);
                let pi = &mut dpre_i[(s * t_max + t) * gh..][..gh];
                let ph = &mut dpre_h[s * gh..][..gh];
                match S::CELL {
                    Cell::Rnn => {
                        for u in 0..h {
                            let a = gate[u];
                            let d = dh_s[u] * (T::one() - a * a);
                            (pi[u], ph[u]) = (d, d);
                            dh_s[u] = T::zero();
                        }
                    }
                    Cell::Gru => {
                        let hn = &extra[(t * b + s) * h..][..h];
                        for u in 0..h {
                            let (r, z, n) = (gate[u], gate[h + u], gate[2 * h + u]);
                            let old = previous.map_or(T::zero(), |p| p[u]);
                            let d = dh_s[u];
                            let dn = d * (T::one() - z) * (T::one() - n * n);
                            let dz = d * (old - n) * z * (T::one() - z);
                            let dr = dn * hn[u] * r * (T::one() - r);
                            (pi[u], pi[h + u], pi[2 * h + u]) = (dr, dz, dn);
                            (ph[u], ph[h + u], ph[2 * h + u]) = (dr, dz, dn * r);
                            // The direct path h → h' through z; W_hh's path is added below.
                            dh_s[u] = d * z;
                        }
                    }
                    Cell::Lstm => {
                        let cells = &extra[(t * b + s) * h..][..h];
                        let old_cells = (t > 0).then(|| &extra[((t - 1) * b + s) * h..][..h]);
                        let dc_s = &mut dc[s * h..][..h];
                        for u in 0..h {
                            let (i, fg, g, o) = (gate[u], gate[h + u], gate[2 * h + u], gate[3 * h + u]);
                            let tc = cells[u].tanh();
                            let d = dh_s[u];
                            let dcell = dc_s[u] + d * o * (T::one() - tc * tc);
                            let old_cell = old_cells.map_or(T::zero(), |c| c[u]);
                            let di = dcell * g * i * (T::one() - i);
                            let df = dcell * old_cell * fg * (T::one() - fg);
                            let dg = dcell * i * (T::one() - g * g);
                            let d_o = d * tc * o * (T::one() - o);
                            (pi[u], pi[h + u], pi[2 * h + u], pi[3 * h + u]) = (di, df, dg, d_o);
                            (ph[u], ph[h + u], ph[2 * h + u], ph[3 * h + u]) = (di, df, dg, d_o);
                            dc_s[u] = dcell * fg;
                            dh_s[u] = T::zero();
                        }
                    }
                }
            }
            if let Some(grads) = grads.as_deref_mut() {
                for column in dpre_h.chunks_exact(gh) {
                    grads.bias_hh.values_mut().iter_mut().zip(column).for_each(|(g, &v)| *g += v);
                }
                if t > 0 {
                    // dW_hhᵀ (H, G·H) += h_{t−1} (H, B) · dP_hᵀ (B, G·H).
                    let desc = Gemm { m: h, n: gh, k: b, a: Op::N, b: Op::T, accumulate: true };
                    gemm(desc, &states[(t - 1) * h * b..][..h * b], dpre_h, grads.weight_hh.values_mut());
                }
            }
            if t > 0 {
                // dh_{t−1} += W_hhᵀ (H, G·H) · dP_h (G·H, B).
                let desc = Gemm { m: h, n: b, k: gh, a: Op::N, b: Op::N, accumulate: true };
                gemm(desc, self.weight_hh.values(), dpre_h, dh);
            }
        }
        let dpre_i = tw.inputs.values();
        if let Some(grads) = grads {
            // dW_ihᵀ (F, G·H) = X (F, B·T) · dP_iᵀ (B·T, G·H).
            let desc = Gemm { m: f, n: gh, k: b * t_max, a: Op::N, b: Op::T, accumulate: false };
            gemm(desc, x.values(), dpre_i, grads.weight_ih.values_mut());
            let bias = grads.bias_ih.values_mut();
            bias.fill(T::zero());
            for column in dpre_i.chunks_exact(gh) {
                bias.iter_mut().zip(column).for_each(|(g, &v)| *g += v);
            }
        }
        if let Some((dx, store)) = dx {
            // dX (F, B·T) = W_ihᵀ · dP_i.
            let desc =
                Gemm { m: f, n: b * t_max, k: gh, a: Op::N, b: Op::N, accumulate: store == Store::Add };
            gemm(desc, self.weight_ih.values(), dpre_i, dx.values_mut());
        }
    }
}

impl<T: Float, S: RecurrentShape> Parameters<T> for Recurrent<T, S> {
    const TENSORS: &'static [TensorInfo] = &[
        TensorInfo {
            name: "weight_ih_l0",
            shape: &[S::CELL.gates() * S::HIDDEN, S::FEATURES],
            role: Role::Weight,
            layout: Layout::RowMajor,
        },
        TensorInfo {
            name: "weight_hh_l0",
            shape: &[S::CELL.gates() * S::HIDDEN, S::HIDDEN],
            role: Role::Weight,
            layout: Layout::RowMajor,
        },
        TensorInfo {
            name: "bias_ih_l0",
            shape: &[S::CELL.gates() * S::HIDDEN],
            role: Role::Bias,
            layout: Layout::RowMajor,
        },
        TensorInfo {
            name: "bias_hh_l0",
            shape: &[S::CELL.gates() * S::HIDDEN],
            role: Role::Bias,
            layout: Layout::RowMajor,
        },
    ];

    fn tensor(&self, index: usize) -> &[T] {
        match index {
            0 => self.weight_ih.values(),
            1 => self.weight_hh.values(),
            2 => self.bias_ih.values(),
            3 => self.bias_hh.values(),
            _ => panic!("a recurrent layer has 4 tensors, not {}", index + 1),
        }
    }

    fn tensor_mut(&mut self, index: usize) -> &mut [T] {
        match index {
            0 => self.weight_ih.values_mut(),
            1 => self.weight_hh.values_mut(),
            2 => self.bias_ih.values_mut(),
            3 => self.bias_hh.values_mut(),
            _ => panic!("a recurrent layer has 4 tensors, not {}", index + 1),
        }
    }
}

/// Trained as a whole: its gradients have its own type.
impl<T: Float, S: RecurrentShape> crate::params::Trainable<T> for Recurrent<T, S> {
    type Grads = Self;
    fn trainable_mut(&mut self, index: usize) -> &mut [T] {
        self.tensor_mut(index)
    }
}
