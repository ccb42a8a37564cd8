package runtime

// Row kernels for the gates of float32 recurrent layers (the generated
// batched pass calls them once per row and step) and the float32 softmax.
// gates_amd64.go runs them in assembly (internal/asmgen/gates.go: the
// algorithms of Sigmoid32, Tanh32 and exp32 with FMA, within the same ulp
// bounds, see gates_test.go); gates_generic.go (purego, other GOARCHes) runs
// the scalar loops below, which are the per-element code the generator used
// to emit, bit for bit.

func scalarSigmoidRow(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = Sigmoid32(v)
	}
}

func scalarTanhRow(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = Tanh32(v)
	}
}

func scalarTanhSum(a, b, y []float32) {
	a, b = a[:len(y)], b[:len(y)]
	for i := range y {
		y[i] = Tanh32(a[i] + b[i])
	}
}

// scalarExpShift sets y[i] = e^(x[i]−s) (x[i] ≤ s, s finite): exp32, 0 below
// e^−87.33.
func scalarExpShift(x, y []float32, s float32) {
	y = y[:len(x)]
	for i, v := range x {
		if d := v - s; d >= -87.33 {
			y[i] = exp32(d)
		} else {
			y[i] = 0
		}
	}
}

func scalarGRUCell(gi, gh, h, ghn, hn []float32) {
	n := len(h)
	gi, gh, ghn, hn = gi[:3*n], gh[:3*n], ghn[:n], hn[:n]
	for j := range h {
		rg := Sigmoid32(gi[j] + gh[j])
		zg := Sigmoid32(gi[n+j] + gh[n+j])
		ng := Tanh32(gi[2*n+j] + rg*gh[2*n+j])
		gi[j], gi[n+j], gi[2*n+j] = rg, zg, ng
		ghn[j] = gh[2*n+j]
		hn[j] = (1-zg)*ng + zg*h[j]
	}
}

// dhOf is dL/dh of unit j from the step after (dhw) and the layer's output
// (dy, which may be empty).
func dhOf(dhw, dy []float32, j int) float32 {
	if len(dy) == 0 {
		return dhw[j]
	}
	return dhw[j] + dy[j]
}

func scalarGRUCellBackward(g, h, ghn, dh, dhw, dy, dg, dgh []float32) {
	n := len(h)
	g, ghn, dh, dhw, dg, dgh = g[:3*n], ghn[:n], dh[:n], dhw[:n], dg[:3*n], dgh[:3*n]
	if len(dy) != 0 {
		dy = dy[:n]
	}
	for j := range h {
		rg, zg, ng := g[j], g[n+j], g[2*n+j]
		dhj := dh[j] + dhOf(dhw, dy, j)
		dn := dhj * (1 - zg) * (1 - ng*ng)
		dz := dhj * (h[j] - ng) * zg * (1 - zg)
		dr := dn * ghn[j] * rg * (1 - rg)
		dg[j], dg[n+j], dg[2*n+j] = dr, dz, dn
		dgh[j], dgh[n+j], dgh[2*n+j] = dr, dz, dn*rg
		dh[j] = dhj * zg
	}
}

func scalarLSTMCellBackward(g, c, tc, dhw, dy, dc, dg []float32) {
	n := len(c)
	g, tc, dhw, dc, dg = g[:4*n], tc[:n], dhw[:n], dc[:n], dg[:4*n]
	if len(dy) != 0 {
		dy = dy[:n]
	}
	for j := range c {
		ig, fg, gg, og := g[j], g[n+j], g[2*n+j], g[3*n+j]
		tcj, dhj := tc[j], dhOf(dhw, dy, j)
		dcj := dc[j] + dhj*og*(1-tcj*tcj)
		dg[j] = dcj * gg * ig * (1 - ig)
		dg[n+j] = dcj * c[j] * fg * (1 - fg)
		dg[2*n+j] = dcj * ig * (1 - gg*gg)
		dg[3*n+j] = dhj * tcj * og * (1 - og)
		dc[j] = dcj * fg
	}
}

func scalarTanhCellBackward(hn, dhw, dy, dg []float32) {
	n := len(hn)
	dhw, dg = dhw[:n], dg[:n]
	if len(dy) != 0 {
		dy = dy[:n]
	}
	for j, h := range hn {
		dg[j] = dhOf(dhw, dy, j) * (1 - h*h)
	}
}

func scalarLSTMCell(gi, gh, c, cn, tc, hn []float32) {
	n := len(c)
	gi, gh, cn, tc, hn = gi[:4*n], gh[:4*n], cn[:n], tc[:n], hn[:n]
	for j := range c {
		ig := Sigmoid32(gi[j] + gh[j])
		fg := Sigmoid32(gi[n+j] + gh[n+j])
		gg := Tanh32(gi[2*n+j] + gh[2*n+j])
		og := Sigmoid32(gi[3*n+j] + gh[3*n+j])
		gi[j], gi[n+j], gi[2*n+j], gi[3*n+j] = ig, fg, gg, og
		cn[j] = fg*c[j] + ig*gg
		tc[j] = Tanh32(cn[j])
		hn[j] = og * tc[j]
	}
}
