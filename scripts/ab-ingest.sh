#!/usr/bin/env bash
# ab-ingest.sh: compare the ingest path of two idsledger binaries, as
# BENCHMARKS.md reports it: ratios against a baseline measured in the same
# run, because absolute figures on a shared machine drift.
#
#   scripts/ab-ingest.sh BASELINE_BIN CANDIDATE_BIN [ROUNDS] [bench ingest flags...]
#
# Each binary serves its own fresh database (in the private cluster of
# `make run`, .data/postgres) with its own embedded dev chain, on its own
# port; the two are benchmarked in turn, ROUNDS times (default 3), with
# `idsledger bench ingest --json`, so that both see the same machine and
# tables of the same size, with a pause (AB_PAUSE seconds, default 20)
# before each run for the previous run's anchoring to finish. One JSON
# object per run goes to stdout, tagged with "binary": "baseline" or
# "candidate".
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -ge 2 ] || { echo "usage: $0 BASELINE_BIN CANDIDATE_BIN [ROUNDS] [bench ingest flags...]" >&2; exit 2; }
base=$(realpath "$1") cand=$(realpath "$2")
rounds=${3:-3}
shift $(( $# >= 3 ? 3 : 2 ))

url=$(scripts/pgdev.sh start .data/postgres | tail -n 1)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # The databases go too: left behind, autovacuum would keep working on
  # them and disturb whatever is measured next on this cluster.
  for db in ab_baseline ab_candidate; do
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}

# The same cluster, another database: swap the URL's path.
dburl_of() { printf '%s' "$url" | sed -E "s#/idsledger(\?|\$)#/$1\1#"; }
admin=$(dburl_of postgres)
trap cleanup EXIT
start() { # name bin port [serve flags...]: serves, and leaves an ingest key
  # in $work/name.key (runs in this shell, not in $(...), so that cleanup
  # knows the pid)
  local name=$1 bin=$2 port=$3 db="ab_$1"
  shift 3
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  local dburl
  dburl=$(dburl_of "$db")
  "$bin" migrate up --database-url "$dburl" >/dev/null
  DATABASE_URL=$dburl "$bin" serve --addr "127.0.0.1:$port" --data-dir "$work/$name" "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 120); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.5
  done
  if ! curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then
    echo "$name did not become ready; its log ends:" >&2
    tail -n 5 "$work/$name.log" >&2
    exit 1
  fi
  DATABASE_URL=$dburl "$bin" apikey create --role ingest --name ab | tail -n 1 >"$work/$name.key"
}

# BASELINE_SERVE_FLAGS and CANDIDATE_SERVE_FLAGS (word-split) compare
# settings of one binary, e.g. CANDIDATE_SERVE_FLAGS="--batch-size 1024".
# shellcheck disable=SC2086
start baseline "$base" 18181 ${BASELINE_SERVE_FLAGS:-}
# shellcheck disable=SC2086
start candidate "$cand" 18182 ${CANDIDATE_SERVE_FLAGS:-}
key_base=$(cat "$work/baseline.key") key_cand=$(cat "$work/candidate.key")
for r in $(seq "$rounds"); do
  for side in baseline candidate; do
    if [ "$side" = baseline ]; then port=18181 key=$key_base; else port=18182 key=$key_cand; fi
    # Let the previous run's anchoring backlog drain, on either side.
    sleep "${AB_PAUSE:-20}"
    "$cand" bench ingest --url "http://127.0.0.1:$port" --key "$key" --json "$@" |
      python3 -c 'import json,sys; d=json.load(sys.stdin); d["binary"]=sys.argv[1]; d["round"]=int(sys.argv[2]); print(json.dumps(d))' "$side" "$r"
  done
done
