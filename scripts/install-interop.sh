#!/usr/bin/env bash
# install-interop.sh: installs the real programs pkikit's interop tests run against. Idempotent; safe to re-run.
#   - OpenSSL 3.5 (ML-DSA) from Debian 13 packages, beside the system (scripts/openssl35 --install-only)
#   - SoftHSM2 (PKCS#11 token) from Debian's softhsm2 package
#   - the Node.js mDL peers (scripts/install-node-peers.sh, when present)
# Needs root for apt-get (CI runs as root); without it, prints what is missing and goes on.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== OpenSSL 3.5"
scripts/openssl35 --install-only >/dev/null
scripts/openssl35 version

echo "== SoftHSM2"
if ! command -v softhsm2-util >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softhsm2 >/dev/null
  else
    echo "softhsm2-util missing and not root: install Debian's softhsm2 package" >&2
  fi
fi
softhsm2-util --version || true

if [[ -x scripts/install-node-peers.sh ]]; then
  echo "== Node.js mDL peers"
  scripts/install-node-peers.sh
fi
