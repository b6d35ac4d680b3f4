#!/usr/bin/env bash
# Installs the third-party peers the tests run against into .peers/ (or $EVO_PEERS_DIR):
#   node/   npm packages: azurite (Azure Blob emulator), oauth2-mock-server (OAuth2/OIDC server)
#   venv/   a Python venv with the official Evo SDK (evo-sdk-common[aiohttp], evo-files)
#           and python-socketio (a real Socket.IO server) with aiohttp
# Idempotent: a finished install leaves a stamp file and is not repeated.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peers="${EVO_PEERS_DIR:-$root/.peers}"
stamp_version="3"
mkdir -p "$peers"

if [ "$(cat "$peers/node.stamp" 2>/dev/null)" != "$stamp_version" ]; then
  echo "install-peers: npm install azurite oauth2-mock-server into $peers/node" >&2
  mkdir -p "$peers/node"
  ( cd "$peers/node"
    [ -f package.json ] || echo '{"name":"evo-rs-test-peers","private":true}' > package.json
    npm install --no-audit --no-fund --loglevel=error azurite@3 oauth2-mock-server@8 >&2 )
  echo "$stamp_version" > "$peers/node.stamp"
fi

if [ "$(cat "$peers/venv.stamp" 2>/dev/null)" != "$stamp_version" ]; then
  echo "install-peers: python venv with evo-sdk-common, evo-files, python-socketio into $peers/venv" >&2
  python3 -m venv "$peers/venv"
  "$peers/venv/bin/pip" install --quiet --disable-pip-version-check \
    'evo-sdk-common[aiohttp]' evo-files 'python-socketio>=5' aiohttp >&2
  echo "$stamp_version" > "$peers/venv.stamp"
fi
echo "$peers"
