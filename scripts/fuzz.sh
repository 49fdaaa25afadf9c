#!/usr/bin/env bash
# Runs every Go fuzz target of the module (func Fuzz… in any package's
# tests, found anew each run, so new targets need no edit here), one at a
# time, for FUZZTIME each. Prints each target's executions and fails on any
# finding; go test keeps the input in the package's testdata/fuzz/<Target>/,
# where it becomes a seed that every `make test` runs once committed.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-60s}"
FUZZMINIMIZETIME="${FUZZMINIMIZETIME:-5s}"

targets=$(go list -f '{{.Dir}}' ./... | while read -r dir; do
  for f in "$dir"/*_test.go; do
    [ -e "$f" ] || continue
    sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*\*testing\.F\).*/\1/p' "$f" | sed "s#^#.${dir#"$PWD"} #"
  done
done)
if [ -z "$targets" ]; then echo "no fuzz targets found"; exit 1; fi
echo "$(echo "$targets" | wc -l) fuzz targets, $FUZZTIME each"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
summary="" failed=""
while read -r pkg name; do
  echo "== $name ($pkg)"
  # Go's default of 60 s shrinking each new input can eat a target's budget.
  if go test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg" </dev/null >"$log" 2>&1; then
    status=ok
  else
    status=FAILED failed="$failed $name"
    cat "$log"
  fi
  execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  line=$(printf '%-24s %-34s %12s execs  %s' "$name" "$pkg" "${execs:-0}" "$status")
  echo "$line"
  summary="$summary$line"$'\n'
done <<<"$targets"
printf '\n%s' "$summary"
if [ -n "$failed" ]; then
  echo "fuzzing found failures in:$failed (inputs in each package's testdata/fuzz/)"
  exit 1
fi
