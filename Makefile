# Nexus — one command to run, one to test. Every target shares one build
# cache: the collector builder compiles with CGO_ENABLED=0 and -trimpath, so
# everything here does too (a mismatch recompiles the world).
export CGO_ENABLED := 0
export GOFLAGS := -trimpath -buildvcs=false

BUILDER_VERSION := v0.165.0
BUILDER := go run go.opentelemetry.io/collector/cmd/builder@$(BUILDER_VERSION)
DIST_DIR := cmd/otelcol-nexus
BIN := bin/otelcol-nexus
ENGINE := .engine/libchdb.so
CONFIG ?= configs/local.yaml
GENERATED := main.go main_others.go main_windows.go components.go
# Go modules of their own under deploy/, tested by make test.
DEPLOY_MODULES := deploy/image deploy/helm

.PHONY: all engine build run test test-unit test-e2e lint vet generate check-generated bench fmt clean

all: build

## engine: fetch the pinned chDB library (the embedded ClickHouse engine) once.
engine: $(ENGINE)

$(ENGINE): scripts/fetch-engine.sh
	./scripts/fetch-engine.sh

## build: the distribution binary, with the engine library beside it.
build: $(ENGINE)
	cd $(DIST_DIR) && go build -o ../../$(BIN) .
	ln -sf ../$(ENGINE) bin/libchdb.so

## run: Nexus on its embedded default (OTLP on :4317/:4318, ClickHouse HTTP on :8123).
run: build
	./$(BIN) --config $(CONFIG)

## chromium: Debian's Chromium, which the console's browser tests drive;
## installed through apt when missing and this user may, else the one
## command that does.
CHROMIUM ?= /usr/bin/chromium
.PHONY: chromium
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y --no-install-recommends chromium >/dev/null || \
	      { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; } || exit 1; \
	  else echo "the browser tests need Chromium: run  sudo apt-get install -y chromium" >&2; exit 1; fi; \
	fi

## axe: axe-core, the accessibility checker the browser tests run on every
## console page (pinned, integrity-checked: scripts/fetch-axe.sh).
.PHONY: axe
axe:
	./scripts/fetch-axe.sh

## screenshots: a PNG of every console page over seeded data, at 1280 px
## and a phone's width, into docs/screenshots (the README shows them).
.PHONY: screenshots
screenshots: chromium axe
	NEXUS_SCREENSHOTS_DIR=$(abspath docs/screenshots) NEXUS_CHROMIUM=$(CHROMIUM) NEXUS_AXE=$(abspath .cache/axe/axe.min.js) \
	  go test -count=1 -run TestConsoleScreenshots ./extension/nexusapiextension/

## test: every test, unit and end to end, against the real embedded engine
## (the console's in headless Chromium).
test: build chromium axe
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt'd: $$unformatted (run make fmt)"; exit 1; fi
	go vet ./...
	$(MAKE) lint
	NEXUS_CHROMIUM=$(CHROMIUM) NEXUS_AXE=$(abspath .cache/axe/axe.min.js) go test -count=1 -timeout 30m $$(go list ./... | grep -v /test/e2e)
	@# The end-to-end tests run the built binary and time it (ingest beside
	@# a poisoned client, crash recovery, alert delivery): they get the
	@# machine to themselves, not two cores shared with the browser tests.
	NEXUS_BIN=$(abspath $(BIN)) NEXUS_CHROMIUM=$(CHROMIUM) NEXUS_AXE=$(abspath .cache/axe/axe.min.js) go test -count=1 -timeout 30m ./test/e2e/
	cd $(DIST_DIR) && go vet ./...
	@# The deploy modules (their own go.mod: the image builder, the Helm
	@# chart's tests): the image's test runs the quickstart from its root
	@# file system under unshare and chroot, as root.
	for m in $(DEPLOY_MODULES); do (cd $$m && go vet ./... && ../../$(LINT) run ./... && go test -count=1 -timeout 15m ./...) || exit 1; done

## lint: golangci-lint, pinned in tools/go.mod, with the linters .golangci.yml
## chooses and explains. Built once into bin/ from the Go module proxy.
LINT := bin/golangci-lint
$(LINT): tools/go.mod tools/go.sum
	cd tools && go build -o ../$(LINT) github.com/golangci/golangci-lint/v2/cmd/golangci-lint

lint: $(LINT)
	./$(LINT) run ./...

