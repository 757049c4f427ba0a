#!/usr/bin/env bash
# Tessera's test command: set-up (scripts/setup.sh), then the type check and
# the full vitest suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

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
