# hotline: the two commands of the README are `make run` and `make test`.
GO        ?= go
BIN       := bin/hotline
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME  ?= 60s
DEMO      ?= examples/en-utility/script.yaml

.PHONY: all build run chat test unit examples lint-go fuzz bench clean deps

all: build

deps:
	@./.ci/deps

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hotline

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
	@echo '== go vet'; $(GO) vet ./...
	@echo '== staticcheck'; $(GO) run $(STATICCHECK) ./...

unit:
	@echo '== go test -race'; $(GO) test -race -count=1 ./...

examples: build
	@echo '== hotline lint --strict examples'; ./$(BIN) lint --strict examples/*/script.yaml
	@echo '== hotline test examples/...'; ./$(BIN) test examples/...

# Each fuzz target for FUZZTIME (default 60s).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
