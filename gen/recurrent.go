package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(recurrentEmitter{}, spec.KindRNN, spec.KindLSTM, spec.KindGRU)
}

// rnn, lstm and gru in PyTorch's semantics (nn.RNN, nn.LSTM, nn.GRU, one
// layer, batch_first), input x [T, F], hidden size H, initial state zero.
// Parameters weight_ih_l0 [G·H, F], weight_hh_l0 [G·H, H], bias_ih_l0 [G·H],
// bias_hh_l0 [G·H] with G = 1, 4 (gates i, f, g, o) or 3 (gates r, z, n).
//
//	rnn:  hₜ = act(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh)
//	lstm: i, f, g, o = σ, σ, tanh, σ of (W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh)
//	      cₜ = f ⊙ cₜ₋₁ + i ⊙ g;  hₜ = o ⊙ tanh(cₜ)
//	gru:  r = σ(W_ir xₜ + b_ir + W_hr hₜ₋₁ + b_hr);  z = σ(W_iz xₜ + b_iz + W_hz hₜ₋₁ + b_hz)
//	      n = tanh(W_in xₜ + b_in + r ⊙ (W_hn hₜ₋₁ + b_hn));  hₜ = (1 − z) ⊙ n + z ⊙ hₜ₋₁
//
// The backward pass is full backpropagation through time, from step T−1 down
// to 0, carrying dL/dhₜ₋₁ (and dL/dcₜ₋₁ for lstm) to the step before:
//
//	rnn:  dz = dh ⊙ act'(hₜ)                         (tanh: 1 − h², relu: h > 0)
//	lstm: dc = dc_next + dh ⊙ o ⊙ (1 − tanh²cₜ)
//	      d(pre i, f, g, o) = dc⊙g⊙i(1−i), dc⊙cₜ₋₁⊙f(1−f), dc⊙i⊙(1−g²), dh⊙tanh(cₜ)⊙o(1−o)
//	      dc_next = dc ⊙ f
//	gru:  dn = dh ⊙ (1 − z) ⊙ (1 − n²);  dz = dh ⊙ (hₜ₋₁ − n) ⊙ z(1 − z)
//	      dr = dn ⊙ (W_hn hₜ₋₁ + b_hn) ⊙ r(1 − r)
//	      d(input gates) = [dr, dz, dn];  d(hidden gates) = [dr, dz, dn ⊙ r]
//	all:  dW_ih += d(input gates) xₜᵀ;  dW_hh += d(hidden gates) hₜ₋₁ᵀ;  db_ih, db_hh likewise
//	      dxₜ = W_ihᵀ d(input gates);  dhₜ₋₁ = W_hhᵀ d(hidden gates) (+ dh ⊙ z for gru)
//
// Hidden (and cell) states are kept for every step in [T+1][H] arrays whose
// row 0 is the zero initial state, so step 0 needs no special case.
type recurrentEmitter struct{}

func (recurrentEmitter) aliases(*spec.Node) bool { return false }

// rnnGeom holds the sizes of a recurrent node.
type rnnGeom struct {
	t, f, h, g int // steps, input width, hidden size, gates
	k          string
}

func rgeom(n *node) rnnGeom {
	g := 1
	switch n.Kind {
	case spec.KindLSTM:
		g = 4
	case spec.KindGRU:
		g = 3
	}
	return rnnGeom{t: n.In[0], f: n.In[1], h: n.Units, g: g, k: n.GoName}
}

func (r rnnGeom) steps() size  { return named(r.t, r.k+"Steps") }
func (r rnnGeom) in() size     { return named(r.f, r.k+"In") }
func (r rnnGeom) hidden() size { return named(r.h, r.k+"Hidden") }
func (r rnnGeom) gates() size  { return named(r.g*r.h, r.k+"Gates") }

// field names of a recurrent node's state
func rnnField(what string, n *node) string { return fmt.Sprintf("%s%d", what, n.Index) }

// consts: Layers0Steps, Layers0In, Layers0Hidden, Layers0Gates
func (recurrentEmitter) consts(p *plan, n *node) []jen.Code {
	r := rgeom(n)
	return []jen.Code{
		jen.Id(r.k+"Steps").Op("=").Lit(r.t).Commentf("steps of %s", n.Name),
		jen.Id(r.k+"In").Op("=").Lit(r.f).Commentf("input width of %s", n.Name),
		jen.Id(r.k+"Hidden").Op("=").Lit(r.h).Commentf("hidden size of %s", n.Name),
		jen.Id(r.k+"Gates").Op("=").Lit(r.g*r.h).Commentf("gate rows of %s (%d×hidden)", n.Name, r.g),
	}
}

