package runtime

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// gateSweep returns the inputs of the gate tests: a dense grid over [−lim,
// lim] in steps of 1/step, then ±0, values near the special points of
// Sigmoid32 and Tanh32, huge and tiny magnitudes, ±Inf and NaN.
func gateSweep(lim, step int) []float32 {
	var xs []float32
	for i := -lim * step; i <= lim*step; i++ {
		xs = append(xs, float32(i)/float32(step))
	}
	neg0 := float32(math.Copysign(0, -1))
	for _, v := range []float32{0, neg0, 1e-30, 1e-45, 3e-5, 0.00039, 0.0004, 0.00041, 7.9053, 7.906, 87.32, 87.34, 88, 88.1,
		100, 1e10, 3e38, float32(math.Inf(1)), float32(math.NaN())} {
		xs = append(xs, v, -v)
	}
	return xs
}

// checkRow runs f(x[off:off+n], y[off:off+n]) on odd offsets and every n up
// to 100 and checks that it writes want(x) exactly there and nothing else.
func checkRow(t *testing.T, name string, f func(x, y []float32), want func(float32) float32) {
	rng := NewRNG(9)
	for n := 0; n <= 100; n++ {
		for _, off := range []int{0, 1, 3} {
			x, y := make([]float32, n+off+3), make([]float32, n+off+3)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 4)
				y[i] = -7
			}
			f(x[off:off+n], y[off:off+n])
			for i := range y {
				if i < off || i >= off+n {
					assert.Equal(t, float32(-7), y[i], "%s n %d off %d: wrote y[%d]", name, n, off, i)
				} else if w := want(x[i]); y[i] != w {
					assert.Equal(t, w, y[i], "%s n %d off %d i %d", name, n, off, i)
				}
			}
		}
	}
}

// TestGateRows checks SigmoidRow32 and TanhRow32 on every kernel path
// against the float64 functions over dense sweeps (the bounds of
// TestSigmoid32 and TestTanh32: 4 and 8 ulps), their special values (NaN
// stays NaN, ±Inf gives the limits, ±0 stays ±0 through tanh), and over
// lengths 0..100 at odd offsets against themselves element by element.
func TestGateRows(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		xs := gateSweep(90, 1024)
		ys := make([]float32, len(xs))
		SigmoidRow32(xs, ys)
		worst, at := 0.0, 0.0
		for i, x := range xs {
			want := Sigmoid(float64(x))
			switch {
			case x != x:
				assert.True(t, ys[i] != ys[i], "σ(NaN)")
			case want < 0x1p-125:
				assert.Less(t, ys[i], float32(0x1p-125), "σ(%v)", x)
				assert.GreaterOrEqual(t, ys[i], float32(0), "σ(%v)", x)
			default:
				if u := ulps32(ys[i], want); u > worst {
					worst, at = u, float64(x)
				}
			}
		}
		t.Logf("SigmoidRow32: worst %.2f ulps at %v", worst, at)
		assert.LessOrEqual(t, worst, 4.0, "SigmoidRow32 at x = %v", at)
		one := make([]float32, 1)
		SigmoidRow32([]float32{0}, one)
		assert.Equal(t, float32(0.5), one[0])

		xs = gateSweep(10, 4096)
		ys = make([]float32, len(xs))
		TanhRow32(xs, ys)
		worst, at = 0, 0
		for i, x := range xs {
			want := math.Tanh(float64(x))
			switch {
			case x != x:
				assert.True(t, ys[i] != ys[i], "tanh(NaN)")
			case x == 0:
				assert.Equal(t, math.Float32bits(x), math.Float32bits(ys[i]), "tanh(±0)")
			default:
				if u := ulps32(ys[i], want); u > worst {
					worst, at = u, float64(x)
				}
			}
		}
		t.Logf("TanhRow32: worst %.2f ulps at %v", worst, at)
		assert.LessOrEqual(t, worst, 8.0, "TanhRow32 at x = %v", at)

		one32 := func(f func(x, y []float32)) func(float32) float32 {
			return func(v float32) float32 {
				y := make([]float32, 1)
				f([]float32{v}, y)
				return y[0]
			}
		}
		checkRow(t, "SigmoidRow32", SigmoidRow32, one32(SigmoidRow32))
		checkRow(t, "TanhRow32", TanhRow32, one32(TanhRow32))
		checkRow(t, "TanhSum32", func(x, y []float32) { TanhSum32(x, x, y) }, func(v float32) float32 { return one32(TanhRow32)(v + v) })
		checkRow(t, "expShift32", func(x, y []float32) { expShift32(x, y, 20) }, func(v float32) float32 {
			y := make([]float32, 1)
			expShift32([]float32{v}, y, 20)
			return y[0]
		})
		x, y := make([]float32, 128), make([]float32, 128)
		assert.Zero(t, testing.AllocsPerRun(10, func() { SigmoidRow32(x, y); TanhRow32(x, y); TanhSum32(x, x, y) }))
	})
}

