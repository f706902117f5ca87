// Issue 8: sizes near u64::MAX are errors, never an overflow in the macro (a panic in debug
// builds, a wrapped size that compiled in release).
sinew::network! {
    pub struct A {
        input: [18446744073709551615, 2, 2],
        f: Flatten,
        out: Dense(2),
    }
}

sinew::network! {
    pub struct Padded {
        input: [1, 8, 8],
        c: Conv2d(2, kernel = 3, padding = 18446744073709551615),
        p: MaxPool2d(2, padding = 18446744073709551615),
    }
}

sinew::network! {
    pub struct C {
        input: [1, 4294967296, 4294967296],
        c: Conv2d(2, kernel = 3),
    }
}

sinew::network! {
    #[budget(ram = 1K, batch = 18446744073709551615)]
    pub struct D {
        input: 4,
        out: Dense(2),
    }
}

fn main() {}
