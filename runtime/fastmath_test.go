package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// ulps32 is the distance between got and want in units of the last place of
// a float32 at want.
func ulps32(got float32, want float64) float64 {
	w := float32(want)
	ulp := math.Nextafter32(float32(math.Abs(float64(w))), float32(math.Inf(1))) - float32(math.Abs(float64(w)))
	return math.Abs(float64(got)-want) / float64(ulp)
}

// TestSigmoid32 compares Sigmoid32 with the float64 Sigmoid over [−90, 90]
// in steps of 1/1024 and at the special values: at most 4 ulps where the
// result is a normal float32 above 2⁻¹²⁵.
func TestSigmoid32(t *testing.T) {
	worst, at := 0.0, 0.0
	for i := -90 * 1024; i <= 90*1024; i++ {
		x := float32(i) / 1024
		want := Sigmoid(float64(x))
		if want < 0x1p-125 { // near and below float32's smallest normal number
			assert.Less(t, Sigmoid32(x), float32(0x1p-125), "x = %v", x)
			continue
		}
		if u := ulps32(Sigmoid32(x), want); u > worst {
			worst, at = u, float64(x)
		}
	}
	t.Logf("worst %.2f ulps at %v", worst, at)
	assert.LessOrEqual(t, worst, 4.0, "at x = %v", at)
	assert.True(t, math.IsNaN(float64(Sigmoid32(float32(math.NaN())))))
	assert.Equal(t, float32(1), Sigmoid32(float32(math.Inf(1))))
	assert.Equal(t, float32(0), Sigmoid32(float32(math.Inf(-1))))
	assert.Equal(t, float32(0.5), Sigmoid32(0))
}

// TestTanh32 compares Tanh32 with math.Tanh over [−10, 10] in steps of
// 1/4096 and at the special values: at most 8 ulps (the worst are near
// |x| = 6, where an ulp is 6e-8).
func TestTanh32(t *testing.T) {
	worst, at := 0.0, 0.0
	for i := -10 * 4096; i <= 10*4096; i++ {
		x := float32(i) / 4096
		if x == 0 {
			continue
		}
		if u := ulps32(Tanh32(x), math.Tanh(float64(x))); u > worst {
			worst, at = u, float64(x)
		}
	}
	for _, x := range []float32{1e-30, -3e-5, 0.00039, 0.00041} {
		if u := ulps32(Tanh32(x), math.Tanh(float64(x))); u > worst {
			worst, at = u, float64(x)
		}
	}
	t.Logf("worst %.2f ulps at %v", worst, at)
	assert.LessOrEqual(t, worst, 8.0, "at x = %v", at)
	assert.True(t, math.IsNaN(float64(Tanh32(float32(math.NaN())))))
	assert.Equal(t, float32(1), Tanh32(float32(math.Inf(1))))
	assert.Equal(t, float32(-1), Tanh32(float32(math.Inf(-1))))
	assert.Equal(t, float32(0), Tanh32(0))
}

func BenchmarkSigmoid32(b *testing.B) {
	var s float32
	for i := 0; b.Loop(); i++ {
		s += Sigmoid32(float32(i&1023)/128 - 4)
	}
	sink32 = s
}

func BenchmarkTanh32(b *testing.B) {
	var s float32
	for i := 0; b.Loop(); i++ {
		s += Tanh32(float32(i&1023)/128 - 4)
	}
	sink32 = s
}

func BenchmarkSigmoid64(b *testing.B) {
	var s float32
	for i := 0; b.Loop(); i++ {
		s += float32(Sigmoid(float64(float32(i&1023)/128 - 4)))
	}
	sink32 = s
}

var sink32 float32
