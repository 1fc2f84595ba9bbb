# Quickstart: `make run` and `make test` set everything up on a fresh clone (python3 3.11+ and make).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.descentlab-installed

.PHONY: run test check lint bench bench-playground screenshots pictures docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the project's metadata changes; the package itself is installed editable.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/descentlab compare

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The whole suite (every example of the docs included: tests/test_docs.py), then the
# bit-exactness tests (marker `exact`) again on numpy's next older kernel family
# (tools/older_kernels.py names the targets to disable on this machine), so results that depend
# on which kernel ran are caught on any machine that has two families; then the docs site.
test: lint
	$(BIN)/python -m pytest
	@older="$$($(BIN)/python tools/older_kernels.py)"; \
	if [ -n "$$older" ]; then \
	  echo "The exact tests again with NPY_DISABLE_CPU_FEATURES=\"$$older\""; \
	  NPY_DISABLE_CPU_FEATURES="$$older" $(BIN)/python -m pytest -m exact -q; \
	else \
	  echo "numpy has no kernel family below this one here: the exact tests ran once"; \
	fi
	$(MAKE) --no-print-directory docs

# The fast inner loop: lint, then everything but the slow published experiments.
check: lint
	$(BIN)/python -m pytest -m "not slow" -q

# Times the reference loop against descentlab on the published workload, the playground, and
# `descentlab benchmark` on its default suite (issue 15: under 15 minutes on 2 cores); not part of
# `make test`. Pass options through BENCH_ARGS, e.g. `make bench BENCH_ARGS=--quick`.
bench: $(STAMP)
	$(BIN)/python tools/bench.py $(BENCH_ARGS)
	$(BIN)/python tools/bench_playground.py
	$(BIN)/python tools/bench_benchmark.py

# The playground's speed targets alone (issue 12): a real server, the websocket, and the page in
# Debian's chromium (a minute or so; the in-page figures are skipped with a note without it).
bench-playground: $(STAMP)
	$(BIN)/python tools/bench_playground.py $(PLAYGROUND_BENCH_ARGS)

# The docs' screenshots of the playground (docs/images/playground-*.png), taken in Debian's
# chromium; committed, never made by CI: run it after changing the page.
screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py

# The docs' landscape pictures of the newer optimizers (docs/images/newer-optimizers-*.png);
# committed, never made by CI: run it after changing an optimizer or its landscape defaults.
pictures: $(STAMP)
	$(BIN)/python tools/landscape_pictures.py

# The documentation site, built offline into site/ (ignored by git); --strict fails on a broken
# link, a missing anchor or an unresolved reference (not with --quiet, which hides the warnings
# that --strict counts). Open site/index.html.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis site
