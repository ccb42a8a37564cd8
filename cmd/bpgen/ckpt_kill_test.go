package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/bpgen/bpgen/gen"
	bprt "github.com/bpgen/bpgen/runtime"
	"github.com/bpgen/bpgen/spec"
)

// killSpec is a small dense classifier (no dropout, no batchnorm: it
// trains on two workers) with adam, shuffling, a step schedule, a
// validation split and early stopping, so that every part of a checkpoint
// matters. killBNSpec adds batchnorm (state and counters; on two workers
// the statistics are all-reduced between the replicas).
const killSpec = `name: killnet
input: [2]
layers:
  - {type: dense, units: 48, activation: relu}
  - {type: dense, units: 48, activation: tanh}
  - {type: dense, units: 3}
loss: softmax_cross_entropy
init: {scheme: xavier_uniform, seed: 1}
optimizer: {type: adam, lr: 0.003}
train: {epochs: 12, batch: 16, shuffle: true, seed: 5, validation_split: 0.1,
        early_stopping: {patience: 20}, lr_schedule: {type: step, step_size: 4, gamma: 0.5}}
`

const killBNSpec = `name: killbn
input: [2]
layers:
  - {type: dense, units: 48, activation: relu}
  - {type: batchnorm}
  - {type: dense, units: 3}
loss: softmax_cross_entropy
init: {scheme: xavier_uniform, seed: 1}
optimizer: {type: momentum, lr: 0.01}
train: {epochs: 12, batch: 16, shuffle: true, seed: 5, validation_split: 0.1, early_stopping: {patience: 20}}
`

// killDropSpec has dropout: its masks come from the model's generator and,
// on two workers, the replicas'.
const killDropSpec = `name: killdrop
input: [2]
layers:
  - {type: dense, units: 48, activation: relu}
  - {type: dropout, rate: 0.2}
  - {type: dense, units: 3}
loss: softmax_cross_entropy
init: {scheme: xavier_uniform, seed: 1}
optimizer: {type: rmsprop, lr: 0.003}
train: {epochs: 12, batch: 16, shuffle: true, seed: 5, validation_split: 0.1, early_stopping: {patience: 20}}
`

