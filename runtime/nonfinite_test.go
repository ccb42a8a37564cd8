package runtime

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gradModel is a Learner[T, int, int] whose 8 parameters are the tensors "w"
// [2, 3] and "b" [2] of gradTensors. Every sample has loss 1 and adds -grad to
// every gradient element, so an SGD step adds lr·grad to every parameter. On
// the bad.visit-th visit of sample bad.sample it returns bad.loss instead (if
// not 0) or sets gradient element bad.elem to bad.value (if elem >= 0), and
// records the parameters it holds. It is a Replicator: replicas share bad.
type gradModel[T Float] struct {
	p, g     [8]T
	grad     T
	training bool
	visits   int // visits of bad.sample
	bad      *badSpec[T]
}

// badSpec says where a gradModel goes wrong and records what it saw.
type badSpec[T Float] struct {
	sample, visit int
	loss          float64
	elem          int
	value         float64
	seen          bool
	atFailure     [8]T // the parameters when it went wrong
}

var gradTensors = []Tensor{
	{Name: "w", Shape: []int{2, 3}, Offset: 0, Size: 6},
	{Name: "b", Shape: []int{2}, Offset: 6, Size: 2, Bias: true},
}

func (m *gradModel[T]) TrainStep(x *int, y *int) float64 {
	for j := range m.g {
		m.g[j] -= m.grad
	}
	if b := m.bad; b != nil && *x == b.sample {
		m.visits++
		if m.visits == b.visit {
			b.seen, b.atFailure = true, m.p
			if b.elem >= 0 {
				m.g[b.elem] = T(b.value)
			}
			if b.loss != 0 {
				return b.loss
			}
		}
	}
	return 1
}

func (m *gradModel[T]) Evaluate(x *int, y *int) (float64, bool) { return 1, true }
func (m *gradModel[T]) Correct(y *int) bool                     { return true }
func (m *gradModel[T]) ZeroGrads()                              { m.g = [8]T{} }
func (m *gradModel[T]) ParamSlice() []T                         { return m.p[:] }
func (m *gradModel[T]) GradSlice() []T                          { return m.g[:] }
func (m *gradModel[T]) SetTraining(on bool)                     { m.training = on }
func (m *gradModel[T]) Replica(k int) Learner[T, int, int] {
	return &gradModel[T]{grad: m.grad, bad: m.bad}
}

// namedGradModel is a gradModel that lists its tensors.
type namedGradModel[T Float] struct{ gradModel[T] }

func (m *namedGradModel[T]) ParamTensors() []Tensor { return gradTensors }

