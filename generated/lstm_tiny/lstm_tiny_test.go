package lstm_tiny

import (
	"bytes"
	"testing"

	"github.com/bpgen/bpgen/internal/sthand"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pytorchFile is a safetensors file as PyTorch would write the state_dict of
// nn.Sequential(nn.LSTM(3, 2, batch_first=True)) (names layers.0.*_l0, gate
// rows in PyTorch's order), built by hand with known weights.
func pytorchFile() []byte {
	return sthand.F64([]sthand.Tensor{
		{Name: "layers.0.weight_ih_l0", Shape: []int{4 * 2, 3}, Data: sthand.Ramp(24, -0.5, 0.045)},
		{Name: "layers.0.weight_hh_l0", Shape: []int{4 * 2, 2}, Data: sthand.Ramp(16, 0.4, -0.05)},
		{Name: "layers.0.bias_ih_l0", Shape: []int{4 * 2}, Data: sthand.Ramp(8, -0.2, 0.05)},
		{Name: "layers.0.bias_hh_l0", Shape: []int{4 * 2}, Data: sthand.Ramp(8, 0.1, -0.03)},
	})
}

// TestPyTorchWeightsByHand loads the hand-built file and checks both steps of
// the output against values computed by hand (in float64, outside Go) from
// PyTorch's documented equations for the cell.
func TestPyTorchWeightsByHand(t *testing.T) {
	m := New()
	require.NoError(t, m.ReadSafetensors(bytes.NewReader(pytorchFile())))
	x := Input{{0.5, -1, 0.25}, {1.5, 0.3, -0.7}}
	got := m.Forward(&x)
	want := Output{{-0.0126015557458007, -0.01566932568037905}, {-0.01093216795221338, 0.02404282712691861}}
	for s := range want {
		for j := range want[s] {
			assert.InDelta(t, want[s][j], got[s][j], 1e-15, "step %d unit %d", s, j)
		}
	}
}

// TestGradients checks BPTT against central differences at random sequences.
func TestGradients(t *testing.T) {
	m := New()
	rng := runtime.NewRNG(3)
	for trial := 0; trial < 3; trial++ {
		var x Input
		var y Target
		for s := range x {
			for j := range x[s] {
				x[s][j] = rng.NormFloat64()
			}
			for j := range y[s] {
				y[s][j] = rng.NormFloat64()
			}
		}
		rep := m.CheckGradients(&x, &y, runtime.CheckOptions{Seed: uint64(trial)})
		require.True(t, rep.Pass, "%s", rep)
	}
}

// TestZeroAllocs checks that Forward, Backward, TrainStep, TrainBatch and
// ForwardBatch allocate nothing.
func TestZeroAllocs(t *testing.T) {
	m := New()
	x := Input{{0.5, -1, 0.25}, {1.5, 0.3, -0.7}}
	var y Target
	dy := Output{{1, 0}, {0, 1}}
	assert.Zero(t, testing.AllocsPerRun(50, func() { m.Forward(&x) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(50, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(50, func() { m.TrainStep(&x, &y) }), "TrainStep")
	xs, ys, out := []Input{x, {{-0.2, 0.4, 1}, {0.1, -0.9, 0.6}}}, []Target{y, dy}, make([]Output, 2)
	assert.Zero(t, testing.AllocsPerRun(50, func() { m.TrainBatch(xs, ys, nil) }), "TrainBatch")
	assert.Zero(t, testing.AllocsPerRun(50, func() { m.ForwardBatch(xs, out) }), "ForwardBatch")
}
