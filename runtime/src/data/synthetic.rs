//! Seeded synthetic tasks built from MNIST digits, shared by the examples and the tests:
//! localization canvases (is there a digit, where, which) and two-digit segmentation
//! canvases (which digit, or background, at every pixel).
//!
//! Both take digits as the IDX loader gives them: 28 x 28 pixels in `[0, 1]`, row-major,
//! ink bright. A pixel above [`INK`] is ink.

use super::{DataError, Dataset, below};
use crate::Float;
use rand_core::Rng;
use std::vec::Vec;

/// The ink threshold: a pixel above it belongs to the digit.
pub const INK: f64 = 0.3;
/// The side of a digit.
const SIDE: usize = 28;

/// A localization target: whether a digit is on the canvas, the tight box of its ink pixels
/// (corners `[x1, y1, x2, y2]` normalised to the canvas, `x2`/`y2` one past the last ink
/// pixel), and its class. The batch a loss sees is 6 rows per sample: presence (1 or 0), the
/// box, the class (0 and an empty box when absent).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Localization {
    /// Whether a digit is on the canvas.
    pub present: bool,
    /// Its ink's tight box, normalised to the canvas (zero when absent).
    pub bbox: [f64; 4],
    /// Its class (0 when absent).
    pub class: usize,
}

impl<T: Float> super::Target<T> for Localization {
    type Batch<const B: usize> = nalgebra::SMatrix<T, 6, B>;

    fn put<const B: usize>(&self, batch: &mut Self::Batch<B>, column: usize) {
        let values = [
            if self.present { 1.0 } else { 0.0 },
            self.bbox[0],
            self.bbox[1],
            self.bbox[2],
            self.bbox[3],
            self.class as f64,
        ];
        for (r, v) in values.into_iter().enumerate() {
            batch[(r, column)] = T::cast(v);
        }
    }

    /// The digit's class when there is one.
    fn class(&self) -> Option<usize> {
        self.present.then_some(self.class)
    }
}

/// The tight box of the ink of a 28 x 28 digit pasted at `(top, left)` on a canvas `h x w`,
/// normalised to the canvas; `None` if the digit has no ink.
fn ink_box<T: Float>(digit: &[T], top: usize, left: usize, h: usize, w: usize) -> Option<[f64; 4]> {
    let (mut x1, mut y1, mut x2, mut y2) = (usize::MAX, usize::MAX, 0, 0);
    for (i, &v) in digit.iter().enumerate() {
        if v.as_f64() > INK {
            let (y, x) = (i / SIDE, i % SIDE);
            (x1, y1, x2, y2) = (x1.min(x), y1.min(y), x2.max(x + 1), y2.max(y + 1));
        }
    }
    (x1 != usize::MAX).then(|| {
        [
            (left + x1) as f64 / w as f64,
            (top + y1) as f64 / h as f64,
            (left + x2) as f64 / w as f64,
            (top + y2) as f64 / h as f64,
        ]
    })
}

/// `count` localization canvases of 40 x 40 pixels (1,600 features, row-major): with
/// probability 0.8 one digit of `digits`, drawn at random, pasted at a random offset; the
/// rest empty. Seeded by `rng`.
///
/// # Errors
/// [`DataError::NoSamples`] if `digits` is empty.
pub fn localization<T: Float, R: Rng + ?Sized>(
    digits: &Dataset<T, 784, usize>,
    count: usize,
    rng: &mut R,
) -> Result<Dataset<T, 1600, Localization>, DataError> {
    const H: usize = 40;
    if digits.is_empty() {
        return Err(DataError::NoSamples { what: "drawing localization canvases" });
    }
    let mut samples = Vec::with_capacity(count);
    let mut targets = Vec::with_capacity(count);
    for _ in 0..count {
        let mut canvas = [T::zero(); H * H];
        let mut target = Localization { present: false, bbox: [0.0; 4], class: 0 };
        if below(rng, 10) < 8 {
            let k = below(rng, digits.len());
            let (top, left) = (below(rng, H - SIDE + 1), below(rng, H - SIDE + 1));
            let digit = &digits.samples()[k];
            for r in 0..SIDE {
                canvas[(top + r) * H + left..][..SIDE].copy_from_slice(&digit[r * SIDE..][..SIDE]);
            }
            if let Some(bbox) = ink_box(digit, top, left, H, H) {
                target = Localization { present: true, bbox, class: digits.targets()[k] };
            }
        }
        samples.push(canvas);
        targets.push(target);
    }
    Dataset::new(samples, targets)
}

/// `count` segmentation canvases of 32 x 64 pixels (2,048 features, row-major) with two
/// digits of `digits` drawn at random, one in each 32 x 32 half at a random offset (they may
/// touch), and the class of every pixel: 0 for background, the digit's class + 1 for its ink.
/// The targets are `2,048` classes per canvas, for
/// [`PixelCrossEntropy`](crate::loss::PixelCrossEntropy).
///
/// # Errors
/// [`DataError::NoSamples`] if `digits` is empty.
pub fn segmentation<T: Float, R: Rng + ?Sized>(
    digits: &Dataset<T, 784, usize>,
    count: usize,
    rng: &mut R,
) -> Result<Dataset<T, 2048, [T; 2048]>, DataError> {
    const H: usize = 32;
    const W: usize = 64;
    if digits.is_empty() {
        return Err(DataError::NoSamples { what: "drawing segmentation canvases" });
    }
    let mut samples = Vec::with_capacity(count);
    let mut targets = Vec::with_capacity(count);
    for _ in 0..count {
        let mut canvas = [T::zero(); H * W];
        let mut classes = [T::zero(); H * W];
        for half in 0..2 {
            let k = below(rng, digits.len());
            let (top, left) = (below(rng, H - SIDE + 1), half * (W / 2) + below(rng, W / 2 - SIDE + 1));
            let (digit, label) = (&digits.samples()[k], T::cast((digits.targets()[k] + 1) as f64));
            for r in 0..SIDE {
                for c in 0..SIDE {
                    let v = digit[r * SIDE + c];
                    let at = (top + r) * W + left + c;
                    canvas[at] = v;
                    if v.as_f64() > INK {
                        classes[at] = label;
                    }
                }
            }
        }
        samples.push(canvas);
        targets.push(classes);
    }
    Dataset::new(samples, targets)
}
