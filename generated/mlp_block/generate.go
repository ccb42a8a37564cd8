package mlp_block

// The float32 model, and its float64 twin for gradient checks.
//go:generate go run ../../cmd/bpgen generate -o mlp_block_gen.go ../../testdata/mlp_block.yaml
//go:generate go run ../../cmd/bpgen generate -dtype float64 -pkg mlp_block64 -o f64/mlp_block64_gen.go ../../testdata/mlp_block.yaml
