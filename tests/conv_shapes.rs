//! Output-size arithmetic, table-driven: for many `(n, k, s, p)` a network declared with
//! `network!` must have exactly the output the runtime's formulas give, `floor((n + 2p −
//! k) / s) + 1` for convolutions and pooling and `(n − 1) s − 2p + k` for transposed
//! convolutions, along both axes (height `n`, width a different `n + 1` or `n + 2`). The
//! failing cases (kernel larger than the padded input, zero stride or kernel, non-positive
//! transposed output, pooling padding over half the kernel) are compile errors, in
//! `tests/ui/conv/`.

use sinew::layers::{conv_output_size, conv_transpose_output_size};
use sinew::prelude::*;

/// One network per case, with its expected size.
macro_rules! convolutions {
    ($($name:ident: [$h:literal, $w:literal], kernel = $k:literal, stride = $s:literal, padding = $p:literal;)*) => {
        $(
            #[allow(non_camel_case_types)]
            mod $name {
                use super::*;
                network! {
                    pub struct Net {
                        input: [2, $h, $w],
                        c: Conv2d(3, kernel = $k, stride = $s, padding = $p),
                    }
                }
            }
        )*

        #[test]
        fn convolution_sizes() {
            $(
                let want = 3 * conv_output_size($h, $k, $s, $p).unwrap() * conv_output_size($w, $k, $s, $p).unwrap();
                assert_eq!($name::Net::<f32>::OUTPUT, want, "{}", stringify!($name));
                // The output buffers have that size, and a forward pass fills them.
                let net = $name::Net::<f64>::init(&mut sinew::rng(1));
                let mut ws = $name::NetWorkspace::<1, f64>::boxed();
                let x = SMatrix::<f64, { 2 * $h * $w }, 1>::repeat(1.0);
                let out: &SMatrix<f64, _, 1> = net.forward(&x, &mut *ws);
                assert_eq!(out.len(), want);
            )*
        }
    };
}

macro_rules! poolings {
    ($($name:ident: [$h:literal, $w:literal], kernel = $k:literal, stride = $s:literal, padding = $p:literal;)*) => {
        $(
            #[allow(non_camel_case_types)]
            mod $name {
                use super::*;
                network! {
                    pub struct Net {
                        input: [2, $h, $w],
                        m: MaxPool2d($k, stride = $s, padding = $p),
                        a: AvgPool2d(1),
                        c: Conv2d(1, kernel = 1),
                    }
                }
            }
        )*

        #[test]
        fn pooling_sizes() {
            $(
                let want = conv_output_size($h, $k, $s, $p).unwrap() * conv_output_size($w, $k, $s, $p).unwrap();
                assert_eq!($name::Net::<f32>::OUTPUT, want, "{}", stringify!($name));
            )*
        }
    };
}

macro_rules! transposed {
    ($($name:ident: [$h:literal, $w:literal], kernel = $k:literal, stride = $s:literal, padding = $p:literal;)*) => {
        $(
            #[allow(non_camel_case_types)]
            mod $name {
                use super::*;
                network! {
                    pub struct Net {
                        input: [2, $h, $w],
                        up: ConvTranspose2d(3, kernel = $k, stride = $s, padding = $p),
                    }
                }
            }
        )*

        #[test]
        fn transposed_convolution_sizes() {
            $(
                let (h, w) = (conv_transpose_output_size($h, $k, $s, $p).unwrap(), conv_transpose_output_size($w, $k, $s, $p).unwrap());
                assert_eq!($name::Net::<f32>::OUTPUT, 3 * h * w, "{}", stringify!($name));
                // A convolution with the same window maps the output back to the input size.
                assert_eq!((conv_output_size(h, $k, $s, $p), conv_output_size(w, $k, $s, $p)), (Some($h), Some($w)));
            )*
        }
    };
}

convolutions! {
    conv0: [5, 6], kernel = 3, stride = 1, padding = 0;
    conv1: [5, 6], kernel = 3, stride = 1, padding = 1;
    conv2: [5, 6], kernel = 5, stride = 1, padding = 0;
    conv3: [5, 6], kernel = 5, stride = 1, padding = 2;
    conv4: [7, 8], kernel = 3, stride = 2, padding = 0;
    conv5: [7, 8], kernel = 3, stride = 2, padding = 1;
    conv6: [8, 9], kernel = 3, stride = 2, padding = 1;
    conv7: [8, 9], kernel = 2, stride = 2, padding = 0;
    conv8: [9, 10], kernel = 4, stride = 3, padding = 1;
    conv9: [10, 11], kernel = 3, stride = 3, padding = 2;
    conv10: [11, 12], kernel = 5, stride = 2, padding = 2;
    conv11: [12, 13], kernel = 3, stride = 1, padding = 0;
    conv12: [13, 14], kernel = 7, stride = 2, padding = 3;
    conv13: [14, 15], kernel = 1, stride = 1, padding = 0;
    conv14: [14, 15], kernel = 1, stride = 2, padding = 0;
    conv15: [15, 16], kernel = 4, stride = 4, padding = 0;
    conv16: [16, 17], kernel = 5, stride = 3, padding = 1;
    conv17: [28, 29], kernel = 5, stride = 1, padding = 2;
    conv18: [28, 29], kernel = 5, stride = 1, padding = 0;
    conv19: [32, 33], kernel = 3, stride = 2, padding = 1;
    conv20: [6, 7], kernel = 6, stride = 1, padding = 0;
    conv21: [6, 7], kernel = 6, stride = 5, padding = 2;
    conv22: [3, 4], kernel = 3, stride = 3, padding = 1;
    conv23: [4, 5], kernel = 2, stride = 1, padding = 1;
    conv24: [9, 10], kernel = 9, stride = 1, padding = 4;
    conv25: [10, 11], kernel = 4, stride = 1, padding = 3;
    conv26: [1, 2], kernel = 1, stride = 1, padding = 0;
    conv27: [2, 3], kernel = 3, stride = 1, padding = 1;
    conv28: [17, 18], kernel = 3, stride = 5, padding = 0;
    conv29: [20, 21], kernel = 5, stride = 4, padding = 2;
}

