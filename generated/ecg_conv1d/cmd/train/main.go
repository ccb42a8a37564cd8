// Command train trains the generated 1-D convolutional heartbeat classifier
// (conv1d 16@7, maxpool 2, conv1d 32@5, maxpool 2, depthwise conv1d 32@5,
// pointwise conv1d 32@1, global average pooling, dense 5) on the ECG5000
// beats shipped in internal/ecg5000, prints one line per epoch and the test
// accuracy, and can save the weights.
//
//	go run ./generated/ecg_conv1d/cmd/train [-epochs N] [-batch N] [-o weights.safetensors]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/bpgen/bpgen/generated/ecg_conv1d"
	"github.com/bpgen/bpgen/internal/atomicfile"
	"github.com/bpgen/bpgen/internal/ecg5000"
	"github.com/bpgen/bpgen/runtime"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("train: ")
	cfg := ecg_conv1d.DefaultTrainConfig()
	epochs := flag.Int("epochs", cfg.Epochs, "epochs")
	batch := flag.Int("batch", cfg.Batch, "minibatch size")
	out := flag.String("o", "", "write the trained weights to this safetensors file")
	flag.Parse()
	cfg.Epochs, cfg.Batch = *epochs, *batch

	start := time.Now()
	train, test, err := ecg5000.Load()
	if err != nil {
		log.Fatal(err)
	}
	m := ecg_conv1d.New()
	fmt.Printf("ECG5000: %d training and %d test heartbeats\n", len(train.Signals), len(test.Signals))
	fmt.Printf("model: %d parameters, %s lr %g, batch %d\n", ecg_conv1d.NumParams, cfg.Optimizer.Type, cfg.Optimizer.LR, cfg.Batch)
	cfg.Progress = func(s runtime.EpochStats) {
		_, acc := m.Accuracy(test.Signals, test.Labels)
		fmt.Printf("epoch %d/%d  loss %.4f  train acc %.4f  test acc %.4f  %.0f samples/s  %.2fs\n",
			s.Epoch, cfg.Epochs, s.TrainLoss, s.TrainAcc, acc, s.SamplesPerSec, s.Duration.Seconds())
	}
	if _, err := m.Fit(train.Signals, train.Labels, cfg); err != nil {
		log.Fatal(err)
	}
	loss, acc := m.Accuracy(test.Signals, test.Labels)
	fmt.Printf("test: loss %.4f  accuracy %.2f%%  (wall time %.1fs)\n", loss, 100*acc, time.Since(start).Seconds())
	if *out != "" {
		var buf bytes.Buffer
		if err := m.WriteSafetensors(&buf); err != nil {
			log.Fatal(err)
		}
		if err := atomicfile.Write(*out, buf.Bytes()); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("weights written to %s\n", *out)
	}
}
