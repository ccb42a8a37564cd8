//go:build purego || !amd64

package runtime

// SigmoidRow32 sets y[i] = σ(x[i]) for i < len(x) (y at least as long):
// Sigmoid32 over a row; the amd64 assembly is within the same ulp bound.
func SigmoidRow32(x, y []float32) { scalarSigmoidRow(x, y) }

// TanhRow32 sets y[i] = tanh(x[i]) for i < len(x): Tanh32 over a row.
func TanhRow32(x, y []float32) { scalarTanhRow(x, y) }

// TanhSum32 sets y[i] = tanh(a[i] + b[i]) for i < len(y): an rnn step.
func TanhSum32(a, b, y []float32) { scalarTanhSum(a, b, y) }

// GRUCell32 does one gru step of one row with n = len(h) units: from the
// input part gi = W_ih x + b_ih and the hidden part gh = W_hh h + b_hh (3n
// each, gates r, z, n in PyTorch's order) it computes r = σ(gi_r + gh_r),
// z = σ(gi_z + gh_z), c = tanh(gi_n + r·gh_n), stores r, z, c over gi,
// gh_n into ghn and the new hidden state (1−z)·c + z·h into hn.
func GRUCell32(gi, gh, h, ghn, hn []float32) { scalarGRUCell(gi, gh, h, ghn, hn) }

// GRUCellBackward32 is the element-wise part of GRUCell32's backward pass
// for n = len(h) units: with dL/dhₙ = dh + dhw + dy (dhw from the step after
// through W_hh, dy from the layer's output, may be nil) and the activations
// g (r, z, c), h and ghn it writes dL/d(pre-activations) into dg (dr, dz,
// dc), the hidden part's dL/d(gh) (dr, dz, dc·r) into dgh, and dL/dh through
// the direct path (dL/dhₙ·z) over dh.
func GRUCellBackward32(g, h, ghn, dh, dhw, dy, dg, dgh []float32) {
	scalarGRUCellBackward(g, h, ghn, dh, dhw, dy, dg, dgh)
}

// LSTMCellBackward32 is the element-wise part of LSTMCell32's backward pass
// for n = len(c) units: with dL/dhₙ = dhw + dy (dy may be nil), the
// activations g (i, f, g, o), c and tc = tanh(cn) it writes dL/d(gate
// pre-activations) into dg and carries dL/dc to the step before in dc.
func LSTMCellBackward32(g, c, tc, dhw, dy, dc, dg []float32) {
	scalarLSTMCellBackward(g, c, tc, dhw, dy, dc, dg)
}

// TanhCellBackward32 sets dg[j] = (dhw[j] + dy[j])·(1 − hn[j]²) for
// j < len(hn) (dy may be nil): a tanh rnn step's backward pass.
func TanhCellBackward32(hn, dhw, dy, dg []float32) { scalarTanhCellBackward(hn, dhw, dy, dg) }

// LSTMCell32 does one lstm step of one row with n = len(c) units: from gi
// and gh (4n each, gates i, f, g, o) it stores the activations σ, σ, tanh, σ
// of gi + gh over gi, the new cell state f·c + i·g into cn, its tanh into tc
// and the new hidden state o·tanh(cn) into hn.
func LSTMCell32(gi, gh, c, cn, tc, hn []float32) { scalarLSTMCell(gi, gh, c, cn, tc, hn) }

// expShift32 sets y[i] = e^(x[i]−s) for i < len(x) (x[i] ≤ s, s finite).
func expShift32(x, y []float32, s float32) { scalarExpShift(x, y, s) }
