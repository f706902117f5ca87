//! Data augmentation for image batches: seeded random shifts, horizontal flips, scaling, and
//! brightness and contrast changes, applied in place to every training batch by
//! [`Fit`](crate::train::Fit) (its `augment` field) or by hand. Nothing is allocated: the
//! caller gives one image of scratch.

use crate::Float;
use rand_core::Rng;

/// Random changes to images of `shape = [c, h, w]` (channel-major, one column per sample),
/// drawn independently for every image. The geometric ones (shift, scale, flip) move pixels,
/// filling what comes in from outside with `fill`; then brightness and contrast change the
/// values. All off is [`Augment::none`].
///
/// ```
/// use sinew::augment::Augment;
/// let shift = Augment { shift: 1, ..Augment::none([1, 3, 3]) };
/// let image = [0.0_f32, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
/// let (mut x, mut scratch) = (image, [0.0; 9]);
/// shift.image(&mut x, &mut scratch, &mut sinew::rng(3));
/// // The bright pixel moved by at most one pixel on each axis, and nothing else changed.
/// assert_eq!(x.iter().filter(|&&v| v == 1.0).count(), 1);
/// assert_eq!(x.iter().sum::<f32>(), 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    /// Channels, height, width of every image: their product is the input size.
    pub shape: [usize; 3],
    /// The largest shift in pixels, on each axis (uniform in `−shift ..= shift`).
    pub shift: usize,
    /// Mirror left to right with probability ½.
    pub flip: bool,
    /// Scale about the centre by a factor uniform in `[1 − scale, 1 + scale]` (nearest
    /// neighbour), in `[0, 1)`.
    pub scale: f64,
    /// Add to every value a number uniform in `[−brightness, brightness]`.
    pub brightness: f64,
    /// Multiply every value's deviation from the image's mean by a factor uniform in
    /// `[1 − contrast, 1 + contrast]`, in `[0, 1]`.
    pub contrast: f64,
    /// The value of pixels moved in from outside the image (the background: 0 for raw pixels,
    /// `−mean/std` after standardisation).
    pub fill: f64,
}

/// A draw uniform in `[−1, 1]`.
fn signed<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    2.0 * f64::from(rng.next_u32()) / 4_294_967_295.0 - 1.0
}

impl Augment {
    /// Every change off, for images of `shape`.
    pub const fn none(shape: [usize; 3]) -> Self {
        Self { shape, shift: 0, flip: false, scale: 0.0, brightness: 0.0, contrast: 0.0, fill: 0.0 }
    }

    /// Values per image.
    pub const fn image_len(&self) -> usize {
        self.shape[0] * self.shape[1] * self.shape[2]
    }

    /// Whether every change is off.
    pub fn is_none(&self) -> bool {
        self.shift == 0 && !self.flip && self.scale == 0.0 && self.brightness == 0.0 && self.contrast == 0.0
    }

    /// A description of what is wrong with the settings, if anything.
    pub fn invalid(&self) -> Option<&'static str> {
        let finite = [self.scale, self.brightness, self.contrast, self.fill].iter().all(|v| v.is_finite());
        if !finite {
            Some("augmentation settings must be finite numbers")
        } else if !(0.0..1.0).contains(&self.scale) {
            Some("augmentation `scale` must be in [0, 1)")
        } else if !(0.0..=1.0).contains(&self.contrast) || self.brightness < 0.0 {
            Some("augmentation `contrast` must be in [0, 1] and `brightness` at least 0")
        } else if self.image_len() == 0 {
            Some("augmentation needs an image shape of positive sizes")
        } else {
            None
        }
    }

    /// Changes one image in place; `scratch` holds [`image_len`](Self::image_len) values.
    ///
    /// # Panics
    /// If `image` or `scratch` do not hold `len` values.
    pub fn image<T: Float, R: Rng + ?Sized>(&self, image: &mut [T], scratch: &mut [T], rng: &mut R) {
        let [c, h, w] = self.shape;
        assert!(
            image.len() == self.image_len() && scratch.len() == self.image_len(),
            "Augment: images of {} values",
            self.image_len()
        );
        let draw = |n: usize, rng: &mut R| {
            if n == 0 { 0 } else { crate::data::below(rng, 2 * n + 1) as isize - n as isize }
        };
        let (dy, dx) = (draw(self.shift, rng), draw(self.shift, rng));
        let flip = self.flip && rng.next_u32() & 1 == 1;
        let factor = if self.scale > 0.0 { 1.0 + self.scale * signed(rng) } else { 1.0 };
        if dy != 0 || dx != 0 || flip || factor != 1.0 {
            scratch.copy_from_slice(image);
            let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
            let fill = T::cast(self.fill);
            for ch in 0..c {
                let (src, dst) = (&scratch[ch * h * w..][..h * w], &mut image[ch * h * w..][..h * w]);
                for y in 0..h {
                    for x in 0..w {
                        let xx = if flip { w - 1 - x } else { x };
                        // The source pixel: undo the shift, then the scaling about the centre.
                        let sy =
                            nalgebra::ComplexField::floor((y as f64 - dy as f64 - cy) / factor + cy + 0.5);
                        let sx =
                            nalgebra::ComplexField::floor((xx as f64 - dx as f64 - cx) / factor + cx + 0.5);
                        dst[y * w + x] = if sy >= 0.0 && sy < h as f64 && sx >= 0.0 && sx < w as f64 {
                            src[sy as usize * w + sx as usize]
                        } else {
                            fill
                        };
                    }
                }
            }
        }
        if self.brightness > 0.0 || self.contrast > 0.0 {
            let shift = T::cast(self.brightness * signed(rng));
            let gain = T::cast(1.0 + self.contrast * signed(rng));
            let mean = image.iter().fold(T::zero(), |s, &v| s + v) / T::cast(image.len() as f64);
            for v in image.iter_mut() {
                *v = (*v - mean) * gain + mean + shift;
            }
        }
    }

    /// Changes the first `samples` images of a batch (one per column of `batch`, each
    /// [`image_len`](Self::image_len) values).
    pub fn batch<T: Float, R: Rng + ?Sized>(
        &self,
        batch: &mut [T],
        samples: usize,
        scratch: &mut [T],
        rng: &mut R,
    ) {
        for image in batch.chunks_exact_mut(self.image_len()).take(samples) {
            self.image(image, scratch, rng);
        }
    }
}
