//! Bounding boxes for localization and detection: intersection over union, non-maximum
//! suppression, anchor boxes, and the YOLO-style encoding of a box into a grid cell of a
//! network's output. `no_std`; nothing is allocated (the caller gives every output buffer).
//!
//! A box is its corners `[x1, y1, x2, y2]` with `x1 ≤ x2` and `y1 ≤ y2`, usually normalised
//! to `[0, 1]`; its area is `(x2 − x1)(y2 − y1)` (no `+ 1`), as `torchvision.ops`.

use crate::Float;

/// `(x2 − x1)(y2 − y1)`, 0 for an inverted box.
#[inline]
pub fn area<T: Float>(b: &[T; 4]) -> T {
    let zero = T::zero();
    let w = b[2] - b[0];
    let h = b[3] - b[1];
    if w > zero && h > zero { w * h } else { zero }
}

/// Intersection over union: `|a ∩ b| / |a ∪ b|`, 0 when the union is empty.
///
/// ```
/// use sinew::boxes::iou;
/// assert_eq!(iou(&[0.0, 0.0, 2.0, 2.0], &[1.0, 0.0, 3.0, 2.0]), 2.0 / 6.0);
/// assert_eq!(iou(&[0.0, 0.0, 1.0, 1.0], &[2.0, 2.0, 3.0, 3.0]), 0.0);
/// ```
#[inline]
pub fn iou<T: Float>(a: &[T; 4], b: &[T; 4]) -> T {
    let zero = T::zero();
    let w = min(a[2], b[2]) - max(a[0], b[0]);
    let h = min(a[3], b[3]) - max(a[1], b[1]);
    let inter = if w > zero && h > zero { w * h } else { zero };
    let union = area(a) + area(b) - inter;
    if union > zero { inter / union } else { zero }
}

fn min<T: Float>(a: T, b: T) -> T {
    if b < a { b } else { a }
}

fn max<T: Float>(a: T, b: T) -> T {
    if b > a { b } else { a }
}

/// The IoU of every pair: `out[i · b.len() + j] = iou(a[i], b[j])` (torchvision's `box_iou`).
///
/// # Panics
/// If `out` does not hold `a.len() · b.len()` values.
pub fn iou_matrix<T: Float>(a: &[[T; 4]], b: &[[T; 4]], out: &mut [T]) {
    assert_eq!(out.len(), a.len() * b.len(), "iou_matrix: {} x {} values", a.len(), b.len());
    for (row, x) in out.chunks_exact_mut(b.len().max(1)).zip(a) {
        for (o, y) in row.iter_mut().zip(b) {
            *o = iou(x, y);
        }
    }
}

/// Greedy non-maximum suppression, as `torchvision.ops.nms`: repeatedly keeps the
/// highest-scoring remaining box and removes every remaining box whose IoU with it is
/// greater than `threshold` (a pair at exactly the threshold both stay). Writes the indices
/// of the kept boxes into `keep`, in decreasing score order (ties: the lower index first),
/// and returns how many. `order` is scratch for the sort.
///
/// ```
/// use sinew::boxes::nms;
/// let boxes = [[0.0, 0.0, 1.0, 1.0], [0.05, 0.0, 1.05, 1.0], [2.0, 2.0, 3.0, 3.0]];
/// let (mut order, mut keep) = ([0; 3], [0; 3]);
/// let n = nms(&boxes, &[0.9, 0.8, 0.7], 0.5, &mut order, &mut keep);
/// assert_eq!(&keep[..n], &[0, 2]);
/// ```
///
/// # Panics
/// If `scores`, `order` or `keep` do not have one entry per box.
pub fn nms<T: Float>(
    boxes: &[[T; 4]],
    scores: &[T],
    threshold: T,
    order: &mut [usize],
    keep: &mut [usize],
) -> usize {
    let n = boxes.len();
    assert!(
        scores.len() == n && order.len() == n && keep.len() == n,
        "nms: {n} boxes need {n} scores, {n} order and {n} keep entries"
    );
    for (i, o) in order.iter_mut().enumerate() {
        *o = i;
    }
    order.sort_unstable_by(|&a, &b| {
        scores[b].partial_cmp(&scores[a]).unwrap_or(core::cmp::Ordering::Equal).then(a.cmp(&b))
    });
    let mut kept = 0;
    for &candidate in order.iter() {
        if keep[..kept].iter().all(|&j| iou(&boxes[j], &boxes[candidate]) <= threshold) {
            keep[kept] = candidate;
            kept += 1;
        }
    }
    kept
}

