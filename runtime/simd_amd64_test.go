//go:build !purego

package runtime

import "testing"

// simdPaths lists the kernel paths this CPU can run, best first.
func simdPaths() []string {
	var p []string
	if simdDetect() >= simdAVX512 {
		p = append(p, "avx512")
	}
	if simdDetect() >= simdAVX2 {
		p = append(p, "avx2")
	}
	return append(p, "generic")
}

// setSIMDPath switches the exported kernels to path p and returns the previous
// path, for a deferred restore.
func setSIMDPath(p string) string {
	old := SIMDLevel()
	switch p {
	case "avx512":
		simdLevel = simdAVX512
	case "avx2":
		simdLevel = simdAVX2
	default:
		simdLevel = simdGeneric
	}
	return old
}

func TestSIMDLimit(t *testing.T) {
	cases := []struct {
		level int
		env   string
		want  int
	}{
		{simdAVX512, "", simdAVX512},
		{simdAVX512, "avx2", simdAVX2},
		{simdAVX512, "generic", simdGeneric},
		{simdAVX2, "avx2", simdAVX2},
		{simdAVX2, "avx512", simdAVX2},
		{simdGeneric, "avx2", simdGeneric},
		{simdAVX512, "bogus", simdAVX512},
	}
	for _, c := range cases {
		if got := simdLimit(c.level, c.env); got != c.want {
			t.Errorf("simdLimit(%d, %q) = %d, want %d", c.level, c.env, got, c.want)
		}
	}
}

// BenchmarkFMAPeak measures the core's float32 FMA peak with register-only
// loops of independent FMAs (fmaPeak512: 24 zmm accumulators, fmaPeak256: 12
// ymm), the ceiling the kernel GFLOP/s are compared with.
func BenchmarkFMAPeak(b *testing.B) {
	const iters = 1 << 16
	if simdDetect() >= simdAVX512 {
		b.Run("avx512", func(b *testing.B) {
			for b.Loop() {
				fmaPeak512(iters)
			}
			reportGFLOPs(b, iters*24*16*2)
		})
	}
	if simdDetect() >= simdAVX2 {
		b.Run("avx2", func(b *testing.B) {
			for b.Loop() {
				fmaPeak256(iters)
			}
			reportGFLOPs(b, iters*12*8*2)
		})
	}
}
