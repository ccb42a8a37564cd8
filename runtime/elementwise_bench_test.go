package runtime

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkElementwiseKernels measures the element-wise kernels on every
// path, at resnet8's first activation (16 channels of 32×32) and at
// vww_mobilenet's last batchnorm (256 channels of 3×3), reporting GFLOP/s
// (one flop per add, multiply or clamp; two per scale and shift):
//
//	go test ./runtime -run '^$' -bench 'ElementwiseKernels' -count 5
//
// benchSink64 keeps the benchmarked sums alive.
var benchSink64 float64

func BenchmarkElementwiseKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	vec := func(n int) []float32 { return randVec[float32](rng, n) }
	for _, p := range simdPaths() {
		run := func(name string, flops int, f func()) {
			b.Run(p+"/"+name, func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				for b.Loop() {
					f()
				}
				reportGFLOPs(b, flops)
			})
		}
		const n = 16 * 1024
		x, y, z := vec(n), vec(n), make([]float32, n)
		s, t := vec(256), vec(256)
		run("ScaleShiftRows32/16x1024", 2*n, func() { ScaleShiftRows32(z, x, s, t, 16, 1024) })
		run("ScaleShiftRows32/256x9", 2*256*9, func() { ScaleShiftRows32(z, x, s, t, 256, 9) })
		run("Add32/16384", n, func() { Add32(z, x, y) })
		run("Mul32/16384", n, func() { Mul32(z, x, y) })
		run("Relu6Forward32/16384", n, func() { Relu6Forward32(x, z) })
		run("Relu6Backward32/16384", n, func() { Relu6Backward32(x, z) })
		run("SumWide32/16384", n, func() { benchSink64 += SumWide32(x) })
		run("SumSqDevWide32/16384", 3*n, func() { benchSink64 += SumSqDevWide32(x, 0.5) })
		run("SumDotWide32/16384", 3*n, func() { s, d := SumDotWide32(x, y); benchSink64 += s + d })
	}
}
