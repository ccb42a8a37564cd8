package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// Benchmarks of the vector kernels, each beside "inline": the scalar loop
// bpgen emits today for the same operation on fixed-size arrays (gen/linalg.go
// matVec/outerAdd, unrolled by 8; the conv row loops of gen/conv2d.go as plain
// loops over fixed-size arrays). GFLOP/s counts 2 flops per multiply-add.
//
//	go test ./runtime -run '^$' -bench 'Dot32|Axpy32|MatVec32|OuterAdd32' -count 5
//	go test -tags purego ./runtime -run '^$' -bench 'Dot32|Axpy32|MatVec32|OuterAdd32' -count 5

func reportGFLOPs(b *testing.B, flopsPerOp int) {
	b.ReportMetric(float64(flopsPerOp)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

var benchSink32 float32

func BenchmarkDot32(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := randVec[float32](rng, 784), randVec[float32](rng, 784)
	for _, n := range []int{28, 128, 784} {
		b.Run(fmt.Sprintf("kernel/n=%d", n), func(b *testing.B) {
			xs, ys := x[:n], y[:n]
			var s float32
			for b.Loop() {
				s += Dot32(xs, ys)
			}
			benchSink32 = s
			reportGFLOPs(b, 2*n)
		})
		b.Run(fmt.Sprintf("inline/n=%d", n), func(b *testing.B) {
			var s float32
			switch n {
			case 28:
				xa, ya := (*[28]float32)(x), (*[28]float32)(y)
				for b.Loop() {
					s += inlineDot28(xa, ya)
				}
			case 128:
				xa, ya := (*[128]float32)(x), (*[128]float32)(y)
				for b.Loop() {
					s += inlineDot128(xa, ya)
				}
			case 784:
				xa, ya := (*[784]float32)(x), (*[784]float32)(y)
				for b.Loop() {
					s += inlineDot784(xa, ya)
				}
			}
			benchSink32 = s
			reportGFLOPs(b, 2*n)
		})
	}
}

func BenchmarkAxpy32(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	x, y := randVec[float32](rng, 784), randVec[float32](rng, 784)
	for _, n := range []int{28, 128, 784} {
		b.Run(fmt.Sprintf("kernel/n=%d", n), func(b *testing.B) {
			xs, ys := x[:n], y[:n]
			for b.Loop() {
				Axpy32(1e-7, xs, ys)
			}
			reportGFLOPs(b, 2*n)
		})
		b.Run(fmt.Sprintf("inline/n=%d", n), func(b *testing.B) {
			switch n {
			case 28:
				xa, ya := (*[28]float32)(x), (*[28]float32)(y)
				for b.Loop() {
					inlineAxpy28(1e-7, xa, ya)
				}
			case 128:
				xa, ya := (*[128]float32)(x), (*[128]float32)(y)
				for b.Loop() {
					inlineAxpy128(1e-7, xa, ya)
				}
			case 784:
				xa, ya := (*[784]float32)(x), (*[784]float32)(y)
				for b.Loop() {
					inlineAxpy784(1e-7, xa, ya)
				}
			}
			reportGFLOPs(b, 2*n)
		})
	}
}

// benchLayer is one dense layer's operands, flat and as the fixed-size arrays
// of generated code (the same memory).
type benchLayer struct {
	rows, cols     int
	w, gw, x, dx   []float32
	b, y, dy       []float32
	wArr784, gwArr *[128][784]float32
	wArr128, gw128 *[10][128]float32
}

func newBenchLayer(rows, cols int) *benchLayer {
	rng := rand.New(rand.NewPCG(uint64(rows), uint64(cols)))
	l := &benchLayer{rows: rows, cols: cols,
		w: randVec[float32](rng, rows*cols), gw: make([]float32, rows*cols),
		x: randVec[float32](rng, cols), dx: make([]float32, cols),
		b: randVec[float32](rng, rows), y: make([]float32, rows), dy: randVec[float32](rng, rows)}
	for i := range l.dy {
		l.dy[i] *= 1e-6 // keep the accumulated gradients finite
	}
	switch {
	case rows == 128 && cols == 784:
		l.wArr784, l.gwArr = (*[128][784]float32)(unsafe.Pointer(&l.w[0])), (*[128][784]float32)(unsafe.Pointer(&l.gw[0]))
	case rows == 10 && cols == 128:
		l.wArr128, l.gw128 = (*[10][128]float32)(unsafe.Pointer(&l.w[0])), (*[10][128]float32)(unsafe.Pointer(&l.gw[0]))
	}
	return l
}

var benchShapes = [][2]int{{128, 784}, {10, 128}}

func BenchmarkMatVec32(b *testing.B) {
	for _, sh := range benchShapes {
		l := newBenchLayer(sh[0], sh[1])
		name := fmt.Sprintf("%dx%d", l.rows, l.cols)
		b.Run("kernel/"+name, func(b *testing.B) {
			for b.Loop() {
				MatVec32(l.y, l.w, l.x, l.b, l.rows, l.cols)
			}
			reportGFLOPs(b, 2*l.rows*l.cols)
		})
		b.Run("inline/"+name, func(b *testing.B) {
			if l.rows == 128 {
				for b.Loop() {
					inlineMatVec128x784((*[128]float32)(l.y), l.wArr784, (*[784]float32)(l.x), (*[128]float32)(l.b))
				}
			} else {
				for b.Loop() {
					inlineMatVec10x128((*[10]float32)(l.y), l.wArr128, (*[128]float32)(l.x), (*[10]float32)(l.b))
				}
			}
			reportGFLOPs(b, 2*l.rows*l.cols)
		})
	}
}

// BenchmarkOuterAdd32 runs the backward pass with every dy non-zero: dx/ has
// dW += dy xᵀ and dx += Wᵀ dy (4 flops per weight), noDX/ only dW (2).
func BenchmarkOuterAdd32(b *testing.B) {
	for _, sh := range benchShapes {
		l := newBenchLayer(sh[0], sh[1])
		name := fmt.Sprintf("%dx%d", l.rows, l.cols)
		b.Run("kernel/dx/"+name, func(b *testing.B) {
			for b.Loop() {
				OuterAdd32(l.gw, l.dx, l.w, l.dy, l.x, l.rows, l.cols)
			}
			reportGFLOPs(b, 4*l.rows*l.cols)
		})
		b.Run("inline/dx/"+name, func(b *testing.B) {
			if l.rows == 128 {
				for b.Loop() {
					inlineOuterAdd128x784(l.gwArr, (*[784]float32)(l.dx), l.wArr784, (*[128]float32)(l.dy), (*[784]float32)(l.x))
				}
			} else {
				for b.Loop() {
					inlineOuterAdd10x128(l.gw128, (*[128]float32)(l.dx), l.wArr128, (*[10]float32)(l.dy), (*[128]float32)(l.x))
				}
			}
			reportGFLOPs(b, 4*l.rows*l.cols)
		})
		b.Run("kernel/noDX/"+name, func(b *testing.B) {
			for b.Loop() {
				OuterAdd32(l.gw, nil, nil, l.dy, l.x, l.rows, l.cols)
			}
			reportGFLOPs(b, 2*l.rows*l.cols)
		})
	}
}

// BenchmarkDot32Generic compares the generic pure-Go loop with a hand-written
// float32 copy, to show the type parameter costs nothing.
func BenchmarkDot32Generic(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	x, y := randVec[float32](rng, 784), randVec[float32](rng, 784)
	var s float32
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			s += scalarDot(x, y)
		}
		reportGFLOPs(b, 2*784)
	})
	b.Run("float32", func(b *testing.B) {
		for b.Loop() {
			s += dotFloat32Copy(x, y)
		}
		reportGFLOPs(b, 2*784)
	})
	benchSink32 = s
}

