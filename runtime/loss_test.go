package runtime

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lossTol is the tolerance of hand-computed loss values and gradients.
const lossTol = 1e-12

func TestLossHandValues(t *testing.T) {
	e := math.Exp
	tests := []struct {
		name     string
		f        func(grad []float64) float64
		n        int // gradient length
		want     float64
		wantGrad []float64
	}{
		// d = y - t = [-0.5, 0, 2]
		{"MSE", func(g []float64) float64 { return MSE([]float64{1, 2, 3}, []float64{1.5, 2, 1}, g) },
			3, (0.25 + 0 + 4) / 3, []float64{-1.0 / 3, 0, 4.0 / 3}},
		{"MAE", func(g []float64) float64 { return MAE([]float64{1, 2, 3}, []float64{1.5, 2, 1}, g) },
			3, (0.5 + 0 + 2) / 3, []float64{-1.0 / 3, 0, 1.0 / 3}},
		// delta 1: 0.5·0.25, 0, 1·(2-0.5)
		{"Huber delta 1", func(g []float64) float64 { return Huber([]float64{1, 2, 3}, []float64{1.5, 2, 1}, g, 1) },
			3, (0.125 + 0 + 1.5) / 3, []float64{-0.5 / 3, 0, 1.0 / 3}},
		// delta 0.25, d = -0.5: 0.25·(0.5-0.125)
		{"Huber linear", func(g []float64) float64 { return Huber([]float64{0}, []float64{0.5}, g, 0.25) },
			1, 0.09375, []float64{-0.25}},
		// |d| = delta is still quadratic: 0.5·1²
		{"Huber at delta", func(g []float64) float64 { return Huber([]float64{3}, []float64{2}, g, 1) },
			1, 0.5, []float64{1}},
		{"SoftmaxCrossEntropy uniform", func(g []float64) float64 { return SoftmaxCrossEntropy([]float64{0, 0}, 0, g) },
			2, math.Ln2, []float64{-0.5, 0.5}},
		// softmax([1,2,3]) = [e, e², e³]/(e+e²+e³); loss = log(e+e²+e³) - 3
		{"SoftmaxCrossEntropy", func(g []float64) float64 { return SoftmaxCrossEntropy([]float64{1, 2, 3}, 2, g) },
			3, math.Log(e(1)+e(2)+e(3)) - 3,
			[]float64{e(1) / (e(1) + e(2) + e(3)), e(2) / (e(1) + e(2) + e(3)), e(3)/(e(1)+e(2)+e(3)) - 1}},
		// -(log 0.8 + log 0.7)/2; grad (p-t)/(p(1-p))/2
		{"BinaryCrossEntropy", func(g []float64) float64 { return BinaryCrossEntropy([]float64{0.8, 0.3}, []float64{1, 0}, g) },
			2, -(math.Log(0.8) + math.Log(0.7)) / 2, []float64{-0.2 / 0.16 / 2, 0.3 / 0.21 / 2}},
		// soft target: -(0.25 log 0.5 + 0.75 log 0.5) = log 2; grad (0.5-0.25)/0.25
		{"BinaryCrossEntropy soft target", func(g []float64) float64 { return BinaryCrossEntropy([]float64{0.5}, []float64{0.25}, g) },
			1, math.Ln2, []float64{1}},
		// p = 0 and 1 against the wrong target: the log terms clamp at -100
		{"BinaryCrossEntropy clamped", func(g []float64) float64 { return BinaryCrossEntropy([]float64{0, 1}, []float64{1, 0}, g) },
			2, 100, []float64{-1 / (1e-12 * (1 - 1e-12)) / 2, 1 / (1e-12 * (1 - 1e-12)) / 2}},
		// p = 0 and 1 against the right target: loss 0
		{"BinaryCrossEntropy exact", func(g []float64) float64 { return BinaryCrossEntropy([]float64{0, 1}, []float64{0, 1}, g) },
			2, 0, []float64{0, 0}},
		{"BinaryCrossEntropyWithLogits zero", func(g []float64) float64 {
			return BinaryCrossEntropyWithLogits([]float64{0}, []float64{1}, g)
		}, 1, math.Ln2, []float64{-0.5}},
		// -(t log σ(z) + (1-t) log(1-σ(z))) for z = 2, t = 0 and z = -1, t = 0.5
		{"BinaryCrossEntropyWithLogits", func(g []float64) float64 {
			return BinaryCrossEntropyWithLogits([]float64{2, -1}, []float64{0, 0.5}, g)
		}, 2, (-math.Log(1-1/(1+e(-2))) - 0.5*math.Log(1/(1+e(1))) - 0.5*math.Log(1-1/(1+e(1)))) / 2,
			[]float64{(1 / (1 + e(-2))) / 2, (1/(1+e(1)) - 0.5) / 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			grad := make([]float64, tc.n)
			for i := range grad {
				grad[i] = 99 // must be overwritten
			}
			got := tc.f(grad)
			assert.InDelta(t, tc.want, got, lossTol, "loss")
			assert.Equal(t, got, tc.f(nil), "loss without gradient")
			require.Len(t, grad, len(tc.wantGrad))
			for i := range grad {
				assert.InDelta(t, tc.wantGrad[i], grad[i], lossTol*max(1, math.Abs(tc.wantGrad[i])), "grad[%d]", i)
			}
		})
	}
}

