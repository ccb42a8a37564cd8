#!/usr/bin/env bash
# Measures TrainStep against TrainBatch on one core for every generated example
# that has the pair (BenchmarkTrainStep, BenchmarkTrainBatch: the spec's batch
# size and optimizer) and prints the Markdown table of the README's
# "TrainStep vs TrainBatch": median samples/s of -count runs (default 5), the
# ratio, and which one DefaultTrainConfig picks.
#   bash scripts/trainbatch.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-5}"
pkgs=(xor cnn_small conv_tiny conv1d_tiny mnist_mlp mnist_cnn mlp_block mobile_block
	ecg_conv1d resnet_mnist mlperf_tiny/ad_autoencoder mlperf_tiny/kws_dscnn
	mlperf_tiny/resnet8 mlperf_tiny/vww_mobilenet)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
go test "${pkgs[@]/#/./generated/}" -run '^$' -bench '^Benchmark(TrainStep|TrainBatch)$' \
	-cpu 1 -count "$count" > "$tmp"
echo "CPU: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), 1 core (-cpu 1), medians of $count runs, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
go run ./scripts/trainbatch "$tmp"
