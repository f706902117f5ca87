//! Data augmentation (`sinew::augment::Augment`) against its definition, change by change,
//! and in `Fit`: seeded, reproducible across a resumed run, dev data untouched, bad settings
//! refused before training.

use sinew::augment::Augment;
use sinew::data::Dataset;
use sinew::prelude::*;
use sinew::train::{Checkpoints, FitError};

/// A 1 x 6 x 5 image with distinct values.
fn image() -> [f64; 30] {
    std::array::from_fn(|i| (i as f64 * 0.37).sin() + 2.0)
}

#[test]
fn no_change_changes_nothing() {
    let mut x = image();
    let mut scratch = [0.0; 30];
    Augment::none([1, 6, 5]).image(&mut x, &mut scratch, &mut sinew::rng(1));
    assert_eq!(x, image());
}

#[test]
fn a_shift_moves_every_pixel_by_one_offset_and_fills_the_edge() {
    let augment = Augment { shift: 2, fill: -1.0, ..Augment::none([1, 6, 5]) };
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let (mut x, mut scratch) = (image(), [0.0; 30]);
        augment.image(&mut x, &mut scratch, &mut sinew::rng(seed));
        let src = image();
        let offset = (-2isize..=2).flat_map(|dy| (-2isize..=2).map(move |dx| (dy, dx))).find(|&(dy, dx)| {
            (0..6).all(|y| {
                (0..5).all(|x0| {
                    let (sy, sx) = (y as isize - dy, x0 as isize - dx);
                    let want = if (0..6).contains(&sy) && (0..5).contains(&sx) {
                        src[sy as usize * 5 + sx as usize]
                    } else {
                        -1.0
                    };
                    x[y * 5 + x0] == want
                })
            })
        });
        seen.insert(offset.expect("a shift of at most 2 pixels"));
    }
    assert!(seen.len() > 10, "the offsets vary: {seen:?}");
}

#[test]
fn a_flip_mirrors_or_leaves_the_image() {
    let augment = Augment { flip: true, ..Augment::none([1, 6, 5]) };
    let mut flipped = 0;
    for seed in 0..20 {
        let (mut x, mut scratch) = (image(), [0.0; 30]);
        augment.image(&mut x, &mut scratch, &mut sinew::rng(seed));
        let mirror: Vec<f64> = (0..30).map(|i| image()[(i / 5) * 5 + 4 - i % 5]).collect();
        if x.as_slice() == mirror.as_slice() {
            flipped += 1;
        } else {
            assert_eq!(x, image());
        }
    }
    assert!((4..=16).contains(&flipped), "{flipped} of 20 flipped");
}

#[test]
fn brightness_and_contrast_change_values_within_their_ranges() {
    for seed in 0..20 {
        let bright = Augment { brightness: 0.3, ..Augment::none([1, 6, 5]) };
        let (mut x, mut scratch) = (image(), [0.0; 30]);
        bright.image(&mut x, &mut scratch, &mut sinew::rng(seed));
        let d = x[0] - image()[0];
        assert!(d.abs() <= 0.3 + 1e-12 && x.iter().zip(image()).all(|(a, b)| (a - b - d).abs() < 1e-12));

        let contrast = Augment { contrast: 0.5, ..Augment::none([1, 6, 5]) };
        let (mut x, mut scratch) = (image(), [0.0; 30]);
        contrast.image(&mut x, &mut scratch, &mut sinew::rng(seed));
        let mean = image().iter().sum::<f64>() / 30.0;
        let gain = (x[0] - mean) / (image()[0] - mean);
        assert!((0.5..=1.5).contains(&gain), "gain {gain}");
        assert!(x.iter().zip(image()).all(|(a, b)| ((a - mean) - gain * (b - mean)).abs() < 1e-9));
    }
}

network! {
    /// A small CNN on 8 x 8 images.
    pub struct Small {
        input: [1, 8, 8],
        c: Conv2d(4, kernel = 3, padding = 1) -> Relu,
        p: MaxPool2d(2),
        flat: Flatten,
        out: Dense(3),
    }
}

fn data() -> Dataset<f64, 64, usize> {
    let samples: Vec<[f64; 64]> =
        (0..48).map(|s| std::array::from_fn(|i| ((i * 7 + s * 13) % 17) as f64 / 17.0)).collect();
    Dataset::new(samples, (0..48).map(|s| s % 3).collect()).unwrap()
}

#[test]
fn fit_augments_reproducibly_and_resumes_exactly() {
    let data = data();
    let augment = Augment {
        shift: 1,
        flip: true,
        scale: 0.1,
        brightness: 0.1,
        contrast: 0.1,
        ..Augment::none([1, 8, 8])
    };
    let run = |epochs: usize,
               resume: Option<&std::path::Path>,
               save: Option<&std::path::Path>,
               augment: Option<Augment>| {
        let mut net = Small::<f64>::init(&mut sinew::rng(1));
        let mut sgd = Sgd::new(0.05);
        let fit = Fit::<8> {
            epochs,
            metric: sinew::metrics::Metric::Loss,
            progress: false,
            augment,
            checkpoints: save.map(|p| Checkpoints { path: p.to_path_buf(), every: 1 }),
            resume_from: resume.map(|p| p.to_path_buf()),
            ..Fit::default()
        };
        fit.run(&mut net, &mut sgd, &SoftmaxCrossEntropy, &data, Some(&data), &mut sinew::rng(2)).unwrap();
        net
    };
    let dir = std::env::temp_dir().join(format!("sinew-augment-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let checkpoint = dir.join("run.safetensors");
    let straight = run(4, None, None, Some(augment));
    assert_eq!(straight, run(4, None, None, Some(augment)), "seeded");
    run(2, None, Some(&checkpoint), Some(augment));
    let resumed = run(4, Some(&checkpoint), None, Some(augment));
    assert_eq!(straight, resumed, "a resumed run continues the same changes");
    assert_ne!(straight, run(4, None, None, None), "the changes change the training");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fit_refuses_augmentation_that_does_not_fit() {
    let data = data();
    let mut net = Small::<f64>::init(&mut sinew::rng(1));
    let mut sgd = Sgd::new(0.05);
    for augment in [Augment::none([1, 8, 7]), Augment { scale: 1.5, ..Augment::none([1, 8, 8]) }] {
        let fit = Fit::<8> { epochs: 1, progress: false, augment: Some(augment), ..Fit::default() };
        let result = fit.run(&mut net, &mut sgd, &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(2));
        assert!(matches!(result, Err(FitError::Invalid(_))), "{result:?}");
    }
}
