#!/usr/bin/env bash
# vulncheck.sh: govulncheck (go.mod's tool) over the module, against the Go
# vulnerability database built offline: the database is the OSV data of the
# golang.org/x/vulndb module at a pinned version, fetched through the Go
# module proxy and indexed with its own indexdb command, since vuln.go.dev
# cannot be reached from these machines. Raise VULNDB to the proxy's newest
# version to check against newer reports.
#
# It fails when this module calls a vulnerable function of a dependency;
# the standard library's are the toolchain's and only reported.
set -euo pipefail
cd "$(dirname "$0")/.."
VULNDB=${VULNDB:-v0.0.0-20261105234957-e22db6528018}
GO=${GO:-go}

db=".data/vulndb-$VULNDB"
if [ ! -f "$db/index/db.json" ]; then
  src=$("$GO" mod download -json "golang.org/x/vulndb@$VULNDB" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  tmp=$(mktemp -d)
  # Outside this module, so that vulndb's own dependencies stay out of go.mod.
  (cd "$tmp" && GOFLAGS=-mod=mod "$GO" run "golang.org/x/vulndb/cmd/indexdb@$VULNDB" -vulns "$src/data/osv" -out "$tmp/db") >&2
  mkdir -p .data && rm -rf "$db" && mv "$tmp/db" "$db" && rm -rf "$tmp"
fi
# A dependency's vulnerability that this code calls fails the check; one of
# the standard library is reported with the Go version that fixes it
# (scripts/vulnfilter).
"$GO" tool govulncheck -db "file://$PWD/$db" -format json ./... | "$GO" run ./scripts/vulnfilter
