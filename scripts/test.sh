#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit/integration/doc/UI tests, the no_std
# build, docs, and the examples (which check their own results). Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain targets and tools"
rustup target add thumbv7m-none-eabi thumbv7em-none-eabihf thumbv6m-none-eabi >/dev/null
rustup component add llvm-tools >/dev/null

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (unit, integration, trybuild UI, doc tests)"
cargo test --workspace

step "no_std: the runtime and the facade for thumbv7m-none-eabi, without alloc"
cargo build -p sinew-runtime --no-default-features --target thumbv7m-none-eabi
cargo build -p sinew --no-default-features --target thumbv7m-none-eabi
if cargo tree -p sinew --no-default-features -e normal,features,no-proc-macro --target thumbv7m-none-eabi | grep -E 'feature "(std|alloc)"'; then
    echo "error: std or alloc is enabled in the no_std dependency graph" >&2
    exit 1
fi

step "docs (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "examples"
cargo run --release --example 01-xor
cargo run --release --example 02-iris
cargo run --release --example 03-digits
cargo run --release --example mnist -- --epochs 1 --subset 800

step "firmware (QEMU)"
./scripts/firmware.sh

printf '\nall checks passed\n'
