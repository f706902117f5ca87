#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit/integration/doc/UI tests, the no_std
# build, docs, and the examples (which check their own results). Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain targets and tools"
rustup target add thumbv7m-none-eabi thumbv7em-none-eabihf thumbv6m-none-eabi wasm32-unknown-unknown >/dev/null
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

step "features: each one builds alone, and pulls in only its own dependencies"
for feature in host data io train progress plot; do
    cargo check --quiet -p sinew --no-default-features --features "$feature"
done
deps() { cargo tree -p sinew --no-default-features --features "$1" -e normal --prefix none | awk '{print $1}' | sort -u; }
if deps io | grep -qE '^(plotters|indicatif|csv)$'; then
    echo "error: the io feature pulls in plotting, progress or CSV dependencies" >&2
    exit 1
fi
if deps train | grep -qE '^(plotters|indicatif)$'; then
    echo "error: the train feature pulls in plotting or progress dependencies" >&2
    exit 1
fi
if cargo tree -p sinew-macros -e normal --prefix none | awk '{print $1}' | grep -qE '^(tempfile|libc)$'; then
    echo "error: the macro crate builds safetensors with its std feature" >&2
    exit 1
fi

step "cargo package: every crate packs, and carries no data blob over 1 MB"
for entry in sinew:. sinew-runtime:runtime sinew-macros:macros; do
    crate=${entry%%:*}
    dir=${entry#*:}
    cargo package --quiet --list --allow-dirty -p "$crate" 2>/dev/null | while read -r file; do
        [ -f "$dir/$file" ] || continue
        size=$(stat -c %s "$dir/$file")
        if [ "$size" -gt 1048576 ]; then
            echo "error: $crate would publish $file ($size bytes)" >&2
            exit 1
        fi
    done
done
cargo package --quiet --workspace --no-verify --allow-dirty 2>&1 | grep -v "^warning: ignoring" || true
for crate in target/package/sinew-0.1.0.crate target/package/sinew-runtime-0.1.0.crate target/package/sinew-macros-0.1.0.crate; do
    size=$(stat -c %s "$crate")
    echo "$crate: $size bytes"
    [ "$size" -lt 10485760 ] || { echo "error: $crate is over the registry's 10 MB limit" >&2; exit 1; }
done

step "doc examples use the paths a user writes (sinew::..., never sinew_runtime::...)"
if grep -rnE '^\s*//[/!].*sinew_runtime::' src runtime/src macros/src; then
    echo "error: a doc example imports sinew_runtime, which user code cannot name" >&2
    exit 1
fi

step "docs (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "examples"
cargo run --release --example 01-xor
cargo run --release --example 02-iris
cargo run --release --example 03-digits
cargo run --release --example mnist -- --epochs 1 --subset 800
cargo run --release --example mnist -- --epochs 1 --subset 800 --augment
cargo run --release --example 05-resnet -- --epochs 1 --subset 800
cargo run --release --example 06-inception
cargo run --release --example 07-names
cargo run --release --example 08-sequential-mnist
cargo run --release --example 09-siamese
cargo run --release --example 10-localize
cargo run --release --example 11-segment

step "browser demo (WebAssembly, headless Chromium)"
# The full main job (it checks its own accuracy) writes the weights the module embeds.
cargo run --release --example mnist
(cd demo && cargo fmt --check && cargo clippy --quiet --release --target wasm32-unknown-unknown -- -D warnings)
./scripts/demo.sh --test

step "firmware (QEMU)"
./scripts/firmware.sh

printf '\nall checks passed\n'
