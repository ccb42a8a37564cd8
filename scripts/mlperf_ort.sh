#!/usr/bin/env bash
# Races the MLPerf Tiny networks of generated/mlperf_tiny against ONNX Runtime
# in one run: the Go tests write each network's weights, 64 random inputs,
# its outputs and its timings (Forward, ForwardBatch of 64; GOMAXPROCS=1),
# bpgen export turns the same weights into ONNX, and scripts/onnx/mlperf.mjs
# runs ONNX Runtime (one thread) on the inputs, checks the outputs (1e-4
# relative) and prints the table. Needs Node and, once,
# (cd scripts/onnx && npm install --ignore-scripts).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
names="kws_dscnn resnet8 ad_autoencoder vww_mobilenet"
lscpu | grep 'Model name' || true
go build -o "$dir/bpgen" ./cmd/bpgen
for n in $names; do
	GOMAXPROCS=1 go test -count=1 -run '^TestORTFixture$' "./generated/mlperf_tiny/$n" -ort.dir "$dir" >/dev/null
	"$dir/bpgen" export -weights "$dir/$n.safetensors" -o "$dir/$n.onnx" "testdata/mlperf_tiny/$n.yaml"
done
node scripts/onnx/mlperf.mjs "$dir" $names
