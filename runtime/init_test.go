package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// denseTensors describes a dense layer in→out: weight [out, in] then bias [out].
func denseTensors(in, out int) []Tensor {
	return []Tensor{
		{Name: "layers.0.weight", Shape: []int{out, in}, Offset: 0, Size: in * out, FanIn: in, FanOut: out},
		{Name: "layers.0.bias", Shape: []int{out}, Offset: in * out, Size: out, FanIn: in, FanOut: out, Bias: true},
	}
}

var allSchemes = []string{"pytorch", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal"}

func TestInitParamsErrors(t *testing.T) {
	ok := denseTensors(3, 2) // 8 parameters
	tests := []struct {
		name    string
		n       int
		tensors []Tensor
		scheme  string
		want    string
	}{
		{"unknown scheme", 8, ok, "glorot", `init scheme "glorot" unknown; valid schemes: pytorch, xavier_uniform, xavier_normal, he_uniform, he_normal`},
		{"empty scheme", 8, ok, "", `init scheme "" unknown; valid schemes: pytorch, xavier_uniform, xavier_normal, he_uniform, he_normal`},
		{"past the end", 7, ok, "pytorch", `tensor "layers.0.bias": offset 6 and size 2 do not fit in 7 parameters`},
		{"negative offset", 8, []Tensor{{Name: "w", Offset: -1, Size: 2, FanIn: 1}}, "pytorch", `tensor "w": offset -1 and size 2 do not fit in 8 parameters`},
		{"negative size", 8, []Tensor{{Name: "w", Offset: 1, Size: -2, FanIn: 1}}, "pytorch", `tensor "w": offset 1 and size -2 do not fit in 8 parameters`},
		{"offset past the end", 8, []Tensor{{Name: "w", Offset: 9, Size: 0, FanIn: 1}}, "pytorch", `tensor "w": offset 9 and size 0 do not fit in 8 parameters`},
		{"huge size", 8, []Tensor{{Name: "w", Offset: 2, Size: math.MaxInt, FanIn: 1}}, "he_normal",
			`tensor "w": offset 2 and size 9223372036854775807 do not fit in 8 parameters`},
		{"pytorch without fan-in", 8, []Tensor{{Name: "b", Size: 2, Bias: true}}, "pytorch", `tensor "b": fan-in is 0, want > 0 for init scheme pytorch`},
		{"he without fan-in", 8, []Tensor{{Name: "w", Size: 2, FanOut: 3}}, "he_uniform", `tensor "w": fan-in is 0, want > 0 for init scheme he_uniform`},
		{"xavier without fans", 8, []Tensor{{Name: "w", Size: 2}}, "xavier_normal",
			`tensor "w": fan-in 0 and fan-out 0, want both >= 0 with a positive sum for init scheme xavier_normal`},
		{"xavier negative fan", 8, []Tensor{{Name: "w", Size: 2, FanIn: 4, FanOut: -1}}, "xavier_uniform",
			`tensor "w": fan-in 4 and fan-out -1, want both >= 0 with a positive sum for init scheme xavier_uniform`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params := make([]float64, tc.n)
			for i := range params {
				params[i] = 7
			}
			err := InitParams(params, tc.tensors, tc.scheme, 1)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			for i, p := range params {
				assert.Equal(t, 7.0, p, "params[%d] changed on error", i)
			}
		})
	}
}

func TestInitParamsAccepts(t *testing.T) {
	// Bias tensors need no fans for xavier and he; empty tensors need nothing.
	tensors := []Tensor{
		{Name: "w", Size: 2, FanIn: 0, FanOut: 2},
		{Name: "b", Offset: 2, Size: 2, Bias: true},
		{Name: "empty", Offset: 4, Size: 0},
	}
	params := make([]float32, 4)
	require.NoError(t, InitParams(params, tensors, "xavier_uniform", 1))
	require.NoError(t, InitParams(params, nil, "he_normal", 1))
}

func TestInitParamsDeterministic(t *testing.T) {
	tensors := denseTensors(20, 10)
	for _, scheme := range allSchemes {
		t.Run(scheme, func(t *testing.T) {
			a, b, c := make([]float64, 210), make([]float64, 210), make([]float64, 210)
			require.NoError(t, InitParams(a, tensors, scheme, 5))
			require.NoError(t, InitParams(b, tensors, scheme, 5))
			require.NoError(t, InitParams(c, tensors, scheme, 6))
			assert.Equal(t, a, b, "same seed")
			assert.NotEqual(t, a, c, "different seed")

			// float32 parameters are the float64 ones rounded.
			f := make([]float32, 210)
			require.NoError(t, InitParams(f, tensors, scheme, 5))
			for i := range f {
				require.Equal(t, float32(a[i]), f[i], "element %d", i)
			}
		})
	}
}

