package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Kernel benchmarks on every path the build and CPU offer (avx512, avx2,
// generic in the default amd64 build; generic with -tags purego), reporting
// GFLOP/s (2 flops per multiply-add; elementwise kernels count their
// arithmetic operations). Shapes are the examples' layers (mnist_mlp
// 784-128-10 at batch 32) and im2col convolution GEMMs with small k.
//
//	go test ./runtime -run '^$' -bench 'Kernels' -count 5

func BenchmarkKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
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
		for _, s := range [][3]int{{32, 128, 784}, {32, 10, 128}, {64, 16, 150}, {64, 6, 25}, {64, 64, 64}} {
			m, n, k := s[0], s[1], s[2]
			c, a, bb, bias := vec(m*n), vec(m*k), vec(n*k), vec(n)
			run(fmt.Sprintf("GemmNT32/%dx%dx%d", m, n, k), 2*m*n*k, func() { GemmNT32(c, a, bb, bias, m, n, k) })
		}
		for _, s := range [][3]int{{128, 784, 32}, {10, 128, 32}, {16, 150, 64}, {6, 25, 64}, {64, 64, 64}} {
			m, n, k := s[0], s[1], s[2]
			c, a, bb := vec(m*n), vec(k*m), vec(k*n)
			run(fmt.Sprintf("GemmTN32/%dx%dx%d", m, n, k), 2*m*n*k, func() { GemmTN32(c, a, bb, m, n, k) })
		}
		for _, s := range [][3]int{{32, 784, 128}, {32, 128, 10}, {64, 150, 16}, {64, 25, 6}, {64, 64, 64}} {
			m, n, k := s[0], s[1], s[2]
			c, a, bb := vec(m*n), vec(m*k), vec(k*n)
			run(fmt.Sprintf("GemmNN32/%dx%dx%d", m, n, k), 2*m*n*k, func() { GemmNN32(c, a, bb, m, n, k) })
		}
		// vww_mobilenet's last pointwise convolutions (3×3 positions) with
		// their batchnorm and ReLU: vectors along the positions (GemmNN) or,
		// the columns transposed, along the patch (GemmNT, transpose included).
		for _, s := range [][3]int{{256, 9, 256}, {256, 9, 128}} {
			m, n, k := s[0], s[1], s[2]
			z, y, w, cols, ct, bias, sc, sh := vec(m*n), vec(m*n), vec(m*k), vec(k*n), vec(n*k), vec(m), vec(m), vec(m)
			run(fmt.Sprintf("GemmNNBiasScaleShiftRelu32/%dx%dx%d", m, n, k), 2*m*n*k, func() { GemmNNBiasScaleShiftRelu32(z, y, w, cols, bias, sc, sh, m, n, k) })
			run(fmt.Sprintf("GemmNTBiasScaleShiftRelu32/%dx%dx%d", m, n, k), 2*m*n*k, func() {
				Transpose32(ct, cols, k, n)
				GemmNTBiasScaleShiftRelu32(z, y, w, ct, bias, sc, sh, m, n, k)
			})
		}
		// vww_mobilenet's first stride-2 depthwise input: 16 planes of 48×48
		// into their phase planes (no arithmetic: GFLOP/s counts elements).
		ph, in := vec(16*48*48), vec(16*48*48)
		run("Phases32/16x48x48", len(in), func() { Phases32(ph, in, 16, 48, 48) })
		for _, s := range [][2]int{{128, 784}, {10, 128}} {
			rows, cols := s[0], s[1]
			y, w, x, bias, dy, gw, dx := vec(rows), vec(rows*cols), vec(cols), vec(rows), vec(rows), vec(rows*cols), vec(cols)
			for i := range dy {
				dy[i] *= 1e-6 // keep the accumulated gradients finite
			}
			run(fmt.Sprintf("MatVec32/%dx%d", rows, cols), 2*rows*cols, func() { MatVec32(y, w, x, bias, rows, cols) })
			run(fmt.Sprintf("OuterAdd32/dx/%dx%d", rows, cols), 4*rows*cols, func() { OuterAdd32(gw, dx, w, dy, x, rows, cols) })
		}
		x, y := vec(1024), vec(1024)
		for _, n := range []int{28, 784} {
			run(fmt.Sprintf("Dot32/%d", n), 2*n, func() { benchSink32 += Dot32(x[:n], y[:n]) })
			run(fmt.Sprintf("Axpy32/%d", n), 2*n, func() { Axpy32(1e-9, x[:n], y[:n]) })
		}
		// 28 rows of 28, the output gradient at stride 28 and the padded
		// input (gradient) at stride 32, as mnist_cnn calls them: one conv
		// weight's gradient (DotRows) or input gradient (AxpyRows).
		run("DotRows32/28x28", 2*28*28, func() { benchSink32 += DotRows32(x, 28, y, 32, 28, 28) })
		run("AxpyRows32/28x28", 2*28*28, func() { AxpyRows32(1e-9, x, 28, y, 32, 28, 28) })
		z, act := vec(4704), make([]float32, 4704)
		run("ReluForward32/4704", 4704, func() { ReluForward32(z, act) })
		run("ReluBackward32/4704", 4704, func() { ReluBackward32(z, act) })
		const np = 101770 // mnist_mlp's parameters
		grads := vec(np)
		run("scaleSq32/101770", 3*np, func() { benchSink32 += scaleSq32(1, grads) })
	}
}
