#!/usr/bin/env bash
# The platform matrix (README "Platforms"): cross-builds the module, the
# generated examples included, for every target below, and runs the fast
# tests (-short) of the runtime and two examples under emulation:
#
#   linux/arm64   build, then go test under qemu-user (qemu-aarch64-static,
#                 Debian's qemu-user-static, installed with apt-get if missing)
#   linux/386     build, and the tests compiled (go vet); not run: qemu-i386
#                 7.2 crashes in Go's 386 runtime ("bad g in signal handler")
#                 and this kernel runs no 32-bit binaries
#   windows/amd64, darwin/arm64
#                 build only
#   js/wasm       build, then go test under Node ($(go env GOROOT)/lib/wasm/
#                 go_js_wasm_exec), when node is installed
#   wasip1/wasm   build, then go test under wazero (built from the Go module
#                 proxy by the nested module scripts/wasi) through
#                 $(go env GOROOT)/lib/wasm/go_wasip1_wasm_exec
#
# The tests run: go test -short ./runtime ./generated/xor ./generated/mnist_mlp
# (-short skips the two that train on all of MNIST; the others read the MNIST
# files from the module cache, which every runner here can see). It prints
# the seconds of every step; about 4 minutes on a warm build cache here.
#   bash scripts/platforms.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tests=(./runtime ./generated/xor ./generated/mnist_mlp)
wasmdir="$(go env GOROOT)/lib/wasm"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
summary=()

# step NAME COMMAND...: runs the command, prints and records its seconds.
step() {
	local name=$1 t0=$SECONDS
	shift
	echo "-- $name"
	"$@"
	summary+=("$(printf '%-40s %4ds' "$name" $((SECONDS - t0)))")
}

for target in linux/arm64 linux/386 windows/amd64 darwin/arm64 js/wasm wasip1/wasm; do
	step "build $target" env GOOS="${target%/*}" GOARCH="${target#*/}" go build ./...
done
step "vet (tests compile) linux/386" env GOARCH=386 go vet "${tests[@]}"

if ! command -v qemu-aarch64-static >/dev/null; then
	echo "-- installing qemu-user-static (Debian)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null
fi
step "test linux/arm64 (qemu-user)" env GOOS=linux GOARCH=arm64 \
	go test -short -exec qemu-aarch64-static "${tests[@]}"

step "build wazero (scripts/wasi)" \
	bash -c "cd scripts/wasi && go build -o '$tmp/bin/wazero' github.com/tetratelabs/wazero/cmd/wazero"
step "test wasip1/wasm (wazero)" env PATH="$tmp/bin:$PATH" GOWASIRUNTIME=wazero TMPDIR="$tmp" \
	GOOS=wasip1 GOARCH=wasm go test -short -exec "$wasmdir/go_wasip1_wasm_exec" "${tests[@]}"

if command -v node >/dev/null; then
	step "test js/wasm (node $(node --version))" env GOOS=js GOARCH=wasm \
		go test -short -exec "$wasmdir/go_js_wasm_exec" "${tests[@]}"
else
	echo "-- js/wasm tests skipped: node is not installed"
fi

echo "== platforms: seconds per step"
printf '%s\n' "${summary[@]}"
echo "total $((SECONDS - start))s"
