#!/usr/bin/env bash
# Regenerate the README's pictures from the shipped examples (make readme-images): page 1 of a
# unit memo, page 1 of the portfolio memo and the Cover sheet of the unit's workbook as
# LibreOffice renders it after recalculating. Run after any change to what the memos or the
# workbook show, and look at the PNGs before committing them.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/runrate batch examples/business_units.xlsx --out "$work/out" --as-of 2026-11-23 > "$work/batch.log"
unit="$work/out/Customer-support/Customer-support"
pdftoppm -r 80 -png -f 1 -l 1 -singlefile "$unit.pdf" docs/img/batch-memo-customer-support
pdftoppm -r 80 -png -f 1 -l 1 -singlefile "$work/out/portfolio.pdf" docs/img/batch-memo-portfolio
soffice --headless "-env:UserInstallation=file://$work/lo" --convert-to pdf --outdir "$work" "$unit.xlsx" > /dev/null
# the Cover fills the top two thirds of its printed page: crop the blank below it
pdftoppm -r 80 -png -f 1 -l 1 -singlefile -x 0 -y 0 -W 661 -H 620 "$work/Customer-support.pdf" docs/img/workbook-cover-customer-support
ls -l docs/img
