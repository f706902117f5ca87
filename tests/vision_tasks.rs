//! The synthetic vision tasks (`sinew::data::synthetic`) against their definitions, and the
//! multi-part head (`MultiPart`) against central differences through a network, with the
//! presence mask switching the box and class terms off.

use sinew::data::synthetic::{INK, Localization, localization, segmentation};
use sinew::data::{Dataset, idx};
use sinew::gradcheck::check_gradients;
use sinew::loss::{MultiPart, Part, PartLoss};
use sinew::prelude::*;

fn digits() -> Dataset<f32, 784, usize> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    let all = idx::mnist::<f32, 784>(
        format!("{dir}/mnist5k-images.idx3-ubyte"),
        format!("{dir}/mnist5k-labels.idx1-ubyte"),
    )
    .unwrap();
    all.subset(&(0..5000).step_by(25).collect::<Vec<_>>())
}

#[test]
fn localization_canvases_hold_one_digit_and_its_tight_box() {
    let digits = digits();
    let data = localization(&digits, 1000, &mut sinew::rng(3)).unwrap();
    let again = localization(&digits, 1000, &mut sinew::rng(3)).unwrap();
    assert_eq!(data.targets(), again.targets(), "seeded");
    let present = data.targets().iter().filter(|t| t.present).count();
    assert!((740..=860).contains(&present), "{present} of 1000 canvases hold a digit");
    for (canvas, target) in data.samples().iter().zip(data.targets()) {
        // The box from the canvas itself: the ink is the digit's only.
        let (mut x1, mut y1, mut x2, mut y2) = (40, 40, 0, 0);
        for (i, &v) in canvas.iter().enumerate() {
            if f64::from(v) > INK {
                let (y, x) = (i / 40, i % 40);
                (x1, y1, x2, y2) = (x1.min(x), y1.min(y), x2.max(x + 1), y2.max(y + 1));
            }
        }
        match target {
            Localization { present: false, .. } => assert_eq!(x2, 0, "an empty canvas has no ink"),
            Localization { present: true, bbox, class } => {
                let want = [x1, y1, x2, y2].map(|v| v as f64 / 40.0);
                assert_eq!(bbox, &want);
                assert!(*class < 10);
            }
        }
    }
}

#[test]
fn segmentation_canvases_label_every_ink_pixel_with_its_digit() {
    let digits = digits();
    let data = segmentation(&digits, 200, &mut sinew::rng(4)).unwrap();
    for (canvas, classes) in data.samples().iter().zip(data.targets()) {
        let mut seen = [[false; 11]; 2];
        for (i, (&v, &c)) in canvas.iter().zip(classes.iter()).enumerate() {
            let ink = f64::from(v) > INK;
            assert_eq!(c != 0.0, ink, "pixel {i}: value {v}, class {c}");
            seen[usize::from(i % 64 >= 32)][c as usize] = true;
        }
        // One digit per half: one class besides the background in each.
        for half in seen {
            assert_eq!(half[1..].iter().filter(|&&s| s).count(), 1);
        }
    }
}

network! {
    /// A localization head on 10 features: presence, a box, 3 classes.
    pub struct Locate {
        input: 10,
        hidden: Dense(12) -> Tanh,
        out: Dense(8),
    }
}

#[test]
fn the_multi_part_head_passes_a_gradient_check_with_its_mask() {
    let head = MultiPart {
        parts: [
            Part {
                name: "presence",
                outputs: 1,
                loss: PartLoss::SigmoidBce,
                weight: 1.0,
                only_if_present: false,
            },
            Part { name: "box", outputs: 4, loss: PartLoss::L2, weight: 5.0, only_if_present: true },
            Part { name: "class", outputs: 3, loss: PartLoss::SoftmaxCe, weight: 0.5, only_if_present: true },
        ],
    };
    let mut net = Locate::<f64>::init(&mut sinew::rng(9));
    let x = SMatrix::<f64, 10, 4>::from_fn(|i, j| ((i * 3 + j * 7) as f64 * 0.61).sin());
    // Samples 1 and 3 hold no object: their box and class targets are ignored.
    let y = SMatrix::<f64, 6, 4>::from_column_slice(&[
        1.0, 0.1, 0.2, 0.5, 0.7, 2.0, //
        0.0, 9.0, 9.0, 9.0, 9.0, 1.0, //
        1.0, 0.3, 0.0, 0.9, 0.4, 0.0, //
        0.0, -9.0, 9.0, -9.0, 9.0, 2.0,
    ]);
    let mut tw = LocateTrainWorkspace::<4, f64>::zeroed();
    let report = check_gradients(&mut net, &x, &y, &head, 1, 1e-6, &mut tw);
    assert!(report.max_relative_error() < 1e-6, "{report:?}");
    // Absent samples get gradient in the presence output only.
    net.forward_train(&x, &mut tw, &mut sinew::rng(0));
    head.gradient(&tw.out.value, &y, &mut tw.out.grad);
    for j in [1, 3] {
        assert!(tw.out.grad.column(j).iter().skip(1).all(|&g| g == 0.0));
        assert!(tw.out.grad[(0, j)] != 0.0);
    }
}

network! {
    /// A YOLO-style head over 2 cells: presence, a box and 3 classes per cell.
    pub struct Grid {
        input: 10,
        hidden: Dense(12) -> Tanh,
        out: Dense(16),
    }
}

#[test]
fn a_yolo_style_grid_masks_each_cell_by_its_own_presence() {
    let cell = |n| {
        [
            Part { name: n, outputs: 1, loss: PartLoss::SigmoidBce, weight: 1.0, only_if_present: false },
            Part { name: "box", outputs: 4, loss: PartLoss::L2, weight: 5.0, only_if_present: true },
            Part { name: "class", outputs: 3, loss: PartLoss::SoftmaxCe, weight: 1.0, only_if_present: true },
        ]
    };
    let [a, b, c] = cell("cell 0");
    let [d, e, f] = cell("cell 1");
    let head = MultiPart { parts: [a, b, c, d, e, f] };
    let mut net = Grid::<f64>::init(&mut sinew::rng(4));
    let x = SMatrix::<f64, 10, 2>::from_fn(|i, j| ((i * 5 + j * 3) as f64 * 0.47).cos());
    // Sample 0: an object in cell 0 only; sample 1: in cell 1 only.
    let y = SMatrix::<f64, 12, 2>::from_column_slice(&[
        1.0, 0.2, 0.3, 0.4, 0.6, 1.0, /* cell 1 */ 0.0, 9.0, 9.0, 9.0, 9.0, 2.0, //
        0.0, -9.0, 9.0, -9.0, 9.0, 0.0, /* cell 1 */ 1.0, 0.5, 0.5, 0.2, 0.1, 2.0,
    ]);
    let mut tw = GridTrainWorkspace::<2, f64>::zeroed();
    let report = check_gradients(&mut net, &x, &y, &head, 1, 1e-6, &mut tw);
    assert!(report.max_relative_error() < 1e-6, "{report:?}");
    net.forward_train(&x, &mut tw, &mut sinew::rng(0));
    head.gradient(&tw.out.value, &y, &mut tw.out.grad);
    let g = |r: usize, j: usize| tw.out.grad[(r, j)];
    // Sample 0: cell 1's box and classes (rows 9..16) get nothing; cell 0's do.
    assert!((9..16).all(|r| g(r, 0) == 0.0) && (1..8).any(|r| g(r, 0) != 0.0));
    // Sample 1: the other way round.
    assert!((1..8).all(|r| g(r, 1) == 0.0) && (9..16).any(|r| g(r, 1) != 0.0));
}