poolings! {
    pool0: [5, 6], kernel = 3, stride = 1, padding = 0;
    pool1: [5, 6], kernel = 5, stride = 1, padding = 0;
    pool2: [7, 8], kernel = 3, stride = 2, padding = 0;
    pool3: [7, 8], kernel = 3, stride = 2, padding = 1;
    pool4: [8, 9], kernel = 3, stride = 2, padding = 1;
    pool5: [8, 9], kernel = 2, stride = 2, padding = 0;
    pool6: [9, 10], kernel = 4, stride = 3, padding = 1;
    pool7: [12, 13], kernel = 3, stride = 1, padding = 0;
    pool8: [14, 15], kernel = 1, stride = 1, padding = 0;
    pool9: [14, 15], kernel = 1, stride = 2, padding = 0;
    pool10: [15, 16], kernel = 4, stride = 4, padding = 0;
    pool11: [16, 17], kernel = 5, stride = 3, padding = 1;
    pool12: [28, 29], kernel = 5, stride = 1, padding = 0;
    pool13: [32, 33], kernel = 3, stride = 2, padding = 1;
    pool14: [6, 7], kernel = 6, stride = 1, padding = 0;
    pool15: [6, 7], kernel = 6, stride = 5, padding = 2;
    pool16: [3, 4], kernel = 3, stride = 3, padding = 1;
    pool17: [1, 2], kernel = 1, stride = 1, padding = 0;
    pool18: [17, 18], kernel = 3, stride = 5, padding = 0;
    pool19: [20, 21], kernel = 5, stride = 4, padding = 2;
}

transposed! {
    up0: [3, 5], kernel = 3, stride = 2, padding = 1;
    up1: [4, 6], kernel = 2, stride = 2, padding = 0;
    up2: [5, 7], kernel = 4, stride = 2, padding = 1;
    up3: [7, 9], kernel = 3, stride = 1, padding = 1;
    up4: [2, 4], kernel = 5, stride = 3, padding = 2;
    up5: [1, 3], kernel = 3, stride = 1, padding = 0;
    up6: [6, 8], kernel = 1, stride = 3, padding = 0;
    up7: [3, 5], kernel = 4, stride = 4, padding = 1;
}

network! {
    /// `padding = same` on square, rectangular and 1×1 kernels: every layer keeps 14 × 14.
    pub struct Same {
        input: [4, 14, 14],
        a: Conv2d(8, kernel = 3, padding = same, bias = false) => [8, 14, 14],
        b: Conv2d(8, kernel = (3, 5), padding = same) -> Relu => [8, 14, 14],
        c: Conv2d(6, kernel = 1, padding = same) => [6, 14, 14],
        d: Conv2d(5, kernel = (7, 1), stride = 1, padding = same) => [5, 14, 14],
    }
}

network! {
    /// `Same` with the paddings written out: (1, 1), (1, 2), 0, (3, 0).
    pub struct Explicit {
        input: [4, 14, 14],
        a: Conv2d(8, kernel = 3, padding = 1, bias = false),
        b: Conv2d(8, kernel = (3, 5), padding = (1, 2)) -> Relu,
        c: Conv2d(6, kernel = 1),
        d: Conv2d(5, kernel = (7, 1), padding = (3, 0)),
    }
}

/// `padding = same` is `(k − 1) / 2` per axis: the same network as the paddings written
/// out, value for value.
#[test]
fn same_padding_keeps_the_size_and_equals_explicit_padding() {
    assert_eq!(Same::<f64>::SUMMARY.replace("Same", ""), Explicit::<f64>::SUMMARY.replace("Explicit", ""));
    let same = Same::<f64>::init(&mut sinew::rng(3));
    let mut explicit = Explicit::<f64>::zeroed();
    explicit.for_each_tensor_mut(|info, values| {
        same.for_each_tensor(|other, from| {
            if other.name == info.name {
                values.copy_from_slice(from);
            }
        })
    });
    let x = SMatrix::<f64, { 4 * 14 * 14 }, 2>::from_fn(|i, j| ((i * 5 + j * 3) % 11) as f64 / 11.0 - 0.5);
    let (mut ws1, mut ws2) = (SameWorkspace::<2, f64>::boxed(), ExplicitWorkspace::<2, f64>::boxed());
    assert_eq!(same.forward(&x, &mut ws1), explicit.forward(&x, &mut ws2));
}
