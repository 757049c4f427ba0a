#!/usr/bin/env bash
# Tessera's main job: set-up (scripts/setup.sh), then the demo (pnpm demo).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

log "pnpm demo"
pnpm demo </dev/null
