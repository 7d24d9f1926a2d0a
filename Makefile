# cgi-match: the single entry point for setting up, testing, benchmarking and running the demo.
# `make help` lists the targets. Everything is installed into .venv from pinned versions (constraints.txt,
# Cargo.lock); nothing needs to be installed by hand.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
export PYO3_PYTHON := $(PY)
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# The binding's Rust tests link libpython (the extension-module feature is off outside maturin).
PY_LIBDIR = $(shell $(PY) -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
# Benchmark size: tiny inside `make test` so the suite never rots, full in `make bench`.
BENCH_SCALE ?= full

.PHONY: help setup build demo test test-rust lint test-python bench fuzz fmt lock clean

help: ## Show this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.stamp: constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet maturin
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/maturin develop --release --extras dev --quiet
	touch $@

setup: $(VENV)/.stamp ## Create .venv with the pinned Python tools and dependencies

build: setup ## Build the Rust extension in release mode and install the package into .venv
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/maturin develop --release --extras dev --quiet

demo: build ## Run the main job on built-in synthetic data and print a summary
	$(VENV)/bin/cgi-match demo

test: build test-rust lint test-python ## Everything CI checks: Rust tests, lints, type checks, Python tests

test-rust: setup ## Rust unit, property and integration tests
	LD_LIBRARY_PATH=$(PY_LIBDIR) cargo test --workspace --quiet

lint: setup ## clippy, rustfmt, ruff, mypy --strict and stubtest
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	cargo fmt --all --check
	$(VENV)/bin/ruff check python tests benches
	$(VENV)/bin/ruff format --check python tests benches
	$(VENV)/bin/mypy --strict python/
	$(VENV)/bin/python -m mypy.stubtest cgi_match._core --allowlist stubtest-allowlist.txt

test-python: build ## pytest (with the benchmark suite on tiny inputs)
	CGI_MATCH_BENCH_SCALE=tiny $(VENV)/bin/pytest -q

bench: build ## Criterion and pytest-benchmark suites at full size; JSON results in .benchmarks/
	mkdir -p .benchmarks
	cargo bench -p cgi-match-core --quiet
	CGI_MATCH_BENCH_SCALE=$(BENCH_SCALE) $(VENV)/bin/pytest benches -q --benchmark-enable \
		--benchmark-only --benchmark-json=.benchmarks/pytest-benchmark.json

# cargo-fuzz needs nightly flags; the one toolchain here is stable, so RUSTC_BOOTSTRAP=1 unlocks them for this
# target only. No sanitizer (the readers have no unsafe code; a panic or failed assertion is what we look for),
# but debug assertions and overflow checks on. New inputs go to a scratch corpus so the committed seeds stay
# what our writers made; crashes land in crates/matcher/fuzz/artifacts/<target>/.
FUZZ_SECONDS ?= 120
FUZZ_TARGETS ?= iso19794_2 ansi378 xyt template_any snapshot plate_index_file dna_index_file dna_cmf

fuzz: ## Run every cargo-fuzz target for FUZZ_SECONDS seconds each (seed corpus in crates/matcher/fuzz/corpus)
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd crates/matcher/fuzz && for t in $(FUZZ_TARGETS); do \
		mkdir -p scratch/$$t; \
		RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none --debug-assertions $$t scratch/$$t corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 || exit 1; \
	done

fmt: setup ## Format Rust and Python sources in place
	cargo fmt --all
	$(VENV)/bin/ruff format python tests benches
	$(VENV)/bin/ruff check --fix python tests benches

lock: setup ## Re-pin the Python dependencies after a deliberate upgrade
	$(VENV)/bin/pip freeze --exclude-editable | grep -v '^cgi-match' > constraints.body
	{ echo '# Exact versions a fresh machine installs (pip constraints). Regenerate with: make lock'; cat constraints.body; } > constraints.txt
	rm constraints.body

clean: ## Remove build outputs and .venv
	cargo clean
	rm -rf $(VENV) .benchmarks python/cgi_match/*.so
