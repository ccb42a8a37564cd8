package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reference vectors below were computed with an independent Python
// implementation of splitmix64 and xoshiro256** (and checked against the
// published test vectors of both generators).

func TestXoshiroReferenceVector(t *testing.T) {
	// xoshiro256** from the state {1, 2, 3, 4}.
	r := &RNG{s: [4]uint64{1, 2, 3, 4}}
	want := []uint64{11520, 0, 1509978240, 1215971899390074240, 1216172134540287360, 607988272756665600}
	for i, w := range want {
		assert.Equal(t, w, r.Uint64(), "output %d", i)
	}
}

func TestSeedIsSplitmix64(t *testing.T) {
	// The state is the first four outputs of splitmix64 seeded with the seed;
	// splitmix64(1234567) starts with these (published test vector).
	r := NewRNG(1234567)
	assert.Equal(t, [4]uint64{6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431}, r.s)
}

func TestRNGGoldenStreams(t *testing.T) {
	// These streams must never change: initial weights depend on them.
	t.Run("Uint64", func(t *testing.T) {
		r := NewRNG(42)
		for i, w := range []uint64{1546998764402558742, 6990951692964543102, 12544586762248559009, 17057574109182124193} {
			assert.Equal(t, w, r.Uint64(), "output %d", i)
		}
	})
	t.Run("Float64", func(t *testing.T) {
		r := NewRNG(7)
		for i, w := range []float64{0.7005764821796896, 0.2787512294737843, 0.8396274618764198} {
			assert.Equal(t, w, r.Float64(), "output %d", i)
		}
	})
	t.Run("NormFloat64", func(t *testing.T) {
		// Python's math.log may differ from portableLog in the last bit, so
		// compare with a tolerance of a few ulps.
		r := NewRNG(42)
		for i, w := range []float64{-0.7262191382447857, -0.21119691823195985, 0.2216227015035933,
			0.5227716877560146, 0.46417731016247366, 0.7409788916865562} {
			assert.InDelta(t, w, r.NormFloat64(), 1e-15, "output %d", i)
		}
	})
}

func TestSeedResets(t *testing.T) {
	want := NewRNG(99)
	r := NewRNG(1)
	r.Uint64()
	r.NormFloat64() // leaves a spare normal behind
	r.Seed(99)
	for i := range 10 {
		require.Equal(t, want.NormFloat64(), r.NormFloat64(), "normal %d", i)
		require.Equal(t, want.Uint64(), r.Uint64(), "uint64 %d", i)
	}
}

func TestDifferentSeedsDiffer(t *testing.T) {
	a, b := NewRNG(0), NewRNG(1)
	same := 0
	for range 100 {
		if a.Uint64() == b.Uint64() {
			same++
		}
	}
	assert.Zero(t, same)
}

func TestFloat64RangeAndMean(t *testing.T) {
	r := NewRNG(3)
	const n = 200000
	sum := 0.0
	for range n {
		v := r.Float64()
		require.True(t, v >= 0 && v < 1, "Float64 returned %v", v)
		sum += v
	}
	// The standard error of the mean of U(0,1) is sqrt(1/12/n) ≈ 0.00065.
	assert.InDelta(t, 0.5, sum/n, 0.004)
}

func TestNormFloat64Moments(t *testing.T) {
	r := NewRNG(5)
	const n = 400000
	var s1, s2, s4 float64
	for range n {
		v := r.NormFloat64()
		require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "NormFloat64 returned %v", v)
		s1 += v
		s2 += v * v
		s4 += v * v * v * v
	}
	mean, variance := s1/n, s2/n-(s1/n)*(s1/n)
	// Standard errors: mean 1/sqrt(n) ≈ 0.0016, variance sqrt(2/n) ≈ 0.0022,
	// fourth moment sqrt(96/n) ≈ 0.015; tolerances are about 5 of them.
	assert.InDelta(t, 0, mean, 0.008, "mean")
	assert.InDelta(t, 1, variance, 0.012, "variance")
	assert.InDelta(t, 3, s4/n, 0.08, "fourth moment")
}

