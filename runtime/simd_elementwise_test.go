package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestElementwiseKernels runs testElementwiseKernels on every kernel path.
func TestElementwiseKernels(t *testing.T) { forEachPath(t, testElementwiseKernels) }

// elementwiseInput returns n values from rng starting at an odd offset of a
// longer slice (unaligned), with zeros of both signs, values around 0 and 6,
// and NaN and infinities sprinkled in when special is set.
func elementwiseInput(rng *RNG, n, off int, special bool) []float32 {
	x := make([]float32, off+n+3)
	for i := range x {
		x[i] = float32(4 * rng.NormFloat64())
		if !special {
			continue
		}
		switch i % 13 {
		case 1:
			x[i] = 0
		case 2:
			x[i] = float32(math.Copysign(0, -1))
		case 3:
			x[i] = 6
		case 4:
			x[i] = float32(math.NaN())
		case 5:
			x[i] = float32(math.Inf(1 - 2*(i%2)))
		}
	}
	return x[off : off+n]
}

// sameBits reports whether a and b hold the same bits (any NaN matches any NaN).
func sameBits(a, b float32) bool {
	if a != a && b != b {
		return true
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

func testElementwiseKernels(t *testing.T) {
	rng := NewRNG(9)
	for n := 0; n <= 100; n++ {
		off := 1 + 2*(n%3) // odd offsets: no operand is vector aligned
		a, b := elementwiseInput(rng, n, off, true), elementwiseInput(rng, n, off+2, true)
		y := make([]float32, n+1)
		y[n] = 42
		check := func(what string, want func(i int) float32) {
			t.Helper()
			for i := range n {
				if !sameBits(want(i), y[i]) {
					t.Fatalf("%s n %d i %d: got %v, want %v", what, n, i, y[i], want(i))
				}
			}
			require.Equal(t, float32(42), y[n], "%s n %d: wrote past the end", what, n)
		}
		Add32(y, a, b)
		check("Add32", func(i int) float32 { return a[i] + b[i] })
		Mul32(y, a, b)
		check("Mul32", func(i int) float32 { return a[i] * b[i] })
		Relu6Forward32(a, y)
		check("Relu6Forward32", func(i int) float32 { return min(max(a[i], 0), 6) })
		copy(y, b)
		Relu6Backward32(a, y)
		check("Relu6Backward32", func(i int) float32 {
			if a[i] <= 0 || a[i] >= 6 {
				return 0
			}
			return b[i]
		})
		// ScaleShiftRows over rows of n, in a few row counts.
		for _, rows := range []int{1, 3} {
			x := elementwiseInput(rng, rows*n, off, n%2 == 0)
			s, sh := elementwiseInput(rng, rows, 1, false), elementwiseInput(rng, rows, 1, false)
			yy := make([]float32, rows*n+1)
			yy[rows*n] = 42
			ScaleShiftRows32(yy, x, s, sh, rows, n)
			for i := range rows * n {
				r := i / max(n, 1)
				want := float32(x[i]*s[r]) + sh[r]
				if !sameBits(want, yy[i]) {
					t.Fatalf("ScaleShiftRows32 rows %d n %d i %d: got %v, want %v", rows, n, i, yy[i], want)
				}
			}
			require.Equal(t, float32(42), yy[rows*n], "ScaleShiftRows32 wrote past the end")
			ScaleShiftRows32(x, x, s, sh, rows, n) // in place
			for i := range rows * n {
				if !sameBits(yy[i], x[i]) {
					t.Fatalf("ScaleShiftRows32 in place rows %d n %d i %d: got %v, want %v", rows, n, i, x[i], yy[i])
				}
			}
		}
	}
	// In place: y is a.
	a := []float32{1, 2, 3}
	Add32(a, a, []float32{1, 1, 1})
	assert.Equal(t, []float32{2, 3, 4}, a)
	assert.Panics(t, func() { Add32(make([]float32, 2), make([]float32, 3), make([]float32, 3)) })
	assert.Panics(t, func() { Mul32(make([]float32, 3), make([]float32, 3), make([]float32, 2)) })
	assert.Panics(t, func() {
		ScaleShiftRows32(make([]float32, 8), make([]float32, 7), []float32{1, 1}, []float32{0, 0}, 2, 4)
	})
	assert.Panics(t, func() { ScaleShiftRows32(make([]float32, 8), make([]float32, 8), []float32{1}, []float32{0, 0}, 2, 4) })
	x, y := make([]float32, 1024), make([]float32, 1024)
	s := make([]float32, 16)
	assert.Zero(t, testing.AllocsPerRun(20, func() {
		Add32(y, x, y)
		Mul32(y, x, y)
		Relu6Forward32(x, y)
		Relu6Backward32(x, y)
		ScaleShiftRows32(y, x, s, s, 16, 64)
	}))
}

// TestElementwiseKernels64 checks the float64 forms against the same formulas.
func TestElementwiseKernels64(t *testing.T) {
	rng := NewRNG(10)
	n := 37
	a, b, y := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range a {
		a[i], b[i] = 4*rng.NormFloat64(), 4*rng.NormFloat64()
	}
	a[3], a[4] = 6, 0
	Add64(y, a, b)
	for i := range a {
		assert.Equal(t, a[i]+b[i], y[i])
	}
	Mul64(y, a, b)
	for i := range a {
		assert.Equal(t, a[i]*b[i], y[i])
	}
	Relu6Forward64(a, y)
	for i := range a {
		assert.Equal(t, min(max(a[i], 0), 6), y[i])
	}
	copy(y, b)
	Relu6Backward64(a, y)
	for i := range a {
		want := b[i]
		if a[i] <= 0 || a[i] >= 6 {
			want = 0
		}
		assert.Equal(t, want, y[i])
	}
	ScaleShiftRows64(y, a, []float64{2, -1}, []float64{0.5, 3}, 2, 18)
	for i := range 36 {
		s, sh := 2.0, 0.5
		if i >= 18 {
			s, sh = -1, 3
		}
		assert.Equal(t, a[i]*s+sh, y[i])
	}
}

// TestWideSums runs testWideSums on every kernel path.
func TestWideSums(t *testing.T) { forEachPath(t, testWideSums) }

// testWideSums checks the float64 sums of float32 inputs against the
// in-order loops: the vector paths reorder the float64 sums, so they agree
// to a few float64 ulps of the sum of magnitudes.
func testWideSums(t *testing.T) {
	rng := NewRNG(11)
	for n := 0; n <= 100; n++ {
		off := 1 + 2*(n%3)
		a, b := elementwiseInput(rng, n, off, false), elementwiseInput(rng, n, off+2, false)
		for i := range a {
			a[i] += 3 // a mean away from zero
		}
		var abs, absDot float64
		for i := range a {
			abs += math.Abs(float64(a[i]))
			absDot += math.Abs(float64(a[i]) * float64(b[i]))
		}
		tol := 1e-14 * (abs + absDot + 1)
		mean := sumWideLoop(a) / float64(max(n, 1))
		assert.InDelta(t, sumWideLoop(a), SumWide32(a), tol, "SumWide32 n %d", n)
		assert.InDelta(t, sumSqDevWideLoop(a, mean), SumSqDevWide32(a, mean), 1e-14*(sumSqDevWideLoop(a, mean)+1), "SumSqDevWide32 n %d", n)
		s, d := SumDotWide32(a, b)
		ws, wd := sumDotWideLoop(a, b)
		assert.InDelta(t, ws, s, tol, "SumDotWide32 sum n %d", n)
		assert.InDelta(t, wd, d, tol, "SumDotWide32 dot n %d", n)
		a64, b64 := make([]float64, n), make([]float64, n)
		for i := range a {
			a64[i], b64[i] = float64(a[i]), float64(b[i])
		}
		assert.Equal(t, ws, SumWide64(a64))
		assert.Equal(t, sumSqDevWideLoop(a, mean), SumSqDevWide64(a64, mean))
		s64, d64 := SumDotWide64(a64, b64)
		assert.Equal(t, ws, s64)
		assert.Equal(t, wd, d64)
	}
	// exact on small integers whatever the order
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}
	assert.Equal(t, 153.0, SumWide32(x))
	s, d := SumDotWide32(x, x)
	assert.Equal(t, 153.0, s)
	assert.Equal(t, 1785.0, d)
	assert.Equal(t, 408.0, SumSqDevWide32(x, 9))
	assert.Panics(t, func() { SumDotWide32(x, x[:3]) })
	assert.Zero(t, testing.AllocsPerRun(20, func() { SumWide32(x); SumSqDevWide32(x, 1); SumDotWide32(x, x) }))
}
