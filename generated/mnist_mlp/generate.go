package mnist_mlp

// The float32 model, and its float64 twin for gradient checks.
//go:generate go run ../../cmd/bpgen generate -o mnist_mlp_gen.go ../../testdata/mnist_mlp.yaml
//go:generate go run ../../cmd/bpgen generate -dtype float64 -pkg mnist_mlp64 -o f64/mnist_mlp64_gen.go ../../testdata/mnist_mlp.yaml