func TestLossEmpty(t *testing.T) {
	var none []float64
	assert.Zero(t, MSE(none, none, none))
	assert.Zero(t, MAE(none, none, nil))
	assert.Zero(t, Huber(none, none, none, 1))
	assert.Zero(t, BinaryCrossEntropy(none, none, nil))
	assert.Zero(t, BinaryCrossEntropyWithLogits(none, none, none))
}

func TestLossFloat32(t *testing.T) {
	// float32 slices are computed in float64 and rounded once.
	y, tg := []float32{1, 2, 3}, []float32{1.5, 2, 1}
	g := make([]float32, 3)
	assert.InDelta(t, 4.25/3, MSE(y, tg, g), lossTol)
	assert.Equal(t, []float32{float32(-1.0 / 3), 0, float32(4.0 / 3)}, g)
	g2 := make([]float32, 2)
	assert.InDelta(t, math.Ln2, SoftmaxCrossEntropy([]float32{0, 0}, 1, g2), lossTol)
	assert.Equal(t, []float32{0.5, -0.5}, g2)
}

// fdTol is the largest relative error allowed between an analytic gradient
// and central differences with step fdStep, in float64.
const (
	fdTol  = 1e-6
	fdStep = 1e-6
)

// checkGradFD compares the gradient f writes with central differences of f
// at x. f must not modify x. Relative errors use max(|a|, |b|, 1e-2) as the
// denominator so that tiny gradients are compared absolutely.
func checkGradFD(t *testing.T, name string, x []float64, f func(x, grad []float64) float64) {
	t.Helper()
	grad := make([]float64, len(x))
	loss := f(x, grad)
	require.Equal(t, loss, f(x, nil), "%s: loss depends on grad", name)
	xc := append([]float64(nil), x...)
	for i := range x {
		xc[i] = x[i] + fdStep
		fp := f(xc, nil)
		xc[i] = x[i] - fdStep
		fm := f(xc, nil)
		xc[i] = x[i]
		want := (fp - fm) / (2 * fdStep)
		rel := math.Abs(grad[i]-want) / max(math.Abs(grad[i]), math.Abs(want), 1e-2)
		assert.LessOrEqual(t, rel, fdTol, "%s: d/dx[%d] at %v: got %v, want %v", name, i, x, grad[i], want)
	}
}

