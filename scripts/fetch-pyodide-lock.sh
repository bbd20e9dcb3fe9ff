#!/usr/bin/env bash
# Fetch the package list Pyodide ships (pyodide-lock.json inside the `pyodide` npm package) into
# .cache/pyodide/<version>/ for tests/test_lite_pyodide.py. Needs npm and the npm registry.
# (scripts/pyodide_smoke.py keeps the whole package of 314.0.8 in .cache/pyodide/314.0.8/package.)
set -euo pipefail
# Usage: scripts/fetch-pyodide-lock.sh [VERSION...]  (default: the versions tests/test_lite_pyodide.py checks)
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for version in ${@:-${RUNRATE_PYODIDE_VERSIONS:-0.27.7 314.0.8}}; do
  dest=".cache/pyodide/$version"
  if [ -s "$dest/pyodide-lock.json" ]; then echo "$dest/pyodide-lock.json (cached)"; continue; fi
  mkdir -p "$dest"
  (cd "$tmp" && npm pack --silent "pyodide@$version" >/dev/null)
  tar -xzf "$tmp/pyodide-$version.tgz" -C "$tmp" package/pyodide-lock.json
  mv "$tmp/package/pyodide-lock.json" "$dest/pyodide-lock.json"
  rm -rf "$tmp/package" "$tmp/pyodide-$version.tgz"
  echo "$dest/pyodide-lock.json"
done