/// Anchor boxes over an `fh × fw` feature map, in the d2l.ai `multibox_prior` convention:
/// pixel `(i, j)` has centre `((j + ½)/fw, (i + ½)/fh)` and `n + m − 1` anchors, the sizes
/// with the first ratio, then the first size with every other ratio:
/// `(s1, r1), …, (sn, r1), (s1, r2), …, (s1, rm)`, each `w = s·√r·fh/fw` wide and `h = s/√r`
/// high (so its width:height is `r` on an image of the map's aspect ratio). Pixels in
/// row-major order; coordinates normalised to `[0, 1]`, not clipped. Writes
/// `fh · fw · (n + m − 1)` boxes into `out` and returns that count.
///
/// ```
/// use sinew::boxes::anchors;
/// let mut out = [[0.0; 4]; 5];
/// assert_eq!(anchors(1, 1, &[0.5, 0.25], &[1.0, 4.0], &mut out), 3);
/// assert_eq!(out[0], [0.25, 0.25, 0.75, 0.75]);
/// assert_eq!(out[2], [0.0, 0.375, 1.0, 0.625]); // size 0.5, ratio 4: 1 wide, 0.25 high
/// ```
///
/// # Panics
/// If `sizes` or `ratios` is empty, or `out` holds fewer boxes than that.
pub fn anchors<T: Float>(fh: usize, fw: usize, sizes: &[T], ratios: &[T], out: &mut [[T; 4]]) -> usize {
    assert!(!sizes.is_empty() && !ratios.is_empty(), "anchors: no sizes or no ratios");
    let per_pixel = sizes.len() + ratios.len() - 1;
    let total = fh * fw * per_pixel;
    assert!(out.len() >= total, "anchors: {total} boxes do not fit in {}", out.len());
    let (half, two) = (T::cast(0.5), T::cast(2.0));
    let aspect = T::cast(fh as f64) / T::cast(fw as f64);
    let shapes = sizes.iter().map(|&s| (s, ratios[0])).chain(ratios[1..].iter().map(|&r| (sizes[0], r)));
    let mut k = 0;
    for i in 0..fh {
        for j in 0..fw {
            let cx = (T::cast(j as f64) + half) / T::cast(fw as f64);
            let cy = (T::cast(i as f64) + half) / T::cast(fh as f64);
            for (s, r) in shapes.clone() {
                let w = s * r.sqrt() * aspect;
                let h = s / r.sqrt();
                out[k] = [cx - w / two, cy - h / two, cx + w / two, cy + h / two];
                k += 1;
            }
        }
    }
    total
}

/// A box in a grid of `rows × cols` cells over the image, as YOLO's targets: the cell that
/// holds the box's centre, the centre's position inside that cell (`0..1` on each axis),
/// and the box's width and height relative to the image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridBox<T> {
    /// The cell's row.
    pub row: usize,
    /// The cell's column.
    pub col: usize,
    /// `[x, y, w, h]`: the centre within the cell, the size within the image.
    pub target: [T; 4],
}

/// Encodes a box (corners normalised to `[0, 1]`) into a `rows × cols` grid (see
/// [`GridBox`]); a centre on the image's right or bottom edge belongs to the last cell.
///
/// ```
/// use sinew::boxes::{encode, decode};
/// let b: [f64; 4] = [0.2, 0.1, 0.6, 0.5]; // centre (0.4, 0.3), 0.4 x 0.4
/// let g = encode(&b, 2, 2);
/// assert_eq!((g.row, g.col), (0, 0));
/// assert!((g.target[0] - 0.8).abs() < 1e-12 && (g.target[1] - 0.6).abs() < 1e-12);
/// let back = decode(&g, 2, 2);
/// assert!(back.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12));
/// ```
pub fn encode<T: Float>(b: &[T; 4], rows: usize, cols: usize) -> GridBox<T> {
    let half = T::cast(0.5);
    let (cx, cy) = ((b[0] + b[2]) * half, (b[1] + b[3]) * half);
    let cell = |c: T, n: usize| -> (usize, T) {
        let scaled = c * T::cast(n as f64);
        // Truncation is the floor of a non-negative value.
        let index = (scaled.as_f64().max(0.0) as usize).min(n - 1);
        (index, scaled - T::cast(index as f64))
    };
    let (col, x) = cell(cx, cols);
    let (row, y) = cell(cy, rows);
    GridBox { row, col, target: [x, y, b[2] - b[0], b[3] - b[1]] }
}

