#!/usr/bin/env bash
# Tessera's test command: takes a fresh clone on Debian with only Node 20 (as
# root in CI, no stdin) to a type check and the full vitest suite. Safe to run
# again: every step is skipped or a no-op when already done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'scripts/test.sh: %s\n' "$*" >&2; exit 1; }

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

# Type check and tests both run, so one CI log shows every failure; the script
# fails if either does.
status=0
log "pnpm typecheck"
pnpm typecheck </dev/null || { status=1; printf '\nscripts/test.sh: type check FAILED\n' >&2; }

log "vitest run"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
vitest_rc=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$report" </dev/null || vitest_rc=$?
if [ -s "$report" ]; then
  # One plain closing line, whatever vitest's own summary looks like.
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
    const broken = (r.testResults || []).filter((f) => f.status === "failed" && !(f.assertionResults || []).some((a) => a.status === "failed"));
    for (const f of broken) console.log(`\nfailed to load or run: ${f.name}`);
    console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`);
  ' "$report"
else
  printf '\nscripts/test.sh: vitest wrote no report (exit code %s)\n' "$vitest_rc" >&2
fi
[ "$vitest_rc" -eq 0 ] || { status=1; printf 'scripts/test.sh: tests FAILED (vitest exit code %s)\n' "$vitest_rc" >&2; }

[ "$status" -eq 0 ] && log "all checks passed"
exit "$status"
