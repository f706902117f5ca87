//! Charts of a training run, as PNG images.

use crate::io::{WeightError, replace_atomic};
use crate::metrics::Metric;
use crate::train::{EpochRecord, History};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use std::path::Path;
use std::prelude::rust_2024::*;
use std::sync::Once;

/// Text is drawn with DejaVu Sans, bundled (see `assets/DejaVuSans-LICENSE.txt`), so that
/// charts look the same on every machine and need no system fonts.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The smallest side of a chart, in pixels: room for the axes' labels.
pub const MIN_SIDE: u32 = 200;
/// The largest side of a chart, in pixels (an 8192 × 8192 image is 192 MiB of pixels).
pub const MAX_SIDE: u32 = 8192;

const DARK_GREEN: RGBColor = RGBColor(0, 130, 60);

fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled font is valid; a failure would only mean text is not drawn.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Draws `history` as a PNG of `width × height` pixels: the training and dev losses per
/// epoch on top; below, the dev metric (or, when the metric is the loss, the dev accuracy)
/// with the best epoch marked. Axes are labelled and each panel has a legend. The file is
/// written atomically.
///
/// # Errors
/// [`WeightError::Io`] if the image cannot be drawn or written, or (kind
/// `InvalidInput`, nothing written) if a side of `size` is outside
/// [`MIN_SIDE`]`..=`[`MAX_SIDE`] pixels.
pub fn history_chart(
    history: &History,
    title: &str,
    path: impl AsRef<Path>,
    size: (u32, u32),
) -> Result<(), WeightError> {
    let (width, height) = size;
    if !(MIN_SIDE..=MAX_SIDE).contains(&width) || !(MIN_SIDE..=MAX_SIDE).contains(&height) {
        return Err(WeightError::Io {
            path: path.as_ref().to_path_buf(),
            error: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("a chart of {width} × {height} pixels: each side must be {MIN_SIDE} to {MAX_SIDE}"),
            ),
        });
    }
    register();
    replace_atomic(path.as_ref(), |tmp| {
        draw(history, title, tmp, size).map_err(|e| std::io::Error::other(e.to_string()))
    })
}

fn draw(
    history: &History,
    title: &str,
    path: &Path,
    size: (u32, u32),
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 24))?;
    let has_dev = history.epochs.iter().any(|r| r.dev_score.is_some());
    let (top, bottom) =
        if has_dev { root.split_vertically(size.1 * 55 / 100) } else { (root.clone(), root.clone()) };
    let last = history.epochs.last().map_or(1, |r| r.epoch).max(2);
    let first = history.epochs.first().map_or(1, |r| r.epoch);

    // Losses.
    let losses = history.epochs.iter().flat_map(|r| [Some(r.train_loss), r.dev_loss]).flatten();
    let mut chart = panel(&top, first..last, bounds(losses), "loss")?;
    let train: Vec<(f64, f64)> = history.epochs.iter().map(|r| (r.epoch as f64, r.train_loss)).collect();
    chart
        .draw_series(LineSeries::new(train, BLUE.stroke_width(2)))?
        .label("training loss")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    let dev: Vec<(f64, f64)> =
        history.epochs.iter().filter_map(|r| Some((r.epoch as f64, r.dev_loss?))).collect();
    if !dev.is_empty() {
        chart
            .draw_series(LineSeries::new(dev, RED.stroke_width(2)))?
            .label("dev loss")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;

    // The dev metric; the dev accuracy if the metric is the loss, which is drawn above.
    if has_dev {
        let show_accuracy =
            history.metric == Metric::Loss && history.epochs.iter().any(|r| r.dev_accuracy.is_some());
        let value = |r: &EpochRecord| if show_accuracy { r.dev_accuracy } else { r.dev_score };
        let scores: Vec<(f64, f64)> =
            history.epochs.iter().filter_map(|r| Some((r.epoch as f64, value(r)?))).collect();
        let (lo, hi) = bounds(scores.iter().map(|p| p.1));
        let name = if show_accuracy { Metric::Accuracy.name() } else { history.metric.name() };
        let best = history
            .best_epoch
            .and_then(|e| history.epochs.iter().find(|r| r.epoch == e))
            .and_then(|r| Some((r.epoch, value(r)?)));
        let higher_is_better = show_accuracy || history.metric.higher_is_better();
        let mut chart = panel(&bottom, first..last, (lo, hi), &format!("dev {name}"))?;
        chart
            .draw_series(LineSeries::new(scores, DARK_GREEN.stroke_width(2)))?
            .label(format!("dev {name}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], DARK_GREEN.stroke_width(2)));
        if let Some((epoch, score)) = best {
            let label = if show_accuracy {
                format!("kept (lowest dev loss): epoch {epoch}, {score:.4}")
            } else {
                format!("best: {score:.4} at epoch {epoch}")
            };
            chart
                .draw_series(std::iter::once(Circle::new((epoch as f64, score), 6, BLACK.filled())))?
                .label(label)
                .legend(|(x, y)| Circle::new((x + 10, y), 5, BLACK.filled()));
        }
        let position =
            if higher_is_better { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::UpperRight };
        legend(&mut chart, position)?;
    }
    root.present()?;
    Ok(())
}

type Panel<'a> = ChartContext<
    'a,
    BitMapBackend<'a>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// One panel of the chart: epochs `epochs` across, `y` up, axes labelled.
fn panel<'a>(
    area: &DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>,
    epochs: std::ops::Range<usize>,
    (lo, hi): (f64, f64),
    y_desc: &str,
) -> Result<Panel<'a>, Box<dyn std::error::Error>> {
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(epochs.start as f64..epochs.end as f64, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        // Epochs are whole numbers: no label at the ticks in between.
        .x_label_formatter(&|x| if (x - x.round()).abs() < 1e-9 { format!("{x:.0}") } else { String::new() })
        .y_desc(y_desc)
        .axis_desc_style(("sans-serif", 16))
        .label_style(("sans-serif", 13))
        .draw()?;
    Ok(chart)
}

/// The panel's legend, boxed, at `position`.
fn legend(chart: &mut Panel<'_>, position: SeriesLabelPosition) -> Result<(), Box<dyn std::error::Error>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

/// A y range covering `values` with a margin (a unit range when there is nothing).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-6);
    (lo - pad, hi + pad)
}

/// A box to draw, corners `[x1, y1, x2, y2]` normalised to its image, and its colour.
pub type ColouredBox = ([f64; 4], (u8, u8, u8));

/// One image of a figure drawn by [`image_panels`]: `height × width` grey values in `[0, 1]`
/// (row-major), boxes drawn over it (corners normalised to the image, each with its colour),
/// and an optional mask of classes drawn in colour over it (class 0 left as it is).
#[derive(Clone, Copy, Debug)]
pub struct ImagePanel<'a> {
    /// The grey values, row-major.
    pub pixels: &'a [f32],
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Boxes `[x1, y1, x2, y2]` normalised to the image, and their colours.
    pub boxes: &'a [ColouredBox],
    /// A class per pixel (0: none), drawn with a colour per class.
    pub mask: Option<&'a [u8]>,
}

