#!/usr/bin/env bash
# The browser demo (demo/): builds the WebAssembly module and the page's data, then
#   ./scripts/demo.sh           serves demo/ on http://localhost:8000 (open it in a browser)
#   ./scripts/demo.sh --test    tests the page in headless Chromium (what ./scripts/test.sh runs)
#
# The module embeds the main job's weights (out/lenet.safetensors; the main job runs first
# when they are missing). --test serves the page on a free localhost port and drives headless
# Chromium through the DevTools protocol (scripts/demo-browser.py): the 10 held-out digits go
# in through the page's JavaScript API, the classes and probabilities are checked against
# the host's (examples/demo-data.rs), the time per inference is measured, and a phone-sized
# screenshot with a digit drawn is saved (docs/demo.png).
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown >/dev/null 2>&1
[ -f out/lenet.safetensors ] || cargo run --release --example mnist
cargo run --quiet --release --example demo-data -- write demo/model.json
(cd demo && cargo build --quiet --release --target wasm32-unknown-unknown)
cp demo/target/wasm32-unknown-unknown/release/sinew_demo.wasm demo/sinew_demo.wasm
bytes=$(stat -c %s demo/sinew_demo.wasm)
gzipped=$(gzip -9 -c demo/sinew_demo.wasm | wc -c)
echo "demo/sinew_demo.wasm: $bytes bytes, $gzipped gzipped"

if [ "${1:-}" != "--test" ]; then
    echo "serving demo/ at http://localhost:8000/ (Ctrl-C to stop)"
    exec python3 -m http.server 8000 --bind 127.0.0.1 --directory demo
fi

# The module has no allocator: its name section lists every function, and none allocates.
python3 - demo/sinew_demo.wasm <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
def leb(at):
    value = shift = 0
    while True:
        byte = data[at]; at += 1
        value |= (byte & 0x7F) << shift; shift += 7
        if byte < 0x80: return value, at
names, at = [], 8
while at < len(data):
    section, at = data[at], at + 1
    size, at = leb(at)
    end = at + size
    if section == 0:
        length, body = leb(at)
        if data[body:body + length] == b"name":
            sub = body + length
            while sub < end:
                kind, size2 = data[sub], None
                size2, sub = leb(sub + 1)
                if kind == 1:
                    count, item = leb(sub)
                    for _ in range(count):
                        _, item = leb(item)
                        n, item = leb(item)
                        names.append(data[item:item + n].decode("utf-8", "replace")); item += n
                sub += size2
    at = end
if "classify" not in names:
    sys.exit("error: the module has no function names to check")
allocating = [n for n in names if "alloc" in n.lower()]
if allocating:
    sys.exit(f"error: the module links an allocator: {allocating[:5]}")
print(f"no allocator in the module ({len(names)} functions, none allocates)")
PY

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "error: Chromium is not installed (apt-get install --no-install-recommends chromium)" >&2; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory demo >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/index.html')" 2>/dev/null && break
    sleep 0.1
done
mkdir -p out docs
python3 scripts/demo-browser.py "$browser" "http://127.0.0.1:$port/index.html" demo/model.json \
    out/demo-results.json docs/demo.png
cargo run --quiet --release --example demo-data -- check demo/model.json out/demo-results.json
[ -s docs/demo.png ] || { echo "error: no screenshot" >&2; exit 1; }
echo "wrote docs/demo.png (390 x 844, a phone's viewport)"
