#!/usr/bin/env bash
# Debian packages the tests and the main job need: LibreOffice (workbook recalculation),
# WeasyPrint's libraries (pango, harfbuzz-subset) and poppler-utils (PDF -> PNG checks).
# Installs only what is missing; needs root (CI runs as root).
set -euo pipefail
packages=(libreoffice-calc-nogui poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing Debian packages: ${missing[*]} (and no apt-get here); install them by hand" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