func TestLossGradientsFiniteDifferences(t *testing.T) {
	r := NewRNG(31)
	const n = 7
	for trial := range 20 {
		y, tg := make([]float64, n), make([]float64, n)
		p, bin, soft := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range y {
			y[i] = 4 * r.NormFloat64()
			tg[i] = 4 * r.NormFloat64()
			for math.Abs(y[i]-tg[i]) < 1e-3 || math.Abs(math.Abs(y[i]-tg[i])-1.5) < 1e-3 { // away from kinks
				tg[i] = 4 * r.NormFloat64()
			}
			p[i] = 0.05 + 0.9*r.Float64()
			bin[i] = float64(r.Intn(2))
			soft[i] = r.Float64()
		}
		class := r.Intn(n)
		name := func(loss string) string { return fmt.Sprintf("%s trial %d", loss, trial) }

		checkGradFD(t, name("MSE"), y, func(x, g []float64) float64 { return MSE(x, tg, g) })
		checkGradFD(t, name("MAE"), y, func(x, g []float64) float64 { return MAE(x, tg, g) })
		checkGradFD(t, name("Huber"), y, func(x, g []float64) float64 { return Huber(x, tg, g, 1.5) })
		checkGradFD(t, name("SoftmaxCrossEntropy"), y, func(x, g []float64) float64 { return SoftmaxCrossEntropy(x, class, g) })
		checkGradFD(t, name("BinaryCrossEntropy"), p, func(x, g []float64) float64 { return BinaryCrossEntropy(x, bin, g) })
		checkGradFD(t, name("BinaryCrossEntropy soft"), p, func(x, g []float64) float64 { return BinaryCrossEntropy(x, soft, g) })
		checkGradFD(t, name("BinaryCrossEntropyWithLogits"), y, func(x, g []float64) float64 {
			return BinaryCrossEntropyWithLogits(x, bin, g)
		})
		checkGradFD(t, name("BinaryCrossEntropyWithLogits soft"), y, func(x, g []float64) float64 {
			return BinaryCrossEntropyWithLogits(x, soft, g)
		})
	}
}

func TestLossExtremeLogits(t *testing.T) {
	finite := func(t *testing.T, loss float64, grad []float64) {
		t.Helper()
		assert.False(t, math.IsNaN(loss) || math.IsInf(loss, 0), "loss %v", loss)
		for i, g := range grad {
			assert.False(t, math.IsNaN(g) || math.IsInf(g, 0), "grad[%d] = %v", i, g)
		}
	}
	t.Run("SoftmaxCrossEntropy", func(t *testing.T) {
		logits := []float64{1e4, -1e4, 0, 1e4}
		for class, want := range []float64{math.Ln2, 2e4 + math.Ln2, 1e4 + math.Ln2, math.Ln2} {
			grad := make([]float64, 4)
			loss := SoftmaxCrossEntropy(logits, class, grad)
			finite(t, loss, grad)
			assert.InDelta(t, want, loss, 1e-9, "class %d", class)
			sum := 0.0
			for _, g := range grad {
				sum += g
			}
			assert.InDelta(t, 0, sum, 1e-15, "softmax - onehot sums to 0")
		}
		g32 := make([]float32, 3)
		finite(t, SoftmaxCrossEntropy([]float32{-1e4, 1e4, 3e38}, 0, g32), []float64{float64(g32[0]), float64(g32[1]), float64(g32[2])})
	})
	t.Run("BinaryCrossEntropyWithLogits", func(t *testing.T) {
		z := []float64{1e4, -1e4, 1e4, -1e4}
		tg := []float64{0, 1, 1, 0}
		grad := make([]float64, 4)
		loss := BinaryCrossEntropyWithLogits(z, tg, grad)
		finite(t, loss, grad)
		assert.InDelta(t, (1e4+1e4+0+0)/4, loss, 1e-9)
		assert.Equal(t, []float64{0.25, -0.25, 0, 0}, grad)
	})
	t.Run("Sigmoid", func(t *testing.T) {
		assert.Equal(t, 1.0, Sigmoid(1e4))
		assert.Equal(t, 0.0, Sigmoid(-1e4))
		assert.Equal(t, 1.0, Sigmoid(math.Inf(1)))
		assert.Equal(t, 0.0, Sigmoid(math.Inf(-1)))
	})
	t.Run("BinaryCrossEntropy at 0 and 1", func(t *testing.T) {
		grad := make([]float64, 4)
		loss := BinaryCrossEntropy([]float64{0, 1, 0, 1}, []float64{1, 0, 0.5, 0.5}, grad)
		finite(t, loss, grad)
		assert.InDelta(t, (100+100+50+50)/4.0, loss, 1e-12)
	})
}

// TestLossExtremeLogitsTyped runs the losses (and with them the stable
// log-sum-exp and sigmoid) on logits of ±1e4 and on probabilities of exactly
// 0 and 1 in float32 and float64: losses and gradients must be finite and
// equal to the values worked out by hand, to rounding.
func TestLossExtremeLogitsTyped(t *testing.T) {
	t.Run("float32", testLossExtremeLogits[float32])
	t.Run("float64", testLossExtremeLogits[float64])
}

