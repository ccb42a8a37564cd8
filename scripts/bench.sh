#!/usr/bin/env bash
# Benchmarks every generated example in the pure-Go build (-tags purego) and
# the default build (assembly kernels on amd64), -count 5 each, and prints the
# median samples/s of every benchmark, one and two cores, as one Markdown
# table (about 12 minutes here).
#   bash scripts/bench.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-5}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -tags purego ./generated/... -run '^$' -bench . -count "$count" > "$tmp/purego.txt"
go test ./generated/... -run '^$' -bench . -count "$count" > "$tmp/default.txt"
go run ./scripts/benchtable "$tmp/purego.txt" "$tmp/default.txt"
