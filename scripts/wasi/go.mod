// The WASI runtime scripts/platforms.sh runs the wasip1/wasm tests under:
// wazero, a WebAssembly runtime in pure Go from the Go module proxy. A module
// of its own so that bpgen's go.mod does not list it; platforms.sh builds it
// with `go build -o DIR/wazero github.com/tetratelabs/wazero/cmd/wazero` here.
module github.com/bpgen/bpgen/scripts/wasi

go 1.26

tool github.com/tetratelabs/wazero/cmd/wazero

require (
	github.com/tetratelabs/wazero v1.12.0 // indirect
	golang.org/x/sys v0.44.0 // indirect
)
