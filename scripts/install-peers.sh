#!/usr/bin/env bash
# Installs the third-party peers the tests run against into .peers/ (or $EVO_PEERS_DIR):
#   node/   npm packages: azurite (Azure Blob emulator), oauth2-mock-server (OAuth2/OIDC server)
#   venv/   a Python venv with the official Evo SDK (evo-sdk-common[aiohttp], evo-files,
#           evo-objects[utils], evo-blockmodels[utils], evo-compute, evo-colormaps)
#           and python-socketio (a real Socket.IO server) with aiohttp, and pproxy (a real
#           HTTP/HTTPS/SOCKS4/SOCKS5 proxy server), and pyarrow (reads and writes the Parquet
#           tables evo-tables exchanges with the Python SDK)
# Idempotent: a finished install leaves a stamp file (holding the stamp version and the package
# list) and is not repeated; changing the package list reinstalls.
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

python_packages=('evo-sdk-common[aiohttp]' evo-files 'evo-objects[utils]' 'evo-blockmodels[utils]' evo-compute evo-colormaps 'python-socketio>=5' aiohttp pproxy pyarrow)
venv_stamp="$stamp_version ${python_packages[*]}"
if [ "$(cat "$peers/venv.stamp" 2>/dev/null)" != "$venv_stamp" ]; then
  echo "install-peers: python venv with ${python_packages[*]} into $peers/venv" >&2
  python3 -m venv "$peers/venv"
  "$peers/venv/bin/pip" install --quiet --disable-pip-version-check "${python_packages[@]}" >&2
  echo "$venv_stamp" > "$peers/venv.stamp"
fi
echo "$peers"
