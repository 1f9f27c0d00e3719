# Stormglass build entry points. `make` alone lists them.

GO ?= go
# Arguments for `make run`, e.g. make run ARGS='run checkout'. Without
# them, make run opens the desktop app when there is a display, and
# otherwise replays the default incident against its remediation and
# writes the capacity report to reports/.
ARGS ?=
DEFAULT_RUN := report reactive-outage-2025 --variant incident --variant remediated --out reports/reactive-outage-2025.pdf

# Built binaries name their commit (a report's reproducibility block
# prints it); the flag overrides a GOFLAGS=-buildvcs=false, and outside a
# Git checkout auto stamps nothing rather than failing. go run never stamps.
VCS := -buildvcs=auto

# The packages with concurrent code, which the race detector should see.
RACE_PKGS := ./realtime/... ./sim/... ./app/runner/... ./app/desktop/... ./models/db/... ./models/service/...
# -short: the statistical validations take minutes and have just run in the
# full (non-race) pass of make test; -short skips them here, where the race
# detector would make them several times slower still.
RACE = $(GO) test -count=1 -race -short $(RACE_PKGS)

# fyne package names its archive after [Details] Name in FyneApp.toml.
APP_NAME := Stormglass
DIST := dist

# Tracked files plus new, not-ignored ones, so a file cannot dodge the check
# before its first commit; outside a usable git checkout, every .go file.
# The -f test drops files deleted from the tree but still in the index.
GO_FILES = { git ls-files -c -o --exclude-standard -- '*.go' 2>/dev/null \
	|| find . -name '*.go' -not -path './.git/*'; } \
	| while IFS= read -r f; do if [ -f "$$f" ]; then printf '%s\n' "$$f"; fi; done

.DEFAULT_GOAL := help
.PHONY: help deps deps-bench deps-package run screenshot test fmt-check race bench fmt clean package

help: ## list the targets
	@echo 'Targets (GO=$(GO)):'
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / { printf "  %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

deps: ## install missing Debian build packages and Go modules
	@GO='$(GO)' scripts/deps.sh build

deps-bench: ## install the Python/SimPy peer the benchmark compares against
	@scripts/deps.sh bench

deps-package: ## install what fyne package needs (xz)
	@scripts/deps.sh package

run: deps ## the desktop app; with no display, replay the default incident and write its report to reports/; ARGS='...' runs a command instead
	@mkdir -p reports
	$(GO) build $(VCS) -o stormglass .
ifneq ($(strip $(ARGS)),)
	./stormglass $(ARGS)
else
	@if [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
		echo './stormglass   (the desktop app)'; ./stormglass; \
	else \
		echo 'no display, so the headless replay of the default incident:'; \
		echo './stormglass $(DEFAULT_RUN)'; ./stormglass $(DEFAULT_RUN); \
	fi
endif

screenshot: deps ## screenshots of the real app under Xvfb (library, replay, compare, export) in artifacts/screenshots/
	@scripts/deps.sh screenshot
	$(GO) build $(VCS) -o stormglass .
	scripts/screenshot.sh ./stormglass artifacts/screenshots

test: deps ## gofmt check, vet, all tests (files for a person to look at go to artifacts/), then the race pass (what CI runs)
	@$(MAKE) --no-print-directory fmt-check
	$(GO) vet ./...
	@mkdir -p artifacts
	STORMGLASS_ARTIFACTS=$(CURDIR)/artifacts $(GO) test -count=1 ./...
	@if [ -f bench/go.mod ]; then \
		echo 'cd bench && $(GO) vet ./... && $(GO) test -count=1 ./...'; \
		cd bench && $(GO) vet ./... && $(GO) test -count=1 ./...; \
	fi
	$(RACE)

fmt-check: ## fail listing the .go files gofmt would change
	@bad=$$($(GO_FILES) | xargs -r gofmt -l) || { echo 'gofmt failed' >&2; exit 1; }; \
	if [ -n "$$bad" ]; then \
		echo 'gofmt needed (run make fmt):' >&2; echo "$$bad" >&2; exit 1; \
	fi

race: deps ## the -short race pass alone
	$(RACE)

bench: deps deps-bench ## kernel and invalidation benchmarks, the 2025 outage, flash-sale and 3 a.m. replays, report rendering and history opening, the backoff study, then the comparison with SimPy
	$(GO) test -run '^$$' -bench . -benchmem ./sim/... ./realtime/...
	$(GO) test -run '^$$' -bench 'OutageReplay|FlashSale' -benchtime 1x ./scenarios/
	$(GO) test -run '^$$' -bench Night -benchtime 1x ./models/wsfleet/
	$(GO) test -run '^$$' -bench 'WritePDF|Open' -benchtime 3x ./export/ ./app/history/
	$(GO) run . backoff-study -quiet
	@if [ -f bench/go.mod ]; then \
		echo 'cd bench && $(GO) run ./cmd/compare'; \
		cd bench && $(GO) run ./cmd/compare; \
	fi

fmt: ## gofmt -w every .go file
	@$(GO_FILES) | xargs -r gofmt -w

clean: ## remove build and package output
	rm -rf $(DIST) tmp-pkg $(APP_NAME).tar.xz stormglass

# fyne package rewrites FyneApp.toml to bump Build after every run; the
# committed file stays the source of truth, so it is put back afterwards.
package: deps deps-package ## Linux release archive in dist/ via the fyne CLI
	@mkdir -p $(DIST)
	@saved=$$(mktemp) && cp FyneApp.toml "$$saved" && \
	trap 'cp "$$saved" FyneApp.toml; rm -f "$$saved"' EXIT INT TERM && \
	echo '$(GO) tool fyne package -os linux --release' && \
	$(GO) tool fyne package -os linux --release && \
	mv $(APP_NAME).tar.xz $(DIST)/ && \
	echo "wrote $(DIST)/$(APP_NAME).tar.xz"
