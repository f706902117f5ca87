//! Weight files: round trips, PyTorch files loading straight into the declared networks,
//! every error path of loading (each leaving the network unchanged), atomic saving, and
//! arbitrary bytes never panicking the parser.

use proptest::prelude::*;
use sinew::io::{self, FormatError, WeightError, WeightFile, WeightWriter};
use sinew::prelude::*;
use std::path::{Path, PathBuf};

network! {
    /// `mlp_tanh_ce` of the fixtures.
    pub struct TanhCe {
        input: 4,
        hidden: Dense(8) -> Tanh,
        out: Dense(3),
    }
}

network! {
    /// `mlp_relu_leaky_bce` of the fixtures.
    pub struct ReluLeakyBce {
        input: 6,
        a: Dense(5) -> Relu,
        b: Dense(4) -> LeakyRelu(0.01),
        out: Dense(2),
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sinew-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A tensor of a safetensors file as `f64`, row-major.
fn tensor(file: &Path, name: &str) -> Vec<f64> {
    let bytes = std::fs::read(file).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let view = st.tensor(name).unwrap();
    match view.dtype() {
        safetensors::Dtype::F64 => {
            view.data().chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect()
        }
        _ => view
            .data()
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes(b.try_into().unwrap())))
            .collect(),
    }
}

/// The fixtures (written by PyTorch's `safetensors` package, with extra tensors for the
/// inputs, gradients and Adam results) load through sinew's loader into the declared
/// networks, under the same names and layouts, and reproduce PyTorch's outputs. The
/// parameters after three Adam steps load from their `adam3.` prefix.
#[test]
fn pytorch_files_load_into_declared_networks() {
    for (file, tol) in [("mlp_tanh_ce.f64.safetensors", 1e-12), ("mlp_tanh_ce.f32.safetensors", 1e-5)] {
        let path = fixture(file);
        let x: Vec<f64> = tensor(&path, "x");
        let want: Vec<f64> = tensor(&path, "out");
        let got: Vec<f64> = if file.contains("f64") {
            let mut net = TanhCe::<f64>::zeroed();
            let unused = io::load_lenient(&path, &mut net).unwrap();
            assert!(unused.contains(&"grad.x".to_string()) && unused.contains(&"adam3.out.bias".to_string()));
            let mut ws = TanhCeWorkspace::<5, f64>::zeroed();
            net.forward(&SMatrix::from_column_slice(&x), &mut ws).iter().copied().collect()
        } else {
            let mut net = TanhCe::<f32>::zeroed();
            io::load_lenient(&path, &mut net).unwrap();
            let xs: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let mut ws = TanhCeWorkspace::<5>::zeroed();
            net.forward(&SMatrix::from_column_slice(&xs), &mut ws).iter().map(|&v| f64::from(v)).collect()
        };
        let err = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(err < tol, "{file}: outputs differ by {err:e}");
    }

    // Several networks from one file, by prefix.
    let mut file = WeightFile::read(fixture("mlp_relu_leaky_bce.f64.safetensors")).unwrap();
    let mut start = ReluLeakyBce::<f64>::zeroed();
    let mut after = ReluLeakyBce::<f64>::zeroed();
    file.load_into("", &mut start).unwrap();
    file.load_into("adam3.", &mut after).unwrap();
    assert_ne!(start, after);
    assert_eq!(
        after.out.bias.as_slice(),
        &tensor(&fixture("mlp_relu_leaky_bce.f64.safetensors"), "adam3.out.bias")[..]
    );
    assert_eq!(file.metadata("loss").as_deref(), Some("bce"));
}

/// What sinew writes is what PyTorch wrote: the same tensor bytes in the same layout.
#[test]
fn saved_files_use_pytorch_layouts_byte_for_byte() {
    let source = fixture("mlp_tanh_ce.f32.safetensors");
    let mut net = TanhCe::<f32>::zeroed();
    io::load_lenient(&source, &mut net).unwrap();
    let path = scratch("tanh.safetensors");
    io::save(&path, &net).unwrap();
    let (ours, theirs) = (std::fs::read(&path).unwrap(), std::fs::read(&source).unwrap());
    let (ours, theirs) = (
        safetensors::SafeTensors::deserialize(&ours).unwrap(),
        safetensors::SafeTensors::deserialize(&theirs).unwrap(),
    );
    let mut names = ours.names();
    names.sort();
    assert_eq!(names, ["hidden.bias", "hidden.weight", "out.bias", "out.weight"]);
    for name in names {
        let (a, b) = (ours.tensor(name).unwrap(), theirs.tensor(name).unwrap());
        assert_eq!(a.shape(), b.shape(), "{name}");
        assert_eq!(a.dtype(), b.dtype(), "{name}");
        assert_eq!(a.data(), b.data(), "{name}");
    }
    let mut back = TanhCe::<f32>::zeroed();
    io::load(&path, &mut back).unwrap();
    assert_eq!(back, net);
}

