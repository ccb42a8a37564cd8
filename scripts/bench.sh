#!/usr/bin/env bash
# Benchmarks every generated example in the pure-Go build (-tags purego) and
# the default build (assembly kernels on amd64), -count COUNT each (5 unless
# given), and, in the same run, the peers a user might pick instead:
#   - ONNX Runtime (Node binding, one thread), where node is present, on the
#     examples exported with `bpgen export` (initial weights): Forward per
#     sample against its batch 1, ForwardBatch against its batch of the
#     example's BatchChunk (the setup runs `npm install --ignore-scripts` in
#     scripts/onnx once if node_modules is missing);
#   - gorgonia v0.9.18 training mnist_mlp and cnn_small (adam, batch 32), from
#     its own module in scripts/gorgonia (never a dependency of bpgen).
# It prints the median samples/s of every benchmark, one and two cores, with
# the peers and the ratios, as one Markdown table headed by the CPU and the
# date. The two builds' rounds alternate per package (below). At COUNT 5 the
# whole run took about 26 minutes on a quiet machine; COUNT 1 (a smoke run,
# peers timed 0.2 s a round) about 5.
# BENCH_PKGS (go list patterns, ./generated/... by default) limits the examples.
#   bash scripts/bench.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-5}"
secs=1 # seconds per timing round of a peer (three rounds each)
if [ "$count" = 1 ]; then secs=0.2; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)
cpu=${cpu:-unknown CPU}

# Both builds' test binaries first, then the rounds: package by package, one
# round of each build in turn (the order flips every round), so the two builds
# of a benchmark are timed within the same minute. Timed one build after the
# other, this shared host's drift between them was as large as the difference
# being measured (conv_tiny's identical float64 code at 0.53x in one run).
mkdir -p "$tmp/bin"
: > "$tmp/purego.txt"
: > "$tmp/default.txt"
go list -f '{{.ImportPath}} {{.Dir}}' ${BENCH_PKGS:-./generated/...} > "$tmp/pkgs"
while read -r pkg dir <&3; do
	name=${pkg#*/generated}
	name=generated${name//\//_}
	go test -tags purego -c -o "$tmp/bin/$name.purego" "$pkg" > /dev/null # "no test files"
	go test -c -o "$tmp/bin/$name.default" "$pkg" > /dev/null
	[ -x "$tmp/bin/$name.default" ] || continue # no test files
	for ((i = 0; i < count; i++)); do
		builds="purego default"
		if ((i % 2)); then builds="default purego"; fi
		for b in $builds; do
			(cd "$dir" && "$tmp/bin/$name.$b" -test.run '^$' -test.bench . -test.count 1) >> "$tmp/$b.txt"
		done
	done
done 3< "$tmp/pkgs"

: > "$tmp/peers.jsonl"
if command -v node > /dev/null; then
	if [ ! -d scripts/onnx/node_modules/onnxruntime-node ]; then
		(cd scripts/onnx && npm install --ignore-scripts > /dev/null) || echo "bench.sh: npm install failed; no ONNX Runtime rows" >&2
	fi
	if [ -d scripts/onnx/node_modules/onnxruntime-node ]; then
		go build -o "$tmp/bpgen" ./cmd/bpgen
		# example, per-sample input shape, batch sizes (1 and BatchChunk
		# where the example benchmarks ForwardBatch)
		specs=()
		for m in mnist_mlp:784:1,32 cnn_small:1,28,28:1 mnist_cnn:1,28,28:1,32 resnet_mnist:1,28,28:1,64 ecg_conv1d:1,140:1,16; do
			IFS=: read -r name dims batches <<< "$m"
			"$tmp/bpgen" export -o "$tmp/$name.onnx" "testdata/$name.yaml"
			specs+=("$name=$tmp/$name.onnx@$dims@$batches")
		done
		node scripts/onnx/bench.mjs -seconds "$secs" "${specs[@]}" >> "$tmp/peers.jsonl"
	fi
else
	echo "bench.sh: no node; no ONNX Runtime rows" >&2
fi
(cd scripts/gorgonia && GOWORK=off GOMAXPROCS=1 go run . -seconds "$((count > 1 ? 2 : 1))") >> "$tmp/peers.jsonl" ||
	echo "bench.sh: the gorgonia module did not build or run; no gorgonia rows" >&2

go run ./scripts/benchtable -cpu "$cpu" -peers "$tmp/peers.jsonl" "$tmp/purego.txt" "$tmp/default.txt"
