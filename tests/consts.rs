//! Sizes from constants: constants declared in `network!` before the network are evaluated
//! by the macro (so every shape is still checked when it expands), usable in any size as
//! themselves or in arithmetic (`2 * HIDDEN`), also inside blocks, and emitted as written
//! so that the rest of the program shares them.

use sinew::prelude::*;

network! {
    /// The width of the hidden layers.
    pub const HIDDEN: usize = 24;
    /// Derived from it.
    pub const HALF: usize = HIDDEN / 2;
    const SIDE: usize = 6;
    /// Constants that are not sizes are emitted as written and left alone.
    pub const RATE: f64 = 0.5;
    pub const WORD: usize = core::mem::size_of::<u64>();

    block Res(width) {
        a: Dense(width) -> Tanh,
        b: Dense(width),
        sum: Add(b, input) -> Tanh,
    }

    pub struct Widths {
        input: [2, SIDE, SIDE],
        conv: Conv2d(HALF - 4, kernel = 3, padding = (SIDE - 6 + 1)),
        flat: Flatten => 8 * SIDE * SIDE,
        h: Dense(HIDDEN) -> Relu,
        r: Res(HIDDEN),
        narrow: Dense(HALF) -> Relu,
        out: Dense(2 * 2 + 1),
    }
}

#[test]
fn constants_size_the_layers_and_stay_usable() {
    assert_eq!(HIDDEN, 24);
    assert_eq!(HALF, 12);
    assert_eq!((RATE, WORD), (0.5, 8));
    let net = Widths::<f64>::init(&mut sinew::rng(1));
    assert_eq!(net.h.weight.shape(), (HIDDEN, 8 * SIDE * SIDE));
    assert_eq!(net.r_a.weight.shape(), (HIDDEN, HIDDEN));
    assert_eq!(net.narrow.weight.shape(), (HALF, HIDDEN));
    assert_eq!(net.out.weight.shape(), (5, HALF));
    assert_eq!(Widths::<f64>::INPUT, 2 * SIDE * SIDE);
    // The same network with every size written out has the same parameter count.
    network! {
        pub struct Literal {
            input: [2, 6, 6],
            conv: Conv2d(8, kernel = 3, padding = 1),
            flat: Flatten,
            h: Dense(24) -> Relu,
            ra: Dense(24) -> Tanh,
            rb: Dense(24),
            sum: Add(rb, h) -> Tanh,
            narrow: Dense(12) -> Relu,
            out: Dense(5),
        }
    }
    assert_eq!(Widths::<f64>::PARAMETERS, Literal::<f64>::PARAMETERS);
}