func testLossExtremeLogits[T Float](t *testing.T) {
	check := func(t *testing.T, what string, got, want []float64) {
		t.Helper()
		require.Len(t, got, len(want), what)
		for i := range got {
			assert.False(t, math.IsNaN(got[i]) || math.IsInf(got[i], 0), "%s[%d] = %v", what, i, got[i])
			assert.InDelta(t, want[i], got[i], 1e-6*max(1, math.Abs(want[i])), "%s[%d] (all: %v)", what, i, got)
		}
	}
	f64 := func(v []T) []float64 {
		r := make([]float64, len(v))
		for i, x := range v {
			r[i] = float64(x)
		}
		return r
	}
	t.Run("SoftmaxCrossEntropy", func(t *testing.T) {
		tests := []struct {
			logits []T
			class  int
			loss   float64
			grad   []float64 // softmax − onehot
		}{
			{[]T{1e4, -1e4, 0}, 0, 0, []float64{0, 0, 0}},
			{[]T{1e4, -1e4, 0}, 1, 2e4, []float64{1, -1, 0}},
			{[]T{1e4, -1e4, 0}, 2, 1e4, []float64{1, 0, -1}},
			{[]T{1e4, 1e4}, 0, math.Ln2, []float64{-0.5, 0.5}},
			{[]T{-1e4, -1e4, -1e4}, 2, math.Log(3), []float64{1.0 / 3, 1.0 / 3, -2.0 / 3}},
			{[]T{-1e4, 1e4, 1e4}, 0, 2e4 + math.Ln2, []float64{-1, 0.5, 0.5}},
		}
		for _, tc := range tests {
			grad := make([]T, len(tc.logits))
			what := fmt.Sprintf("%v class %d", tc.logits, tc.class)
			check(t, what+" loss", []float64{SoftmaxCrossEntropy(tc.logits, tc.class, grad)}, []float64{tc.loss})
			check(t, what+" grad", f64(grad), tc.grad)
			check(t, what+" loss without grad", []float64{SoftmaxCrossEntropy(tc.logits, tc.class, nil)}, []float64{tc.loss})
		}
	})
	z := []T{1e4, -1e4, 0, 1e4, -1e4}
	tg := []T{1, 0, 1, 0, 1}
	t.Run("Sigmoid", func(t *testing.T) {
		got := make([]float64, len(z))
		for i, v := range z {
			got[i] = Sigmoid(float64(v))
		}
		check(t, "sigmoid", got, []float64{1, 0, 0.5, 1, 0})
	})
	t.Run("BinaryCrossEntropyWithLogits", func(t *testing.T) {
		// Per element max(z,0) − zt + log1p(e^−|z|): 0, 0, ln 2, 1e4, 1e4;
		// gradient (σ(z) − t)/5.
		grad := make([]T, len(z))
		loss := BinaryCrossEntropyWithLogits(z, tg, grad)
		check(t, "loss", []float64{loss}, []float64{(2e4 + math.Ln2) / 5})
		check(t, "grad", f64(grad), []float64{0, 0, -0.1, 0.2, -0.2})
	})
	t.Run("BinaryCrossEntropy", func(t *testing.T) {
		// On p = σ(z) = [1, 0, 0.5, 1, 0]: the log terms are clamped at −100
		// (0, 0, ln 2, 100, 100); the gradient (p−t)/(pc·qc)/5 is about
		// ±2e11 where p is 0 or 1 against the opposite target.
		p := make([]T, len(z))
		for i, v := range z {
			p[i] = T(Sigmoid(float64(v)))
		}
		grad := make([]T, len(z))
		loss := BinaryCrossEntropy(p, tg, grad)
		check(t, "loss", []float64{loss}, []float64{(200 + math.Ln2) / 5})
		big := 1 / ((1 - bceEps) * bceEps) / 5
		check(t, "grad", f64(grad), []float64{0, 0, -0.4, big, -big})
	})
}

func TestSigmoid(t *testing.T) {
	for _, x := range []float64{-30, -5, -1, -1e-9, 0, 1e-9, 0.5, 3, 30} {
		want := 1 / (1 + math.Exp(-x))
		assert.InDelta(t, want, Sigmoid(x), 1e-16, "Sigmoid(%v)", x)
		assert.InDelta(t, 1, Sigmoid(x)+Sigmoid(-x), 3e-16, "symmetry at %v", x)
	}
	assert.Equal(t, 0.5, Sigmoid(0))
	// Far in the negative tail the stable form keeps relative precision.
	assert.InEpsilon(t, math.Exp(-700), Sigmoid(-700), 1e-12)
	assert.True(t, math.IsNaN(Sigmoid(math.NaN())))
}

