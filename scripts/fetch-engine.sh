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

command -v npm >/dev/null || { echo "make engine: npm is needed to fetch $PKG" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetching $PKG@$PKG_VERSION ..." >&2
(cd "$work" && npm pack --silent "$PKG@$PKG_VERSION" >/dev/null)
tgz="$(ls "$work"/*.tgz)"

got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$PKG_INTEGRITY" ]; then
  echo "make engine: integrity mismatch for $PKG@$PKG_VERSION" >&2
  echo "  want $PKG_INTEGRITY" >&2
  echo "  got  $got" >&2
  exit 1
fi

tar -xzf "$tgz" -C "$work" package/libchdb.so
mkdir -p "$CACHE_DIR"
mv "$work/package/libchdb.so" "$TARGET.tmp"
mv "$TARGET.tmp" "$TARGET"
echo "$PKG_VERSION" > "$STAMP"
echo "engine ready: $TARGET" >&2
