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

.PHONY: all engine build run test test-unit test-e2e vet generate check-generated bench fmt clean

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

## test: every test, unit and end to end, against the real embedded engine.
test: build
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt'd: $$unformatted (run make fmt)"; exit 1; fi
	go vet ./...
	NEXUS_BIN=$(abspath $(BIN)) go test -count=1 ./...
	cd $(DIST_DIR) && go vet ./...

vet:
	go vet ./...
	cd $(DIST_DIR) && go vet ./...

## bench: throughput and latency figures quoted in the README.
bench: build
	NEXUS_BIN=$(abspath $(BIN)) go test -run '^$$' -bench . -benchmem -benchtime 3x ./test/e2e/
	go test -run '^$$' -bench . -benchmem ./internal/... ./processor/... ./receiver/... ./exporter/... ./extension/...

## fuzz: every fuzz target (func Fuzz… in any package, found anew each run) for
## FUZZTIME each (default 60s), one at a time; prints each target's executions
## and fails on any finding, whose input go test keeps in the package's
## testdata/fuzz/<Target>/ (commit it with the fix: it becomes a seed that
## every `make test` runs). FUZZMINIMIZETIME bounds shrinking each input.
FUZZTIME ?= 60s
FUZZMINIMIZETIME ?= 5s
.PHONY: fuzz
fuzz:
	@targets=$$(go list -f '{{.Dir}}' ./... | while read -r dir; do \
	  for f in "$$dir"/*_test.go; do \
	    [ -e "$$f" ] || continue; \
	    sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*\*testing\.F\).*/\1/p' "$$f" | sed "s#^#.$${dir#$(CURDIR)} #"; \
	  done; \
	done); \
	if [ -z "$$targets" ]; then echo "no fuzz targets found"; exit 1; fi; \
	echo "$$targets" | awk 'END {print NR " fuzz targets, $(FUZZTIME) each"}'; \
	log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	printf '%s\n' "$$targets" | { \
	  summary=""; failed=""; \
	  while read -r pkg name; do \
	    echo "== $$name ($$pkg)"; \
	    if go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) "$$pkg" </dev/null >$$log 2>&1; then \
	      status=ok; \
	    else \
	      status=FAILED; failed="$$failed $$name"; cat $$log; \
	    fi; \
	    execs=$$(grep -oE 'execs: [0-9]+' $$log | tail -n 1 | cut -d' ' -f2); \
	    line=$$(printf '%-24s %-34s %12s execs  %s' "$$name" "$$pkg" "$${execs:-0}" "$$status"); \
	    echo "$$line"; summary="$$summary$$line\n"; \
	  done; \
	  printf '\n%b' "$$summary"; \
	  if [ -n "$$failed" ]; then \
	    echo "fuzzing found failures in:$$failed (inputs in each package's testdata/fuzz/)"; exit 1; \
	  fi; \
	}

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
