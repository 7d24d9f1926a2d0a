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

# The benchmark gate (benches/gate): results of the last run go to .benchmarks/, floors live in benches/floors.toml.
BENCH_OUT := .benchmarks
GATE = PYTHONPATH=$(CURDIR)/benches $(PY) -m gate
# Gated benchmarks run on one thread: a parallel subject against a serial peer gains from the second core only
# when the shared machine has one free, which moved the plate ratio by 1.5x between runs (BENCHMARKS.md
# "Gate noise"); per-core ratios cancel the machine's load. Warm-up keeps a slow first call (thread pool and
# allocator start-up) from cutting the rounds pytest-benchmark calibrates.
BENCH_ENV = RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1
BENCH_PYTEST = $(VENV)/bin/pytest benches -q --benchmark-enable --benchmark-only --benchmark-warmup=on
GATE_TINY_INPUTS = --scale tiny --pytest $(BENCH_OUT)/pytest-benchmark-tiny.json

.PHONY: help setup build demo test test-rust lint test-python bench bench-run bench-tiny bench-instructions \
	bench-check bench-gate-tiny bench-floors bench-run-tiny bench-report fuzz fmt lock clean

help: ## Show this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.stamp: constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet maturin
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/maturin develop --release --extras dev,dask --quiet
	touch $@

setup: $(VENV)/.stamp ## Create .venv with the pinned Python tools and dependencies

build: setup ## Build the Rust extension in release mode and install the package into .venv
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/maturin develop --release --extras dev,dask --quiet

demo: build ## Run the main job on built-in synthetic data and print a summary
	$(VENV)/bin/cgi-match demo

test: build test-rust lint test-python bench-gate-tiny ## Everything CI checks: tests, lints, types, reduced bench gate

test-rust: setup ## Rust unit, property and integration tests
	LD_LIBRARY_PATH=$(PY_LIBDIR) cargo test --workspace --quiet

lint: setup ## clippy, rustfmt, ruff, mypy --strict and stubtest
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	cargo fmt --all --check
	$(VENV)/bin/ruff check python tests benches
	$(VENV)/bin/ruff format --check python tests benches
	$(VENV)/bin/mypy --strict python/
	MYPYPATH=benches $(VENV)/bin/mypy --strict -p gate
	$(VENV)/bin/python -m mypy.stubtest cgi_match._core --allowlist stubtest-allowlist.txt

test-python: build ## pytest (with the benchmark suite on tiny inputs)
	CGI_MATCH_BENCH_SCALE=tiny $(VENV)/bin/pytest -q

# One modality (plates, dna, fingerprints, workflow, distributed) or all of them: `make bench MODALITY=dna`
# measures, records and regenerates only DNA; the other modalities' committed results stay as they are.
MODALITY ?= all
ALL_MODALITIES := plates dna fingerprints workflow distributed
RUN_MODALITIES = $(if $(filter all,$(MODALITY)),$(ALL_MODALITIES),$(MODALITY))
# Sources to leave out of a run when time is short (`BENCH_SKIP=criterion`); their recorded results stay.
BENCH_SKIP ?=
SNAPSHOTS = $(foreach m,$(RUN_MODALITIES),--snapshot $(BENCH_OUT)/$(m)/snapshot.json)
TINY_SNAPSHOTS = $(foreach m,$(RUN_MODALITIES),--snapshot $(BENCH_OUT)/tiny/$(m)/snapshot.json)

bench-run: build
	for m in $(RUN_MODALITIES); do \
		$(BENCH_ENV) $(GATE) run --modality $$m --scale $(BENCH_SCALE) --out $(BENCH_OUT)/$$m \
			--command-line "make bench MODALITY=$$m" $(foreach s,$(BENCH_SKIP),--skip $(s)) || exit 1; \
	done

bench-run-tiny: build
	for m in $(RUN_MODALITIES); do \
		$(BENCH_ENV) $(GATE) run --modality $$m --scale tiny --out $(BENCH_OUT)/tiny/$$m || exit 1; \
	done

bench-tiny: build
	mkdir -p $(BENCH_OUT)
	$(BENCH_ENV) CGI_MATCH_BENCH_SCALE=tiny $(BENCH_PYTEST) --benchmark-min-rounds=20 \
		--benchmark-json=$(BENCH_OUT)/pytest-benchmark-tiny.json

bench-instructions: setup ## Instruction counts of the hottest kernels under callgrind (.benchmarks/instructions.json)
	mkdir -p $(BENCH_OUT)
	$(GATE) instructions --out $(BENCH_OUT)/instructions.json

bench: bench-run ## Benchmarks at full size (MODALITY=plates|dna|fingerprints|workflow|distributed, default all); records benches/results, regenerates BENCHMARKS.md
	$(GATE) record $(foreach m,$(RUN_MODALITIES),$(BENCH_OUT)/$(m)/snapshot.json)
	$(GATE) report

bench-report: setup ## Regenerate BENCHMARKS.md from the committed results (benches/results) and floors
	$(GATE) report

# A timing figure that fails is measured again before the gate fails: a real regression fails both runs, the
# shared machine's noise rarely does (instruction counts are exact and fail both times anyway).
bench-check: bench-run ## Full-size benchmark gate (MODALITY=… as for bench): ratios, accuracy, instructions vs benches/floors.toml
	$(GATE) check $(SNAPSHOTS) || { echo "benchmark gate: measuring again to confirm"; \
		$(MAKE) --no-print-directory bench-run && $(GATE) check $(SNAPSHOTS); }

bench-gate-tiny: bench-tiny bench-instructions ## Reduced gate run by `make test`: tiny ratios and instruction counts
	$(GATE) check $(GATE_TINY_INPUTS) --instructions $(BENCH_OUT)/instructions.json || { \
		echo "benchmark gate: measuring again to confirm"; $(MAKE) --no-print-directory bench-tiny && \
		$(GATE) check $(GATE_TINY_INPUTS) --instructions $(BENCH_OUT)/instructions.json; }

# Floors come from the slowest of FLOOR_RUNS runs (`--keep-lowest`), so that no floor rests on a lucky run; the
# last full run is recorded in benches/results and BENCHMARKS.md. MODALITY=… limits all of it to one modality.
FLOOR_RUNS ?= 3
bench-floors: ## After a deliberate change: rewrite benches/floors.toml (slowest of FLOOR_RUNS fresh runs; MODALITY=…)
	$(MAKE) --no-print-directory bench-run bench-run-tiny
	$(GATE) floors $(SNAPSHOTS)
	$(GATE) floors $(TINY_SNAPSHOTS)
	for i in $$(seq 2 $(FLOOR_RUNS)); do \
		$(MAKE) --no-print-directory bench-run bench-run-tiny && \
		$(GATE) floors --keep-lowest $(SNAPSHOTS) && \
		$(GATE) floors --keep-lowest $(TINY_SNAPSHOTS) || exit 1; \
	done
	$(GATE) record $(foreach m,$(RUN_MODALITIES),$(BENCH_OUT)/$(m)/snapshot.json)
	$(GATE) report

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
