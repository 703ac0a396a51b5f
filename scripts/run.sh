#!/usr/bin/env bash
# run.sh: what `make run` does. Starts the service with its embedded defaults:
# with no DATABASE_URL, a private PostgreSQL cluster under .data/postgres
# (stopped by `make stop`); the chain is chosen by the service itself (an
# in-process dev chain under .data/chain unless IDSLEDGER_ETH_RPC is set).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pgdev.sh start .data/postgres | tail -n 1)
  export DATABASE_URL
  echo "run: private PostgreSQL at $DATABASE_URL (make stop stops it)" >&2
fi
export IDSLEDGER_DATA_DIR=${IDSLEDGER_DATA_DIR:-.data}
# Serve the embedded chain's JSON-RPC on loopback too, so that auditors can
# check proofs with `idsledger verify --eth-rpc http://127.0.0.1:8545` — unless
# something else already holds that port.
if [ -z "${IDSLEDGER_ETH_RPC:-}" ] && [ -z "${IDSLEDGER_CHAIN_HTTP:-}" ]; then
  if ! (exec 3<>/dev/tcp/127.0.0.1/8545) 2>/dev/null; then
    export IDSLEDGER_CHAIN_HTTP=127.0.0.1:8545
  else
    # Say so: otherwise `verify --eth-rpc http://127.0.0.1:8545` would ask
    # whatever holds the port, not this chain.
    echo "run: 127.0.0.1:8545 is in use, so the chain's JSON-RPC is not served for verify (set IDSLEDGER_CHAIN_HTTP to a free address)" >&2
  fi
fi
echo "run: create a key with: DATABASE_URL='$DATABASE_URL' bin/idsledger apikey create --role admin" >&2
exec bin/idsledger serve "$@"
