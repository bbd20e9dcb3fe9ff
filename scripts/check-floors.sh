#!/usr/bin/env bash
# Check the dependency floors in pyproject.toml: install runrate_xl[all,test] with every runtime
# dependency pinned to its floor (constraints/minimum.txt) into a scratch venv and run the tests
# that exercise each dependency. Not part of .ci/run (it adds ~5 minutes); run it when a floor
# or a call into a dependency changes.  Usage: scripts/check-floors.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.cache/floors-venv}"
python3 -m venv --clear "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet -c constraints/minimum.txt -e ".[all,test]"
echo "Installed at the floors:"
"$venv/bin/pip" list --format=freeze | grep -iE '^(pydantic|pyyaml|genai-prices|openpyxl|defusedxml|xlwings|jinja2|weasyprint|matplotlib|pypdf|typer|rich)=='
"$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not slow and not libreoffice" \
    tests/test_catalog.py tests/test_presets.py tests/test_udfs.py tests/test_functions.py tests/test_cli.py \
    tests/test_workbook.py tests/test_memo.py tests/test_mail.py tests/test_excel_setup.py tests/test_batch_run.py \
    tests/test_packaging.py tests/test_scenario_validation.py
