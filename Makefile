# connect-user-resource: build, run, test.
#   make demo   the main job on the embedded default: sample events through the real binary against the emulator
#   make test   everything CI runs: lint (rustfmt, clippy, cfn-lint, sam validate), unit and integration tests
#   make bench  benchmarks (figures printed and written to bench/RESULTS.md); bench-roster-full: a roster at 2/s
#   make build  the deployable zip (cargo-lambda, arm64): target/lambda/connect-user-resource/bootstrap.zip
#   make invoke the function under `cargo lambda watch`, sent events/01-create-soft-phone.json, against the emulator
#   make deploy  sam build + sam deploy, no prompts (STACK=connect-user-resource, PARAMS="K=V ...")
#   make package the versioned release zip for users without Rust: dist/connect-user-resource-<version>-<arch>.zip
#   make cli     connect-users (export, plan): target/release/connect-users
#   make cdk-package  the CDK constructs as an npm package and a Python wheel (cdk/dist/)

CARGO  ?= cargo
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
BIN    := target/release/connect-user-resource
ZIP    := target/lambda/connect-user-resource/bootstrap.zip
ARM    := aarch64-unknown-linux-gnu
# Tools from the venv (cargo-lambda, zig, sam, cfn-lint, moto) come first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0

.PHONY: cli clippy demo test lint fmt unit-and-integration release venv bench bench-roster-full build invoke deploy package cdk-test cdk-package mutants

# The demo and the tests build with the dev profile (fast to compile) and the `unify` feature (one set of
# dependency features for every build, hack/Cargo.toml), so `make demo` then `make test` compile each dependency
# once; the release builds leave `unify` off, so the zip links the function's own features only. The size-tuned release profile
# is for what ships or is measured as shipped: `make build`, `make package`, `make bench`, `make cli`.
DEV_BIN := target/debug/connect-user-resource
UNIFY   := --features connect-user-resource/unify
demo:
	$(CARGO) build -p connect-user-resource -p lambda-harness --bin connect-user-resource --bin cr-demo $(UNIFY)
	target/debug/cr-demo --binary $(DEV_BIN) --events events

release:
	$(CARGO) build --release -p connect-user-resource --bin connect-user-resource

test: lint unit-and-integration cdk-test

lint: venv
	$(CARGO) fmt --all -- --check
	scripts/features.sh
	cfn-lint template.yaml examples/*.yaml
	sam validate --lint --template template.yaml --region us-east-1

# Clippy (-D warnings) runs inside the tests' own build: the workspace's crates are compiled by clippy-driver,
# as `cargo clippy` does, but for the build rather than a check of its own, which would type-check every
# dependency a second time (about four minutes here). CLIPPY_ARGS is how cargo-clippy hands clippy-driver its
# arguments. `make clippy` is the plain `cargo clippy`.
CLIPPY := RUSTC_WORKSPACE_WRAPPER=$(shell rustc --print sysroot)/bin/clippy-driver CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__

# The end-to-end tests wait on loopback servers, timers and child processes more than on the CPU: four at a time
# take the suite from about 9 to under 6 minutes on two cores (the longest, tests/e2e/at_scale.rs, starts first).
E2E_THREADS ?= 4

# The e2e tests also start binaries that `cargo test` alone does not build: connect-emulator, connect-users and
# the panic-probe fixture. The cargo-lambda test runs alone, last: its `cargo lambda watch` builds
# target/debug/connect-user-resource again (a no-op while the features are one set), which the others start.
unit-and-integration: venv
	$(CLIPPY) $(CARGO) build --workspace --all-targets $(UNIFY)
	$(CLIPPY) $(CARGO) test --workspace --exclude connect-user-resource $(UNIFY)
	$(CLIPPY) $(CARGO) test -p connect-user-resource --lib --bins $(UNIFY)
	$(CLIPPY) $(CARGO) test --test e2e $(UNIFY) -- --skip cargo_lambda --test-threads $(E2E_THREADS)
	$(CLIPPY) $(CARGO) test --test e2e $(UNIFY) cargo_lambda

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

venv: $(VENV)/.ready

# Python tools (cfn-lint, sam, moto, cargo-lambda and its zig) live in a git-ignored venv inside the repo,
# created on first use.
$(VENV)/.ready: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PIP) install -q -r requirements-dev.txt
	touch $@

# cargo-mutants, installed into the git-ignored .tools/ on first use; its settings (the unit tests it runs, the
# mutants excluded as equivalent, with why) are in .cargo/mutants.toml. MUTANTS_FILES narrows a run, e.g.
# make mutants MUTANTS_FILES="-f src/user/planner.rs". Prints caught / missed / unviable and the missed mutants.
MUTANTS := .tools/bin/cargo-mutants
MUTANTS_FILES ?= -f 'src/cfn/**/*.rs' -f 'src/user/**/*.rs' -f 'src/roster/**/*.rs' -f 'src/connect/**/*.rs' -f src/dispatch.rs -f src/store.rs -f src/digest.rs
$(MUTANTS):
	$(CARGO) install --locked --root .tools cargo-mutants --version 27.1.0

# Most unit tests wait on loopback servers and timers, not the CPU: six at a time halve a mutant's test run.
# The state table's tests start moto_server from the venv (MOTO_SERVER: the copy of the tree cargo-mutants
# builds in has no venv of its own).
mutants: $(MUTANTS) venv
	MOTO_SERVER=$(CURDIR)/$(VENV)/bin/moto_server RUST_TEST_THREADS=6 $(MUTANTS) mutants --no-shuffle $(MUTANTS_FILES) || true
	@echo "missed:"; cat mutants.out/missed.txt
	@echo "caught: $$(wc -l < mutants.out/caught.txt)  missed: $$(wc -l < mutants.out/missed.txt)  unviable: $$(wc -l < mutants.out/unviable.txt)  timeout: $$(wc -l < mutants.out/timeout.txt)"

