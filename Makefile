# The README's two commands are `make demo` and `make test`; each installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: install system-deps demo test test-install pyodide-lock bench readme-images clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[all,test]"
	touch $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

demo: install system-deps
	$(BIN)/runrate batch examples/business_units.xlsx --out out --mail drafts --as-of 2026-11-23

test: install system-deps
	$(BIN)/python -m pytest -q

# Build the sdist and wheel, install the wheel into fresh venvs outside the checkout ([all] and
# core-only) and run the README's commands there (tests/test_install.py).
test-install: install system-deps
	$(BIN)/python -m pytest -q -m install

# The package list of the Pyodide xlwings Lite runs on, for tests/test_lite_pyodide.py (needs npm).
pyodide-lock:
	bash scripts/fetch-pyodide-lock.sh

bench: install system-deps
	$(BIN)/python -m bench

# The README's pictures (memo, portfolio memo, workbook Cover) from the shipped examples.
readme-images: install system-deps
	bash scripts/readme-images.sh

clean:
	rm -rf $(VENV) out .pytest_cache .cache dist build