// TestExpShift checks expShift32 against math.Exp over [−100, 0] (at most
// 3 ulps where the result is a normal float32 above 2⁻¹²⁵, 0 or tiny below)
// on every kernel path.
func TestExpShift(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		var xs []float32
		for i := -100 * 1024; i <= 0; i++ {
			xs = append(xs, float32(i)/1024+5)
		}
		xs = append(xs, float32(math.Inf(-1)), -3e38)
		ys := make([]float32, len(xs))
		expShift32(xs, ys, 5)
		worst, at := 0.0, 0.0
		for i, x := range xs {
			want := math.Exp(float64(x - 5))
			if want < 0x1p-125 {
				assert.Less(t, ys[i], float32(0x1p-125), "x = %v", x)
				assert.GreaterOrEqual(t, ys[i], float32(0), "x = %v", x)
				continue
			}
			if u := ulps32(ys[i], want); u > worst {
				worst, at = u, float64(x-5)
			}
		}
		t.Logf("expShift32: worst %.2f ulps at %v", worst, at)
		assert.LessOrEqual(t, worst, 3.0, "at x−s = %v", at)
	})
}

// TestCells checks GRUCell32 and LSTMCell32 on every
// kernel path against float64 references (|error| ≤ 2e-6 on values of order
// 1) for every n up to 100, and that they write nothing past their rows.
func TestCells(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := NewRNG(5)
		rnd := func(n int) []float32 {
			v := make([]float32, n+1) // one guard element past the row
			for i := range v {
				v[i] = float32(rng.NormFloat64() * 2)
			}
			return v
		}
		sg := func(x float64) float64 { return Sigmoid(x) }
		const tol = 2e-6
		for n := 0; n <= 100; n++ {
			gi, gh, h, ghn, hn := rnd(3*n), rnd(3*n), rnd(n), rnd(n), rnd(n)
			gi0 := append([]float32(nil), gi...)
			guards := []float32{gi[3*n], ghn[n], hn[n]}
			GRUCell32(gi[:3*n], gh[:3*n], h[:n], ghn[:n], hn[:n])
			for j := 0; j < n; j++ {
				r := sg(float64(gi0[j]) + float64(gh[j]))
				z := sg(float64(gi0[n+j]) + float64(gh[n+j]))
				c := math.Tanh(float64(gi0[2*n+j]) + r*float64(gh[2*n+j]))
				assert.InDelta(t, r, gi[j], tol, "gru r n %d j %d", n, j)
				assert.InDelta(t, z, gi[n+j], tol, "gru z n %d j %d", n, j)
				assert.InDelta(t, c, gi[2*n+j], tol, "gru c n %d j %d", n, j)
				assert.Equal(t, gh[2*n+j], ghn[j])
				assert.InDelta(t, (1-z)*c+z*float64(h[j]), hn[j], 2*tol, "gru h n %d j %d", n, j)
			}
			assert.Equal(t, guards, []float32{gi[3*n], ghn[n], hn[n]}, "gru n %d: wrote past the row", n)

			gi, gh, c, cn, tc := rnd(4*n), rnd(4*n), rnd(n), rnd(n), rnd(n)
			gi0 = append([]float32(nil), gi...)
			guards = []float32{gi[4*n], cn[n], tc[n], hn[n]}
			LSTMCell32(gi[:4*n], gh[:4*n], c[:n], cn[:n], tc[:n], hn[:n])
			for j := 0; j < n; j++ {
				pre := func(k int) float64 { return float64(gi0[k*n+j]) + float64(gh[k*n+j]) }
				ig, fg, gg, og := sg(pre(0)), sg(pre(1)), math.Tanh(pre(2)), sg(pre(3))
				for k, w := range []float64{ig, fg, gg, og} {
					assert.InDelta(t, w, gi[k*n+j], tol, "lstm gate n %d j %d k %d", n, j, k)
				}
				cc := fg*float64(c[j]) + ig*gg
				assert.InDelta(t, cc, cn[j], 4*tol, "lstm c n %d j %d", n, j)
				assert.InDelta(t, math.Tanh(cc), tc[j], 4*tol, "lstm tanh c n %d j %d", n, j)
				assert.InDelta(t, og*math.Tanh(cc), hn[j], 4*tol, "lstm h n %d j %d", n, j)
			}
			assert.Equal(t, guards, []float32{gi[4*n], cn[n], tc[n], hn[n]}, "lstm n %d: wrote past the row", n)
		}
		gi, gh, h, hn := make([]float32, 384), make([]float32, 512), make([]float32, 128), make([]float32, 128)
		assert.Zero(t, testing.AllocsPerRun(10, func() {
			GRUCell32(gi, gh, h, hn, hn)
			GRUCellBackward32(gi, h, h, hn, h, nil, gi, gh)
			LSTMCellBackward32(gh, h, h, h, h, hn, gh)
			LSTMCell32(gh, gh, h, hn, hn, hn)
		}))
	})
}