/// The box a [`GridBox`] encodes, corners normalised to `[0, 1]`: the inverse of
/// [`encode`].
pub fn decode<T: Float>(g: &GridBox<T>, rows: usize, cols: usize) -> [T; 4] {
    let half = T::cast(0.5);
    let cx = (T::cast(g.col as f64) + g.target[0]) / T::cast(cols as f64);
    let cy = (T::cast(g.row as f64) + g.target[1]) / T::cast(rows as f64);
    let (w, h) = (g.target[2], g.target[3]);
    [cx - w * half, cy - h * half, cx + w * half, cy + h * half]
}

/// Values per cell of a YOLO-style output with `classes` classes: presence, the
/// [`GridBox`] target `[x, y, w, h]`, then one score per class.
pub const fn cell_len(classes: usize) -> usize {
    5 + classes
}

/// Writes the YOLO-style targets of `objects` (boxes with corners normalised to the image, and
/// classes) into `out`, a `rows × cols` grid of cells in row-major order, each
/// [`cell_len`]`(classes)` values: presence 1, the box's [`GridBox`] target and its class's
/// one-hot in the cell holding its centre; zeros in the other cells. When two objects share a
/// cell, the later one is kept. Returns how many cells hold an object.
///
/// ```
/// use sinew::boxes::{cell_len, decode_grid, encode_grid};
/// let mut targets = [0.0_f64; 2 * 2 * 7];
/// assert_eq!(encode_grid(&[([0.1, 0.6, 0.3, 0.9], 1)], 2, 2, 2, &mut targets), 1);
/// // The centre (0.2, 0.75) is in row 1, column 0: the third cell.
/// assert_eq!(targets[2 * cell_len(2)], 1.0);
/// let mut found = [([0.0; 4], 0.0, 0); 4];
/// let n = decode_grid(&targets, 2, 2, 2, 0.5, &mut found);
/// assert_eq!((n, found[0].2), (1, 1));
/// assert!(found[0].0.iter().zip([0.1, 0.6, 0.3, 0.9]).all(|(a, b)| (a - b).abs() < 1e-12));
/// ```
///
/// # Panics
/// If `out` does not hold `rows · cols · cell_len(classes)` values, or a class is not below
/// `classes`.
pub fn encode_grid<T: Float>(
    objects: &[([T; 4], usize)],
    rows: usize,
    cols: usize,
    classes: usize,
    out: &mut [T],
) -> usize {
    let n = cell_len(classes);
    assert_eq!(out.len(), rows * cols * n, "encode_grid: {rows} x {cols} cells of {n} values");
    out.fill(T::zero());
    for (b, class) in objects {
        assert!(*class < classes, "encode_grid: class {class} is not below {classes}");
        let g = encode(b, rows, cols);
        let cell = &mut out[(g.row * cols + g.col) * n..][..n];
        cell.fill(T::zero());
        cell[0] = T::one();
        cell[1..5].copy_from_slice(&g.target);
        cell[5 + class] = T::one();
    }
    out.chunks_exact(n).filter(|c| c[0] == T::one()).count()
}

/// Reads boxes out of a YOLO-style output laid out as [`encode_grid`] writes targets: every
/// cell whose presence is at least `threshold` gives its decoded box, that presence as its
/// score, and its highest-scoring class. Writes them into `out` in cell order (as many as
/// fit) and returns how many; [`nms`] then removes duplicates. A network's presence is
/// usually a logit: pass `σ(logit)`, or compare with the logit of the threshold.
///
/// # Panics
/// If `output` does not hold `rows · cols · cell_len(classes)` values.
pub fn decode_grid<T: Float>(
    output: &[T],
    rows: usize,
    cols: usize,
    classes: usize,
    threshold: T,
    out: &mut [([T; 4], T, usize)],
) -> usize {
    let n = cell_len(classes);
    assert_eq!(output.len(), rows * cols * n, "decode_grid: {rows} x {cols} cells of {n} values");
    let mut found = 0;
    for (k, cell) in output.chunks_exact(n).enumerate() {
        if cell[0] < threshold || found == out.len() {
            continue;
        }
        let target = [cell[1], cell[2], cell[3], cell[4]];
        let b = decode(&GridBox { row: k / cols, col: k % cols, target }, rows, cols);
        let class = (1..classes).fold(0, |best, c| if cell[5 + c] > cell[5 + best] { c } else { best });
        out[found] = (b, cell[0], class);
        found += 1;
    }
    found
}