/// Colours of the classes of a mask, 1 to 10 (class `c` uses entry `(c − 1) % 10`).
const PALETTE: [(u8, u8, u8); 10] = [
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (250, 190, 190),
];

/// Draws `panels` as a PNG grid, `columns` to a row, each pixel of an image a square of
/// `scale × scale` pixels, with a 4-pixel white margin between images: the examples' pictures
/// of predicted and true boxes and of predicted segmentation masks. Written atomically.
///
/// # Errors
/// [`WeightError::Io`] if a panel's values do not match its size, the figure would be
/// larger than [`MAX_SIDE`], or the image cannot be drawn or written.
pub fn image_panels(
    path: impl AsRef<Path>,
    panels: &[ImagePanel],
    columns: usize,
    scale: u32,
) -> Result<(), WeightError> {
    let invalid = |message: String| WeightError::Io {
        path: path.as_ref().to_path_buf(),
        error: std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
    };
    let (h, w) = panels.first().map_or((0, 0), |p| (p.height, p.width));
    if panels.is_empty() || columns == 0 || scale == 0 || h == 0 || w == 0 {
        return Err(invalid("a figure needs panels, columns and a scale".into()));
    }
    if let Some(p) = panels.iter().find(|p| {
        p.height != h || p.width != w || p.pixels.len() != h * w || p.mask.is_some_and(|m| m.len() != h * w)
    }) {
        return Err(invalid(format!(
            "every panel must be {h} x {w} with as many values, found {} x {}",
            p.height, p.width
        )));
    }
    let rows = panels.len().div_ceil(columns);
    let (cell_w, cell_h) = (w as u64 * u64::from(scale) + 4, h as u64 * u64::from(scale) + 4);
    let (width, height) = (cell_w * columns.min(panels.len()) as u64 + 4, cell_h * rows as u64 + 4);
    if width > u64::from(MAX_SIDE) || height > u64::from(MAX_SIDE) {
        return Err(invalid(format!("a figure of {width} x {height} pixels is larger than {MAX_SIDE}")));
    }
    replace_atomic(path.as_ref(), |tmp| {
        draw_panels(tmp, panels, columns, scale, (width as u32, height as u32))
            .map_err(|e| std::io::Error::other(e.to_string()))
    })
}

fn draw_panels(
    path: &Path,
    panels: &[ImagePanel],
    columns: usize,
    scale: u32,
    size: (u32, u32),
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let s = scale as i32;
    for (k, panel) in panels.iter().enumerate() {
        let (h, w) = (panel.height as i32, panel.width as i32);
        let x0 = 4 + (k % columns) as i32 * (w * s + 4);
        let y0 = 4 + (k / columns) as i32 * (h * s + 4);
        for (i, &v) in panel.pixels.iter().enumerate() {
            let grey = (f64::from(v).clamp(0.0, 1.0) * 255.0) as u8;
            let mut colour = RGBColor(grey, grey, grey);
            if let Some(class) = panel.mask.map(|m| m[i]).filter(|&c| c > 0) {
                let (r, g, b) = PALETTE[usize::from(class - 1) % PALETTE.len()];
                let blend = |c: u8| ((u16::from(c) * 3 + u16::from(grey)) / 4) as u8;
                colour = RGBColor(blend(r), blend(g), blend(b));
            }
            let (x, y) = (x0 + (i as i32 % w) * s, y0 + (i as i32 / w) * s);
            root.draw(&Rectangle::new([(x, y), (x + s, y + s)], colour.filled()))?;
        }
        for &(b, (r, g, bl)) in panel.boxes {
            let corner =
                |fx: f64, fy: f64| (x0 + (fx * f64::from(w * s)) as i32, y0 + (fy * f64::from(h * s)) as i32);
            root.draw(&Rectangle::new(
                [corner(b[0], b[1]), corner(b[2], b[3])],
                RGBColor(r, g, bl).stroke_width(2),
            ))?;
        }
    }
    root.present()?;
    Ok(())
}
