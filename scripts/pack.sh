#!/usr/bin/env bash
# Packs every published package (packages/*, not the private studio app) into one npm tarball each, in
# DIR: a clean build first (`pnpm build`, so no file of a deleted source is
# left in dist/), then `pnpm pack`, which replaces `workspace:` ranges with
# versions and `exports`/`bin`/`types` with their publishConfig values
# (dist/ instead of src/). Prints the tarballs' paths, one a line.
#   bash scripts/pack.sh DIR
set -euo pipefail
[ $# -eq 1 ] || { echo 'usage: scripts/pack.sh DIR' >&2; exit 2; }
mkdir -p "$1"
dest=$(cd "$1" && pwd)
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rm -rf packages/*/dist packages/*/tsconfig.build.tsbuildinfo
pnpm --silent build >&2

# Each tarball carries the license; the packages' copies exist only while packing.
copies=()
trap 'rm -f "${copies[@]}"' EXIT
for dir in packages/*/; do
  [ -e "$dir/LICENSE" ] || { cp LICENSE "$dir/LICENSE"; copies+=("$dir/LICENSE"); }
done
for dir in packages/*/; do
  # A private package (the studio app) is not published.
  [ "$(node -p 'require(process.argv[1]).private === true' "$PWD/$dir/package.json")" = true ] && continue
  name=$(node -p 'require(process.argv[1]).name' "$PWD/$dir/package.json")
  out="$dest/$(node -p 'const m = require(process.argv[1]); `${m.name.replace(/^@/, "").replace("/", "-")}-${m.version}.tgz`' "$PWD/$dir/package.json")"
  rm -f "$out"
  pnpm pack -C "$dir" --pack-destination "$dest" >/dev/null
  [ -f "$out" ] || { echo "scripts/pack.sh: pnpm pack of $name wrote no $out" >&2; exit 1; }
  echo "$out"
done
