# connect-user-resource: build, run, test.
#   make demo   the main job on the embedded default: sample events through the real binary against the emulator
#   make test   everything CI runs: lint, unit and integration tests
#   make bench  benchmarks (figures printed and written to bench/RESULTS.md)

CARGO  ?= cargo
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
BIN    := target/release/connect-user-resource

.PHONY: demo test lint fmt unit-and-integration release venv bench

demo: release
	$(CARGO) run -q -p lambda-harness --bin cr-demo -- --binary $(BIN) --events events

release:
	$(CARGO) build --release -p connect-user-resource --bin connect-user-resource

test: lint unit-and-integration

lint: venv
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml examples/*.yaml

# The e2e tests also start the connect-emulator binary, which `cargo test` alone does not build; building all
# targets (not only --bins) keeps the dev-dependency features, so nothing is compiled twice.
unit-and-integration: venv
	$(CARGO) build --workspace --all-targets
	$(CARGO) test --workspace

fmt:
	$(CARGO) fmt --all

venv: $(VENV)/.ready

# Python tools (cfn-lint) live in a git-ignored venv inside the repo, created on first use.
$(VENV)/.ready: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PIP) install -q -r requirements-dev.txt
	touch $@

bench: release
	$(CARGO) run -q --release -p lambda-harness --bin cr-bench -- --binary $(BIN)