/// A file with `tensors` (name, dtype, shape, values) written by the safetensors crate.
fn custom(name: &str, tensors: &[(&str, safetensors::Dtype, Vec<usize>, Vec<u8>)]) -> PathBuf {
    let path = scratch(name);
    let views: Vec<(&str, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| (*n, safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize_to_file(views, None, &path).unwrap();
    path
}

fn f32_bytes(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| (i as f32).to_le_bytes()).collect()
}

#[test]
fn every_loading_error_names_the_tensor_and_changes_nothing() {
    let original = TanhCe::<f32>::init(&mut sinew::rng(1));
    let good = scratch("good.safetensors");
    io::save(&good, &original).unwrap();
    let check_unchanged = |net: &TanhCe<f32>| assert_eq!(net, &original, "a failed load changed the network");
    use safetensors::Dtype::{F32, F64};
    let all = |skip: &str, dtype_of_out_weight: safetensors::Dtype, shape_of_out_weight: Vec<usize>| {
        let mut t = vec![
            ("hidden.weight", F32, vec![8, 4], f32_bytes(32)),
            ("hidden.bias", F32, vec![8], f32_bytes(8)),
            ("out.bias", F32, vec![3], f32_bytes(3)),
        ];
        let n: usize = shape_of_out_weight.iter().product();
        let bytes = if dtype_of_out_weight == F64 { vec![0u8; n * 8] } else { f32_bytes(n) };
        t.push(("out.weight", dtype_of_out_weight, shape_of_out_weight, bytes));
        t.retain(|(name, ..)| *name != skip);
        t
    };

    // Missing tensor.
    let mut net = original.clone();
    let e =
        io::load(custom("missing.safetensors", &all("hidden.bias", F32, vec![3, 8])), &mut net).unwrap_err();
    assert!(matches!(&e, WeightError::Missing { name } if name == "hidden.bias"), "{e}");
    check_unchanged(&net);

    // Wrong dtype.
    let e = io::load(custom("dtype.safetensors", &all("", F64, vec![3, 8])), &mut net).unwrap_err();
    assert!(
        matches!(&e, WeightError::Dtype { name, expected: "F32", found } if name == "out.weight" && found == "F64"),
        "{e}"
    );
    assert_eq!(e.to_string(), "tensor `out.weight` is F64 in the file, but the network is F32");
    check_unchanged(&net);

    // Wrong shape (transposed, the classic mistake).
    let e = io::load(custom("shape.safetensors", &all("", F32, vec![8, 3])), &mut net).unwrap_err();
    assert!(
        matches!(&e, WeightError::Shape { name, expected, found } if name == "out.weight" && expected == &[3, 8] && found == &[8, 3]),
        "{e}"
    );
    check_unchanged(&net);

    // Unexpected tensor: strict refuses, lenient reports.
    let mut extra = all("", F32, vec![3, 8]);
    extra.push(("out.scale", F32, vec![3], f32_bytes(3)));
    let path = custom("extra.safetensors", &extra);
    let e = io::load(&path, &mut net).unwrap_err();
    assert!(matches!(&e, WeightError::Unexpected { names } if names == &["out.scale"]), "{e}");
    check_unchanged(&net);
    assert_eq!(io::load_lenient(&path, &mut net).unwrap(), ["out.scale"]);
    assert_eq!(net.out.bias.as_slice(), &[0.0, 1.0, 2.0]);

    // Missing file.
    let mut net = original.clone();
    let e = io::load(scratch("absent.safetensors"), &mut net).unwrap_err();
    assert!(matches!(&e, WeightError::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound));

    // Truncated header: fewer than the 8 bytes of its length.
    let bytes = std::fs::read(&good).unwrap();
    let truncated = scratch("truncated-header.safetensors");
    std::fs::write(&truncated, &bytes[..5]).unwrap();
    let e = io::load(&truncated, &mut net).unwrap_err();
    assert!(matches!(e, WeightError::Format { kind: FormatError::TruncatedHeader, .. }), "{e}");

    // Header larger than the file.
    let larger = scratch("larger.safetensors");
    let mut lying = bytes.clone();
    lying[..8].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
    std::fs::write(&larger, &lying).unwrap();
    let e = io::load(&larger, &mut net).unwrap_err();
    assert!(matches!(e, WeightError::Format { kind: FormatError::HeaderLargerThanFile, .. }), "{e}");

    // Truncated data.
    let cut = scratch("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 4]).unwrap();
    let e = io::load(&cut, &mut net).unwrap_err();
    assert!(matches!(e, WeightError::Format { kind: FormatError::InvalidLayout, .. }), "{e}");

    // Garbage header.
    let mut garbage = bytes.clone();
    garbage[9] = b'!';
    let path = scratch("garbage.safetensors");
    std::fs::write(&path, &garbage).unwrap();
    let e = io::load(&path, &mut net).unwrap_err();
    assert!(matches!(e, WeightError::Format { kind: FormatError::InvalidHeader, .. }), "{e}");
    check_unchanged(&net);
}

/// An error mid-save leaves the previous file intact and no temporary file behind.
#[test]
fn saving_is_atomic() {
    let dir = scratch("atomic");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    let first = TanhCe::<f32>::init(&mut sinew::rng(1));
    io::save(&path, &first).unwrap();
    let before = std::fs::read(&path).unwrap();

    let result = io::write_atomic(&path, |file| {
        use std::io::Write;
        file.write_all(&before[..before.len() / 2])?;
        Err(std::io::Error::other("simulated crash mid-write"))
    });
    assert!(matches!(result, Err(WeightError::Io { .. })));
    assert_eq!(std::fs::read(&path).unwrap(), before, "the previous file was damaged");
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["model.safetensors"], "temporary files left behind");

    // A save into a directory that does not exist fails cleanly too.
    let e = io::save(dir.join("missing-dir/model.safetensors"), &first).unwrap_err();
    assert!(matches!(e, WeightError::Io { .. }));
    // And a successful save replaces the file.
    let second = TanhCe::<f32>::init(&mut sinew::rng(2));
    io::save(&path, &second).unwrap();
    let mut back = TanhCe::<f32>::zeroed();
    io::load(&path, &mut back).unwrap();
    assert_eq!(back, second);
}

#[test]
fn several_values_and_metadata_in_one_file() {
    let net = TanhCe::<f32>::init(&mut sinew::rng(3));
    let norm =
        sinew::data::Normalizer::<f32, 4>::fit([[1.0, 2.0, 3.0, 4.0], [3.0, 2.0, 1.0, 0.0]].iter()).unwrap();
    let path = scratch("bundle.safetensors");
    WeightWriter::new()
        .add("", &net)
        .add("normalizer.", &norm)
        .metadata("note", "hello")
        .save(&path)
        .unwrap();
    let mut file = WeightFile::read(&path).unwrap();
    let (mut net2, mut norm2) = (TanhCe::<f32>::zeroed(), sinew::data::Normalizer::<f32, 4>::identity());
    file.load_into("", &mut net2).unwrap();
    assert_eq!(file.unused(), ["normalizer.mean", "normalizer.std"]);
    file.load_into("normalizer.", &mut norm2).unwrap();
    file.ensure_all_used().unwrap();
    assert_eq!((net2, norm2), (net, norm));
    assert_eq!(file.metadata("note").as_deref(), Some("hello"));

    let duplicate = WeightWriter::new().add("", &TanhCe::<f32>::zeroed()).add("", &TanhCe::<f32>::zeroed());
    assert!(matches!(duplicate.to_bytes(), Err(WeightError::Format { .. })));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Arbitrary bytes never make the parser panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = WeightFile::from_bytes(bytes);
    }

    /// Nor does a valid file damaged anywhere; and whatever still parses still loads
    /// without panicking.
    #[test]
    fn damaged_files_never_panic(cut in 0usize..400, at in 0usize..400, byte in any::<u8>()) {
        let mut bytes = WeightWriter::new().add("", &TanhCe::<f32>::init(&mut sinew::rng(1))).to_bytes().unwrap();
        if at < bytes.len() {
            bytes[at] = byte;
        }
        bytes.truncate(cut.max(1));
        if let Ok(mut file) = WeightFile::from_bytes(bytes) {
            let mut net = TanhCe::<f32>::zeroed();
            let _ = file.load_into("", &mut net);
        }
    }
}