vet:
	go vet ./...
	cd $(DIST_DIR) && go vet ./...
	for m in $(DEPLOY_MODULES); do (cd $$m && go vet ./...) || exit 1; done

## image: the container image, built without a daemon (deploy/image):
## bin/nexus-image.tar (docker/podman load) and the OCI layout
## bin/nexus-image-oci; prints its size and files. deploy/docker/Dockerfile
## builds the same with a daemon.
.PHONY: image
image: build
	cd deploy/image && go build -ldflags='-s -w' -o ../../bin/nexus-healthcheck ./cmd/nexus-healthcheck
	cd deploy/image && go run ./cmd/nexus-image -repo ../..

## bench: throughput and latency figures quoted in the README. The crash
## benchmark runs once (~3 min: 150 s of load under SIGKILLs, then checks).
bench: build
	NEXUS_BIN=$(abspath $(BIN)) go test -run '^$$' -bench . -skip 'CrashRecovery|CollectorMemory' -benchmem -benchtime 3x ./test/e2e/
	NEXUS_BIN=$(abspath $(BIN)) go test -run '^$$' -bench CrashRecovery -benchtime 1x -timeout 20m -v ./test/e2e/
	NEXUS_BIN=$(abspath $(BIN)) go test -run '^$$' -bench CollectorMemory -benchtime 1x -timeout 20m -v ./test/e2e/
	go test -run '^$$' -bench . -skip 'CustomerSummary50Clients|ConsolePageLoads' -benchmem ./internal/... ./processor/... ./receiver/... ./exporter/... ./extension/...
	$(MAKE) bench-customers
	$(MAKE) bench-console

## bench-customers: 10 M attributed calls of 100,000 customers (~1 min to
## generate), then 50 clients asking per-customer 30-day summaries over
## HTTP, the raw-calls baseline and the top-10 customers (README,
## Performance).
.PHONY: bench-customers
bench-customers:
	go test -run '^$$' -bench CustomerSummary50Clients -benchtime 1x -timeout 40m ./extension/nexusapiextension/

## bench-console: console page loads in headless Chromium, over an empty
## store and over 10 M calls (~1 min to generate); ~7 min in all.
.PHONY: bench-console
bench-console: chromium
	NEXUS_CHROMIUM=$(CHROMIUM) go test -run '^$$' -bench ConsolePageLoads -benchtime 1x -timeout 40m ./extension/nexusapiextension/

## fuzz: every fuzz target (func Fuzz… in any package, found anew each run)
## for FUZZTIME each (default 60s), one at a time; prints each target's
## executions and fails on any finding (scripts/fuzz.sh).
FUZZTIME ?= 60s
FUZZMINIMIZETIME ?= 5s
.PHONY: fuzz
fuzz:
	FUZZTIME=$(FUZZTIME) FUZZMINIMIZETIME=$(FUZZMINIMIZETIME) ./scripts/fuzz.sh

## generate: re-run the collector builder from builder-config.yaml.
generate:
	mkdir -p $(DIST_DIR)
	$(BUILDER) --config builder-config.yaml --skip-compilation
	gofmt -w $(DIST_DIR)/*.go

## check-generated: fail when cmd/otelcol-nexus is stale against builder-config.yaml.
check-generated:
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	sed "s#output_path: .*#output_path: $$tmp/out#" builder-config.yaml > $$tmp/builder-config.yaml; \
	mkdir -p $$tmp/out; \
	$(BUILDER) --config $$tmp/builder-config.yaml --skip-compilation --skip-get-modules >$$tmp/log 2>&1 || { cat $$tmp/log; exit 1; }; \
	gofmt -w $$tmp/out/*.go; \
	stale=0; for f in $(GENERATED); do \
	  diff -u $(DIST_DIR)/$$f $$tmp/out/$$f || stale=1; \
	done; \
	for m in $$(awk '/gomod:/ {print $$3}' builder-config.yaml | sort -u); do \
	  grep -q "$$m" $(DIST_DIR)/go.mod || { echo "$(DIST_DIR)/go.mod lacks $$m"; stale=1; }; \
	done; \
	if [ $$stale -ne 0 ]; then echo "$(DIST_DIR) is stale: run 'make generate' and commit"; exit 1; fi; \
	echo "$(DIST_DIR) is up to date with builder-config.yaml"

fmt:
	gofmt -l -w $$(git ls-files '*.go')

clean:
	rm -rf bin data
