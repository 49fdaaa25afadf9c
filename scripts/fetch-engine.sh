#!/usr/bin/env bash
# Fetches the pinned chDB engine library (the ClickHouse engine as a shared
# library) from its npm package, checks the package's integrity hash and
# unpacks libchdb.so into the engine cache. Re-running is free once cached.
set -euo pipefail

PKG_VERSION="26.7.3-stable.1"
PKG_INTEGRITY="sha512-XP97mMqnc5tZpKQywR8N7cLTsHNiTmHr30pC5mzo3jWmukjKn2IBa60c2B/gWUNcuFjOMjWoorQICCqBVj5wpw=="
CACHE_DIR="${NEXUS_ENGINE_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/.engine}"
TARGET="$CACHE_DIR/libchdb.so"
STAMP="$CACHE_DIR/VERSION"

if [ -f "$TARGET" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$PKG_VERSION" ]; then
  exit 0
fi

os="$(uname -s)"; arch="$(uname -m)"
case "$os/$arch" in
  Linux/x86_64) PKG="@chdb/lib-linux-x64-gnu" ;;
  *)
    cat >&2 <<MSG
make engine: no chDB library is published for $os/$arch (only Linux x86-64 is).
Build or obtain libchdb.so for this platform and point Nexus at it:
    export CHDB_LIB_PATH=/path/to/libchdb.so
or run Nexus against a ClickHouse server (chstore mode: remote).
MSG
    exit 2 ;;
esac

"$(dirname "$0")/npm-fetch.sh" "$PKG" "$PKG_VERSION" "$PKG_INTEGRITY" libchdb.so "$TARGET"
echo "$PKG_VERSION" > "$STAMP"
echo "engine ready: $TARGET" >&2
