# idsledger: the two commands a newcomer needs are `make run` and `make test`.
# Everything else here is what those two are made of.

GO      ?= go
BIN     := bin/idsledger
DATA    := .data

.PHONY: all build run stop clean test lint contracts bindings geth model

all: build

build:
	$(GO) build -o $(BIN) ./cmd/idsledger

# Starts the service with embedded defaults: a private PostgreSQL under
# .data/postgres (unless DATABASE_URL is set) and an in-process dev chain.
run: build
	@scripts/run.sh

# Stops the private PostgreSQL cluster started by `make run` and says so
# (the service itself runs in the foreground of `make run`: Ctrl-C stops it).
stop:
	@scripts/pgdev.sh stop $(DATA)/postgres

clean: stop
	rm -rf $(DATA) bin

# The whole suite against real PostgreSQL, real EVM code and a real geth.
test:
	@scripts/test.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) tool staticcheck -tags integration ./...

# Compiles contracts/*.sol with solc-js (pinned, from npm) into contracts/build.
contracts:
	@scripts/contracts.sh

# Regenerates bindings/ from contracts/build with abigen --v2 (go.mod's version).
bindings: contracts
	@scripts/bindings.sh

# Builds geth from the go-ethereum module at go.mod's version into a cache.
geth:
	@scripts/geth.sh

# Rebuilds the default model shipped in the repository from its sample data.
model:
	@scripts/model.sh
