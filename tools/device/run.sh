#!/usr/bin/env bash
# Runs the device check from the repo root on the GPU machine (or here):
# unpacks the Vulkan/EGL loaders from .gl/ when the machine has none, points
# the loaders at NVIDIA's driver files when they are in /usr/local/nvidia,
# unpacks node and dawn.node from .device-payload/ to /tmp/device-check, and
# runs the bundle with its output tee'd to $OUT/device-check.log; the bundle
# writes $OUT/device-check.json as it goes.
#   OUT=/tmp/devout DEVICE_CHECK_QUICK=1 bash tools/device/run.sh     (here: llvmpipe, a few minutes)
# Environment: DEVICE_CHECK_BUDGET_S (default 240; 600 with DEVICE_CHECK_QUICK=1), DEVICE_CHECK_QUICK=1,
# DEVICE_CHECK_JAX=0 (no jax-js peer), DEVICE_CHECK_ORT=0 (no onnxruntime-web peer), TESSERA_WEBGPU_ADAPTER=default|opengles.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
P=.device-payload
export OUT=${OUT:-/tmp/devout}
mkdir -p "$OUT"
LOG="$OUT/device-check.log"
W=/tmp/device-check
# The check's own default budget (report.ts): 600 s in quick mode, else 240 s.
if [[ ${DEVICE_CHECK_QUICK:-} == 1 ]]; then BUDGET=${DEVICE_CHECK_BUDGET_S:-600}; else BUDGET=${DEVICE_CHECK_BUDGET_S:-240}; fi

setup() {
  echo "== setup ($(date -u +%FT%TZ), $(uname -srm), $(nproc) CPUs)"
  if [[ ! -f $P/node.xz || ! -f $P/check.mjs ]]; then
    echo "no $P/node.xz or $P/check.mjs: run tools/device/pack.sh here and carry .device-payload"
    return 1
  fi
  # Only a machine without a Vulkan loader gets the carried one.
  # (grep without -q: with pipefail, -q's early exit can fail ldconfig with SIGPIPE and read as 'none'.)
  # A machine with Node.js is not the device (it has none): its / is left alone (on a shared machine the loader
  # would change every other process's adapter search), and Dawn uses what it has (llvmpipe through OpenGL ES here).
  if ! ldconfig -p | grep libvulkan >/dev/null && command -v node >/dev/null; then
    echo "no libvulkan, but this machine has Node.js (not the device): not unpacking the loader .debs into /"
  elif ! ldconfig -p | grep libvulkan >/dev/null; then
    if ls .gl/*.deb >/dev/null 2>&1; then
      echo "no libvulkan: unpacking $(ls .gl/*.deb | wc -l) loader .debs from .gl into /"
      for f in .gl/*.deb; do dpkg -x "$f" /; done
      ldconfig
    else
      echo "no libvulkan and no .gl/*.deb carried: Dawn will find no Vulkan"
    fi
  fi
  local nv=/usr/local/nvidia/share
  if [[ -z ${VK_DRIVER_FILES:-} && -f $nv/vulkan/icd.d/nvidia_icd.json ]] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$nv/vulkan/icd.d/nvidia_icd.json
  fi
  if [[ -z ${__EGL_VENDOR_LIBRARY_FILENAMES:-} && -f $nv/glvnd/egl_vendor.d/10_nvidia.json ]] && ! ls /usr/share/glvnd/egl_vendor.d/*nvidia* >/dev/null 2>&1; then
    export __EGL_VENDOR_LIBRARY_FILENAMES=$nv/glvnd/egl_vendor.d/10_nvidia.json
  fi
  echo "loaders: $(ldconfig -p | grep -oE 'lib(vulkan|EGL|GLESv2)\.so\.[0-9]+' | sort -u | tr '\n' ' ')"
  echo "vulkan ICDs: $(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d $nv/vulkan/icd.d 2>/dev/null | tr '\n' ' ')"
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-}"
  rm -rf "$W" && mkdir -p "$W/node_modules/webgpu/dist/linux-x64" "$W/node_modules/onnxruntime-web/dist" || return 1
  local t=$SECONDS
  xz -dc $P/node.xz >"$W/node" && chmod +x "$W/node" || return 1
  xz -dc $P/dawn.node.xz >"$W/node_modules/webgpu/dist/linux-x64/dawn.node" || return 1
  cp $P/node_modules/webgpu/index.js $P/node_modules/webgpu/package.json "$W/node_modules/webgpu/" || return 1
  if [[ -f $P/ort-wasm.xz ]]; then
    cp -r $P/node_modules/onnxruntime-web "$W/node_modules/" || return 1
    xz -dc $P/ort-wasm.xz >"$W/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm" || return 1
  fi
  cp -r $P/check.mjs $P/fixtures "$W/" || return 1
  echo "unpacked node $("$W/node" --version) and dawn.node to $W in $((SECONDS - t)) s"
}

{
  setup || exit 1
  # The check keeps to its budget and has a watchdog; this is the last resort if node itself hangs.
  timeout -k 10 $((BUDGET + 45)) "$W/node" "$W/check.mjs"
  status=$?
  echo "== exit status $status"
  exit $status
} 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
ls -la "$OUT"
exit "$rc"