func (recurrentEmitter) params(p *plan, n *node) []tensor {
	r := rgeom(n)
	// PyTorch initialises every tensor of a recurrent layer from
	// U(−1/√H, 1/√H): fan-in H for all four.
	gates, in, hid := jen.Id(r.k+"Gates"), jen.Id(r.k+"In"), jen.Id(r.k+"Hidden")
	ts := []tensor{
		{field: r.k + "WeightIh", name: n.Name + ".weight_ih_l0", shape: []int{r.g * r.h, r.f}, dims: []jen.Code{gates, in}, fanIn: r.h, fanOut: r.g * r.h},
		{field: r.k + "WeightHh", name: n.Name + ".weight_hh_l0", shape: []int{r.g * r.h, r.h}, dims: []jen.Code{gates, hid}, fanIn: r.h, fanOut: r.g * r.h},
	}
	if n.Bias {
		ts = append(ts,
			tensor{field: r.k + "BiasIh", name: n.Name + ".bias_ih_l0", shape: []int{r.g * r.h}, dims: []jen.Code{gates}, fanIn: r.h, fanOut: r.g * r.h, bias: true},
			tensor{field: r.k + "BiasHh", name: n.Name + ".bias_hh_l0", shape: []int{r.g * r.h}, dims: []jen.Code{gates}, fanIn: r.h, fanOut: r.g * r.h, bias: true})
	}
	return ts
}

func (recurrentEmitter) fields(p *plan, n *node) []field {
	r := rgeom(n)
	arr := func(a, b int) jen.Code { return jen.Index(jen.Lit(a)).Index(jen.Lit(b)).Add(p.elem()) }
	fs := []field{{name: rnnField("hs", n), size: (r.t + 1) * (r.h), typ: arr(r.t+1, r.h), doc: "hidden states; row 0 is the zero initial state"}}
	switch n.Kind {
	case spec.KindLSTM:
		fs = append(fs,
			field{name: rnnField("cs", n), size: (r.t + 1) * (r.h), typ: arr(r.t+1, r.h), doc: "cell states; row 0 is zero"},
			field{name: rnnField("gs", n), size: (r.t) * (4 * r.h), typ: arr(r.t, 4*r.h), doc: "gates i, f, g, o after their activations"},
			field{name: rnnField("tc", n), size: (r.t) * (r.h), typ: arr(r.t, r.h), doc: "tanh of the cell states"},
			field{name: rnnField("dc", n), size: r.h, doc: "dL/dc carried to the step before", train: true, scratch: true})
	case spec.KindGRU:
		fs = append(fs,
			field{name: rnnField("gs", n), size: (r.t) * (3 * r.h), typ: arr(r.t, 3*r.h), doc: "gates r, z, n after their activations"},
			field{name: rnnField("ghn", n), size: (r.t) * (r.h), typ: arr(r.t, r.h), doc: "W_hn h + b_hn of every step"},
			field{name: rnnField("gi", n), size: 3 * r.h, doc: "W_ih x + b_ih of the current step", scratch: true},
			field{name: rnnField("gh", n), size: 3 * r.h, doc: "W_hh h + b_hh of the current step", scratch: true},
			field{name: rnnField("dgh", n), size: 3 * r.h, doc: "dL/d(hidden gates) of the current step", train: true, scratch: true})
	}
	if n.Kind != spec.KindGRU && useKernel(r.hidden()) {
		fs = append(fs, field{name: rnnField("tmp", n), size: r.g * r.h, doc: "W_hh h + b_hh of the current step", scratch: true})
	}
	fs = append(fs,
		field{name: rnnField("dh", n), size: r.h, doc: "dL/dh carried to the step before", train: true, scratch: true},
		field{name: rnnField("dg", n), size: r.g * r.h, doc: "dL/d(gate pre-activations) of the current step", train: true, scratch: true})
	return append(fs, rnnBatchFields(p, n, r)...)
}

