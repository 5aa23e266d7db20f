# swift-clustaar: every set-up step a fresh Debian machine needs, then the job.
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libwebsockets-dev libssl-dev pkg-config

.PHONY: all deps build test test-tsan soak lint format demo venv bench fuzz docs

all: build

# System packages, installed with apt-get only when missing.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

# Builds and runs every test, then checks formatting. The suites that bound the growth of the
# process's resident memory (a server streaming 100 MB at the client; 1,000 wss:// cycles) run in
# a process of their own: other suites running beside them in one process (large echoes, whole
# conformance runs) grew it by over 140 MB on their own. The suites that count the process's
# descriptors and threads across 1,000 connections run alone in a third one: beside the TLS
# suites (24 connections open at once, each with a thread) their counts moved by tens.
MEMORY_SUITES := HostileServerTests|TLSProcessMemoryTests
COUNTING_SUITES := LWSResourceTests
test: deps venv
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip "$(MEMORY_SUITES)|$(COUNTING_SUITES)"
	$(SWIFT) test --skip-build --filter "$(MEMORY_SUITES)"
	$(SWIFT) test --skip-build --filter "$(COUNTING_SUITES)"
	$(MAKE) lint

# Every test under ThreadSanitizer, in a scratch path of its own (switching sanitizers in .build
# would rebuild everything). -DTSAN makes `Locked` use NSLock: TSan cannot see a contended
# Mutex's futex and reports false races (TOOLCHAIN.md section 2).
# Tests/tsan-suppressions.txt lists the known false positives, each with its reason. Tests run
# one at a time: TSan slows everything 5-15 times, and all suites at once on 2 cores exceed the
# per-test time limits; each test's own threads and tasks are still checked.
TSAN_SCRATCH ?= .build-tsan
test-tsan: deps venv
	TSAN_OPTIONS="suppressions=$(CURDIR)/Tests/tsan-suppressions.txt $(TSAN_OPTIONS)" \
	  $(SWIFT) test --sanitize=thread --scratch-path $(TSAN_SCRATCH) -Xswiftc -DTSAN --no-parallel

# A bounded soak: a conversation with forced reconnects against the in-process sandbox, for
# SOAK_SECONDS (default 10 minutes). It prints VmRSS and open fds at the start, every minute and
# at the end, and fails if they grew past its allowance after the warm-up. SOAK_ARGS adds
# options (`--transport lws`, `--reconnect-every 5`...; see `clustaar-soak --help`).
SOAK_SECONDS ?= 600
SOAK_ARGS ?=
SOAK_SCRATCH ?= .build
soak: deps
	$(SWIFT) build --scratch-path $(SOAK_SCRATCH) --product clustaar-soak
	"$$($(SWIFT) build --scratch-path $(SOAK_SCRATCH) --show-bin-path)/clustaar-soak" --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

# DocC: every library product's catalog (Sources/<Module>/Documentation.docc) built with
# swift-docc-plugin, warnings as errors, then a check that every public symbol of ours has a doc
# comment (Tests/Scripts/check_doc_coverage.py lists each offender as `Module: symbol path`).
# Archives: .build/plugins/Swift-DocC/outputs/<Module>.doccarchive; to browse one:
# swift package --disable-sandbox preview-documentation --target <Module>.
DOCS_TARGETS := ClustaarSDK PhoenixClient ClustaarModels PhoenixProtocol TransportCore WebSocketProtocol \
	TransportPOSIX TransportLWS ClustaarTestSupport ClustaarSandbox TransportConformance
# Modules whose undocumented symbols are listed without failing (none: every module is checked).
# A module may be named here for a while, e.g. `make docs DOCS_PENDING=PhoenixClient`.
DOCS_PENDING ?=
docs: deps
	$(SWIFT) package --disable-sandbox generate-documentation $(addprefix --target ,$(DOCS_TARGETS)) \
	  --warnings-as-errors --experimental-documentation-coverage --coverage-summary-level brief
	python3 Tests/Scripts/check_doc_coverage.py --pending "$(DOCS_PENDING)" .build $(DOCS_TARGETS)

lint:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift

format:
	$(SWIFT) format format -i -r Sources Tests Package.swift

# A conversation with the sandbox bot, in-process: interactive on a terminal, scripted otherwise.
DEMO_SCRIPT := --say "Hello" --say "rich" --say "take control" --say "Are you a human?" --say "release control"
demo: deps
	$(SWIFT) build --product clustaar-chat
	@bin="$$($(SWIFT) build --show-bin-path)/clustaar-chat"; \
	if [ -t 0 ] && [ -t 1 ]; then "$$bin"; else "$$bin" $(DEMO_SCRIPT) --exit-after-idle 1; fi

# The Python virtualenv of the loopback test server (Sources/TransportConformance/Servers/ws_test_server.py),
# created only when missing. The stamp is written last, so a failed install is retried.
venv: .venv/installed

.venv/installed:
	python3 -m venv .venv && .venv/bin/pip install -q websockets && touch .venv/installed

# Benchmarks (Benchmarks/, a package of its own): release builds, then every suite; BENCHMARKS.md
# says how to read the results. BENCH_ARGS narrows it, e.g. BENCH_ARGS="--target FrameCodec".
# Suite 5's anchor is a Python client: it runs from the venv.
bench: deps venv
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark --no-progress $(BENCH_ARGS)

# Fuzzing (Fuzz/, a package of its own): builds every libFuzzer target with AddressSanitizer, makes
# seed corpora from the shared fixtures, runs each target for FUZZ_SECONDS, prints executions,
# corpus size and crashes per target, and fails on a crash (inputs in Fuzz/artifacts/<target>/).
FUZZ_SECONDS ?= 60
FUZZ_SHARED ?= ../shared
FUZZ_BUILD_FLAGS := -Xswiftc -sanitize=fuzzer,address
FUZZ_TARGETS := FuzzFrameDecoder FuzzHandshakeResponse FuzzPhoenixJSONv1 FuzzPhoenixJSONv2 \
	FuzzPhoenixV2Binary FuzzBotReply FuzzSocketMachine
fuzz: deps
	@mkdir -p Fuzz/artifacts
	@echo "building the fuzz targets (log: Fuzz/artifacts/build.log)"
	@cd Fuzz && $(SWIFT) build -c debug $(FUZZ_BUILD_FLAGS) >artifacts/build.log 2>&1 \
	  || { grep -v "Cannot export local symbol" artifacts/build.log; exit 1; }
	@if [ -d "$(FUZZ_SHARED)/fixtures" ]; then \
	  python3 Fuzz/Scripts/make_corpora.py "$(FUZZ_SHARED)" Fuzz/corpus/seeds; \
	else echo "no $(FUZZ_SHARED)/fixtures: fuzzing from Fuzz/Seeds only"; fi
	@mkdir -p Fuzz/corpus/seeds && cp -R Fuzz/Seeds/. Fuzz/corpus/seeds/
	Fuzz/Scripts/run_fuzz.sh $(FUZZ_SECONDS) "$$(cd Fuzz && $(SWIFT) build -c debug $(FUZZ_BUILD_FLAGS) --show-bin-path)" \
	  Fuzz/corpus Fuzz/artifacts $(FUZZ_TARGETS)