// dotFloat32Copy is scalarDot written for float32 only.
func dotFloat32Copy(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	for len(x) >= 8 && len(y) >= 8 {
		a, b := (*[8]float32)(x), (*[8]float32)(y)
		s0 += a[0]*b[0] + a[4]*b[4]
		s1 += a[1]*b[1] + a[5]*b[5]
		s2 += a[2]*b[2] + a[6]*b[6]
		s3 += a[3]*b[3] + a[7]*b[7]
		x, y = x[8:], y[8:]
	}
	y = y[:len(x)]
	for i, v := range x {
		s0 += v * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// ---- the scalar code bpgen generates today, for comparison ----

// inlineDot* / inlineAxpy* are the conv row loops (dW: s += d[ow]*r[ow];
// forward and dx: o[ow] += wv*r[ow]) over fixed-size arrays.

func inlineDot28(x, y *[28]float32) (s float32) {
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

func inlineDot128(x, y *[128]float32) float32 {
	var s0, s1, s2, s3 float32
	for i := 0; i <= 128-8; i += 8 {
		s0 += x[i]*y[i] + x[i+4]*y[i+4]
		s1 += x[i+1]*y[i+1] + x[i+5]*y[i+5]
		s2 += x[i+2]*y[i+2] + x[i+6]*y[i+6]
		s3 += x[i+3]*y[i+3] + x[i+7]*y[i+7]
	}
	return s0 + s1 + s2 + s3
}

func inlineDot784(x, y *[784]float32) float32 {
	var s0, s1, s2, s3 float32
	for i := 0; i <= 784-8; i += 8 {
		s0 += x[i]*y[i] + x[i+4]*y[i+4]
		s1 += x[i+1]*y[i+1] + x[i+5]*y[i+5]
		s2 += x[i+2]*y[i+2] + x[i+6]*y[i+6]
		s3 += x[i+3]*y[i+3] + x[i+7]*y[i+7]
	}
	return s0 + s1 + s2 + s3
}

func inlineAxpy28(a float32, x, y *[28]float32) {
	for i := range x {
		y[i] += a * x[i]
	}
}

func inlineAxpy128(a float32, x, y *[128]float32) {
	for i := 0; i <= 128-8; i += 8 {
		y[i] += a * x[i]
		y[i+1] += a * x[i+1]
		y[i+2] += a * x[i+2]
		y[i+3] += a * x[i+3]
		y[i+4] += a * x[i+4]
		y[i+5] += a * x[i+5]
		y[i+6] += a * x[i+6]
		y[i+7] += a * x[i+7]
	}
}

func inlineAxpy784(a float32, x, y *[784]float32) {
	for i := 0; i <= 784-8; i += 8 {
		y[i] += a * x[i]
		y[i+1] += a * x[i+1]
		y[i+2] += a * x[i+2]
		y[i+3] += a * x[i+3]
		y[i+4] += a * x[i+4]
		y[i+5] += a * x[i+5]
		y[i+6] += a * x[i+6]
		y[i+7] += a * x[i+7]
	}
}

// inlineMatVec* are gen/linalg.go's matVec as emitted for mnist_mlp.

func inlineMatVec128x784(z *[128]float32, w *[128][784]float32, x *[784]float32, b *[128]float32) {
	for o := 0; o < 128; o++ {
		wr := &w[o]
		var s0, s1, s2, s3 float32
		for i := 0; i <= 784-8; i += 8 {
			s0 += wr[i]*x[i] + wr[i+4]*x[i+4]
			s1 += wr[i+1]*x[i+1] + wr[i+5]*x[i+5]
			s2 += wr[i+2]*x[i+2] + wr[i+6]*x[i+6]
			s3 += wr[i+3]*x[i+3] + wr[i+7]*x[i+7]
		}
		z[o] = s0 + s1 + s2 + s3 + b[o]
	}
}

func inlineMatVec10x128(z *[10]float32, w *[10][128]float32, x *[128]float32, b *[10]float32) {
	for o := 0; o < 10; o++ {
		wr := &w[o]
		var s0, s1, s2, s3 float32
		for i := 0; i <= 128-8; i += 8 {
			s0 += wr[i]*x[i] + wr[i+4]*x[i+4]
			s1 += wr[i+1]*x[i+1] + wr[i+5]*x[i+5]
			s2 += wr[i+2]*x[i+2] + wr[i+6]*x[i+6]
			s3 += wr[i+3]*x[i+3] + wr[i+7]*x[i+7]
		}
		z[o] = s0 + s1 + s2 + s3 + b[o]
	}
}

// inlineOuterAdd* are gen/linalg.go's outerAdd (with dx) as emitted for mnist_mlp.

func inlineOuterAdd128x784(gw *[128][784]float32, dx *[784]float32, w *[128][784]float32, dy *[128]float32, x *[784]float32) {
	for o := 0; o < 128; o++ {
		g := dy[o]
		if g == 0 {
			continue
		}
		gr := &gw[o]
		wr := &w[o]
		for i := 0; i <= 784-8; i += 8 {
			gr[i] += g * x[i]
			dx[i] += g * wr[i]
			gr[i+1] += g * x[i+1]
			dx[i+1] += g * wr[i+1]
			gr[i+2] += g * x[i+2]
			dx[i+2] += g * wr[i+2]
			gr[i+3] += g * x[i+3]
			dx[i+3] += g * wr[i+3]
			gr[i+4] += g * x[i+4]
			dx[i+4] += g * wr[i+4]
			gr[i+5] += g * x[i+5]
			dx[i+5] += g * wr[i+5]
			gr[i+6] += g * x[i+6]
			dx[i+6] += g * wr[i+6]
			gr[i+7] += g * x[i+7]
			dx[i+7] += g * wr[i+7]
		}
	}
}

func inlineOuterAdd10x128(gw *[10][128]float32, dx *[128]float32, w *[10][128]float32, dy *[10]float32, x *[128]float32) {
	for o := 0; o < 10; o++ {
		g := dy[o]
		if g == 0 {
			continue
		}
		gr := &gw[o]
		wr := &w[o]
		for i := 0; i <= 128-8; i += 8 {
			gr[i] += g * x[i]
			dx[i] += g * wr[i]
			gr[i+1] += g * x[i+1]
			dx[i+1] += g * wr[i+1]
			gr[i+2] += g * x[i+2]
			dx[i+2] += g * wr[i+2]
			gr[i+3] += g * x[i+3]
			dx[i+3] += g * wr[i+3]
			gr[i+4] += g * x[i+4]
			dx[i+4] += g * wr[i+4]
			gr[i+5] += g * x[i+5]
			dx[i+5] += g * wr[i+5]
			gr[i+6] += g * x[i+6]
			dx[i+6] += g * wr[i+6]
			gr[i+7] += g * x[i+7]
			dx[i+7] += g * wr[i+7]
		}
	}
}
