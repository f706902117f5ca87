#!/usr/bin/env bash
# The compile-time curve of `network!`: `cargo check` time and peak memory of a user's crate
# declaring one MLP of N dense layers (16 wide, Tanh), for each N given (default 25 50 100
# 200). Dependencies are checked once first, so each row is the user's crate alone. A
# benchmark, not a test: it prints a table.
#
#   ./scripts/compile-time.sh 50 100 200 300
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
mlp 1 > "$dir/src/main.rs"
(cd "$dir" && cargo check --quiet)
printf '%8s %10s %12s\n' layers seconds "peak MiB"
for n in "${sizes[@]}"; do
    mlp "$n" > "$dir/src/main.rs"
    touch "$dir/src/main.rs"
    out=$(cd "$dir" && /usr/bin/time -f '%e %M' cargo check --quiet 2>&1 | tail -1)
    read -r seconds kib <<<"$out"
    printf '%8d %10.2f %12d\n' "$n" "$seconds" "$((kib / 1024))"
done