// samples returns the sample ids 0..n-1 (targets are unused).
func samples(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestFitNonFiniteGradient(t *testing.T) {
	t.Run("float32", testFitNonFiniteGradient[float32])
	t.Run("float64", testFitNonFiniteGradient[float64])
}

func testFitNonFiniteGradient[T Float](t *testing.T) {
	// 12 samples in batches of 4, in order: the second visit of sample 9 is
	// in epoch 2, step 3 (with 2 workers the main model trains 8 and 9, the
	// replica 10 and 11).
	tests := []struct {
		name     string
		named    bool
		sample   int
		elem     int
		value    float64
		loss     float64
		clip     float64
		workers  int
		patience int
		want     string
	}{
		{name: "NaN in b", named: true, sample: 9, elem: 7, value: math.NaN(),
			want: `epoch 2, step 3: gradient of "b" is NaN (element 1)`},
		{name: "+Inf in w", named: true, sample: 9, elem: 4, value: math.Inf(1),
			want: `epoch 2, step 3: gradient of "w" is +Inf (element 4)`},
		{name: "no tensor names", sample: 9, elem: 5, value: math.Inf(-1),
			want: `epoch 2, step 3: gradient is -Inf (element 5 of GradSlice)`},
		{name: "clipping", named: true, sample: 9, elem: 0, value: math.NaN(), clip: 0.5,
			want: `epoch 2, step 3: gradient of "w" is NaN (element 0)`},
		{name: "replica", named: true, sample: 11, elem: 6, value: math.Inf(1), workers: 2,
			want: `epoch 2, step 3: gradient of "b" is +Inf (element 0)`},
		{name: "early stopping", named: true, sample: 9, elem: 1, value: math.NaN(), patience: 3,
			want: `epoch 2, step 3: gradient of "w" is NaN (element 1)`},
		{name: "loss", named: true, sample: 9, elem: -1, loss: math.NaN(),
			want: `epoch 2, step 3: loss is NaN (sample 9)`},
		{name: "loss in replica", sample: 11, elem: -1, loss: math.Inf(1), workers: 2,
			want: `epoch 2, step 3: loss is +Inf (sample 11)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := &badSpec[T]{sample: tc.sample, visit: 2, elem: tc.elem, value: tc.value, loss: tc.loss}
			var m Learner[T, int, int]
			var p *[8]T
			if tc.named {
				nm := &namedGradModel[T]{gradModel[T]{grad: 1, bad: bad}}
				m, p = nm, &nm.p
			} else {
				gm := &gradModel[T]{grad: 1, bad: bad}
				m, p = gm, &gm.p
			}
			var afterEpoch1 [8]T
			steps := 0
			hist, err := Fit(m, samples(12), samples(12), TrainConfig{
				Epochs: 5, Batch: 4, ClipNorm: tc.clip, Workers: tc.workers,
				EarlyStopping: EarlyStopping{Patience: tc.patience},
				Optimizer:     OptimizerConfig{Type: "sgd", LR: 0.25},
				Progress:      func(EpochStats) { afterEpoch1 = *p },
				OnBatch:       func(int, int, float64) { steps++ },
			})
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			require.True(t, bad.seen)
			assert.Len(t, hist.Epochs, 1, "the completed epoch is reported")
			assert.Equal(t, 5, steps, "optimizer steps: 3 in epoch 1, 2 in epoch 2")
			if tc.patience > 0 {
				assert.Equal(t, afterEpoch1, *p, "best weights restored")
				assert.Equal(t, 1, hist.BestEpoch)
			} else {
				assert.Equal(t, bad.atFailure, *p, "the weights of the last good step")
				assert.NotEqual(t, afterEpoch1, *p)
			}
			for i, v := range *p {
				assert.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "parameter %d is %v", i, v)
			}
		})
	}
}

func TestFitNonFiniteParameters(t *testing.T) {
	t.Run("float32", testFitNonFiniteParameters[float32])
	t.Run("float64", testFitNonFiniteParameters[float64])
}

// testFitNonFiniteParameters takes SGD steps whose update overflows: every
// gradient is finite, the parameters after the first step are not.
func testFitNonFiniteParameters[T Float](t *testing.T) {
	lr := 1e30
	if _, ok := any(T(0)).(float64); ok {
		lr = 1e300
	}
	for _, patience := range []int{0, 2} {
		t.Run(fmt.Sprint("patience ", patience), func(t *testing.T) {
			m := &namedGradModel[T]{gradModel[T]{grad: 1e10}}
			m.p = [8]T{1, 2, 3, 4, 5, 6, 7, 8}
			_, err := Fit(m, samples(8), samples(8), TrainConfig{
				Epochs: 3, Batch: 4, EarlyStopping: EarlyStopping{Patience: patience},
				Optimizer: OptimizerConfig{Type: "sgd", LR: lr},
			})
			require.Error(t, err)
			assert.Equal(t, `epoch 1, step 1: parameter "w" is +Inf after the optimizer step (element 0)`, err.Error())
			if patience > 0 {
				assert.Equal(t, [8]T{1, 2, 3, 4, 5, 6, 7, 8}, m.p, "initial weights restored")
			} else {
				assert.True(t, math.IsInf(float64(m.p[0]), 1), "the step's weights stay: %v", m.p)
			}
		})
	}
	t.Run("no tensor names", func(t *testing.T) {
		m := &gradModel[T]{grad: -1e10}
		_, err := Fit(m, samples(8), samples(8), TrainConfig{Epochs: 1, Batch: 8, Optimizer: OptimizerConfig{Type: "sgd", LR: lr}})
		require.Error(t, err)
		assert.Equal(t, `epoch 1, step 1: parameter is -Inf after the optimizer step (element 0 of ParamSlice)`, err.Error())
	})
}

func TestScaleGrads(t *testing.T) {
	t.Run("float32 squares overflow", func(t *testing.T) {
		// Σg² overflows float32, but every element is finite: no error.
		g := []float32{2e20, -2e20, 4e19}
		assert.Equal(t, -1, scaleGrads(g, 2, 0))
		assert.Equal(t, []float32{1e20, -1e20, 2e19}, g)
	})
	t.Run("float64 squares overflow with clipping", func(t *testing.T) {
		// Σg² overflows float64; the norm (5e200/2) does not, and clipping
		// scales the gradient to norm 1.
		g := []float64{3e200, 4e200}
		assert.Equal(t, -1, scaleGrads(g, 2, 1))
		assert.InDeltaSlice(t, []float64{0.6, 0.8}, g, 1e-15)
	})
	for _, clip := range []float64{0, 1} {
		for _, batch := range []int{1, 3} {
			t.Run(fmt.Sprintf("clip %v batch %d", clip, batch), func(t *testing.T) {
				for _, n := range []int{1, 7, 8, 9, 40, 1000} {
					for _, at := range []int{0, n / 2, n - 1} {
						for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
							g32, g64 := make([]float32, n), make([]float64, n)
							for i := range g32 {
								g32[i], g64[i] = float32(i%5)-2, float64(i%5)-2
							}
							g32[at], g64[at] = float32(bad), bad
							if n > 1 {
								g32[n-1-at/2], g64[n-1-at/2] = float32(bad), bad // a later one too
							}
							first := min(at, n-1-at/2)
							assert.Equal(t, first, scaleGrads(g32, batch, clip), "float32 n %d, %v at %d", n, bad, at)
							assert.Equal(t, first, scaleGrads(g64, batch, clip), "float64 n %d, %v at %d", n, bad, at)
						}
					}
				}
			})
		}
	}
}

func TestNonFiniteNames(t *testing.T) {
	g := []float64{0, 0, 0, 0, 0, 0, 0, math.NaN()}
	assert.Equal(t, `gradient of "b" is NaN (element 1)`, nonFinite(false, g, 7, gradTensors))
	assert.Equal(t, `parameter "b" is NaN after the optimizer step (element 1)`, nonFinite(true, g, 7, gradTensors))
	// Tensors that do not cover the element: the flat index.
	assert.Equal(t, `gradient is NaN (element 7 of GradSlice)`, nonFinite(false, g, 7, gradTensors[:1]))
	assert.Equal(t, `parameter is NaN after the optimizer step (element 7 of ParamSlice)`, nonFinite(true, g, 7, nil))
}
