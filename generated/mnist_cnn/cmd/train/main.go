// Command train trains the generated LeNet-5 (conv 6@5x5 pad 2, maxpool 2,
// conv 16@5x5, maxpool 2, dense 120, 84, 10) on the real MNIST training set,
// prints one line per epoch and the test accuracy, and can save the weights.
//
//	go run ./generated/mnist_cnn/cmd/train [-epochs N] [-batch N] [-o weights.safetensors]
package main

import (
	"github.com/bpgen/bpgen/generated/mnist_cnn"
	"github.com/bpgen/bpgen/internal/mnist"
	"github.com/bpgen/bpgen/internal/mnisttrain"
)

func main() {
	mnisttrain.Main("LeNet-5", mnist_cnn.New(), mnist_cnn.NumParams, mnist_cnn.DefaultTrainConfig(),
		func(s *mnist.Set) []mnist_cnn.Input { return s.Images3D() })
}
