//go:build goexperiment.simd && amd64

package runtime

import (
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

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

// ---- archsimd-only benchmarks ----

// BenchmarkSIMDPaths runs the float32 and float64 kernels on every path the
// CPU offers (the exported benchmarks use the best one only).
func BenchmarkSIMDPaths(b *testing.B) {
	l := newBenchLayer(128, 784)
	rng := rand.New(rand.NewPCG(5, 5))
	w64, x64, gw64, dx64 := randVec[float64](rng, 128*784), randVec[float64](rng, 784), make([]float64, 128*784), make([]float64, 784)
	y64, b64, dy64 := make([]float64, 128), randVec[float64](rng, 128), randVec[float64](rng, 128)
	for i := range dy64 {
		dy64[i] *= 1e-6
	}
	for _, p := range simdPaths() {
		b.Run(p+"/MatVec32/128x784", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				MatVec32(l.y, l.w, l.x, l.b, 128, 784)
			}
			reportGFLOPs(b, 2*128*784)
		})
		b.Run(p+"/OuterAdd32/dx/128x784", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				OuterAdd32(l.gw, l.dx, l.w, l.dy, l.x, 128, 784)
			}
			reportGFLOPs(b, 4*128*784)
		})
		b.Run(p+"/MatVec64/128x784", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				MatVec64(y64, w64, x64, b64, 128, 784)
			}
			reportGFLOPs(b, 2*128*784)
		})
		b.Run(p+"/OuterAdd64/dx/128x784", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				OuterAdd64(gw64, dx64, w64, dy64, x64, 128, 784)
			}
			reportGFLOPs(b, 4*128*784)
		})
	}
}

var upperSink [16]float32

// BenchmarkUpperBits measures the scalar code bpgen generates today (the
// 10×128 matVec and outerAdd of mnist_mlp, SSE scalar instructions) right
// after different vector states:
//
//	clean:   archsimd.ClearAVXUpperBits() first
//	dirty:   a 512-bit op first, not cleared (what a kernel without the clear would leave)
//	asis:    nothing: the state the scheduler's asynchronous preemption leaves
//	         (in this build it restores all 512-bit registers, which dirties them)
//	kernel:  after MatVec32 10×128 (which clears) vs matVecF32x16 (which does not)
func BenchmarkUpperBits(b *testing.B) {
	l := newBenchLayer(10, 128)
	y, x, bias, dy, dx := (*[10]float32)(l.y), (*[128]float32)(l.x), (*[10]float32)(l.b), (*[10]float32)(l.dy), (*[128]float32)(l.dx)
	scalar := func() {
		inlineMatVec10x128(y, l.wArr128, x, bias)
		inlineOuterAdd10x128(l.gw128, dx, l.wArr128, dy, x)
	}
	const flops = 2*10*128 + 4*10*128
	b.Run("scalar/clean", func(b *testing.B) {
		for b.Loop() {
			archsimd.ClearAVXUpperBits()
			scalar()
		}
		reportGFLOPs(b, flops)
	})
	b.Run("scalar/dirty", func(b *testing.B) {
		for b.Loop() {
			archsimd.BroadcastFloat32x16(1).Store(&upperSink)
			scalar()
		}
		reportGFLOPs(b, flops)
	})
	b.Run("scalar/asis", func(b *testing.B) {
		for b.Loop() {
			scalar()
		}
		reportGFLOPs(b, flops)
	})
	b.Run("kernel+scalar/cleared", func(b *testing.B) {
		for b.Loop() {
			MatVec32(l.y, l.w, l.x, l.b, 10, 128)
			scalar()
		}
		reportGFLOPs(b, flops+2*10*128)
	})
	b.Run("kernel+scalar/notcleared", func(b *testing.B) {
		for b.Loop() {
			matVecF32x16(l.y, l.w, l.x, l.b, 10, 128)
			scalar()
		}
		reportGFLOPs(b, flops+2*10*128)
	})
	b.Run("kernel/cleared", func(b *testing.B) {
		for b.Loop() {
			MatVec32(l.y, l.w, l.x, l.b, 10, 128)
		}
		reportGFLOPs(b, 2*10*128)
	})
	b.Run("kernel/notcleared", func(b *testing.B) {
		for b.Loop() {
			matVecF32x16(l.y, l.w, l.x, l.b, 10, 128)
		}
		reportGFLOPs(b, 2*10*128)
	})
	b.Run("dot28/cleared", func(b *testing.B) {
		var s float32
		for b.Loop() {
			s += Dot32(l.x[:28], l.dx[:28])
		}
		benchSink32 = s
		reportGFLOPs(b, 2*28)
	})
	b.Run("dot28/notcleared", func(b *testing.B) {
		var s float32
		for b.Loop() {
			s += dotF32x16(l.x[:28], l.dx[:28])
		}
		benchSink32 = s
		reportGFLOPs(b, 2*28)
	})
}
