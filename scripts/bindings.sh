#!/usr/bin/env bash
# Regenerates bindings/ from contracts/build with abigen --v2, run from the
# go-ethereum version that go.mod requires (so bindings and the runtime
# library they call always match). Writes into the directory given as $1
# (default bindings/), which the drift test uses.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/bindings}
cd "$root"
mkdir -p "$out"
for abi in contracts/build/*.abi; do
	name=$(basename "$abi" .abi)
	file=$(echo "$name" | sed -E 's/([a-z0-9])([A-Z])/\1_\2/g' | tr '[:upper:]' '[:lower:]').go
	go tool abigen --v2 \
		--abi "$abi" --bin "contracts/build/$name.bin" \
		--pkg bindings --type "$name" --out "$out/$file"
	echo "bindings: $abi -> $out/$file" >&2
done
# abigen writes its error strings capitalized (staticcheck ST1005); the
# generated code is not ours to restyle, so the check is off here alone.
printf 'checks = ["inherit", "-ST1005"] # abigen writes its error strings capitalized\n' > "$out/staticcheck.conf"
