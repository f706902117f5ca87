#!/usr/bin/env bash
# The compile-time curve of `network!`: `cargo check` time and peak memory of a user's crate
# declaring one MLP of N dense layers (16 wide, Tanh), for each N given (default 25 50 100
# 200), or with `resnet:N` a ResNet of N residual blocks with batch norm (16 channels,
# 14 x 14; 5 layers each). Dependencies are checked once first, so each row is the user's
# crate alone. A benchmark, not a test: it prints a table.
#
#   ./scripts/compile-time.sh 50 100 200 300 resnet:16
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(25 50 100 200)
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "deep"
version = "0.1.0"
edition = "2024"

[dependencies]
sinew = { path = "$repo" }
TOML
export CARGO_TARGET_DIR="$dir/target"
mlp() {
    local n="$1"
    printf 'sinew::network! {\n    pub struct Deep {\n        input: 16,\n'
    for ((i = 0; i < n - 1; i++)); do printf '        l%d: Dense(16) -> Tanh,\n' "$i"; done
    printf '        out: Dense(4),\n    }\n}\n\nfn main() {}\n'
}
resnet() {
    local n="$1"
    printf 'sinew::network! {\n    block Basic(c) {\n'
    printf '        conv1: Conv2d(c, kernel = 3, padding = same, bias = false),\n        bn1: BatchNorm -> Relu,\n'
    printf '        conv2: Conv2d(c, kernel = 3, padding = same, bias = false),\n        bn2: BatchNorm,\n'
    printf '        sum: Add(bn2, input) -> Relu,\n    }\n\n    pub struct Deep {\n        input: [16, 14, 14],\n'
    printf '        layers: ['
    for ((i = 0; i < n; i++)); do printf 'Basic(16), '; done
    printf '],\n        pool: GlobalAvgPool,\n        fc: Dense(10),\n    }\n}\n\nfn main() {}\n'
}
mlp 1 > "$dir/src/main.rs"
(cd "$dir" && cargo check --quiet)
printf '%12s %8s %10s %12s\n' network layers seconds "peak MiB"
for n in "${sizes[@]}"; do
    case "$n" in
        resnet:*) blocks="${n#resnet:}"; resnet "$blocks" > "$dir/src/main.rs"; name="resnet-$blocks"; layers=$((5 * blocks + 2)) ;;
        *) mlp "$n" > "$dir/src/main.rs"; name="mlp"; layers="$n" ;;
    esac
    touch "$dir/src/main.rs"
    out=$(cd "$dir" && /usr/bin/time -f '%e %M' cargo check --quiet 2>&1 | tail -1)
    read -r seconds kib <<<"$out"
    printf '%12s %8d %10.2f %12d\n' "$name" "$layers" "$seconds" "$((kib / 1024))"
done
