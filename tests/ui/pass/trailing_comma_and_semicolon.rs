use sinew::network;

network! {
    pub struct Tiny { input: 2, out: Dense(1) }
}

network! {
    pub struct Tiny2 {
        input: 2,
        out: Dense(1),
    };
}

fn main() {
    assert_eq!(Tiny::<f32>::PARAMETERS, 3);
    assert_eq!(Tiny2::<f32>::PARAMETERS, 3);
}