// rnnAct returns rnn's nonlinearity (tanh unless the spec says relu).
func rnnAct(n *node) spec.Activation {
	if n.Act.Fn == spec.ActReLU {
		return spec.ActReLU
	}
	return spec.ActTanh
}

// sigm and tanhOf are σ(v) and tanh(v) in the element type: runtime.Sigmoid
// and math.Tanh for float64, runtime.Sigmoid32 and runtime.Tanh32 (float32
// all through, a few ulps from the float64 functions) for float32.
func sigm(p *plan, v jen.Code) jen.Code {
	if p.elemSize() == 4 {
		return jen.Qual(rtPath, "Sigmoid32").Call(v)
	}
	return jen.Qual(rtPath, "Sigmoid").Call(v)
}
func tanhOf(p *plan, v jen.Code) jen.Code {
	if p.elemSize() == 4 {
		return jen.Qual(rtPath, "Tanh32").Call(v)
	}
	return jen.Qual("math", "Tanh").Call(v)
}

// idx is g[off+j] with off a multiple of H written as a constant expression.
func gate(v string, r rnnGeom, k int) *jen.Statement {
	if k == 0 {
		return jen.Id(v).Index(jen.Id("j"))
	}
	return jen.Id(v).Index(jen.Lit(k * r.h).Op("+").Id("j"))
}

func (recurrentEmitter) forward(p *plan, n *node) []jen.Code {
	r := rgeom(n)
	code := []jen.Code{
		view2(p, "xs", n.in, r.t, r.f),
		jen.Id("hs").Op(":=").Op("&").Add(p.buf(rnnField("hs", n))),
		jen.Id("wih").Op(":=").Op("&").Add(pf(r.k + "WeightIh")),
		jen.Id("whh").Op(":=").Op("&").Add(pf(r.k + "WeightHh")),
	}
	var biasIh, biasHh func(o jen.Code) jen.Code
	if n.Bias {
		biasIh = func(o jen.Code) jen.Code { return pf(r.k + "BiasIh").Index(o) }
		biasHh = func(o jen.Code) jen.Code { return pf(r.k + "BiasHh").Index(o) }
	}
	step := []jen.Code{
		jen.Id("x").Op(":=").Op("&").Id("xs").Index(jen.Id("t")),
		jen.Id("h").Op(":=").Op("&").Id("hs").Index(jen.Id("t")),
		jen.Id("hn").Op(":=").Op("&").Id("hs").Index(jen.Id("t").Op("+").Lit(1)),
	}
	switch n.Kind {
	case spec.KindRNN:
		step = append(step,
			rnnMatVecs(p, n, r, "hn", r.hidden()),
			gatesForward(p, n, r, func(int) *jen.Statement { return jen.Id("hn").Index(jen.Id("j")) }),
		)
	case spec.KindLSTM:
		code = append(code,
			jen.Id("cs").Op(":=").Op("&").Add(p.buf(rnnField("cs", n))),
			jen.Id("gs").Op(":=").Op("&").Add(p.buf(rnnField("gs", n))),
			jen.Id("tc").Op(":=").Op("&").Add(p.buf(rnnField("tc", n))),
		)
		step = append(step,
			jen.Id("g").Op(":=").Op("&").Id("gs").Index(jen.Id("t")),
			rnnMatVecs(p, n, r, "g", r.gates()),
			lstmCells(),
			gatesForward(p, n, r, func(k int) *jen.Statement { return gate("g", r, k) }),
		)
	case spec.KindGRU:
		code = append(code,
			jen.Id("gs").Op(":=").Op("&").Add(p.buf(rnnField("gs", n))),
			jen.Id("ghn").Op(":=").Op("&").Add(p.buf(rnnField("ghn", n))),
			jen.Id("gi").Op(":=").Op("&").Add(p.buf(rnnField("gi", n))),
			jen.Id("gh").Op(":=").Op("&").Add(p.buf(rnnField("gh", n))),
		)
		step = append(step,
			jen.Id("g").Op(":=").Op("&").Id("gs").Index(jen.Id("t")),
			mvSelect(p, "gi", "wih", "x", r.gates(), r.in(), biasIh, pf(r.k+"BiasIh"), n.Bias),
			mvSelect(p, "gh", "whh", "h", r.gates(), r.hidden(), biasHh, pf(r.k+"BiasHh"), n.Bias),
			gatesForward(p, n, r, nil),
		)
	}
	code = append(code, loopOver("t", r.steps(), step...))
	return append(code, rnnOutput(p, n, r)...)
}