// buildTrainer generates the spec's package and trainer program into a
// temporary module and builds it, as bpgen train does.
func buildTrainer(t *testing.T, src string, extra map[string][]byte) string {
	t.Helper()
	m, err := spec.Parse("kill.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	code, err := gen.Generate(m, gen.Options{Source: "kill.yaml", Package: "model"})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := gen.TrainProgram(m, "bpgentrain/model")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"main.go": prog, "model/model_gen.go": code}
	for name, b := range extra {
		files[name] = b
	}
	mod, err := newTempModule("train", "bpgentrain", files)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mod.remove)
	exe, err := mod.build(context.Background(), "bpgentrain", "trainer program")
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// ckptPosition returns the epoch (1-based) and step a checkpoint is at.
func ckptPosition(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := bprt.ParseSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	var mt struct {
		Epoch, Step int
		Started     bool
	}
	json.Unmarshal([]byte(f.Metadata["bpgen.checkpoint"]), &mt)
	if !mt.Started {
		return fmt.Sprintf("end of epoch %d", mt.Epoch)
	}
	return fmt.Sprintf("epoch %d after step %d", mt.Epoch+1, mt.Step)
}

// TestCheckpointKillResume runs the trainer program as a real process,
// kills it with SIGKILL at a random moment after its first checkpoint,
// resumes from the last checkpoint and compares the final weight file
// byte for byte with that of a run never killed: on one and two workers,
// and for a batchnorm network on one and two.
func TestCheckpointKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs trainer programs")
	}
	if goruntime.GOOS == "windows" || goruntime.GOOS == "js" || goruntime.GOOS == "wasip1" {
		t.Skip("needs processes and SIGKILL")
	}
	dir := t.TempDir()
	var csv strings.Builder
	xs, ys := blobs(3000, 9)
	csv.WriteString(blobsCSV(xs, ys))
	data := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(data, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("trial seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	trials := 4
	for ci, c := range []struct {
		name    string
		spec    string
		workers int
		extra   map[string][]byte
	}{{"dense, 1 worker", killSpec, 1, nil}, {"dense, 2 workers", killSpec, 2, nil}, {"batchnorm, 1 worker", killBNSpec, 1, nil},
		{"batchnorm, 2 workers", killBNSpec, 2, nil}, {"dropout, 2 workers", killDropSpec, 2, nil}} {
		exe := buildTrainer(t, c.spec, c.extra)
		run := func(args ...string) *exec.Cmd {
			cmd := exec.Command(exe, append([]string{"-data", data, "-workers", fmt.Sprint(c.workers)}, args...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			return cmd
		}
		ref := filepath.Join(dir, "ref.safetensors")
		if err := run("-o", ref).Wait(); err != nil {
			t.Fatalf("%s: reference run: %v", c.name, err)
		}
		want, _ := os.ReadFile(ref)
		// A run that writes checkpoints (and syncs them) takes longer, and
		// ends with the same weights.
		scratch := filepath.Join(dir, "scratch.safetensors")
		start := time.Now()
		if err := run("-o", ref, "-checkpoint", scratch, "-checkpoint-every", "13").Wait(); err != nil {
			t.Fatalf("%s: checkpointing run: %v", c.name, err)
		}
		full := time.Since(start)
		if got, _ := os.ReadFile(ref); !bytes.Equal(got, want) {
			t.Fatalf("%s: writing checkpoints changed the weights", c.name)
		}
		counted := 0
		for trial := 0; trial < 2*trials && counted < trials; trial++ {
			ck := filepath.Join(dir, fmt.Sprintf("ck-%d-%d.safetensors", ci, trial))
			out := filepath.Join(dir, "w.safetensors")
			os.Remove(out)
			cmd := run("-o", out, "-checkpoint", ck, "-checkpoint-every", "13")
			// Kill after a random number of checkpoint writes seen (each
			// renames a new file over ck) and a random delay: robust to
			// the machine's load, and anywhere in a run.
			t0 := time.Now()
			writes, after := 0, 1+rng.IntN(120)
			var last os.FileInfo
			var first time.Duration
			for writes < after && time.Since(t0) < 2*time.Minute {
				if st, err := os.Stat(ck); err == nil && (last == nil || !os.SameFile(st, last)) {
					if writes++; writes == 1 {
						first = time.Since(t0)
					}
					last = st
				}
				time.Sleep(500 * time.Microsecond)
			}
			time.Sleep(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
			cmd.Process.Kill() // SIGKILL
			err := cmd.Wait()
			at := time.Since(t0)
			if err == nil {
				t.Logf("%s, trial %d: the run ended before the kill at %v; not counted", c.name, trial+1, at)
				continue
			}
			counted++
			pos := ckptPosition(t, ck)
			if err := run("-o", out, "-checkpoint", ck, "-checkpoint-every", "13", "-resume", ck).Wait(); err != nil {
				t.Fatalf("%s: resume: %v", c.name, err)
			}
			got, _ := os.ReadFile(out)
			same := bytes.Equal(got, want)
			t.Logf("%s, trial %d: SIGKILL at %v after %d checkpoint writes seen (first at %v; an uninterrupted run takes %v), resumed from %s: weights identical: %v",
				c.name, trial+1, at.Round(time.Millisecond), writes, first.Round(time.Millisecond), full.Round(time.Millisecond), pos, same)
			if !same {
				t.Errorf("%s, trial %d: the resumed run's weight file differs from the uninterrupted run's", c.name, trial+1)
			}
		}
		if counted == 0 {
			t.Errorf("%s: every run ended before its kill", c.name)
		}
	}
}
