# swift-clustaar: every set-up step a fresh Debian machine needs, then the job.
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libwebsockets-dev pkg-config

.PHONY: all deps build test lint format demo venv bench

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

# Builds and runs every test, then checks formatting.
test: deps venv
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) lint

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

# The Python virtualenv of the loopback test server (Tests/Servers/ws_test_server.py),
# created only when missing. The stamp is written last, so a failed install is retried.
venv: .venv/installed

.venv/installed:
	python3 -m venv .venv && .venv/bin/pip install -q websockets && touch .venv/installed

# Benchmarks (Benchmarks/, a package of its own): release builds, then every suite; BENCHMARKS.md
# says how to read the results. BENCH_ARGS narrows it, e.g. BENCH_ARGS="--target FrameCodec".
bench: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark --no-progress $(BENCH_ARGS)
