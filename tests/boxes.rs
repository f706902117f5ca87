//! Box utilities against torchvision and d2l.ai (`tests/fixtures/boxes.*`): the IoU of every
//! pair of 12 boxes (`torchvision.ops.box_iou`), the boxes greedy NMS keeps at 0.5
//! (`torchvision.ops.nms`, with a pair at exactly 0.5 and a chain of suppressions), and the
//! anchors of a 2 x 3 feature map (`multibox_prior`); and the grid encoding round trip.

mod common;

use common::{fixture, rel_inf};
use sinew::Float;
use sinew::boxes::{anchors, cell_len, decode, decode_grid, encode, encode_grid, iou, iou_matrix, nms};

fn boxes<T: Float>(data: &[f64]) -> Vec<[T; 4]> {
    data.chunks_exact(4).map(|b| [T::cast(b[0]), T::cast(b[1]), T::cast(b[2]), T::cast(b[3])]).collect()
}

fn check<T: Float>(file: &str, tol: f64) {
    let f = fixture(file);
    let b = boxes::<T>(&f["boxes"].data);
    let scores: Vec<T> = f["scores"].data.iter().map(|&v| T::cast(v)).collect();
    let mut matrix = vec![T::zero(); b.len() * b.len()];
    iou_matrix(&b, &b, &mut matrix);
    let got: Vec<f64> = matrix.iter().map(|v| v.as_f64()).collect();
    assert!(rel_inf(&got, &f["iou"].data) < tol, "{file}: iou");
    let (mut order, mut keep) = (vec![0; b.len()], vec![0; b.len()]);
    let n = nms(&b, &scores, T::cast(0.5), &mut order, &mut keep);
    let want: Vec<usize> = f["nms_keep"].data.iter().map(|&v| v as usize).collect();
    assert_eq!(&keep[..n], want.as_slice(), "{file}: nms");
    let sizes: Vec<T> = f["anchor_sizes"].data.iter().map(|&v| T::cast(v)).collect();
    let ratios: Vec<T> = f["anchor_ratios"].data.iter().map(|&v| T::cast(v)).collect();
    let (fh, fw) = (f["anchor_map_hw"].data[0] as usize, f["anchor_map_hw"].data[1] as usize);
    let mut out = vec![[T::zero(); 4]; 30];
    assert_eq!(anchors(fh, fw, &sizes, &ratios, &mut out), 30);
    let got: Vec<f64> = out.iter().flatten().map(|v| v.as_f64()).collect();
    assert!(rel_inf(&got, &f["anchors"].data) < tol, "{file}: anchors");
}

#[test]
fn box_utilities_match_torchvision_and_d2l_f64() {
    check::<f64>("boxes.f64.safetensors", 1e-12);
}

#[test]
fn box_utilities_match_torchvision_and_d2l_f32() {
    check::<f32>("boxes.f32.safetensors", 1e-6);
}

#[test]
fn grid_encoding_round_trips_and_picks_the_centre_s_cell() {
    for (b, cell) in [
        ([0.0, 0.0, 0.2, 0.2], (0, 0)),
        ([0.55, 0.1, 0.95, 0.3], (0, 2)),
        ([0.3, 0.7, 0.5, 1.0], (2, 1)),
        ([0.9, 0.9, 1.0, 1.0], (2, 2)), // the centre at 0.95: the last cell
    ] {
        let g = encode(&b, 3, 3);
        assert_eq!((g.row, g.col), cell, "{b:?}");
        assert!(g.target[..2].iter().all(|v| (0.0..1.0).contains(v)));
        let back = decode(&g, 3, 3);
        assert!(back.iter().zip(&b).all(|(x, y): (&f64, &f64)| (x - y).abs() < 1e-12), "{back:?} vs {b:?}");
    }
    assert_eq!(iou(&[0.0, 0.0, 1.0, 1.0], &[0.0, 0.0, 1.0, 1.0]), 1.0);
    assert_eq!(iou(&[0.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 0.0, 0.0]), 0.0);
}

#[test]
fn grid_targets_decode_back_to_their_boxes_and_classes() {
    let objects = [([0.05, 0.05, 0.25, 0.3], 2), ([0.6, 0.4, 0.9, 0.95], 0), ([0.4, 0.1, 0.55, 0.2], 1)];
    let (rows, cols, classes) = (3, 4, 3);
    let mut targets = vec![0.0_f64; rows * cols * cell_len(classes)];
    assert_eq!(encode_grid(&objects, rows, cols, classes, &mut targets), 3);
    let mut found = [([0.0; 4], 0.0, 0); 12];
    let n = decode_grid(&targets, rows, cols, classes, 0.5, &mut found);
    assert_eq!(n, 3);
    for (b, class) in objects {
        let hit = found[..n].iter().find(|f| f.2 == class).expect("every class decoded");
        assert!(hit.0.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12), "{hit:?} vs {b:?}");
        assert_eq!(hit.1, 1.0);
    }
    // A presence below the threshold gives nothing.
    let mut weak = targets.clone();
    weak.chunks_exact_mut(cell_len(classes)).for_each(|c| c[0] *= 0.4);
    assert_eq!(decode_grid(&weak, rows, cols, classes, 0.5, &mut found), 0);
}
