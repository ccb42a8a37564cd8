package runtime

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gcTensors splits 10 elements into "w" [2 3] and "b" [4].
var gcTensors = []Tensor{
	{Name: "w", Shape: []int{2, 3}, Offset: 0, Size: 6},
	{Name: "b", Shape: []int{4}, Offset: 6, Size: 4},
}

// gcCubic is f(x) = Σ c_i x_i³ + x_0 x_7 with its gradient
// ∂f/∂x_i = 3 c_i x_i² + [i=0] x_7 + [i=7] x_0.
func gcCubic(x []float64) (loss func() float64, grad []float64) {
	c := func(i int) float64 { return 0.5 + 0.25*float64(i) }
	loss = func() float64 {
		s := x[0] * x[7]
		for i, v := range x {
			s += c(i) * v * v * v
		}
		return s
	}
	grad = make([]float64, len(x))
	for i, v := range x {
		grad[i] = 3 * c(i) * v * v
	}
	grad[0] += x[7]
	grad[7] += x[0]
	return loss, grad
}

func gcX() []float64 {
	return []float64{0.1, -0.7, 1.3, 0.3, -2.1, 0.9, 0.55, -0.45, 1.7, 0.05}
}

func TestCheckGradientsPasses(t *testing.T) {
	x := gcX()
	loss, grad := gcCubic(x)
	r := CheckGradients(loss, x, grad, gcTensors, CheckOptions{})
	require.Len(t, r.Tensors, 2)
	assert.True(t, r.Pass, "%v", r)
	assert.Equal(t, 1e-6, r.Tol)
	for i, tc := range r.Tensors {
		assert.Equal(t, gcTensors[i].Name, tc.Name)
		assert.Equal(t, gcTensors[i].Size, tc.Size)
		assert.Equal(t, gcTensors[i].Size, tc.Checked)
		assert.True(t, tc.Pass)
		assert.Less(t, tc.RelErr, 1e-8, "central differences on a cubic: error ~ eps²")
		assert.Less(t, tc.MaxAbsErr, 1e-8)
	}
}

func TestCheckGradientsWrongElementFailsItsTensorOnly(t *testing.T) {
	x := gcX()
	loss, grad := gcCubic(x)
	grad[7] *= 1.01 // in tensor "b"
	r := CheckGradients(loss, x, grad, gcTensors, CheckOptions{})
	assert.False(t, r.Pass)
	assert.True(t, r.Tensors[0].Pass, "w: %v", r)
	assert.False(t, r.Tensors[1].Pass, "b: %v", r)
	// 1% of one element's gradient, relative to the norm of b's gradient.
	g7 := grad[7] / 1.01
	assert.InDelta(t, 0.01*math.Abs(g7), r.Tensors[1].MaxAbsErr, 1e-8)
	assert.Greater(t, r.Tensors[1].RelErr, 1e-4)
}

func TestCheckGradientsRestoresX(t *testing.T) {
	x := gcX()
	before := slices.Clone(x)
	loss, grad := gcCubic(x)
	// (0.1+0.2)-0.2 != 0.1 in float64: the check must write back the saved value.
	v, eps := x[0], 0.2
	require.NotEqual(t, v, (v+eps)-eps)
	CheckGradients(loss, x, grad, gcTensors, CheckOptions{Eps: eps})
	for i := range x {
		assert.Equal(t, math.Float64bits(before[i]), math.Float64bits(x[i]), "x[%d]", i)
	}
}

func TestCheckGradientsZeroGradient(t *testing.T) {
	// A loss that ignores x: both norms are zero, RelErr is the absolute error.
	x := []float64{1, 2, 3}
	r := CheckGradients(func() float64 { return 42 }, x, make([]float64, 3),
		[]Tensor{{Name: "z", Shape: []int{3}, Size: 3}}, CheckOptions{})
	assert.True(t, r.Pass)
	assert.Equal(t, 0.0, r.Tensors[0].RelErr)

	// A wrong but tiny analytic gradient: RelErr is ‖a−n‖ = 1e-11, below Tol.
	r = CheckGradients(func() float64 { return 42 }, x, []float64{1e-11, 0, 0},
		[]Tensor{{Name: "z", Shape: []int{3}, Size: 3}}, CheckOptions{})
	assert.True(t, r.Pass)
	assert.InDelta(t, 1e-11, r.Tensors[0].RelErr, 1e-25)
}

