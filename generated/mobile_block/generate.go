package mobile_block

// The float32 model, and its float64 twin for gradient checks.
//go:generate go run ../../cmd/bpgen generate -o mobile_block_gen.go ../../testdata/mobile_block.yaml
//go:generate go run ../../cmd/bpgen generate -dtype float64 -pkg mobile_block64 -o f64/mobile_block64_gen.go ../../testdata/mobile_block.yaml
