#!/usr/bin/env bash
# Benchmarks every generated example in the plain build and with the SIMD
# kernels (GOEXPERIMENT=simd), -count 5 each, and prints the median
# samples/s of every benchmark, one and two cores, as one Markdown table
# (about 12 minutes here).
#   bash scripts/bench.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-5}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test ./generated/... -run '^$' -bench . -count "$count" > "$tmp/generic.txt"
GOEXPERIMENT=simd go test ./generated/... -run '^$' -bench . -count "$count" > "$tmp/simd.txt"
go run ./scripts/benchtable "$tmp/generic.txt" "$tmp/simd.txt"