// BenchmarkGates measures the gate kernels on char_lm's row (gru 128) and a
// 1024-float row, in elements per second.
func BenchmarkGates(b *testing.B) {
	const n = 128
	gi, gh, h, ghn, hn := make([]float32, 3*n), make([]float32, 4*n), make([]float32, n), make([]float32, n), make([]float32, n)
	x, y := make([]float32, 1024), make([]float32, 1024)
	for i := range x {
		x[i] = float32(i%97)/16 - 3
	}
	run := func(name string, elems int, f func()) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f()
			}
			b.ReportMetric(float64(elems*b.N)/b.Elapsed().Seconds(), "elems/s")
		})
	}
	run("SigmoidRow32/1024", 1024, func() { SigmoidRow32(x, y) })
	run("TanhRow32/1024", 1024, func() { TanhRow32(x, y) })
	run("scalar/Sigmoid32/1024", 1024, func() { scalarSigmoidRow(x, y) })
	run("scalar/Tanh32/1024", 1024, func() { scalarTanhRow(x, y) })
	run("expShift32/1024", 1024, func() { expShift32(x, y, 4) })
	run("GRUCell32/128", n, func() { GRUCell32(gi, gh, h, ghn, hn) })
	run("scalar/GRUCell/128", n, func() { scalarGRUCell(gi, gh, h, ghn, hn) })
	run("GRUCellBackward32/128", n, func() { GRUCellBackward32(gi, h, ghn, hn, h, ghn, gi, gh) })
	run("scalar/GRUCellBackward/128", n, func() { scalarGRUCellBackward(gi, h, ghn, hn, h, ghn, gi, gh) })
	run("LSTMCell32/128", n, func() { LSTMCell32(gh, gh, h, ghn, hn[:n], hn) })
}

// TestSoftmaxCE32 checks the float32 path of SoftmaxCrossEntropy (expShift32)
// on every kernel path against the float64 function on the same logits, for
// every length up to 100: loss within 1e-6, gradient within 5e-7.
func TestSoftmaxCE32(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := NewRNG(3)
		for n := 1; n <= 100; n++ {
			l32, l64 := make([]float32, n), make([]float64, n)
			for i := range l32 {
				l32[i] = float32(rng.NormFloat64() * 5)
				l64[i] = float64(l32[i])
			}
			class := n / 2
			g32, g64 := make([]float32, n), make([]float64, n)
			loss := SoftmaxCrossEntropy(l32, class, g32)
			want := SoftmaxCrossEntropy(l64, class, g64)
			assert.InDelta(t, want, loss, 1e-6, "n %d loss", n)
			for i := range g32 {
				assert.InDelta(t, g64[i], g32[i], 5e-7, "n %d grad[%d]", n, i)
			}
		}
	})
}

