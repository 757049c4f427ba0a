#!/usr/bin/env bash
# Shared set-up of the README's commands: takes a fresh clone on Debian with
# only Node 20 (as root in CI, no stdin) to installed dependencies. Sourced by
# scripts/test.sh and scripts/demo.sh. Safe to run again: every step is
# skipped or a no-op when already done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'tessera setup: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed (Node.js >= 20 is required)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js >= 20 is required, found $(node --version)"

# --- System packages --------------------------------------------------------
# WEBGPU: apt packages that the WebGPU tests need (a software Vulkan driver and
# friends) go here, installed only when missing, e.g.:
#   APT_PACKAGES=(mesa-vulkan-drivers)
#   if ! dpkg -s "${APT_PACKAGES[@]}" >/dev/null 2>&1; then
#     apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
#   fi
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

