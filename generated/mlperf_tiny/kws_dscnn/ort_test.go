package kws_dscnn

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var ortDir = flag.String("ort.dir", "", "write kws_dscnn's weights, inputs, outputs and timings here (scripts/mlperf_ort.sh)")

// TestORTFixture writes, for scripts/mlperf_ort.sh, the weights of a model
// whose running statistics one training step has moved (kws_dscnn.safetensors, for
// bpgen export), 64 random inputs with the model's outputs in inference mode,
// and the timings of Forward (one sample) and ForwardBatch (64 samples), each
// measured for a second (kws_dscnn.json).
func TestORTFixture(t *testing.T) {
	if *ortDir == "" {
		t.Skip("run by scripts/mlperf_ort.sh")
	}
	const n = 64
	m := New()
	xs, ys := randomInputs(n, 12)
	m.SetTraining(true)
	m.TrainBatch(xs[:min(BatchChunk, n)], ys, nil)
	m.SetTraining(false)
	f, err := os.Create(filepath.Join(*ortDir, "kws_dscnn.safetensors"))
	require.NoError(t, err)
	require.NoError(t, m.WriteSafetensors(f))
	require.NoError(t, f.Close())
	var in, out []float32
	for k := range xs {
		in = append(in, flat(&xs[k])...)
		y := *m.Forward(&xs[k])
		out = append(out, y[:]...)
	}
	start, calls := time.Now(), 0
	for ; time.Since(start) < time.Second; calls++ {
		m.Forward(&xs[calls%n])
	}
	latency := time.Since(start).Seconds() / float64(calls)
	outs := make([]Output, n)
	start, batches := time.Now(), 0
	for ; time.Since(start) < time.Second; batches++ {
		m.ForwardBatch(xs, outs)
	}
	throughput := float64(n*batches) / time.Since(start).Seconds()
	data, err := json.Marshal(map[string]any{
		"name": "kws_dscnn", "n": n, "input": in, "output": out,
		"go_forward_us": latency * 1e6, "go_batch64_per_s": throughput,
	})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(*ortDir, "kws_dscnn.json"), data, 0o644))
}