// rnnOutput copies the layer's output from the hidden states hs: every
// hidden state, or the last one.
func rnnOutput(p *plan, n *node, r rnnGeom) []jen.Code {
	if n.ReturnSequences {
		return []jen.Code{view2(p, "out", n.out, r.t, r.h),
			jen.For(jen.Id("t").Op(":=").Range().Id("out")).Block(jen.Id("out").Index(jen.Id("t")).Op("=").Id("hs").Index(jen.Id("t").Op("+").Lit(1)))}
	}
	return []jen.Code{p.buf(n.out).Op("=").Id("hs").Index(jen.Lit(r.t))}
}

// gatesForward emits the loop over the hidden units of one step: the gates'
// activations and the new hidden (and cell) state hn from the gate
// pre-activations pre(k) of gate k (rnn, lstm; gru reads the input part gi
// and the hidden part gh, for r ⊙ (W_hn h + b_hn)), then extra:
//
//	for j := 0; j < Layers0Hidden; j++ { hn[j] = float32(math.Tanh(float64(hn[j]))) }
func gatesForward(p *plan, n *node, r rnnGeom, pre func(k int) *jen.Statement, extra ...jen.Code) jen.Code {
	j := jen.Id("j")
	var body []jen.Code
	switch n.Kind {
	case spec.KindRNN:
		if rnnAct(n) == spec.ActReLU {
			body = []jen.Code{jen.Id("hn").Index(j).Op("=").Max(pre(0), jen.Lit(0))}
		} else {
			body = []jen.Code{jen.Id("hn").Index(j).Op("=").Add(tanhOf(p, pre(0)))}
		}
	case spec.KindLSTM:
		body = []jen.Code{
			jen.Id("ig").Op(":=").Add(sigm(p, pre(0))),
			jen.Id("fg").Op(":=").Add(sigm(p, pre(1))),
			jen.Id("gg").Op(":=").Add(tanhOf(p, pre(2))),
			jen.Id("og").Op(":=").Add(sigm(p, pre(3))),
			jen.List(gate("g", r, 0), gate("g", r, 1), gate("g", r, 2), gate("g", r, 3)).Op("=").List(jen.Id("ig"), jen.Id("fg"), jen.Id("gg"), jen.Id("og")),
			jen.Id("cn").Index(j).Op("=").Id("fg").Op("*").Id("c").Index(j).Op("+").Id("ig").Op("*").Id("gg"),
			jen.Id("tct").Index(j).Op("=").Add(tanhOf(p, jen.Id("cn").Index(j))),
			jen.Id("hn").Index(j).Op("=").Id("og").Op("*").Id("tct").Index(j),
		}
	case spec.KindGRU:
		body = []jen.Code{
			jen.Id("rg").Op(":=").Add(sigm(p, gate("gi", r, 0).Op("+").Add(gate("gh", r, 0)))),
			jen.Id("zg").Op(":=").Add(sigm(p, gate("gi", r, 1).Op("+").Add(gate("gh", r, 1)))),
			jen.Id("ng").Op(":=").Add(tanhOf(p, gate("gi", r, 2).Op("+").Id("rg").Op("*").Add(gate("gh", r, 2)))),
			jen.List(gate("g", r, 0), gate("g", r, 1), gate("g", r, 2)).Op("=").List(jen.Id("rg"), jen.Id("zg"), jen.Id("ng")),
			jen.Id("ghn").Index(jen.Id("t")).Index(j).Op("=").Add(gate("gh", r, 2)),
			jen.Id("hn").Index(j).Op("=").Parens(jen.Lit(1).Op("-").Id("zg")).Op("*").Id("ng").Op("+").Id("zg").Op("*").Id("h").Index(j),
		}
	}
	return loopOver("j", r.hidden(), append(body, extra...)...)
}

// lstmCells declares the cell states of step t and the tanh of the new one:
// c, cn, tct := &cs[t], &cs[t+1], &tc[t]
func lstmCells() jen.Code {
	return jen.Id("c").Op(",").Id("cn").Op(",").Id("tct").Op(":=").Op("&").Id("cs").Index(jen.Id("t")).Op(",").Op("&").Id("cs").Index(jen.Id("t").Op("+").Lit(1)).Op(",").Op("&").Id("tc").Index(jen.Id("t"))
}

