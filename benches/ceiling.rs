//! The machine's one-core `f32` ceiling, against which the speed table's percentages are
//! stated: 12 independent chains of fused multiply-adds on the widest vectors the CPU has
//! (AVX-512 or AVX2+FMA), enough to hide the instruction's latency.
//!
//! ```sh
//! cargo bench --bench ceiling
//! ```
//!
//! Criterion reports the time of 24,000 FMAs; the ceiling is `24,000 · 2 · lanes / time`
//! (printed once, from the best of 200 runs, before timing).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Instant;

const CHAINS: usize = 24;
const ROUNDS: usize = 1000;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{CHAINS, ROUNDS};
    use std::arch::x86_64::*;

    /// `ROUNDS · CHAINS` 16-lane FMAs, the chains in registers (written out: an array of
    /// accumulators may live in memory, and then stores bound the loop).
    #[target_feature(enable = "avx512f")]
    pub fn avx512(seed: f32) -> f32 {
        let (a, b) = (_mm512_set1_ps(0.999_99), _mm512_set1_ps(1e-6));
        let s = _mm512_set1_ps(seed);
        let (mut c0, mut c1, mut c2, mut c3, mut c4, mut c5) = (s, s, s, s, s, s);
        let (mut c6, mut c7, mut c8, mut c9, mut c10, mut c11) = (s, s, s, s, s, s);
        for _ in 0..ROUNDS * CHAINS / 12 {
            c0 = _mm512_fmadd_ps(c0, a, b);
            c1 = _mm512_fmadd_ps(c1, a, b);
            c2 = _mm512_fmadd_ps(c2, a, b);
            c3 = _mm512_fmadd_ps(c3, a, b);
            c4 = _mm512_fmadd_ps(c4, a, b);
            c5 = _mm512_fmadd_ps(c5, a, b);
            c6 = _mm512_fmadd_ps(c6, a, b);
            c7 = _mm512_fmadd_ps(c7, a, b);
            c8 = _mm512_fmadd_ps(c8, a, b);
            c9 = _mm512_fmadd_ps(c9, a, b);
            c10 = _mm512_fmadd_ps(c10, a, b);
            c11 = _mm512_fmadd_ps(c11, a, b);
        }
        [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11].iter().map(|&v| _mm512_reduce_add_ps(v)).sum()
    }

    /// `ROUNDS · CHAINS` 8-lane FMAs, likewise.
    #[target_feature(enable = "avx2,fma")]
    pub fn avx2(seed: f32) -> f32 {
        let (a, b) = (_mm256_set1_ps(0.999_99), _mm256_set1_ps(1e-6));
        let s = _mm256_set1_ps(seed);
        let (mut c0, mut c1, mut c2, mut c3, mut c4, mut c5) = (s, s, s, s, s, s);
        let (mut c6, mut c7, mut c8, mut c9, mut c10, mut c11) = (s, s, s, s, s, s);
        for _ in 0..ROUNDS * CHAINS / 12 {
            c0 = _mm256_fmadd_ps(c0, a, b);
            c1 = _mm256_fmadd_ps(c1, a, b);
            c2 = _mm256_fmadd_ps(c2, a, b);
            c3 = _mm256_fmadd_ps(c3, a, b);
            c4 = _mm256_fmadd_ps(c4, a, b);
            c5 = _mm256_fmadd_ps(c5, a, b);
            c6 = _mm256_fmadd_ps(c6, a, b);
            c7 = _mm256_fmadd_ps(c7, a, b);
            c8 = _mm256_fmadd_ps(c8, a, b);
            c9 = _mm256_fmadd_ps(c9, a, b);
            c10 = _mm256_fmadd_ps(c10, a, b);
            c11 = _mm256_fmadd_ps(c11, a, b);
        }
        let mut lanes = [0.0f32; 8];
        let mut total = 0.0;
        for v in [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11] {
            // SAFETY: `lanes` holds 8 floats.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), v) };
            total += lanes.iter().sum::<f32>();
        }
        total
    }
}

/// A kernel: `ROUNDS · CHAINS` FMAs from a seed.
type Kernel = fn(f32) -> f32;

/// The widest FMA kernel this CPU runs, and its lanes.
fn kernel() -> Option<(Kernel, usize)> {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            return Some((|s| unsafe { x86::avx512(s) }, 16));
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA.
            return Some((|s| unsafe { x86::avx2(s) }, 8));
        }
    }
    None
}

fn ceiling(c: &mut Criterion) {
    let Some((fma, lanes)) = kernel() else {
        eprintln!("no AVX2/AVX-512 FMA on this CPU: no ceiling to measure");
        return;
    };
    let flops = (CHAINS * ROUNDS * 2 * lanes) as f64;
    let mut best = f64::INFINITY;
    for _ in 0..200 {
        let start = Instant::now();
        black_box(fma(black_box(1.0)));
        best = best.min(start.elapsed().as_secs_f64());
    }
    eprintln!("one-core f32 FMA ceiling: {:.0} GFLOP/s ({lanes} lanes)", flops / best / 1e9);
    c.bench_function("ceiling: 24,000 FMAs in 12 chains", |b| b.iter(|| fma(black_box(1.0))));
}

criterion_group!(benches, ceiling);
criterion_main!(benches);
