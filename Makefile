# PKB info kiosk: build, test, run the demo. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO      ?= go
VERSION ?= 0.0.0-dev
BIN     := $(CURDIR)/.build/bin
# Builds and tests never change go.mod/go.sum and never resolve "latest":
# the module proxy refuses version lists of webview_go and gousb (deps.md 1).
export GOFLAGS := -mod=readonly

APT_BUILD := gcc g++ pkg-config libgtk-3-dev libusb-1.0-0-dev
APT_TEST  := xvfb xauth x11-apps socat chromium systemd

# webview_go wants webkit2gtk-4.0; where only 4.1 exists the shim in
# ui/webview/pkgconfig-4.1 stands in (see env.sh there). Every go command
# that compiles cgo runs behind $(CGO_ENV).
CGO_ENV := . $(CURDIR)/ui/webview/pkgconfig-4.1/env.sh $(CURDIR)/ui/webview/pkgconfig-4.1 &&

LDFLAGS := -X github.com/sumbar-samsat/pkbkiosk/kiosk.Version=$(VERSION)
CMDS    := kioskd kioskui kioskhub kioskctl kioskdemo printersim

.PHONY: help deps build run test check bench faults clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

deps: ## install what is missing: Debian packages (apt, as root) and Go modules
	@command -v $(GO) >/dev/null 2>&1 || { \
	  echo "No Go toolchain found. Install Go 1.21 or newer (https://go.dev/doc/install);"; \
	  echo "the 'toolchain' line in go.mod then fetches the exact version through the module proxy."; exit 1; }
	@v=$$($(GO) env GOVERSION | sed 's/^go//'); min=$$(printf '%s\n1.21\n' "$$v" | sort -V | head -1); \
	  [ "$$min" = "1.21" ] || { echo "Go $$v is too old: install Go 1.21 or newer (https://go.dev/doc/install)."; exit 1; }
	@pkgs="$(APT_BUILD) $(APT_TEST)"; \
	if ! pkg-config --exists webkit2gtk-4.0 2>/dev/null && ! pkg-config --exists webkit2gtk-4.1 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq; fi; \
	  if apt-cache show libwebkit2gtk-4.0-dev >/dev/null 2>&1; then pkgs="$$pkgs libwebkit2gtk-4.0-dev"; \
	  else pkgs="$$pkgs libwebkit2gtk-4.1-dev"; fi; \
	fi; \
	missing=$$(for p in $$pkgs; do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done | xargs); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages. Run:"; \
	    echo "  sudo apt-get install -y --no-install-recommends $$missing"; exit 1; \
	  fi; \
	fi
	@$(GO) mod download

build: deps ## build the binaries into .build/bin
	@mkdir -p $(BIN)
	$(CGO_ENV) $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ $(addprefix ./kiosk/cmd/,$(CMDS))

run: build ## run the demo: hub, kiosk agent and the kiosk window; Ctrl-C stops all
	@$(BIN)/kioskdemo --bin $(BIN) --data $(CURDIR)/.demo

check: deps ## gofmt and go vet
	@out=$$(gofmt -l kiosk printer sync ui 2>/dev/null); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(CGO_ENV) $(GO) vet ./...

test: check ## install what is missing, then gofmt, vet and all tests (race detector, under Xvfb)
	$(CGO_ENV) xvfb-run -a $(GO) test -race -timeout 20m ./...

FAULTS_TRIALS ?= 200
faults: deps ## kill -9 a real kioskd during heavy event writes, FAULTS_TRIALS times (200); prints trials, losses, duplicates
	@$(CGO_ENV) FAULTS_TRIALS=$(FAULTS_TRIALS) $(GO) test -count=1 -v -timeout 60m -run '^TestKillDuringEventWrites$$' ./kiosk/cmd/kioskd \
	  | grep -E 'faults:|^(---|ok|FAIL)|_test.go' ; exit $${PIPESTATUS[0]}

bench: deps ## measure lookups, printing, event replay, fleet ingest and the dashboard; prints a table
	@mkdir -p .build; $(CGO_ENV) $(GO) test -run '^$$' -bench '^BenchmarkLookup' -benchtime 2000x ./kiosk/agent > .build/bench.txt 2>&1 || { cat .build/bench.txt; rm -f .build/bench.txt; exit 1; }
	@$(CGO_ENV) $(GO) test -run '^$$' -bench 'BenchmarkBrowserLookup' -benchtime 60x ./kiosk/agent >> .build/bench.txt 2>&1 || { cat .build/bench.txt; rm -f .build/bench.txt; exit 1; }
	@$(CGO_ENV) $(GO) test -run '^$$' -bench 'PTY$$' -benchtime 500x ./printer/printersim >> .build/bench.txt 2>&1 || { cat .build/bench.txt; rm -f .build/bench.txt; exit 1; }
	@$(CGO_ENV) $(GO) test -run '^$$' -bench 'BenchmarkGenerate100k' -benchtime 1x ./sync/lookup/sample >> .build/bench.txt 2>&1 || { cat .build/bench.txt; rm -f .build/bench.txt; exit 1; }
	@$(CGO_ENV) $(GO) test -run '^$$' -bench 'BenchmarkOutboxReplay' -benchtime 1x ./kiosk/agent >> .build/bench.txt 2>&1 || { cat .build/bench.txt; rm -f .build/bench.txt; exit 1; }
	@$(CGO_ENV) $(GO) test -run '^$$' -bench 'BenchmarkPaperOutToHub' -benchtime 8x ./kiosk/agent >> .build/bench.txt 2>&1 || { cat .build/bench.txt; rm -f .build/bench.txt; exit 1; }
	@$(CGO_ENV) $(GO) test -run '^$$' -bench 'BenchmarkFleet' -benchtime 1x -timeout 20m ./kiosk/hubserver >> .build/bench.txt 2>&1 || { cat .build/bench.txt; rm -f .build/bench.txt; exit 1; }
	@$(GO) test -run '^$$' -bench 'FleetPage2000|SSEFanout50' -benchtime 5x ./ui/dashboard >> .build/bench.txt 2>&1 || { cat .build/bench.txt; rm -f .build/bench.txt; exit 1; }
	@echo "cores: $$(nproc)   $$(grep -m1 '^cpu:' .build/bench.txt)"
	@awk -f kiosk/agent/testdata/benchtable.awk .build/bench.txt
	@rm -f .build/bench.txt

clean: ## remove build output and the demo's data
	rm -rf .build .demo
