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
echo "run: create a key with: DATABASE_URL='$DATABASE_URL' bin/idsledger apikey create --role admin" >&2
exec bin/idsledger serve "$@"
