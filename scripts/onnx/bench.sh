#!/usr/bin/env bash
# Issue 13 item 6: times single-thread ONNX Runtime (Node binding, batch 1
# and 64) and the generated Go (Forward and ForwardBatch over 64) on the
# MLP, LeNet and LSTM test models of testdata/onnx, and prints the samples/s
# and the ratios with the CPU named.
#
# Setup once: cd scripts/onnx && npm install --ignore-scripts
# Run:        bash scripts/onnx/bench.sh   (from anywhere; SECONDS_PER=2 for longer runs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
models="mlp lenet lstm_classifier"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)
cpu=${cpu:-unknown CPU}

node "$here/bench.mjs" -seconds "${SECONDS_PER:-1}" $models > "$tmp/ort.jsonl"

(cd "$root" && go build -o "$tmp/bpgen" ./cmd/bpgen)
mkdir -p "$tmp/mod"
for m in $models; do
	mkdir -p "$tmp/mod/$m"
	"$tmp/bpgen" generate -pkg "$m" -o "$tmp/mod/$m/model_gen.go" "$root/testdata/onnx/$m.onnx"
done
sed '/^\/\/go:build ignore$/d' "$here/gobench/main.go" > "$tmp/mod/main.go"
cp "$root/go.sum" "$tmp/mod/go.sum"
cat > "$tmp/mod/go.mod" <<MOD
module benchmod

go 1.26

require github.com/bpgen/bpgen v0.0.0

replace github.com/bpgen/bpgen => $root
MOD
(cd "$tmp/mod" && GOFLAGS=-mod=mod GOWORK=off go build -o "$tmp/gobench" .)
GOMAXPROCS=1 "$tmp/gobench" "$cpu" "$tmp/ort.jsonl"
