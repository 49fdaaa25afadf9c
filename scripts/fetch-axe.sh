#!/usr/bin/env bash
# Fetches the pinned axe-core (the accessibility checker the console's
# browser tests run on every page) into .cache/axe. Re-running is free once
# cached.
set -euo pipefail
VERSION="4.14.1"
INTEGRITY="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
DIR="$(cd "$(dirname "$0")/.." && pwd)/.cache/axe"
[ -f "$DIR/axe.min.js" ] && [ "$(cat "$DIR/VERSION" 2>/dev/null)" = "$VERSION" ] && exit 0
"$(dirname "$0")/npm-fetch.sh" axe-core "$VERSION" "$INTEGRITY" axe.min.js "$DIR/axe.min.js"
echo "$VERSION" > "$DIR/VERSION"