func (recurrentEmitter) preBackward(*plan, *node) []jen.Code { return nil }

func (recurrentEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	r := rgeom(n)
	j := jen.Id("j")
	code := []jen.Code{
		view2(p, "xs", n.in, r.t, r.f),
		jen.Id("hs").Op(":=").Op("&").Add(p.buf(rnnField("hs", n))),
		jen.Id("gwih").Op(":=").Op("&").Add(gf(r.k + "WeightIh")),
		jen.Id("gwhh").Op(":=").Op("&").Add(gf(r.k + "WeightHh")),
		jen.Id("whh").Op(":=").Op("&").Add(pf(r.k + "WeightHh")),
		jen.Id("dh").Op(":=").Op("&").Add(p.buf(rnnField("dh", n))),
		jen.Id("dg").Op(":=").Op("&").Add(p.buf(rnnField("dg", n))),
		jen.Op("*").Id("dh").Op("=").Index(jen.Lit(r.h)).Add(p.elem()).Values(),
	}
	dx := ""
	if withDX {
		code = append(code,
			jen.Id("wih").Op(":=").Op("&").Add(pf(r.k+"WeightIh")),
			p.buf(n.din).Op("=").Index(jen.Lit(n.inSize)).Add(p.elem()).Values(),
			view2(p, "dxs", n.din, r.t, r.f),
		)
		dx = "dx"
	}
	// dL/dhₜ from the layer's output: every step, or only the last.
	var fromOut jen.Code
	if n.ReturnSequences {
		code = append(code, view2(p, "dys", n.dout, r.t, r.h))
		fromOut = loopOver("j", r.hidden(), jen.Id("dh").Index(j).Op("+=").Id("dys").Index(jen.Id("t")).Index(j))
	} else {
		fromOut = jen.If(jen.Id("t").Op("==").Lit(r.t - 1)).Block(
			loopOver("j", r.hidden(), jen.Id("dh").Index(j).Op("+=").Add(p.buf(n.dout)).Index(j)))
	}
	step := []jen.Code{
		fromOut,
		jen.Id("x").Op(":=").Op("&").Id("xs").Index(jen.Id("t")),
		jen.Id("h").Op(":=").Op("&").Id("hs").Index(jen.Id("t")),
	}
	if withDX {
		step = append(step, jen.Id("dx").Op(":=").Op("&").Id("dxs").Index(jen.Id("t")))
	}
	hiddenGrads := "dg" // which gate gradients multiply W_hh
	clearDH := jen.Op("*").Id("dh").Op("=").Index(jen.Lit(r.h)).Add(p.elem()).Values()
	switch n.Kind {
	case spec.KindRNN:
		step = append(step, gatesBackward(p, n, r), clearDH)
	case spec.KindLSTM:
		code = append(code,
			jen.Id("cs").Op(":=").Op("&").Add(p.buf(rnnField("cs", n))),
			jen.Id("gs").Op(":=").Op("&").Add(p.buf(rnnField("gs", n))),
			jen.Id("tc").Op(":=").Op("&").Add(p.buf(rnnField("tc", n))),
			jen.Id("dc").Op(":=").Op("&").Add(p.buf(rnnField("dc", n))),
			jen.Op("*").Id("dc").Op("=").Index(jen.Lit(r.h)).Add(p.elem()).Values(),
		)
		step = append(step, lstmStep(), gatesBackward(p, n, r), clearDH)
	case spec.KindGRU:
		code = append(code,
			jen.Id("gs").Op(":=").Op("&").Add(p.buf(rnnField("gs", n))),
			jen.Id("ghn").Op(":=").Op("&").Add(p.buf(rnnField("ghn", n))),
			jen.Id("dgh").Op(":=").Op("&").Add(p.buf(rnnField("dgh", n))),
		)
		hiddenGrads = "dgh"
		step = append(step, jen.Id("g").Op(":=").Op("&").Id("gs").Index(jen.Id("t")), gatesBackward(p, n, r))
	}
	if n.Bias {
		step = append(step, loopOver("o", r.gates(),
			gf(r.k+"BiasIh").Index(jen.Id("o")).Op("+=").Id("dg").Index(jen.Id("o")),
			gf(r.k+"BiasHh").Index(jen.Id("o")).Op("+=").Id(hiddenGrads).Index(jen.Id("o")),
		))
	}
	oa := func(dy, gw, x, w, dx string, cols size) jen.Code {
		if useKernel(cols) {
			return outerAddKernel(p, dy, gw, x, w, dx, r.gates(), cols)
		}
		return outerAdd(dy, gw, x, w, dx, r.gates(), cols, nil)
	}
	step = append(step, oa("dg", "gwih", "x", "wih", dx, r.in()), oa(hiddenGrads, "gwhh", "h", "whh", "dh", r.hidden()))
	code = append(code, jen.For(jen.Id("t").Op(":=").Lit(r.t-1), jen.Id("t").Op(">=").Lit(0), jen.Id("t").Op("--")).Block(step...))
	return code
}

