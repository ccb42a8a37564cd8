package resnet_mnist

// The float32 model, and its float64 twin for gradient checks.
//go:generate go run ../../cmd/bpgen generate -o resnet_mnist_gen.go ../../testdata/resnet_mnist.yaml
//go:generate go run ../../cmd/bpgen generate -dtype float64 -pkg resnet_mnist64 -o f64/resnet_mnist64_gen.go ../../testdata/resnet_mnist.yaml
