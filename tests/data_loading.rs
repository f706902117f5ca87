//! Data loaders: the real files load with their published reference values, and every
//! kind of bad input is a typed error, never a panic (including arbitrary bytes).

use proptest::prelude::*;
use sinew::data::{DataError, csv, idx};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(name)
}

/// A scratch file with the given contents, unique per test.
fn scratch(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sinew-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn iris_and_digits_load_with_their_reference_values() {
    let iris = csv::classification::<f64, 4>(data("iris.csv")).unwrap();
    assert_eq!(iris.len(), 150);
    assert_eq!(iris.class_counts(3), vec![50, 50, 50]);
    let sums: Vec<f64> = (0..4).map(|i| iris.samples().iter().map(|s| s[i]).sum()).collect();
    for (got, want) in sums.iter().zip([876.5, 458.6, 563.7, 179.9]) {
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }

    let digits = csv::classification::<f32, 64>(data("digits.csv")).unwrap();
    assert_eq!(digits.len(), 1797);
    let pixels: f64 = digits.samples().iter().flatten().map(|&p| f64::from(p)).sum();
    assert_eq!(pixels, 561_718.0);
    assert_eq!(digits.targets().iter().sum::<usize>(), 8_070);
    assert_eq!(digits.class_counts(10), vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
}

#[test]
fn mnist_subset_loads_with_its_reference_values() {
    let mnist =
        idx::mnist::<f32, 784>(data("mnist5k-images.idx3-ubyte"), data("mnist5k-labels.idx1-ubyte")).unwrap();
    assert_eq!(mnist.len(), 5000);
    assert_eq!(mnist.class_counts(10), vec![500; 10]);
    assert_eq!(mnist.targets().iter().sum::<usize>(), 22_500);
    // Pixels are scaled to [0, 1]; undo it to compare with the byte sum.
    let bytes: f64 = mnist.samples().iter().flatten().map(|&p| (f64::from(p) * 255.0).round()).sum();
    assert_eq!(bytes, 131_267_102.0);
}

#[test]
fn csv_error_paths() {
    let missing = csv::classification::<f32, 2>(data("no-such-file.csv")).unwrap_err();
    assert!(
        matches!(&missing, DataError::Io { error, .. } if error.kind() == ErrorKind::NotFound),
        "{missing}"
    );
    assert!(missing.to_string().contains("no-such-file.csv"));

    let short = scratch("short.csv", b"a,b,label\n1,2,0\n3,1\n");
    let e = csv::classification::<f32, 2>(&short).unwrap_err();
    assert!(matches!(e, DataError::Ragged { line: 3, expected: 3, found: 2, .. }), "{e}");

    let long = scratch("long.csv", b"a,b,label\n1,2,0\n3,1,0,9\n");
    assert!(matches!(csv::classification::<f32, 2>(&long).unwrap_err(), DataError::Ragged { found: 4, .. }));

    let width = scratch("width.csv", b"a,b,c,label\n1,2,3,0\n");
    assert!(matches!(
        csv::classification::<f32, 2>(&width).unwrap_err(),
        DataError::WrongWidth { expected: 2, found: 3, .. }
    ));

    let nan = scratch("nan.csv", b"a,b,label\n1,2,0\n1,x2,1\n");
    let e = csv::classification::<f32, 2>(&nan).unwrap_err();
    assert!(matches!(&e, DataError::NotANumber { line: 3, column: 1, text, .. } if text == "x2"), "{e}");
    assert!(e.to_string().contains(":3: field 2 is `x2`"), "{e}");

    let label = scratch("label.csv", b"a,b,label\n1,2,-1\n");
    assert!(matches!(
        csv::classification::<f32, 2>(&label).unwrap_err(),
        DataError::BadLabel { line: 2, .. }
    ));
    let label = scratch("label2.csv", b"a,b,label\n1,2,1.5\n");
    assert!(matches!(csv::classification::<f32, 2>(&label).unwrap_err(), DataError::BadLabel { .. }));

    let empty = scratch("empty.csv", b"a,b,label\n");
    assert!(matches!(csv::classification::<f32, 2>(&empty).unwrap_err(), DataError::Empty { .. }));

    let utf8 = scratch("utf8.csv", b"a,b,label\n1,\xff,0\n");
    assert!(csv::classification::<f32, 2>(&utf8).is_err());

    let regression = scratch("reg.csv", b"x,y1,y2\n1,2,3\n4,5,oops\n");
    assert!(matches!(
        csv::regression::<f32, 1, 2>(&regression).unwrap_err(),
        DataError::NotANumber { line: 3, column: 2, .. }
    ));
    let regression = scratch("reg-ok.csv", b"x,y1,y2\n1,2,3\n4,5,6\n");
    let r = csv::regression::<f32, 1, 2>(&regression).unwrap();
    assert_eq!(r.targets(), &[[2.0, 3.0], [5.0, 6.0]]);
}

/// An IDX header: magic, then sizes, big-endian.
fn idx_header(magic: u32, dims: &[u32]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v
}

#[test]
fn idx_error_paths() {
    let p = Path::new("x.idx");
    let mut good = idx_header(idx::IMAGES_MAGIC, &[2, 2, 3]);
    good.extend([7u8; 12]);
    let images = idx::parse_images(p, &good).unwrap();
    assert_eq!((images.count, images.rows, images.columns, images.pixels.len()), (2, 2, 3, 12));

    // Labels where images are expected, and the reverse.
    let labels = idx_header(idx::LABELS_MAGIC, &[0]);
    assert!(matches!(
        idx::parse_images(p, &labels).unwrap_err(),
        DataError::BadMagic { expected: 0x0803, found: 0x0801, .. }
    ));
    assert!(matches!(idx::parse_labels(p, &good).unwrap_err(), DataError::BadMagic { .. }));

    // Truncated magic, truncated header, truncated body, trailing bytes.
    assert!(matches!(
        idx::parse_images(p, &good[..3]).unwrap_err(),
        DataError::Truncated { expected: 4, found: 3, .. }
    ));
    assert!(matches!(
        idx::parse_images(p, &good[..10]).unwrap_err(),
        DataError::Truncated { expected: 16, found: 10, .. }
    ));
    let e = idx::parse_images(p, &good[..27]).unwrap_err();
    assert!(matches!(e, DataError::Truncated { expected: 28, found: 27, .. }), "{e}");
    let mut long = good.clone();
    long.push(0);
    assert!(matches!(
        idx::parse_images(p, &long).unwrap_err(),
        DataError::TrailingBytes { expected: 28, found: 29, .. }
    ));

    // Absurd sizes are reported, not allocated.
    let absurd = idx_header(idx::IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX]);
    assert!(matches!(idx::parse_images(p, &absurd).unwrap_err(), DataError::Truncated { .. }));

    // Pairs of files that do not fit together.
    let mut labels3 = idx_header(idx::LABELS_MAGIC, &[3]);
    labels3.extend([0, 1, 2]);
    let (img, lab) = (scratch("img.idx", &good), scratch("lab.idx", &labels3));
    assert!(matches!(
        idx::mnist::<f32, 6>(&img, &lab).unwrap_err(),
        DataError::CountMismatch { samples: 2, targets: 3 }
    ));
    let mut labels2 = idx_header(idx::LABELS_MAGIC, &[2]);
    labels2.extend([4, 9]);
    let lab = scratch("lab2.idx", &labels2);
    assert!(matches!(
        idx::mnist::<f32, 784>(&img, &lab).unwrap_err(),
        DataError::WrongWidth { expected: 784, found: 6, .. }
    ));
    let ok = idx::mnist::<f32, 6>(&img, &lab).unwrap();
    assert_eq!(ok.targets(), &[4, 9]);
    assert_eq!(ok.samples()[0][0], 7.0 / 255.0);
    let missing = idx::mnist::<f32, 6>(&img, data("nope.idx")).unwrap_err();
    assert!(matches!(&missing, DataError::Io { error, .. } if error.kind() == ErrorKind::NotFound));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Arbitrary bytes never make the IDX parsers panic.
    #[test]
    fn idx_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = idx::parse_images(Path::new("p"), &bytes);
        let _ = idx::parse_labels(Path::new("p"), &bytes);
    }

    /// Nor do valid headers with random sizes and bodies.
    #[test]
    fn idx_parsers_never_panic_on_plausible_headers(
        dims in proptest::collection::vec(any::<u32>(), 3),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = idx_header(idx::IMAGES_MAGIC, &dims);
        bytes.extend(body);
        if let Ok(images) = idx::parse_images(Path::new("p"), &bytes) {
            prop_assert_eq!(images.pixels.len(), images.count * images.rows * images.columns);
        }
    }
}
