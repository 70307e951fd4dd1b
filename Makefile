# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := requirements/dev.lock
STAMP  := $(VENV)/.gdlab-installed

.PHONY: demo test docs lint bench lock clean

demo: $(STAMP)
	$(BIN)/gdlab demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The documentation site, into site/ (open site/index.html), with warnings as errors.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --clean

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_descend.py

# The venv is rebuilt only when the lock or the project metadata change.
$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The lock lists every package with its hash, so pip installs it as written
	# (--no-deps: no resolving, which would look past the lock for a package
	# asked for with extras) and `pip check` proves nothing is missing.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip check
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# Re-resolve the lock for Python 3.11 and later alike (needs `uv` on PATH; it keeps the pins it has).
lock:
	uv pip compile --universal --python-version 3.11 --generate-hashes requirements/dev.in -o $(LOCK)

clean:
	rm -rf $(VENV) gdlab-demo site .pytest_cache .hypothesis
