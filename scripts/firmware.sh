#!/usr/bin/env bash
# The firmware checks (called by scripts/test.sh): builds both firmwares in release for the
# Cortex-M3 (thumbv7m-none-eabi) and the Cortex-M4F (thumbv7em-none-eabihf), runs them under
# QEMU (lm3s6965evb and mps2-an386), compares what they print with the host's computation
# of the same networks, proves that no allocator is in the dependency graph, prints the
# footprints, and times the build of a firmware embedding a 101,770-parameter network.
# Outputs go to target/firmware/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/target/firmware"
mkdir -p "$out"

step() { printf '\n==> %s\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if ! command -v qemu-system-arm >/dev/null; then
    step "installing qemu-system-arm"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if ! command -v apt-get >/dev/null; then
        echo "error: qemu-system-arm is needed to run the firmware; install it with your package manager" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y --no-install-recommends qemu-system-arm \
        || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends qemu-system-arm; }
fi
qemu-system-arm --version | head -1

host=$(rustc -vV | sed -n 's/^host: //p')
tools="$(rustc --print sysroot)/lib/rustlib/$host/bin"
m3=thumbv7m-none-eabi
m4=thumbv7em-none-eabihf

# Runs a firmware under QEMU with a timeout; its output goes to a file (QEMU spins forever
# if the reader of its output goes away, so never pipe it into `head`).
run() { # machine cpu elf output
    local rc=0
    timeout 120 qemu-system-arm -machine "$1" -cpu "$2" -nographic -icount shift=0 \
        -semihosting-config enable=on,target=native -kernel "$3" >"$4" 2>"$4.stderr" || rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$4" "$4.stderr" >&2
        echo "error: $3 on $1 exited with status $rc" >&2
        exit 1
    fi
    grep -E '^(sinew|memory|ticks|baseline|accuracy|before|after|stack|class|big)' "$4" | sed "s|^|  [$1] |"
}

step "the runtime builds for every Cortex-M profile, thumbv6m (M0) included"
cargo build -p sinew-runtime --no-default-features --target thumbv6m-none-eabi
cargo build -p sinew-runtime --no-default-features --target $m4

step "firmware: format and lints"
cd "$root/firmware"
cargo fmt --check
for target in $m3 $m4; do
    cargo clippy --release --target $target -- -D warnings
done

step "firmware: release build for $m3 and $m4"
start=$(now)
cargo build --release --target $m3
echo "built for $m3 in $(since "$start") s"
start=$(now)
cargo build --release --target $m4
echo "built for $m4 in $(since "$start") s"

step "firmware: no allocator, no std, no alloc in the dependency graph"
if cargo tree -e normal,features,no-proc-macro --target $m3 | grep -E 'feature "(std|alloc)"'; then
    echo "error: std or alloc is enabled in the firmware's dependency graph" >&2
    exit 1
fi
for elf in target/$m3/release/infer target/$m3/release/train; do
    if "$tools/llvm-nm" "$elf" | grep -E '__rust_alloc|__rdl_|__rg_alloc'; then
        echo "error: $elf links an allocator" >&2
        exit 1
    fi
done
echo "no std or alloc feature and no allocator symbol"

step "firmware: run under QEMU (-icount shift=0: SysTick counts instructions)"
run lm3s6965evb cortex-m3 target/$m3/release/infer "$out/infer-m3.txt"
run lm3s6965evb cortex-m3 target/$m3/release/train "$out/train-m3.txt"
run mps2-an386 cortex-m4 target/$m4/release/infer "$out/infer-m4.txt"
run mps2-an386 cortex-m4 target/$m4/release/train "$out/train-m4.txt"

cd "$root"
step "firmware: the weights are read in place from flash"
# `static NET` is read-only data at a flash address (below the RAM at 0x20000000), as
# large as the network; .data is empty, so nothing is copied to RAM at boot.
params=$(sed -n 's/^memory: parameters \([0-9]*\) B.*/\1/p' "$out/infer-m3.txt")
read -r addr size kind _ < <("$tools/llvm-nm" -S -C firmware/target/$m3/release/infer | grep ' infer::NET')
if [[ "$kind" != [rR] ]] || (( 16#$size != params )) || (( 16#$addr >= 0x20000000 )); then
    echo "error: NET is '$kind' at 0x$addr, $((16#$size)) bytes; expected read-only flash, $params bytes" >&2
    exit 1
fi
data=$("$tools/llvm-size" firmware/target/$m3/release/infer | tail -1 | awk '{ print $2 }')
(( data == 0 )) || { echo "error: infer has $data bytes of .data" >&2; exit 1; }
echo "NET: $((16#$size)) bytes of read-only data at 0x$addr (flash); .data is empty"

step "firmware: outputs against the host (classes identical, probabilities within 1e-5)"
cargo build --release --example 04-firmware
for core in m3 m4; do
    echo "Cortex-${core^^}:"
    target/release/examples/04-firmware check "$out/infer-$core.txt" "$out/train-$core.txt"
done

step "firmware: footprint (text = flash: vector table, code, weights; data + bss = static RAM)"
for target in $m3 $m4; do
    for bin in infer train; do
        printf '%-22s %-6s ' "$target" "$bin"
        "$tools/llvm-size" "firmware/target/$target/release/$bin" | tail -1 | awk '{ printf "text %7d  data %5d  bss %6d\n", $1, $2, $3 }'
    done
done

step "firmware: the name generator of 07-names on the M4F (weights in flash, names identical to the host's)"
cargo run --release --example 07-names -- --export firmware/weights/names.safetensors | tail -3
cd "$root/firmware"
cargo clippy --release --features names --bin names --target $m4 -- -D warnings
cargo build --release --features names --bin names --target $m4
if "$tools/llvm-nm" target/$m4/release/names | grep -E '__rust_alloc|__rdl_|__rg_alloc'; then
    echo "error: the names firmware links an allocator" >&2
    exit 1
fi
printf '%-22s %-6s ' "$m4" names
"$tools/llvm-size" target/$m4/release/names | tail -1 | awk '{ printf "text %7d  data %5d  bss %6d\n", $1, $2, $3 }'
run mps2-an386 cortex-m4 target/$m4/release/names "$out/names-m4.txt"
grep -E '^name' "$out/names-m4.txt" | sed 's|^|  [mps2-an386] |'
cd "$root"
target/release/examples/07-names --check "$out/names-m4.txt" firmware/weights/names.safetensors

step "firmware: build time with a 101,770-parameter network embedded (weights decoded by the compiler)"
target/release/examples/04-firmware big-weights firmware/weights/big.safetensors
cd "$root/firmware"
cargo clean --release --target $m4 -p sinew-firmware
start=$(now)
cargo build --release --features big --bin big --target $m4
echo "big firmware built in $(since "$start") s (the firmware crate; its dependencies were built above)"
touch src/bin/big.rs
start=$(now)
cargo build --release --features big --bin big --target $m4
echo "big firmware rebuilt after an edit of its source in $(since "$start") s"
printf '%-22s %-6s ' "$m4" big
"$tools/llvm-size" target/$m4/release/big | tail -1 | awk '{ printf "text %7d  data %5d  bss %6d\n", $1, $2, $3 }'
run mps2-an386 cortex-m4 target/$m4/release/big "$out/big-m4.txt"
grep -q '^done' "$out/big-m4.txt"