# One user per resource (cr-bench), then a 2,000-user roster at a raised rate (50 requests/s, burst 50: the same
# ratios as at Connect's default quota, in minutes) with peak memory at 20,000 entries in an S3 file (the most a
# set takes) and at 7,000 inline entries (about 1 MB of properties: the most a template holds).
bench: release venv
	$(CARGO) run -q --release -p lambda-harness --bin cr-bench -- --binary $(BIN)
	$(CARGO) run -q --release -p lambda-harness --bin roster-bench -- --binary $(BIN) --users 2000 --rate 50 --burst 50 --timeout 20 --memory 7000 --label roster-raised-rate
	$(CARGO) run -q --release -p lambda-harness --bin roster-bench -- --binary $(BIN) --users 2000 --rate 50 --burst 50 --timeout 20 --memory 20000 --source csv --label roster-csv-raised-rate

# The roster at Connect's default quota (2 requests/s, burst 5) and the function's 300 s timeout: about 35 minutes.
bench-roster-full: release
	$(CARGO) run -q --release -p lambda-harness --bin roster-bench -- --binary $(BIN) --users 2000 --rate 2 --burst 5 --timeout 300 --memory 0 --label roster-default-quota

# The arm64 standard library comes from rustup; where it cannot be fetched, the zip is built for x86_64 instead
# (and says so), so the packaging path is still proven. The architecture of the binary in the zip is read from it
# and recorded beside it (bootstrap.arch): the CDK provider deploys the function as that, never as a guess.
build: venv
	@if rustup target list --installed | grep -qx $(ARM) || rustup target add $(ARM); then \
		echo "cargo lambda build: arm64"; cargo lambda build --release --arm64 --output-format zip --bin connect-user-resource; \
	else \
		echo "WARNING: the $(ARM) target is not available here; building the x86_64 zip instead"; \
		cargo lambda build --release --output-format zip --bin connect-user-resource; \
	fi
	python3 scripts/zip_arch.py $(ZIP) > $(ZIP:.zip=.arch).new && mv $(ZIP:.zip=.arch).new $(ZIP:.zip=.arch)
	@echo "$(ZIP): $$(cat $(ZIP:.zip=.arch)) (recorded in $(ZIP:.zip=.arch), which the CDK provider deploys it as)"; ls -l $(ZIP)

# connect-users (export, plan): target/release/connect-users; or `cargo install --path cli` into ~/.cargo/bin.
cli:
	$(CARGO) build --release -p connect-users
	@ls -l target/release/connect-users

invoke: venv
	@$(CARGO) build -q -p connect-emulator
	@./scripts/invoke.sh

# The first deployment and every later one, without prompts (also in CI): SAM's Rust build is a beta feature it
# must be told to use; the bucket for the built code is SAM's own (--resolve-s3). STACK is the name the examples
# import the ServiceToken from (<STACK>-ServiceToken); PARAMS, e.g. PARAMS="ConnectInstanceId=<id> AlarmEmail=ops@example.com".
STACK  ?= connect-user-resource
PARAMS ?=
deploy: venv
	sam build --beta-features
	sam deploy --stack-name $(STACK) --resolve-s3 --capabilities CAPABILITY_IAM --no-confirm-changeset \
		--no-fail-on-empty-changeset $(if $(PARAMS),--parameter-overrides $(PARAMS))

# A release artifact for users without Rust: dist/connect-user-resource-<version>-<arch>.zip (the version from
# Cargo.toml, which template.yaml's Serverless Application Repository metadata repeats, a test keeps them equal;
# the architecture read from the binary inside), its .arch record, and template.yaml beside it.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
package: build
	@mkdir -p dist
	@arch=$$(cat $(ZIP:.zip=.arch)); name=dist/connect-user-resource-$(VERSION)-$$arch; \
	cp $(ZIP) $$name.zip && echo $$arch > $$name.arch && cp template.yaml dist/template.yaml && \
	test "$$(python3 scripts/zip_arch.py $$name.zip)" = "$$arch" && echo "$$name.zip: $$arch, version $(VERSION)"; ls -l dist

# The CDK constructs (cdk/), a jsii library: compiled by jsii from the committed lock file and tested offline on the
# synthesized templates (TypeScript), API.md checked against the source, then packaged by jsii-pacmak and tested from
# Python: the wheel is installed into the venv (beside its pinned requirements) and a Python app synthesized.
CDK_WHEEL   = cdk/dist/python/connect_user_resource_cdk-*.whl
CDK_TARGETS ?= js python
CDK_NPM     = cd cdk && npm ci --no-audit --no-fund --loglevel=error
cdk-test: venv
	$(CDK_NPM) && npm test && npm run package
	$(PIP) install -q -r cdk/test/python/requirements.txt
	$(PIP) install -q --no-deps --force-reinstall $(CDK_WHEEL)
	cd cdk && ../$(PY) -m unittest discover -s test/python -v

# The npm package and the Python wheel in cdk/dist/ (git-ignored); CDK_TARGETS="java dotnet go" where the machine
# has those toolchains and their registries (docs/cdk.md).
cdk-package:
	$(CDK_NPM) && npm run build && rm -rf dist && npx jsii-pacmak --targets $(CDK_TARGETS)
	@ls -l cdk/dist/*/*