func TestInitParamsStream(t *testing.T) {
	// One generator, tensors in order, elements in order; parameters outside
	// every tensor are left alone.
	tensors := []Tensor{
		{Name: "a", Offset: 1, Size: 3, FanIn: 4},
		{Name: "b", Offset: 5, Size: 2, FanIn: 9},
	}
	params := []float64{-1, 0, 0, 0, -1, 0, 0, -1}
	require.NoError(t, InitParams(params, tensors, "pytorch", 123))
	r := NewRNG(123)
	want := []float64{-1, 0, 0, 0, -1, 0, 0, -1}
	for i := 1; i < 4; i++ {
		want[i] = 0.5 * (2*r.Float64() - 1)
	}
	for i := 5; i < 7; i++ {
		want[i] = (1.0 / 3) * (2*r.Float64() - 1)
	}
	assert.Equal(t, want, params)

	// Zero biases draw nothing: the weight after a he bias gets the values
	// the first weight would have had.
	tensors = []Tensor{
		{Name: "b", Offset: 0, Size: 3, Bias: true},
		{Name: "w", Offset: 3, Size: 2, FanIn: 6},
	}
	params = make([]float64, 5)
	require.NoError(t, InitParams(params, tensors, "he_uniform", 9))
	r = NewRNG(9)
	assert.Equal(t, []float64{0, 0, 0, 1 * (2*r.Float64() - 1), 1 * (2*r.Float64() - 1)}, params)
}

func TestInitParamsDistributions(t *testing.T) {
	const in, out = 400, 300 // 120000 weights
	tests := []struct {
		scheme   string
		uniform  bool
		bound    float64 // uniform: half-width of the weights
		variance float64 // of the weights
		biasZero bool
	}{
		{"pytorch", true, 1 / math.Sqrt(in), 1.0 / (3 * in), false},
		{"xavier_uniform", true, math.Sqrt(6.0 / (in + out)), 2.0 / (in + out), true},
		{"xavier_normal", false, 0, 2.0 / (in + out), true},
		{"he_uniform", true, math.Sqrt(6.0 / in), 2.0 / in, true},
		{"he_normal", false, 0, 2.0 / in, true},
	}
	for _, tc := range tests {
		t.Run(tc.scheme, func(t *testing.T) {
			tensors := denseTensors(in, out)
			params := make([]float64, in*out+out)
			require.NoError(t, InitParams(params, tensors, tc.scheme, 2024))
			w, b := params[:in*out], params[in*out:]

			n := float64(len(w))
			var sum, sumSq, maxAbs float64
			for _, v := range w {
				sum += v
				sumSq += v * v
				maxAbs = max(maxAbs, math.Abs(v))
			}
			mean := sum / n
			variance := sumSq/n - mean*mean
			sd := math.Sqrt(tc.variance)
			// Five standard errors of the mean; the variance within 3 %
			// (its standard error is below 0.5 % at this size).
			assert.InDelta(t, 0, mean, 5*sd/math.Sqrt(n), "mean")
			assert.InEpsilon(t, tc.variance, variance, 0.03, "variance")
			if tc.uniform {
				assert.LessOrEqual(t, maxAbs, tc.bound, "weights outside the bound")
				assert.Greater(t, maxAbs, 0.999*tc.bound, "weights do not reach the bound")
			} else {
				assert.Greater(t, maxAbs, 3*sd, "normal weights have no tails")
			}

			if tc.biasZero {
				for i, v := range b {
					require.Zero(t, v, "bias %d", i)
				}
				return
			}
			nonzero := 0
			for _, v := range b {
				assert.LessOrEqual(t, math.Abs(v), 1/math.Sqrt(in), "bias outside the bound")
				if v != 0 {
					nonzero++
				}
			}
			assert.Equal(t, out, nonzero, "pytorch biases are random")
		})
	}
}

func BenchmarkInitParams(b *testing.B) {
	tensors := denseTensors(784, 128)
	params := make([]float32, 784*128+128)
	b.ReportAllocs()
	for b.Loop() {
		if err := InitParams(params, tensors, "he_normal", 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(params))*float64(b.N)/b.Elapsed().Seconds(), "params/s")
}

// TestInitConst checks that constant tensors get their value under every
// scheme and take no draws: the random tensor after them is the same as
// without them.
func TestInitConst(t *testing.T) {
	for _, scheme := range initSchemes {
		params := make([]float64, 10)
		tensors := []Tensor{
			{Name: "bn.weight", Shape: []int{2}, Offset: 0, Size: 2, FanIn: 1, FanOut: 1, Const: "ones"},
			{Name: "bn.bias", Shape: []int{2}, Offset: 2, Size: 2, FanIn: 1, FanOut: 1, Bias: true, Const: "zeros"},
			{Name: "fc.weight", Shape: []int{2, 3}, Offset: 4, Size: 6, FanIn: 3, FanOut: 2},
		}
		require.NoError(t, InitParams(params, tensors, scheme, 7), scheme)
		assert.Equal(t, []float64{1, 1, 0, 0}, params[:4], scheme)
		alone := make([]float64, 6)
		require.NoError(t, InitParams(alone, []Tensor{{Name: "fc.weight", Shape: []int{2, 3}, Size: 6, FanIn: 3, FanOut: 2}}, scheme, 7), scheme)
		assert.Equal(t, alone, params[4:], scheme)
	}
	bad := []Tensor{{Name: "x", Shape: []int{1}, Size: 1, FanIn: 1, FanOut: 1, Const: "twos"}}
	assert.EqualError(t, InitParams(make([]float32, 1), bad, "pytorch", 1), `tensor "x": constant initial value "twos" unknown; want ones or zeros`)
}
