# connect-user-resource: build, run, test.
#   make demo   the main job on the embedded default: sample events through the real binary against the emulator
#   make test   everything CI runs: lint, unit and integration tests
#   make bench  benchmarks (figures printed and written to bench/RESULTS.md)

CARGO  ?= cargo
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
BIN    := target/release/connect-user-resource

.PHONY: demo test lint fmt unit integration release venv bench build clean-venv

demo: release
	$(CARGO) run -q -p lambda-harness --bin cr-demo -- --binary $(BIN) --events events

release:
	$(CARGO) build --release -p connect-user-resource --bin connect-user-resource

test: lint unit-and-integration

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit-and-integration:
	$(CARGO) test --workspace

fmt:
	$(CARGO) fmt --all

venv: $(VENV)/.ready

$(VENV)/.ready:
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	touch $@

bench: release
	$(CARGO) run -q --release -p lambda-harness --bin cr-bench -- --binary $(BIN)
