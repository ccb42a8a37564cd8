// Package mnisttrain is the training command shared by the generated MNIST
// examples: it loads the real MNIST set, trains a generated model with its
// spec's configuration, prints one line per epoch and the test accuracy, and
// can save the weights.
package mnisttrain

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/bpgen/bpgen/internal/atomicfile"
	"github.com/bpgen/bpgen/internal/mnist"
	"github.com/bpgen/bpgen/runtime"
)

// Model is what the generated MNIST packages offer; X is their Input type.
type Model[X any] interface {
	Fit(xs []X, ys []int, cfg runtime.TrainConfig) (runtime.History, error)
	Accuracy(xs []X, ys []int) (loss, acc float64)
	WriteSafetensors(w io.Writer) error
}

// Main parses the flags -epochs, -batch and -o, trains m on MNIST and exits
// non-zero on error. images turns a loaded set into model inputs.
func Main[X any](title string, m Model[X], numParams int, cfg runtime.TrainConfig, images func(*mnist.Set) []X) {
	log.SetFlags(0)
	log.SetPrefix("train: ")
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
	trainX, testX := images(train), images(test)
	fmt.Printf("MNIST: %d training and %d test images from %s\n", len(train.Images), len(test.Images), dir)
	fmt.Printf("model: %s, %d parameters, %s lr %g, batch %d\n", title, numParams, cfg.Optimizer.Type, cfg.Optimizer.LR, cfg.Batch)
	cfg.Progress = func(s runtime.EpochStats) {
		_, acc := m.Accuracy(testX, test.Labels)
		fmt.Printf("epoch %d/%d  loss %.4f  train acc %.4f  test acc %.4f  %.0f samples/s  %.1fs\n",
			s.Epoch, cfg.Epochs, s.TrainLoss, s.TrainAcc, acc, s.SamplesPerSec, s.Duration.Seconds())
	}
	if _, err := m.Fit(trainX, train.Labels, cfg); err != nil {
		log.Fatal(err)
	}
	loss, acc := m.Accuracy(testX, test.Labels)
	fmt.Printf("test: loss %.4f  accuracy %.2f%%  (wall time %.1fs)\n", loss, 100*acc, time.Since(start).Seconds())
	if *out != "" {
		if err := writeWeights(*out, m); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("weights written to %s\n", *out)
	}
}

// writeWeights writes the weights atomically (see atomicfile).
func writeWeights[X any](path string, m Model[X]) error {
	var buf bytes.Buffer
	if err := m.WriteSafetensors(&buf); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}
