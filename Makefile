# hotline: the two commands of the README are `make run` and `make test`.
GO        ?= go
BIN       := bin/hotline
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME  ?= 60s
DEMO      ?= examples/en-utility/script.yaml
# Speech recognition (pocketsphinx, cgo) is built in when the library is
# installed (.ci/deps installs it: libpocketsphinx-dev libsphinxbase-dev
# pocketsphinx-en-us pkg-config); without it hotline still builds and says at
# start-up what it lacks. Override with `make GO_TAGS= ...`. Exported as
# HOTLINE_TAGS for the e2e tests, which build the binary themselves.
GO_TAGS   ?= $(shell pkg-config --exists pocketsphinx sphinxbase 2>/dev/null && echo pocketsphinx)
TAGS       = $(if $(GO_TAGS),-tags '$(GO_TAGS)')
export HOTLINE_TAGS = $(GO_TAGS)

.PHONY: all build run chat test unit examples lint-go fuzz bench bench-asr bench-load clean deps

all: build

deps:
	@./.ci/deps

build:
	$(GO) build $(TAGS) -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hotline

# Runs hotline on its embedded defaults: the demo hotline, SIP on
# udp:127.0.0.1:5060, health on http://127.0.0.1:8080/healthz, data in ./data.
run: build
	./$(BIN) serve

# The demo hotline in the terminal: type as a caller would speak.
chat: build
	./$(BIN) chat $(DEMO)

# The whole test suite, as CI runs it.
test: deps lint-go unit examples

lint-go:
	@echo '== gofmt'; out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@echo '== go vet $(GO_TAGS)'; $(GO) vet $(TAGS) ./...
	@echo '== staticcheck $(GO_TAGS)'; $(GO) run $(STATICCHECK) $(TAGS) ./...

unit:
	@if [ -z "$$HOTLINE_TEST_POSTGRES" ]; then HOTLINE_TEST_POSTGRES=$$(./.ci/postgres) || exit 1; export HOTLINE_TEST_POSTGRES; fi; \
	  echo '== go test -race $(GO_TAGS)'; $(GO) test $(TAGS) -race -count=1 ./...

examples: build
	@echo '== hotline lint --strict examples'; ./$(BIN) lint --strict examples/*/script.yaml
	@echo '== hotline test examples/...'; ./$(BIN) test examples/...

# Each fuzz target for FUZZTIME (default 60s).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test $(TAGS) -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test $(TAGS) -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

bench:
	$(GO) test $(TAGS) -run '^$$' -bench . -benchmem ./...

# Speech recognition accuracy, CPU and latency on the spoken set (bench/asr/README.md).
bench-asr:
	$(GO) run -tags pocketsphinx ./bench/asr

# Load: SIPp callers against hotline serve, 100 to 1,200 concurrent calls, both
# variants, about 35 min; writes bench/results/load.{md,svg,json}
# (docs/benchmarks.md). Needs root (SIPp's raw socket), sipp and dumpcap:
# sudo make bench-load (or sudo make GO=$$(which go) bench-load).
bench-load:
	$(GO) run ./bench/load

clean:
	rm -rf bin