func TestCheckGradientsNaNFails(t *testing.T) {
	x := []float64{1}
	r := CheckGradients(func() float64 { return x[0] * x[0] }, x, []float64{math.NaN()},
		[]Tensor{{Name: "n", Shape: []int{1}, Size: 1}}, CheckOptions{})
	assert.False(t, r.Pass)
	assert.True(t, math.IsNaN(r.Tensors[0].RelErr))
}

// gcPerturbed runs a check on a 100-element tensor with MaxPerTensor 10 and
// returns the elements the loss saw perturbed.
func gcPerturbed(t *testing.T, seed uint64) []int {
	x := make([]float64, 100)
	for i := range x {
		x[i] = float64(i) / 10
	}
	orig := slices.Clone(x)
	seen := map[int]bool{}
	loss := func() float64 {
		s := 0.0
		for i, v := range x {
			if v != orig[i] {
				seen[i] = true
			}
			s += v * v / 2
		}
		return s
	}
	r := CheckGradients(loss, x, slices.Clone(x), []Tensor{{Name: "big", Shape: []int{100}, Size: 100}},
		CheckOptions{MaxPerTensor: 10, Seed: seed})
	require.True(t, r.Pass, "%v", r)
	assert.Equal(t, 100, r.Tensors[0].Size)
	assert.Equal(t, 10, r.Tensors[0].Checked)
	var idx []int
	for i := range seen {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	require.Len(t, idx, 10)
	return idx
}

func TestCheckGradientsSubsetDeterministic(t *testing.T) {
	a, b := gcPerturbed(t, 7), gcPerturbed(t, 7)
	assert.Equal(t, a, b, "same seed, same subset")
	assert.NotEqual(t, a, gcPerturbed(t, 8), "another seed, another subset")
}

func TestCheckGradientsFloat32(t *testing.T) {
	// float32 works with a coarse step; the type is accepted.
	x := []float32{0.5, -1.5}
	r := CheckGradients(func() float64 { return float64(x[0]*x[0]) + float64(x[1]*x[1]) }, x, []float32{1, -3},
		[]Tensor{{Name: "v", Shape: []int{2}, Size: 2}}, CheckOptions{Eps: 1e-2, Tol: 1e-3})
	assert.True(t, r.Pass, "%v", r)
	assert.Equal(t, []float32{0.5, -1.5}, x)
}

func TestCheckGradientsPanics(t *testing.T) {
	loss := func() float64 { return 0 }
	assert.PanicsWithValue(t, "runtime: CheckGradients: len(analytic) is 2, len(x) is 3", func() {
		CheckGradients(loss, make([]float64, 3), make([]float64, 2), nil, CheckOptions{})
	})
	assert.PanicsWithValue(t, `runtime: CheckGradients: tensor "w": elements [2, 5) lie outside x (3 elements)`, func() {
		CheckGradients(loss, make([]float64, 3), make([]float64, 3),
			[]Tensor{{Name: "w", Shape: []int{3}, Offset: 2, Size: 3}}, CheckOptions{})
	})
	assert.Panics(t, func() {
		CheckGradients(loss, make([]float64, 3), make([]float64, 3), nil, CheckOptions{Eps: -1})
	})
}

func TestCheckReportString(t *testing.T) {
	x := gcX()
	loss, grad := gcCubic(x)
	grad[7] *= 1.01
	s := CheckGradients(loss, x, grad, gcTensors, CheckOptions{}).String()
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	require.Len(t, lines, 4, s)
	for _, col := range []string{"tensor", "size", "checked", "max abs err", "rel err", "result"} {
		assert.Contains(t, lines[0], col)
	}
	assert.Regexp(t, `^w +6 +6 +\S+e-\d\d +\S+ +PASS$`, lines[1])
	assert.Regexp(t, `^b +4 +4 +\S+ +\S+ +FAIL$`, lines[2])
	assert.Equal(t, "total: 2 tensors, 1 failed, tol 1e-06: FAIL", lines[3])
	// Columns line up: "size" starts where the sizes do.
	col := strings.Index(lines[0], "size")
	assert.Equal(t, "6", lines[1][col:col+1])
	assert.Equal(t, "4", lines[2][col:col+1])
}
