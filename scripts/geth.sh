#!/bin/sh
# Builds geth from the go-ethereum module at the version go.mod pins, into a
# per-user cache, and prints the binary's path. A binary already there is
# reused, so only the first run takes minutes.
#
#   scripts/geth.sh              build if needed, print the path
#   scripts/geth.sh init DIR     also `geth init` DIR with the dev genesis
#                                (unless DIR already holds a chain), ready for
#                                `geth --dev --datadir DIR`
#
# The dev genesis (anchor/chain/testdata/geth-dev-genesis.json, kept in step
# with chain.DevGenesis by a test) is what `geth --dev` would make, with the
# experimental post-Osaka fork dropped so gas is charged under today's
# mainnet rules, and geth's dev account funded. `geth --dev` on a datadir
# that already holds a chain keeps that chain's genesis.
#
# The tests that run a real geth (internal/gethtest: anchor/e2e_test.go's
# TestGethDev, cmd/idsledger's fault suite) call this when
# IDSLEDGER_GETH is not set.
set -eu

cd "$(dirname "$0")/.."
GO=${GO:-go}
version=$($GO list -m -f '{{.Version}}' github.com/ethereum/go-ethereum)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/idsledger"
bin="$cache/geth-$version"

if [ ! -x "$bin" ]; then
	mkdir -p "$cache"
	echo "building geth $version into $cache (first time only)..." >&2
	# Build to a temporary name so an interrupted build never leaves a
	# broken binary where the next run would trust it.
	tmp="$bin.tmp.$$"
	trap 'rm -f "$tmp"' EXIT
	$GO build -trimpath -o "$tmp" github.com/ethereum/go-ethereum/cmd/geth
	mv "$tmp" "$bin"
	trap - EXIT
fi

if [ "${1:-}" = init ]; then
	[ $# -eq 2 ] || { echo "usage: scripts/geth.sh init DIR" >&2; exit 2; }
	if [ ! -d "$2/geth/chaindata" ]; then
		"$bin" init --datadir "$2" anchor/chain/testdata/geth-dev-genesis.json >&2
	fi
fi
echo "$bin"
