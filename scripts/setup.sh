#!/usr/bin/env bash
# Shared set-up of the README's commands: takes a fresh clone on Debian with
# only Node 20 (as root in CI, no stdin) to installed dependencies. Sourced by
# scripts/test.sh and scripts/demo.sh. Safe to run again: every step is
# skipped or a no-op when already done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '\n==> %s\n' "$*"; }
# shellcheck source=scripts/apt-get-waiting.sh
. scripts/apt-get-waiting.sh
die() { printf 'tessera setup: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed (Node.js >= 20.16 is required)"
# 20.16: process.getBuiltinModule, through which the CPU backend reaches worker_threads without a node: import.
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 16) ? 0 : 1)' || die "Node.js >= 20.16 is required, found $(node --version)"

# --- System packages --------------------------------------------------------
# WEBGPU: Dawn (the `webgpu` package) runs its OpenGL ES backend on Mesa's
# llvmpipe where there is no GPU (CI included): libEGL and the swrast DRI
# driver, plus the unversioned libEGL.so that Dawn loads (only libegl-dev
# ships it: a symlink does). Debian's chromium gives the browser test a
# SwiftShader WebGPU adapter. Installed only when missing, as root.
APT_PACKAGES=(libegl1 libgl1-mesa-dri chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "apt-get install ${missing[*]} (WebGPU on llvmpipe, headless Chromium)"
    apt_get update
    DEBIAN_FRONTEND=noninteractive apt_get install -y --no-install-recommends "${missing[@]}"
  else
    printf 'tessera setup: WebGPU tests need: apt-get install -y --no-install-recommends %s (run as root)\n' "${missing[*]}" >&2
  fi
fi
egl=$(/sbin/ldconfig -p 2>/dev/null | awk '/libEGL\.so\.1 /{print $NF; exit}')
if [ -n "$egl" ] && [ ! -e "$(dirname "$egl")/libEGL.so" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "linking $(dirname "$egl")/libEGL.so -> libEGL.so.1 (Dawn loads the unversioned name)"
    ln -s libEGL.so.1 "$(dirname "$egl")/libEGL.so"
  else
    printf 'tessera setup: WebGPU on llvmpipe needs %s/libEGL.so -> libEGL.so.1 (run as root)\n' "$(dirname "$egl")" >&2
  fi
fi
# --- end of system packages -------------------------------------------------

# --- pnpm, at the version package.json pins ("packageManager": "pnpm@X") ----
pnpm_version=$(node -p 'const pm = require("./package.json").packageManager || ""; pm.startsWith("pnpm@") ? pm.slice(5) : ""')
[ -n "$pnpm_version" ] || die 'package.json has no "packageManager": "pnpm@VERSION"'
if ! command -v pnpm >/dev/null || [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
  log "installing pnpm $pnpm_version"
  npm install -g "pnpm@$pnpm_version" </dev/null
  hash -r
fi
[ "$(pnpm --version)" = "$pnpm_version" ] || die "pnpm $pnpm_version was installed but 'pnpm --version' says $(pnpm --version)"

log "pnpm install --frozen-lockfile"
pnpm install --frozen-lockfile </dev/null