// lstmStep declares the gates and cell states of step t for the backward
// pass: g, c, tct := &gs[t], &cs[t], &tc[t]
func lstmStep() jen.Code {
	return jen.Id("g").Op(",").Id("c").Op(",").Id("tct").Op(":=").Op("&").Id("gs").Index(jen.Id("t")).Op(",").Op("&").Id("cs").Index(jen.Id("t")).Op(",").Op("&").Id("tc").Index(jen.Id("t"))
}

// gatesBackward emits the loop over the hidden units of step t of the
// backward pass (see the comment on recurrentEmitter): from dh (dL/dhₜ; and
// dc for lstm) it writes dg, the gradient of the gate pre-activations (and
// dgh, that of the hidden gates, for gru, whose dh keeps the direct path
// dh ⊙ z):
//
//	for j := 0; j < Layers0Hidden; j++ { dg[j] = dh[j] * (1 - hs[t+1][j]*hs[t+1][j]) }
func gatesBackward(p *plan, n *node, r rnnGeom) jen.Code {
	j := jen.Id("j")
	one := func(e jen.Code) *jen.Statement { return jen.Parens(jen.Lit(1).Op("-").Add(e)) }
	switch n.Kind {
	case spec.KindRNN:
		hn := jen.Id("hs").Index(jen.Id("t").Op("+").Lit(1)).Index(j)
		if rnnAct(n) == spec.ActReLU {
			return loopOver("j", r.hidden(), jen.If(hn.Clone().Op(">").Lit(0)).Block(jen.Id("dg").Index(j).Op("=").Id("dh").Index(j)).Else().Block(jen.Id("dg").Index(j).Op("=").Lit(0)))
		}
		return loopOver("j", r.hidden(), jen.Id("dg").Index(j).Op("=").Id("dh").Index(j).Op("*").Add(one(hn.Clone().Op("*").Add(hn.Clone()))))
	case spec.KindLSTM:
		return loopOver("j", r.hidden(),
			jen.List(jen.Id("ig"), jen.Id("fg"), jen.Id("gg"), jen.Id("og")).Op(":=").List(gate("g", r, 0), gate("g", r, 1), gate("g", r, 2), gate("g", r, 3)),
			jen.Id("tcj").Op(":=").Id("tct").Index(j),
			jen.Id("dcj").Op(":=").Id("dc").Index(j).Op("+").Id("dh").Index(j).Op("*").Id("og").Op("*").Add(one(jen.Id("tcj").Op("*").Id("tcj"))),
			gate("dg", r, 0).Op("=").Id("dcj").Op("*").Id("gg").Op("*").Id("ig").Op("*").Add(one(jen.Id("ig"))),
			gate("dg", r, 1).Op("=").Id("dcj").Op("*").Id("c").Index(j).Op("*").Id("fg").Op("*").Add(one(jen.Id("fg"))),
			gate("dg", r, 2).Op("=").Id("dcj").Op("*").Id("ig").Op("*").Add(one(jen.Id("gg").Op("*").Id("gg"))),
			gate("dg", r, 3).Op("=").Id("dh").Index(j).Op("*").Id("tcj").Op("*").Id("og").Op("*").Add(one(jen.Id("og"))),
			jen.Id("dc").Index(j).Op("=").Id("dcj").Op("*").Id("fg"),
		)
	default: // gru
		return loopOver("j", r.hidden(),
			jen.List(jen.Id("rg"), jen.Id("zg"), jen.Id("ng")).Op(":=").List(gate("g", r, 0), gate("g", r, 1), gate("g", r, 2)),
			jen.Id("dhj").Op(":=").Id("dh").Index(j),
			jen.Id("dn").Op(":=").Id("dhj").Op("*").Add(one(jen.Id("zg"))).Op("*").Add(one(jen.Id("ng").Op("*").Id("ng"))),
			jen.Id("dz").Op(":=").Id("dhj").Op("*").Parens(jen.Id("h").Index(j).Op("-").Id("ng")).Op("*").Id("zg").Op("*").Add(one(jen.Id("zg"))),
			jen.Id("dr").Op(":=").Id("dn").Op("*").Id("ghn").Index(jen.Id("t")).Index(j).Op("*").Id("rg").Op("*").Add(one(jen.Id("rg"))),
			jen.List(gate("dg", r, 0), gate("dg", r, 1), gate("dg", r, 2)).Op("=").List(jen.Id("dr"), jen.Id("dz"), jen.Id("dn")),
			jen.List(gate("dgh", r, 0), gate("dgh", r, 1), gate("dgh", r, 2)).Op("=").List(jen.Id("dr"), jen.Id("dz"), jen.Id("dn").Op("*").Id("rg")),
			jen.Id("dh").Index(j).Op("=").Id("dhj").Op("*").Id("zg").Comment("the direct path hₜ₋₁ → hₜ; W_hhᵀ dgh is added below"),
		)
	}
}

