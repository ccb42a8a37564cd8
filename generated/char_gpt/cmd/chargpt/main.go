// Command chargpt trains the generated character-level transformer
// (embedding, positional embedding, two pre-norm blocks of causal attention
// and an MLP, layernorm, dense; 32 steps) on a public-domain text, with the
// windows and the validation split of charlm, and prints the loss of every
// epoch and a sample of generated text after it. Samples are generated with
// the key/value cache (char_gpt.Sample: one Step per character; when the
// 32-character window is full the cache restarts from its last 16).
//
//	go run ./generated/char_gpt/cmd/chargpt [-epochs N] [-text FILE] [-temp T] [-o weights.safetensors]
//
// The default text is testdata/text/opticks.txt (Newton's Opticks, 1730), so
// run it from the repository root.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/bpgen/bpgen/generated/char_gpt"
	"github.com/bpgen/bpgen/internal/atomicfile"
	"github.com/bpgen/bpgen/runtime"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("chargpt: ")
	cfg := char_gpt.DefaultTrainConfig()
	epochs := flag.Int("epochs", cfg.Epochs, "epochs")
	textPath := flag.String("text", "testdata/text/opticks.txt", "training text")
	stride := flag.Int("stride", 16, "characters between the starts of two training sequences")
	temp := flag.Float64("temp", 0.7, "sampling temperature")
	out := flag.String("o", "", "write the trained weights to this safetensors file")
	flag.Parse()
	cfg.Epochs = *epochs

	text, err := os.ReadFile(*textPath)
	if err != nil {
		log.Fatal(err)
	}
	ids := char_gpt.Encode(string(text))
	xs, ys := char_gpt.Sequences(ids, *stride)
	// The last tenth is held out: it measures how well the model predicts text it never saw.
	cfg.ValidationSplit = 0.1
	fmt.Printf("text: %d characters from %s, %d sequences of %d\n", len(ids), *textPath, len(xs), len(char_gpt.Input{}))
	m := char_gpt.New()
	rng := runtime.NewRNG(1)
	start := time.Now()
	cfg.Progress = func(s runtime.EpochStats) {
		fmt.Printf("epoch %d/%d  loss %.3f  val loss %.3f  %.0f samples/s  %.0fs\n", s.Epoch, cfg.Epochs, s.TrainLoss, s.ValLoss, s.SamplesPerSec, s.Duration.Seconds())
		fmt.Printf("  sample: %q\n", char_gpt.Sample(m, "the rays of light ", 120, *temp, rng))
	}
	if _, err := m.Fit(xs, ys, cfg); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("done in %.0fs\n", time.Since(start).Seconds())
	if *out != "" {
		var buf bytes.Buffer
		if err := m.WriteSafetensors(&buf); err != nil {
			log.Fatal(err)
		}
		if err := atomicfile.Write(*out, buf.Bytes()); err != nil {
			log.Fatal(err)
		}
	}
}
