#!/usr/bin/env bash
# test.sh: what `make test` does. The whole suite against real parts:
# PostgreSQL (a private cluster under .data/test-postgres unless
# TEST_DATABASE_URL is set, stopped again at the end), solc-js from npm for the
# contract drift test (installed on demand by scripts/contracts.sh), and a
# geth built from go.mod's go-ethereum for the end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."

started=""
cleanup() {
  if [ -n "$started" ]; then scripts/pgdev.sh stop .data/test-postgres || true; fi
}
trap cleanup EXIT

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  TEST_DATABASE_URL=$(scripts/pgdev.sh start .data/test-postgres --fast | tail -n 1)
  export TEST_DATABASE_URL
  started=1
  echo "test: private PostgreSQL at $TEST_DATABASE_URL" >&2
fi

if [ -z "${IDSLEDGER_GETH:-}" ]; then
  IDSLEDGER_GETH=$(scripts/geth.sh | tail -n 1)
  export IDSLEDGER_GETH
fi
echo "test: geth at $IDSLEDGER_GETH" >&2

# Unit tests need nothing but Go (plain `go test ./...` runs them); the
# integration tests, behind the build tag, need the parts started above.
go test -count=1 -timeout 40m -tags integration ${GOTESTFLAGS:-} ./...
# Concurrency is checked under the race detector where it matters most: the
# models shared by every request, ingest with its window history, the model
# swap, the live stream, the anchoring worker with its verifier, the
# federation client sharing the registry's key, and the chain hunter (its
# prefetching follower, its stats read from other goroutines).
go test -count=1 -race -timeout 20m -run 'Concurren' ./detector/
go test -count=1 -race -timeout 20m ./ingest/
go test -count=1 -race -timeout 20m -tags integration -run 'TestModelSwap|TestAlertStream' ./api/
go test -count=1 -race -timeout 20m -tags integration -run 'TestWorker|TestVerify' ./anchor/
go test -count=1 -race -timeout 20m -run 'TestFederationSharesTheRegistryKey' ./anchor/chain/
go test -count=1 -race -timeout 20m ./chainhunt/
