package runtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedGrads is a Learner whose TrainStep adds step to its gradients and
// whose TrainBatch adds batch once per sample.
type fixedGrads struct {
	step, batch, g []float64
}

func (f *fixedGrads) add(v []float64) {
	for i := range f.g {
		f.g[i] += v[i]
	}
}
func (f *fixedGrads) TrainStep(*int, *int) float64        { f.add(f.step); return 1 }
func (f *fixedGrads) Evaluate(*int, *int) (float64, bool) { return 1, true }
func (f *fixedGrads) Correct(*int) bool                   { return true }
func (f *fixedGrads) ZeroGrads()                          { clear(f.g) }
func (f *fixedGrads) ParamSlice() []float64               { return make([]float64, len(f.g)) }
func (f *fixedGrads) GradSlice() []float64                { return f.g }
func (f *fixedGrads) SetTraining(bool)                    {}
func (f *fixedGrads) TrainBatch(xs []int, ys []int, idx []int) (float64, int) {
	for range idx {
		f.add(f.batch)
	}
	return float64(len(idx)), len(idx)
}

func TestCompareTrainBatchTolerance(t *testing.T) {
	tensors := []Tensor{{Name: "w", Offset: 0, Size: 2}, {Name: "b", Offset: 2, Size: 1}}
	xs := []int{0, 1, 2}
	for _, c := range []struct {
		name        string
		step, batch []float64
		err         string
	}{
		{"equal", []float64{1, 0.5, 0.2}, []float64{1, 0.5, 0.2}, ""},
		{"within tol of the tensor", []float64{1, 0.5, 0.2}, []float64{1 + 1e-7, 0.5, 0.2 + 1e-8}, ""},
		// b's gradient is zero but for rounding: noise of 1e-16 against
		// w's 1 passes, though it is not within tol of b's own scale.
		{"rounding noise of a zero gradient", []float64{1, 0.5, 6e-16}, []float64{1, 0.5, 4e-16}, ""},
		{"a small gradient that differs", []float64{1, 0.5, 1e-3}, []float64{1, 0.5, 2e-3},
			`gradient of "b": element 0 is 0.003 with TrainStep, 0.006 with TrainBatch (largest gradient 0.003)`},
		{"a large gradient that differs", []float64{1, 0.5, 0.2}, []float64{1.01, 0.5, 0.2},
			`gradient of "w": element 0 is 3 with TrainStep, 3.0300000000000002 with TrainBatch (largest gradient 3)`},
	} {
		m := &fixedGrads{step: c.step, batch: c.batch, g: make([]float64, 3)}
		b := &fixedGrads{step: c.step, batch: c.batch, g: make([]float64, 3)}
		err := CompareTrainBatch[float64, int, int](m, b, tensors, xs, xs, nil, 1e-4)
		if c.err == "" {
			require.NoError(t, err, c.name)
		} else {
			require.Error(t, err, c.name)
			assert.Equal(t, c.err, err.Error(), c.name)
		}
	}
}
