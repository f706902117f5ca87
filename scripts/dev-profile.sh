#!/usr/bin/env bash
# Measures what `[profile.dev.package."*"] opt-level = 3` buys a user of sinew: a small
# program (a LeNet-style CNN, 20 training steps on batches of 32, then inference) is built
# as a user's crate depending on sinew, and timed as a debug build, as a debug build with
# optimised dependencies (then also its own crate at opt-level 1), and as a release build.
# Not part of the test suite (timings are not tests); the README quotes its numbers.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "user"
version = "0.1.0"
edition = "2024"

[dependencies]
sinew = { path = "$repo" }
TOML
cat > "$dir/src/main.rs" <<'RS'
use sinew::prelude::*;
use std::time::Instant;

network! {
    pub struct Cnn {
        input: [1, 28, 28],
        c1: Conv2d(6, kernel = 5, padding = 2) -> Relu,
        p1: MaxPool2d(2),
        c2: Conv2d(16, kernel = 5) -> Relu,
        p2: MaxPool2d(2),
        flat: Flatten,
        f1: Dense(120) -> Relu,
        f2: Dense(84) -> Relu,
        out: Dense(10),
    }
}

fn main() {
    let mut rng = sinew::rng(1);
    let mut net = Cnn::<f32>::boxed_init(&mut rng);
    let mut tw = CnnTrainWorkspace::<32>::boxed();
    let mut adam = Adam::<f32, Cnn>::boxed(AdamConfig::default());
    let x = Box::new(CnnInput::<32>::from_fn(|i, j| ((i * 7 + j * 13) % 17) as f32 / 17.0));
    let labels: [usize; 32] = core::array::from_fn(|j| j % 10);
    let started = Instant::now();
    for _ in 0..20 {
        net.train_step(&*x, &labels, &SoftmaxCrossEntropy, &mut *adam, &mut *tw, &mut rng).unwrap();
    }
    let mut ws = CnnWorkspace::<32>::boxed();
    let out = net.forward(&*x, &mut *ws);
    println!("{:.3} s ({})", started.elapsed().as_secs_f64(), out[0]);
}
RS
cd "$dir"
export CARGO_TARGET_DIR="$dir/target"
run() {
    local label="$1"
    shift
    cargo build --quiet "$@"
    local bin="$dir/target/$([ "${1:-}" = "--release" ] && echo release || echo debug)/user"
    printf '%-42s %s\n' "$label" "$("$bin")"
}
run "debug build (cargo run)"
run "debug, dependencies at opt-level 3" --config 'profile.dev.package."*".opt-level = 3'
run "debug, dependencies 3, own crate 1" --config 'profile.dev.package."*".opt-level = 3' --config 'profile.dev.opt-level = 1'
run "release build" --release
