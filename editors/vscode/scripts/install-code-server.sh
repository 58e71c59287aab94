#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code in the browser, from npm) for the extension's end-to-end
# test, into ~/.cache/rhythm/code-server-4.100.3 (or $1). Does nothing when it is already there.
#
# Why the steps: its postinstall builds native modules (needs build-essential, libkrb5-dev and Node's
# headers, found with npm_config_nodedir=/usr), insists on --unsafe-perm as root, and downloads a
# ripgrep binary, which is not reachable here, so Debian's `rg` is put where that download step
# looks for a cached copy. Its own nested `npm install` races with the outer one when run in one
# go, so the package is fetched without scripts and the scripts are run afterwards.
set -euo pipefail

VERSION=4.100.3
PREFIX="${1:-$HOME/.cache/rhythm/code-server-$VERSION}"
BIN="$PREFIX/bin/code-server"

if "$BIN" --version 2>/dev/null | grep -q "^$VERSION "; then
  echo "code-server $VERSION is already installed in $PREFIX"
  exit 0
fi
command -v rg >/dev/null || { echo "install-code-server: Debian's ripgrep (rg) is needed" >&2; exit 1; }
[ "$(node -p 'process.versions.node.split(".")[0]')" = 20 ] || {
  echo "install-code-server: code-server $VERSION needs Node 20, this is $(node --version)" >&2
  exit 1
}

# @vscode/ripgrep's postinstall uses $TMPDIR/vscode-ripgrep-cache-<its version>/<asset> when present.
RG_CACHE="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
RG_ASSET="$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$RG_ASSET" ]; then
  stage="$(mktemp -d)"
  cp "$(command -v rg)" "$stage/rg"
  mkdir -p "$RG_CACHE"
  tar czf "$RG_ASSET" -C "$stage" rg
  rm -rf "$stage"
fi

rm -rf "$PREFIX"
mkdir -p "$PREFIX"
export npm_config_yes=true npm_config_nodedir=/usr npm_config_unsafe_perm=true
npm install --global --prefix "$PREFIX" --ignore-scripts --no-audit --no-fund "code-server@$VERSION"
PKG="$PREFIX/lib/node_modules/code-server"
# code-server's own native dependency (argon2), then its postinstall: VS Code's modules and extensions.
(cd "$PKG" && npm rebuild --foreground-scripts argon2)
(cd "$PKG" && npm_config_user_agent="npm/$(npm --version) node/$(node --version) linux x64" sh ./postinstall.sh)
"$BIN" --version
