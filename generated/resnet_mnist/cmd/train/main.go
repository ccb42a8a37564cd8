// Command train trains the generated residual CNN (a conv-bn-relu stem, two
// BasicBlocks with batchnorm, one with a strided projection shortcut, global
// average pooling, dense 10) on the real MNIST training set, prints one line
// per epoch and the test accuracy, and can save the weights (batchnorm's
// running statistics included).
//
//	go run ./generated/resnet_mnist/cmd/train [-epochs N] [-batch N] [-o weights.safetensors]
package main

import (
	"github.com/bpgen/bpgen/generated/resnet_mnist"
	"github.com/bpgen/bpgen/internal/mnist"
	"github.com/bpgen/bpgen/internal/mnisttrain"
)

func main() {
	mnisttrain.Main("ResNet (2 blocks, batchnorm)", resnet_mnist.New(), resnet_mnist.NumParams, resnet_mnist.DefaultTrainConfig(),
		func(s *mnist.Set) []resnet_mnist.Input { return s.Images3D() })
}