// TestCellsBackward checks GRUCellBackward32, LSTMCellBackward32 and
// TanhCellBackward32 on every kernel path, with and without dy, against
// float64 references (|error| ≤ 1e-5 on values of order 1..10) for every n up
// to 100, and that they write nothing past their rows.
func TestCellsBackward(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := NewRNG(6)
		rnd := func(n int, scale float64) []float32 {
			v := make([]float32, n+1) // one guard element past the row
			for i := range v {
				v[i] = float32(rng.NormFloat64() * scale)
			}
			return v
		}
		act := func(n int) []float32 { // activations in (−1, 1)
			v := rnd(n, 1)
			for i := range v {
				v[i] = float32(math.Tanh(float64(v[i])))
			}
			return v
		}
		f := func(v float32) float64 { return float64(v) }
		const tol = 1e-5
		for n := 0; n <= 100; n++ {
			for _, withDY := range []bool{false, true} {
				var dy []float32
				dyOf := func(j int) float64 { return 0 }
				if withDY {
					dy = rnd(n, 1)
					dyOf = func(j int) float64 { return f(dy[j]) }
				}
				dyRow := func() []float32 {
					if dy == nil {
						return nil
					}
					return dy[:n]
				}
				what := func(s string, j int) string { return fmt.Sprintf("%s n %d dy %v j %d", s, n, withDY, j) }

				g, h, ghn, dh, dhw, dg, dgh := act(3*n), rnd(n, 1), rnd(n, 1), rnd(n, 1), rnd(n, 1), rnd(3*n, 1), rnd(3*n, 1)
				dh0 := append([]float32(nil), dh...)
				guards := []float32{dh[n], dg[3*n], dgh[3*n]}
				GRUCellBackward32(g[:3*n], h[:n], ghn[:n], dh[:n], dhw[:n], dyRow(), dg[:3*n], dgh[:3*n])
				for j := 0; j < n; j++ {
					r, z, c := f(g[j]), f(g[n+j]), f(g[2*n+j])
					d := f(dh0[j]) + f(dhw[j]) + dyOf(j)
					dc := d * (1 - z) * (1 - c*c)
					dz := d * (f(h[j]) - c) * z * (1 - z)
					dr := dc * f(ghn[j]) * r * (1 - r)
					for k, w := range []float64{dr, dz, dc} {
						assert.InDelta(t, w, dg[k*n+j], tol, what("gru dg", j))
					}
					for k, w := range []float64{dr, dz, dc * r} {
						assert.InDelta(t, w, dgh[k*n+j], tol, what("gru dgh", j))
					}
					assert.InDelta(t, d*z, dh[j], tol, what("gru dh", j))
				}
				assert.Equal(t, guards, []float32{dh[n], dg[3*n], dgh[3*n]}, "gru n %d: wrote past the row", n)

				g, c, tc, dc, dg := act(4*n), rnd(n, 1), act(n), rnd(n, 1), rnd(4*n, 1)
				dc0 := append([]float32(nil), dc...)
				guards = []float32{dc[n], dg[4*n]}
				LSTMCellBackward32(g[:4*n], c[:n], tc[:n], dhw[:n], dyRow(), dc[:n], dg[:4*n])
				for j := 0; j < n; j++ {
					ig, fg, gg, og := f(g[j]), f(g[n+j]), f(g[2*n+j]), f(g[3*n+j])
					d, tcj := f(dhw[j])+dyOf(j), f(tc[j])
					e := f(dc0[j]) + d*og*(1-tcj*tcj)
					for k, w := range []float64{e * gg * ig * (1 - ig), e * f(c[j]) * fg * (1 - fg), e * ig * (1 - gg*gg), d * tcj * og * (1 - og)} {
						assert.InDelta(t, w, dg[k*n+j], tol, what("lstm dg", j))
					}
					assert.InDelta(t, e*fg, dc[j], tol, what("lstm dc", j))
				}
				assert.Equal(t, guards, []float32{dc[n], dg[4*n]}, "lstm n %d: wrote past the row", n)

				hn := act(n)
				guards = []float32{dg[n]}
				TanhCellBackward32(hn[:n], dhw[:n], dyRow(), dg[:n])
				for j := 0; j < n; j++ {
					assert.InDelta(t, (f(dhw[j])+dyOf(j))*(1-f(hn[j])*f(hn[j])), dg[j], tol, what("rnn dg", j))
				}
				assert.Equal(t, guards, []float32{dg[n]}, "rnn n %d: wrote past the row", n)
			}
		}
	})
}