// mvSelect emits dst = W x (+ bias) by the runtime kernel when the rows are
// long enough, else inline (see matVec); biasF indexes the bias for the
// inline form, biasS is the bias array for the kernel.
func mvSelect(p *plan, dst, w, x string, rows, cols size, biasF func(o jen.Code) jen.Code, biasS *jen.Statement, hasBias bool) jen.Code {
	if useKernel(cols) {
		var b jen.Code
		if hasBias {
			b = biasS.Clone().Index(jen.Empty(), jen.Empty())
		}
		return matVecKernel(p, dst, w, x, rows, cols, b)
	}
	return matVec(p, dst, w, x, rows, cols, "=", biasF)
}

// rnnMatVecs emits the gate pre-activations of rnn and lstm,
// dst = W_ih x + b_ih + W_hh h + b_hh: the input part into dst, the hidden
// part into dst directly (inline) or through the scratch row tmp (kernel,
// whose output may not alias its inputs).
func rnnMatVecs(p *plan, n *node, r rnnGeom, dst string, rows size) jen.Code {
	var biasIh, biasHh func(o jen.Code) jen.Code
	if n.Bias {
		biasIh = func(o jen.Code) jen.Code { return pf(r.k + "BiasIh").Index(o) }
		biasHh = func(o jen.Code) jen.Code { return pf(r.k + "BiasHh").Index(o) }
	}
	first := mvSelect(p, dst, "wih", "x", rows, r.in(), biasIh, pf(r.k+"BiasIh"), n.Bias)
	if !useKernel(r.hidden()) {
		return jen.Add(first).Line().Add(matVec(p, dst, "whh", "h", rows, r.hidden(), "+=", biasHh))
	}
	// tmp := &m.tmpN; runtime.MatVec32(tmp[:], W_hh, h[:], b_hh, ...); for o, v := range tmp { dst[o] += v }
	return jen.Add(first).Line().Id("tmp").Op(":=").Op("&").Add(p.buf(rnnField("tmp", n))).Line().
		Add(mvSelect(p, "tmp", "whh", "h", rows, r.hidden(), biasHh, pf(r.k+"BiasHh"), n.Bias)).Line().
		For(jen.List(jen.Id("o"), jen.Id("v")).Op(":=").Range().Id("tmp")).Block(jen.Id(dst).Index(jen.Id("o")).Op("+=").Id("v"))
}

// flops: at every step the two products W_ih x and W_hh h (2·G·H·(F+H)), the
// biases (2·G·H) and 1 per gate element for the gates' arithmetic.
func (recurrentEmitter) flops(n *node) int64 {
	r := rgeom(n)
	gh := int64(r.g * r.h)
	f := 2*gh*int64(r.f+r.h) + gh
	if n.Bias {
		f += 2 * gh
	}
	return int64(r.t) * f
}
