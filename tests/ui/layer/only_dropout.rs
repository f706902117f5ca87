use sinew::network;

network! {
    pub struct Nothing {
        input: 16,
        drop: Dropout(keep = 0.5),
    }
}

fn main() {}
