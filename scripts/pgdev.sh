#!/usr/bin/env bash
# pgdev.sh: a private PostgreSQL cluster kept in one folder, for `make run`,
# `make test` and the Go test helper (storage/pgtest). One script, so that the
# service and its tests start PostgreSQL the same way.
#
#   pgdev.sh start DIR [--fast]   start the cluster in DIR (initdb on first use);
#                                 the last line printed is its URL
#   pgdev.sh stop DIR             stop it (no error if it is not running)
#   pgdev.sh url DIR              print the URL of the running cluster
#
# --fast turns off fsync, synchronous commit and full-page writes: for
# throwaway test clusters only, never for `make run`, whose data must survive
# a crash.
#
# The cluster listens on a free loopback port with its socket under DIR, and
# trusts local connections: it is a private development database, reachable
# only from this machine. When run as root, PostgreSQL runs as the unprivileged
# `postgres` user (initdb refuses root). Debian's postgresql package is
# installed first when its binaries are missing.
set -euo pipefail

die() { echo "pgdev: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: pgdev.sh start|stop|url DIR [--fast]"
cmd=$1
dir=$(realpath -m "$2")
# A cluster moved under /var/tmp (see prepare_dir) is reached through its link.
[ -L "$dir" ] && dir=$(readlink -f "$dir")
fast=${3:-}

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

ensure_installed() {
  if PGBIN=$(find_bin); then return; fi
  echo "pgdev: PostgreSQL binaries not found; installing Debian's postgresql package" >&2
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >&2
  PGBIN=$(find_bin) || die "PostgreSQL binaries still missing after installing the postgresql package"
}

# as_pg runs a command as the cluster's owner.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$PGUSER_OS" -- "$@"; else "$@"; fi
}

# prepare_dir makes DIR usable by the cluster's owner. When run as root and the
# owner cannot reach DIR (a parent folder is private, as mktemp -d makes it),
# the cluster lives under /var/tmp instead and DIR becomes a link to it.
prepare_dir() {
  mkdir -p "$(dirname "$dir")"
  if [ "$(id -u)" != 0 ]; then mkdir -p "$dir"; return; fi
  PGUSER_OS=postgres
  id -u "$PGUSER_OS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS"
  if [ -L "$dir" ]; then return; fi
  mkdir -p "$dir"
  chown "$PGUSER_OS" "$dir"
  if ! runuser -u "$PGUSER_OS" -- test -w "$dir/." 2>/dev/null; then
    local alt
    alt=/var/tmp/idsledger-pg/$(echo -n "$dir" | sha256sum | cut -c1-16)
    mkdir -p "$alt"
    chmod 755 /var/tmp/idsledger-pg
    chown "$PGUSER_OS" "$alt"
    rmdir "$dir" 2>/dev/null || die "$dir is not empty and not reachable by the postgres user"
    ln -s "$alt" "$dir"
    echo "pgdev: $dir is not reachable by the postgres user; the cluster lives in $alt" >&2
    dir=$alt
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

url() { echo "postgres://idsledger@127.0.0.1:$(cat "$dir/port")/idsledger?sslmode=disable"; }

running() { [ -f "$dir/port" ] && as_pg "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

start() {
  ensure_installed
  prepare_dir
  # One starter at a time: parallel test processes share one cluster.
  exec 9>"$dir/.lock"
  flock 9
  if running; then url; return; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg mkdir -p "$dir/data"
    as_pg "$PGBIN/initdb" -D "$dir/data" -U idsledger --auth=trust -E UTF8 --no-locale -N >"$dir/initdb.log" 2>&1 ||
      die "initdb failed; see $dir/initdb.log"
  fi
  as_pg mkdir -p "$dir/run"
  local opts="-c listen_addresses=127.0.0.1 -k $dir/run -c max_connections=300"
  # Sized for a write-heavy service (docs/architecture.md, "PostgreSQL
  # settings for ingest"): checkpoints spaced by time rather than forced by
  # WAL volume every few seconds under ingest load, and full-page images
  # compressed.
  opts="$opts -c shared_buffers=512MB -c max_wal_size=8GB -c checkpoint_timeout=15min -c wal_compression=lz4"
  if [ "$fast" = "--fast" ]; then
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  local try port
  for try in 1 2 3 4 5 6 7 8; do
    port=$(( (RANDOM << 15 | RANDOM) % 30000 + 20000 ))
    [ -f "$dir/port" ] && [ "$try" = 1 ] && port=$(cat "$dir/port")
    port_in_use "$port" && continue
    # 9>&-: the server must not inherit (and so hold forever) the start lock.
    if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 \
         -o "-p $port $opts" start >/dev/null 2>&1 9>&-; then
      echo "$port" >"$dir/port"
      if ! "$PGBIN/psql" -qAt -h 127.0.0.1 -p "$port" -U idsledger -d postgres \
           -c "SELECT 1 FROM pg_database WHERE datname = 'idsledger'" | grep -q 1; then
        "$PGBIN/psql" -q -h 127.0.0.1 -p "$port" -U idsledger -d postgres -c "CREATE DATABASE idsledger" >/dev/null
      fi
      url
      return
    fi
  done
  die "could not start PostgreSQL in $dir; see $dir/data/server.log"
}

stop() {
  PGBIN=$(find_bin) || { echo "pgdev: PostgreSQL is not installed; nothing to stop" >&2; return 0; }
  [ -d "$dir/data" ] || { echo "pgdev: no private PostgreSQL cluster in $dir; nothing to stop" >&2; return 0; }
  PGUSER_OS=postgres
  if running; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    echo "pgdev: stopped the private PostgreSQL cluster in $dir (its data stays; make clean removes it)" >&2
  else
    echo "pgdev: the private PostgreSQL cluster in $dir is not running" >&2
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  url) PGBIN=$(find_bin) || die "PostgreSQL is not installed"; PGUSER_OS=postgres; running || die "no cluster running in $dir"; url ;;
  *) die "unknown command $cmd (start|stop|url)" ;;
esac
