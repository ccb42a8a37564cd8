package mnist_cnn

// The float32 model, and its float64 twin for gradient checks.
//go:generate go run ../../cmd/bpgen generate -o mnist_cnn_gen.go ../../testdata/mnist_cnn.yaml
//go:generate go run ../../cmd/bpgen generate -dtype float64 -pkg mnist_cnn64 -o f64/mnist_cnn64_gen.go ../../testdata/mnist_cnn.yaml
