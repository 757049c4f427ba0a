#!/usr/bin/env bash
# Builds .device-payload/ (git-ignored; the lead carries it with .gl) for
# tools/device/run.sh on a machine with a GPU and no Node.js:
#   check.mjs            tools/device/check.ts bundled by esbuild (node20, esm; webgpu external)
#   node_modules/webgpu/ the webgpu package's index.js and package.json (dawn.node comes from dawn.node.xz)
#   dawn.node.xz         the package's dist/linux-x64/dawn.node, xz -9
#   node_modules/onnxruntime-web/  its package.json, the webgpu bundle and its wasm glue (ort-wasm-simd-threaded.asyncify.mjs);
#                        the asyncify wasm it loads comes from ort-wasm.xz
#   ort-wasm.xz          dist/ort-wasm-simd-threaded.asyncify.wasm, xz -9
#   node.xz              this machine's node binary, xz -9 (cached: redone only when node changes)
#   fixtures/            packages/models/fixtures (the PyTorch fixtures)
# and makes sure .gl/ holds the Vulkan/EGL loader .debs. Prints the sizes;
# fails when payload and debs pass 55 MiB.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
P=.device-payload
ESBUILD=node_modules/.pnpm/esbuild@0.28.2/node_modules/esbuild/bin/esbuild
WEBGPU=$(readlink -f packages/backend-webgpu/node_modules/webgpu)
ORT=$(readlink -f node_modules/onnxruntime-web)
mkdir -p "$P"
rm -rf "$P/check.mjs" "$P/node_modules" "$P/fixtures"

# The reduce variant names are a TypeScript type only: read them from the source now and bake them into the bundle.
VARIANTS=$(node -e '
const src = require("fs").readFileSync("packages/backend-webgpu/src/wgsl/module.ts", "utf8");
const members = (name) => {
  const m = new RegExp(`export type ${name}\\s*=([^;]+);`).exec(src);
  if (!m) throw new Error(`module.ts: no export type ${name}`);
  return [...m[1].matchAll(/\x27([^\x27]+)\x27/g)].map((x) => x[1]);
};
process.stdout.write(JSON.stringify({ reduce: members("ReduceVariant") }));')
echo "variants: $VARIANTS"

"$ESBUILD" tools/device/check.ts --bundle --platform=node --target=node20 --format=esm \
  --outfile="$P/check.mjs" --external:webgpu --external:onnxruntime-web --log-level=warning \
  "--define:DEVICE_CHECK_VARIANTS=$VARIANTS" \
  --banner:js="import { createRequire as __deviceCheckRequire } from 'node:module'; const require = __deviceCheckRequire(import.meta.url);"

mkdir -p "$P/node_modules/webgpu"
cp "$WEBGPU/index.js" "$WEBGPU/package.json" "$P/node_modules/webgpu/"
mkdir -p "$P/node_modules/onnxruntime-web/dist"
cp "$ORT/package.json" "$P/node_modules/onnxruntime-web/"
cp "$ORT/dist/ort.webgpu.bundle.min.mjs" "$ORT/dist/ort-wasm-simd-threaded.asyncify.mjs" "$P/node_modules/onnxruntime-web/dist/"
mkdir -p "$P/fixtures"
# The top-level fixtures only (correctness.ts reads those; hf/ and rnn/ are folders the device check does not run).
find packages/models/fixtures -maxdepth 1 -type f -exec cp -t "$P/fixtures/" {} +

# Compressed once per input (xz -9 of node takes about 100 s on 2 cores): a stamp names what was compressed.
compress() { # SRC DEST
  local stamp
  stamp="$(stat -c '%s %Y' "$1") $(readlink -f "$1")"
  if [[ -f "$2" && -f "$2.stamp" && "$(cat "$2.stamp")" == "$stamp" ]]; then return; fi
  echo "compressing $1 ..."
  xz -9 -T2 -c "$1" >"$2.tmp" && mv "$2.tmp" "$2" && echo "$stamp" >"$2.stamp"
}
compress "$(readlink -f "$(command -v node)")" "$P/node.xz"
compress "$WEBGPU/dist/linux-x64/dawn.node" "$P/dawn.node.xz"
compress "$ORT/dist/ort-wasm-simd-threaded.asyncify.wasm" "$P/ort-wasm.xz"

if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update >/dev/null
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

du -sh "$P"/* .gl | sed 's/^/  /'
total=$(du -sb "$P" .gl | awk '{s += $1} END {print s}')
echo "payload + .gl: $((total / 1024 / 1024)) MiB ($total bytes); carry: [\".device-payload\", \".gl\"]"
if ((total > 55 * 1024 * 1024)); then
  echo "pack.sh: payload is over 55 MiB" >&2
  exit 1
fi
