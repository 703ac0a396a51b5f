#!/usr/bin/env bash
# Compiles contracts/*.sol with solc-js at a pinned version into
# contracts/build/<Contract>.abi and .bin (or into the directory given as $1,
# which the drift test uses). The output is byte-for-byte reproducible: the
# source is given by its bare file name, the CBOR metadata trailer is
# omitted, and every compiler setting is pinned below.
#
# solc-js comes from npm and is cached outside the repository, in
# $IDSLEDGER_SOLC_DIR or ${XDG_CACHE_HOME:-~/.cache}/idsledger/solc-<version>.
# Exit status 3 means solc-js could not be installed (no node or npm, or the
# npm registry unreachable); the drift test skips on it outside CI.
set -euo pipefail

SOLC_VERSION=0.8.37
EVM_VERSION=cancun
OPTIMIZER_RUNS=200

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/contracts/build}
solc_dir=${IDSLEDGER_SOLC_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/idsledger/solc-$SOLC_VERSION}

for tool in node npm; do
	command -v "$tool" >/dev/null || { echo "contracts: $tool not found; install Node.js to compile the contracts" >&2; exit 3; }
done
installed=$(node -p "try { require('$solc_dir/node_modules/solc/package.json').version } catch (e) { '' }" 2>/dev/null || true)
if [ "$installed" != "$SOLC_VERSION" ]; then
	echo "contracts: installing solc-js $SOLC_VERSION into $solc_dir" >&2
	mkdir -p "$solc_dir"
	npm install --prefix "$solc_dir" --no-audit --no-fund --loglevel=error "solc@$SOLC_VERSION" >&2 ||
		{ echo "contracts: npm could not install solc@$SOLC_VERSION" >&2; exit 3; }
fi

mkdir -p "$out"
node - "$solc_dir" "$root/contracts" "$out" "$SOLC_VERSION" "$EVM_VERSION" "$OPTIMIZER_RUNS" <<'JS'
const fs = require('fs');
const path = require('path');
const [solcDir, srcDir, outDir, version, evmVersion, runs] = process.argv.slice(2);
const solc = require(path.join(solcDir, 'node_modules', 'solc'));
if (!solc.version().startsWith(version + '+')) {
  console.error(`contracts: solc-js reports ${solc.version()}, want ${version}`);
  process.exit(1);
}
const sources = {};
for (const f of fs.readdirSync(srcDir).filter((f) => f.endsWith('.sol')).sort()) {
  sources[f] = { content: fs.readFileSync(path.join(srcDir, f), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: Number(runs) },
    evmVersion,
    metadata: { appendCBOR: false, bytecodeHash: 'none' },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of output.errors || []) {
  console.error(e.formattedMessage || e.message);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);
for (const file of Object.keys(output.contracts).sort()) {
  for (const [name, c] of Object.entries(output.contracts[file])) {
    fs.writeFileSync(path.join(outDir, name + '.abi'), JSON.stringify(c.abi, null, 2) + '\n');
    // No trailing newline: abigen embeds the file verbatim as hex.
    fs.writeFileSync(path.join(outDir, name + '.bin'), c.evm.bytecode.object);
    console.error(`contracts: ${file}:${name} -> ${path.join(outDir, name)}.{abi,bin} (${c.evm.bytecode.object.length / 2} bytes)`);
  }
}
JS