func TestIntn(t *testing.T) {
	t.Run("panics", func(t *testing.T) {
		r := NewRNG(1)
		assert.PanicsWithValue(t, "runtime: RNG.Intn: n is 0, want > 0", func() { r.Intn(0) })
		assert.PanicsWithValue(t, "runtime: RNG.Intn: n is -3, want > 0", func() { r.Intn(-3) })
	})
	t.Run("one", func(t *testing.T) {
		r := NewRNG(1)
		for range 100 {
			require.Equal(t, 0, r.Intn(1))
		}
	})
	t.Run("uniform small", func(t *testing.T) {
		r := NewRNG(11)
		const n, draws = 3, 300000
		var count [n]int
		for range draws {
			count[r.Intn(n)]++
		}
		// Each count is binomial with sd sqrt(draws·1/3·2/3) ≈ 258.
		for k, c := range count {
			assert.InDelta(t, draws/n, c, 1300, "value %d", k)
		}
	})
	t.Run("large n", func(t *testing.T) {
		// For n = 3·2^61, 2^64/n = 8/3: a plain multiply-shift would map
		// 3, 3, 2 raw values to k = 0, 1, 2 mod 3 (3/8, 3/8, 1/4 of the
		// draws); rejection makes the residues uniform.
		if math.MaxInt < 3<<61 {
			t.Skip("needs a 64-bit int")
		}
		r := NewRNG(12)
		big := uint64(3) << 61 // a variable: the constant overflows a 32-bit int
		n := int(big)
		const draws = 30000
		var count [3]int
		for range draws {
			v := r.Intn(n)
			require.True(t, v >= 0 && v < n, "Intn returned %d", v)
			count[v%3]++
		}
		for k, c := range count {
			assert.InDelta(t, draws/3, c, 450, "residue %d", k) // sd ≈ 82; bias would be 1250
		}
	})
}

func TestShuffle(t *testing.T) {
	t.Run("permutation and determinism", func(t *testing.T) {
		perm := func(seed uint64) []int {
			p := make([]int, 50)
			for i := range p {
				p[i] = i
			}
			NewRNG(seed).Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
			return p
		}
		a := perm(8)
		seen := make(map[int]bool)
		for _, v := range a {
			seen[v] = true
		}
		assert.Len(t, seen, 50, "not a permutation: %v", a)
		assert.Equal(t, a, perm(8), "same seed")
		assert.NotEqual(t, a, perm(9), "different seed")
	})
	t.Run("uniform over permutations of 3", func(t *testing.T) {
		r := NewRNG(13)
		const trials = 60000
		count := make(map[[3]int]int)
		for range trials {
			p := [3]int{0, 1, 2}
			r.Shuffle(3, func(i, j int) { p[i], p[j] = p[j], p[i] })
			count[p]++
		}
		require.Len(t, count, 6)
		for p, c := range count {
			assert.InDelta(t, trials/6, c, 500, "permutation %v", p) // sd ≈ 91
		}
	})
	t.Run("small n", func(t *testing.T) {
		r := NewRNG(1)
		calls := 0
		r.Shuffle(0, func(i, j int) { calls++ })
		r.Shuffle(1, func(i, j int) { calls++ })
		assert.Zero(t, calls)
		assert.PanicsWithValue(t, "runtime: RNG.Shuffle: n is -1, want >= 0", func() { r.Shuffle(-1, func(i, j int) {}) })
	})
}

func TestPortableLog(t *testing.T) {
	// portableLog must agree with math.Log within one ulp for normal numbers.
	// (On amd64 math.Log is wrong for subnormals: it returns about -709.09
	// for 5e-324, whose logarithm is -1074·ln 2.)
	assert.InDelta(t, -1074*math.Ln2, portableLog(5e-324), 1e-12, "log(5e-324)")
	r := NewRNG(17)
	xs := []float64{1, 0.5, 2, math.E, 1e-300, 0x1p-1022, math.MaxFloat64, math.Sqrt2 / 2, 1 - 1e-16, 1 + 1e-15}
	for range 100000 {
		xs = append(xs, r.Float64()+0x1p-60, math.Exp(200*(r.Float64()-0.5)))
	}
	for _, x := range xs {
		got, want := portableLog(x), math.Log(x)
		if got != want {
			ulp := math.Abs(math.Nextafter(want, math.Inf(1)) - want)
			require.LessOrEqual(t, math.Abs(got-want), ulp, "log(%v): got %v, want %v", x, got, want)
		}
	}
}

func TestRNGAllocatesNothing(t *testing.T) {
	r := NewRNG(1)
	swap := func(i, j int) {}
	for name, f := range map[string]func(){
		"Uint64":      func() { r.Uint64() },
		"Float64":     func() { r.Float64() },
		"NormFloat64": func() { r.NormFloat64() },
		"Intn":        func() { r.Intn(1000) },
		"Shuffle":     func() { r.Shuffle(100, swap) },
		"Seed":        func() { r.Seed(3) },
	} {
		assert.Zero(t, testing.AllocsPerRun(100, f), name)
	}
}
