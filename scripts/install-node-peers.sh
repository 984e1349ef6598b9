#!/usr/bin/env bash
# install-node-peers.sh: installs the Node.js peers of pkikit's mDL interop tests (mdl/mdl_interop_test.go):
# @owf/mdoc (OpenWallet Foundation mdoc-ts), pinned by mdl/testdata/node/package-lock.json. Idempotent.
# Needs node >= 20 and npm on PATH and the npm registry reachable. The tests skip without it (and fail under
# PKIKIT_INTEROP=require).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/mdl/testdata/node"
command -v node >/dev/null || { echo "install-node-peers: node not found (install Node.js 20+)" >&2; exit 1; }
command -v npm >/dev/null || { echo "install-node-peers: npm not found" >&2; exit 1; }
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
	echo "install-node-peers: node $major is too old (need 20+)" >&2
	exit 1
fi
cd "$dir"
# npm ci, as CI wants. cbor-x's optional native accelerator (@cbor-extract/*) is absent from some registries, and
# npm then refuses `npm ci` as "out of sync" although it is optional; fall back to `npm install`, which installs
# exactly the locked versions and leaves package-lock.json unchanged (checked below).
if ! npm ci --no-audit --no-fund --ignore-scripts; then
	echo "install-node-peers: npm ci failed; installing the locked versions with npm install" >&2
	cp package-lock.json package-lock.json.orig
	npm install --no-audit --no-fund --ignore-scripts
	if ! cmp -s package-lock.json package-lock.json.orig; then
		mv package-lock.json.orig package-lock.json
		echo "install-node-peers: npm install would change package-lock.json; refusing" >&2
		exit 1
	fi
	rm -f package-lock.json.orig
fi
node -e 'import("@owf/mdoc").then(() => console.log("install-node-peers: @owf/mdoc " + require("./node_modules/@owf/mdoc/package.json").version + " ready"))'
