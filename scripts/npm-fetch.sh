#!/usr/bin/env bash
# npm-fetch.sh PKG VERSION INTEGRITY FILE DEST
# Fetches one pinned npm package, checks it against its integrity hash
# (sha512, as the registry publishes it) and puts FILE (a path inside the
# package) at DEST. Used for what Nexus takes from npm packages: the engine
# library, and the accessibility checker of the browser tests.
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: $0 PKG VERSION INTEGRITY FILE DEST" >&2; exit 2; }
pkg="$1" version="$2" integrity="$3" file="$4" dest="$5"

command -v npm >/dev/null || { echo "npm is needed to fetch $pkg" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetching $pkg@$version ..." >&2
(cd "$work" && npm pack --silent "$pkg@$version" >/dev/null)
tgz="$(ls "$work"/*.tgz)"
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$integrity" ]; then
  echo "integrity mismatch for $pkg@$version" >&2
  echo "  want $integrity" >&2
  echo "  got  $got" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$work" "package/$file"
mkdir -p "$(dirname "$dest")"
mv "$work/package/$file" "$dest.tmp"
mv "$dest.tmp" "$dest"