func TestArgmax(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		v    []float64
		want int
	}{
		{nil, -1},
		{[]float64{5}, 0},
		{[]float64{1, 3, 3, 2}, 1},
		{[]float64{-2, -1, -3}, 1},
		{[]float64{-inf, -inf}, 0},
		{[]float64{1, inf, 3}, 1},
		{[]float64{nan, 1, 2}, 2},
		{[]float64{1, nan, 3}, 2},
		{[]float64{3, nan, 1}, 0},
		{[]float64{nan, nan}, 0},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, Argmax(tc.v), "Argmax(%v)", tc.v)
	}
	assert.Equal(t, 2, Argmax([]float32{0, 1, 2, 1}))
}

func TestLossPanics(t *testing.T) {
	three, two := make([]float64, 3), make([]float64, 2)
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"class too large", func() { SoftmaxCrossEntropy(make([]float64, 10), 12, nil) }, "runtime: class 12 out of range [0, 10)"},
		{"class negative", func() { SoftmaxCrossEntropy(three, -1, nil) }, "runtime: class -1 out of range [0, 3)"},
		{"no logits", func() { SoftmaxCrossEntropy[float64](nil, 0, nil) }, "runtime: class 0 out of range [0, 0)"},
		{"softmax grad", func() { SoftmaxCrossEntropy(three, 0, two) }, "runtime: SoftmaxCrossEntropy: grad has 2 elements, logits 3"},
		{"MSE target", func() { MSE(three, two, nil) }, "runtime: MSE: target has 2 elements, output 3"},
		{"MAE grad", func() { MAE(three, three, two) }, "runtime: MAE: grad has 2 elements, output 3"},
		{"Huber target", func() { Huber(two, three, nil, 1) }, "runtime: Huber: target has 3 elements, output 2"},
		{"Huber delta", func() { Huber(two, two, nil, 0) }, "runtime: Huber: delta is 0, want > 0"},
		{"Huber NaN delta", func() { Huber(two, two, nil, math.NaN()) }, "runtime: Huber: delta is NaN, want > 0"},
		{"BCE", func() { BinaryCrossEntropy(three, two, nil) }, "runtime: BinaryCrossEntropy: target has 2 elements, output 3"},
		{"BCE logits", func() { BinaryCrossEntropyWithLogits(two, two, three) },
			"runtime: BinaryCrossEntropyWithLogits: grad has 3 elements, output 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.PanicsWithValue(t, tc.want, tc.f)
		})
	}
}

func TestLossAllocatesNothing(t *testing.T) {
	y, tg, g := []float64{0.2, 0.5, 0.9}, []float64{0, 1, 1}, make([]float64, 3)
	y32, tg32, g32 := []float32{0.2, 0.5, 0.9}, []float32{0, 1, 1}, make([]float32, 3)
	for name, f := range map[string]func(){
		"MSE":                          func() { MSE(y, tg, g); MSE(y32, tg32, nil) },
		"MAE":                          func() { MAE(y, tg, g); MAE(y32, tg32, g32) },
		"Huber":                        func() { Huber(y, tg, g, 1); Huber(y32, tg32, g32, 0.1) },
		"SoftmaxCrossEntropy":          func() { SoftmaxCrossEntropy(y, 1, g); SoftmaxCrossEntropy(y32, 2, g32) },
		"BinaryCrossEntropy":           func() { BinaryCrossEntropy(y, tg, g); BinaryCrossEntropy(y32, tg32, g32) },
		"BinaryCrossEntropyWithLogits": func() { BinaryCrossEntropyWithLogits(y, tg, g); BinaryCrossEntropyWithLogits(y32, tg32, nil) },
		"Argmax":                       func() { Argmax(y); Argmax(y32) },
	} {
		assert.Zero(t, testing.AllocsPerRun(100, f), name)
	}
}

func BenchmarkSoftmaxCrossEntropy(b *testing.B) {
	logits, grad := make([]float32, 10), make([]float32, 10)
	for i := range logits {
		logits[i] = float32(i) / 3
	}
	b.ReportAllocs()
	for b.Loop() {
		SoftmaxCrossEntropy(logits, 3, grad)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
