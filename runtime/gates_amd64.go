//go:build !purego

package runtime

// The assembly paths of the gate kernels (see gates.go; documented in
// gates_generic.go). Lengths are checked by reslicing before the assembly
// runs.

// SigmoidRow32 sets y[i] = σ(x[i]) for i < len(x) (y at least as long):
// Sigmoid32's algorithm in vector registers, within its ulp bound.
func SigmoidRow32(x, y []float32) {
	y = y[:len(x)]
	switch {
	case len(x) == 0:
	case simdLevel == simdAVX512:
		sigmoidRow512(&x[0], &y[0], len(x))
	case simdLevel == simdAVX2:
		sigmoidRow256(&x[0], &y[0], len(x))
	default:
		scalarSigmoidRow(x, y)
	}
}

// TanhRow32 sets y[i] = tanh(x[i]) for i < len(x): Tanh32 over a row.
func TanhRow32(x, y []float32) {
	y = y[:len(x)]
	switch {
	case len(x) == 0:
	case simdLevel == simdAVX512:
		tanhRow512(&x[0], &y[0], len(x))
	case simdLevel == simdAVX2:
		tanhRow256(&x[0], &y[0], len(x))
	default:
		scalarTanhRow(x, y)
	}
}

// TanhSum32 sets y[i] = tanh(a[i] + b[i]) for i < len(y): an rnn step.
func TanhSum32(a, b, y []float32) {
	a, b = a[:len(y)], b[:len(y)]
	switch {
	case len(y) == 0:
	case simdLevel == simdAVX512:
		tanhSum512(&a[0], &b[0], &y[0], len(y))
	case simdLevel == simdAVX2:
		tanhSum256(&a[0], &b[0], &y[0], len(y))
	default:
		scalarTanhSum(a, b, y)
	}
}

// GRUCell32 does one gru step of one row with n = len(h) units (see
// gates_generic.go): r, z, c over gi, gh_n into ghn, the new state into hn.
func GRUCell32(gi, gh, h, ghn, hn []float32) {
	n := len(h)
	gi, gh, ghn, hn = gi[:3*n], gh[:3*n], ghn[:n], hn[:n]
	switch {
	case n == 0:
	case simdLevel == simdAVX512:
		gruCell512(&gi[0], &gh[0], &h[0], &ghn[0], &hn[0], n)
	case simdLevel == simdAVX2:
		gruCell256(&gi[0], &gh[0], &h[0], &ghn[0], &hn[0], n)
	default:
		scalarGRUCell(gi, gh, h, ghn, hn)
	}
}

// optRow returns &dy[0] after checking it has n elements, or nil for an
// empty dy.
func optRow(dy []float32, n int) *float32 {
	if len(dy) == 0 {
		return nil
	}
	return &dy[:n][0]
}

// GRUCellBackward32 is the element-wise part of GRUCell32's backward pass
// (see gates_generic.go).
func GRUCellBackward32(g, h, ghn, dh, dhw, dy, dg, dgh []float32) {
	n := len(h)
	g, ghn, dh, dhw, dg, dgh = g[:3*n], ghn[:n], dh[:n], dhw[:n], dg[:3*n], dgh[:3*n]
	switch {
	case n == 0:
	case simdLevel == simdAVX512:
		gruCellBackward512(&g[0], &h[0], &ghn[0], &dh[0], &dhw[0], optRow(dy, n), &dg[0], &dgh[0], n)
	case simdLevel == simdAVX2:
		gruCellBackward256(&g[0], &h[0], &ghn[0], &dh[0], &dhw[0], optRow(dy, n), &dg[0], &dgh[0], n)
	default:
		scalarGRUCellBackward(g, h, ghn, dh, dhw, dy, dg, dgh)
	}
}

// LSTMCellBackward32 is the element-wise part of LSTMCell32's backward pass
// (see gates_generic.go).
func LSTMCellBackward32(g, c, tc, dhw, dy, dc, dg []float32) {
	n := len(c)
	g, tc, dhw, dc, dg = g[:4*n], tc[:n], dhw[:n], dc[:n], dg[:4*n]
	switch {
	case n == 0:
	case simdLevel == simdAVX512:
		lstmCellBackward512(&g[0], &c[0], &tc[0], &dhw[0], optRow(dy, n), &dc[0], &dg[0], n)
	case simdLevel == simdAVX2:
		lstmCellBackward256(&g[0], &c[0], &tc[0], &dhw[0], optRow(dy, n), &dc[0], &dg[0], n)
	default:
		scalarLSTMCellBackward(g, c, tc, dhw, dy, dc, dg)
	}
}

// TanhCellBackward32 sets dg[j] = (dhw[j] + dy[j])·(1 − hn[j]²) for
// j < len(hn) (dy may be nil).
func TanhCellBackward32(hn, dhw, dy, dg []float32) {
	n := len(hn)
	dhw, dg = dhw[:n], dg[:n]
	switch {
	case n == 0:
	case simdLevel == simdAVX512:
		tanhCellBackward512(&hn[0], &dhw[0], optRow(dy, n), &dg[0], n)
	case simdLevel == simdAVX2:
		tanhCellBackward256(&hn[0], &dhw[0], optRow(dy, n), &dg[0], n)
	default:
		scalarTanhCellBackward(hn, dhw, dy, dg)
	}
}

// LSTMCell32 does one lstm step of one row with n = len(c) units (see
// gates_generic.go).
func LSTMCell32(gi, gh, c, cn, tc, hn []float32) {
	n := len(c)
	gi, gh, cn, tc, hn = gi[:4*n], gh[:4*n], cn[:n], tc[:n], hn[:n]
	switch {
	case n == 0:
	case simdLevel == simdAVX512:
		lstmCell512(&gi[0], &gh[0], &c[0], &cn[0], &tc[0], &hn[0], n)
	case simdLevel == simdAVX2:
		lstmCell256(&gi[0], &gh[0], &c[0], &cn[0], &tc[0], &hn[0], n)
	default:
		scalarLSTMCell(gi, gh, c, cn, tc, hn)
	}
}

// expShift32 sets y[i] = e^(x[i]−s) for i < len(x) (x[i] ≤ s, s finite).
func expShift32(x, y []float32, s float32) {
	y = y[:len(x)]
	switch {
	case len(x) == 0:
	case simdLevel == simdAVX512:
		expShift512(&x[0], &y[0], len(x), s)
	case simdLevel == simdAVX2:
		expShift256(&x[0], &y[0], len(x), s)
	default:
		scalarExpShift(x, y, s)
	}
}
