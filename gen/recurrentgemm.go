package gen

import (
	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

// The batched pass of rnn, lstm and gru. With nb samples in the chunk, X the
// inputs of every step of every row ([nb·T, F], the input buffer as it is),
// and the hidden states of step t of every row gathered in Hb [nb, H]:
//
//	forward:  P  = X·W_ihᵀ + b_ih             one runtime.GemmNT for all steps ([nb·T, G·H])
//	          for t = 0 … T−1:
//	            Q = Hb·W_hhᵀ + b_hh            runtime.GemmNT ([nb, G·H])
//	            gates of every row from P[row, t] and Q[row] (gatesForward)
//	            Hb[row] = hs[row][t+1] = hₜ₊₁
//	backward: for t = T−1 … 0:
//	            dh = dHw[row] (+ dL/dhₜ from the output) (+ the gru's direct path)
//	            DG[row, t], DGH[row] from dh (gatesBackward)
//	            dHw = DGH·W_hh                  runtime.GemmNN ([nb, H], not at t = 0)
//	          db_ih += Σ DG;  db_hh += Σ DGH
//	          dW_ih += DGᵀ·X                    one runtime.GemmTN over all steps
//	          dW_hh += DGH_rowᵀ·hs[row][0:T]    runtime.GemmTN per row (k = T)
//	          dX  = DG·W_ih                     one runtime.GemmNN (withDX)
//
// DGH is DG for rnn and lstm and [dr, dz, dn ⊙ r] for gru, kept for every
// step in its own field. The gate arithmetic is the per-sample code's
// (gatesForward, gatesBackward), so both paths agree to rounding; only the
// order of the sums in the products differs.
//
// Memory per row: the input projection (rnn: xp [T][H]; lstm and gru write it
// into their gate field gs and overwrite it step by step with the
// activations), Hb and Q, and for training DG [T][G·H] (gru also DGH),
// dh, dHw (and dc for lstm).

// rnnBatchFields are the per-row fields of the batched pass (see above). A
// field of one row of width w is, over the chunk, a matrix [BatchChunk][w]:
// the GEMMs read and write the first nb rows of it.
func rnnBatchFields(p *plan, n *node, r rnnGeom) []field {
	arr := func(a, b int) jen.Code { return jen.Index(jen.Lit(a)).Index(jen.Lit(b)).Add(p.elem()) }
	gh := r.g * r.h
	var fs []field
	if n.Kind == spec.KindRNN {
		fs = append(fs, field{name: rnnField("xp", n), size: r.t * r.h, typ: arr(r.t, r.h), doc: "W_ih xₜ + b_ih of every step (batched pass)"})
	}
	fs = append(fs,
		field{name: rnnField("hb", n), size: r.h, doc: "the hidden state of the current step (batched pass: a row of the chunk's matrix)"},
		field{name: rnnField("pb", n), size: gh, doc: "W_hh h + b_hh, backward dL/d(hidden gates), of the current step (batched pass)"},
		field{name: rnnField("dgs", n), size: r.t * gh, typ: arr(r.t, gh), doc: "dL/d(gate pre-activations) of every step (batched pass)", train: true})
	if n.Kind == spec.KindGRU {
		fs = append(fs, field{name: rnnField("dghs", n), size: r.t * gh, typ: arr(r.t, gh), doc: "dL/d(hidden gates) of every step (batched pass)", train: true})
	}
	fs = append(fs,
		field{name: rnnField("dhb", n), size: r.h, doc: "dL/dh of the current step (batched pass)", train: true},
		field{name: rnnField("dhw", n), size: r.h, doc: "W_hhᵀ dL/d(hidden gates) of the step after (batched pass)", train: true})
	if n.Kind == spec.KindLSTM {
		fs = append(fs, field{name: rnnField("dcb", n), size: r.h, doc: "dL/dc carried to the step before (batched pass)", train: true})
	}
	return fs
}

// rowsOf2 is rowsOf for a field whose row is a [A][B]T array:
// unsafe.Slice(&m.gs1[0][0][0], rows*width)
func rowsOf2(buf string, rows, width jen.Code) *jen.Statement {
	return jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(mf(buf)).Index(jen.Lit(0)).Index(jen.Lit(0)).Index(jen.Lit(0)), jen.Add(rows).Op("*").Add(width))
}

// local declares name := &m.field[row]
func local(p *plan, name, field string) jen.Code {
	return jen.Id(name).Op(":=").Op("&").Add(p.buf(field))
}

// rnnProj is the field holding the input projection P of every step.
func rnnProj(n *node) string {
	if n.Kind == spec.KindRNN {
		return rnnField("xp", n)
	}
	return rnnField("gs", n)
}

// forwardBatch: see the comment at the top of the file.
func (recurrentEmitter) forwardBatch(p *plan, n *node) []jen.Code {
	r := rgeom(n)
	allSteps := jen.Id("nb").Op("*").Add(r.steps().expr())
	biasIh, biasHh := jen.Code(jen.Nil()), jen.Code(jen.Nil())
	if n.Bias {
		biasIh, biasHh = pf(r.k+"BiasIh").Index(jen.Empty(), jen.Empty()), pf(r.k+"BiasHh").Index(jen.Empty(), jen.Empty())
	}
	hb, pb := rnnField("hb", n), rnnField("pb", n)
	row := []jen.Code{
		jen.Id("gi").Op(":=").Op("&").Add(p.buf(rnnProj(n))).Index(jen.Id("t")),
		local(p, "gh", pb),
		local(p, "hs", rnnField("hs", n)),
		jen.Id("hn").Op(":=").Op("&").Id("hs").Index(jen.Id("t").Op("+").Lit(1)),
		local(p, "hb", hb),
	}
	if cellKernel(p, n) {
		row = append(row, cellForward(p, n)...)
	} else {
		switch n.Kind {
		case spec.KindLSTM:
			row = append(row, jen.Id("g").Op(":=").Id("gi"), local(p, "cs", rnnField("cs", n)), local(p, "tc", rnnField("tc", n)), lstmCells())
		case spec.KindGRU:
			row = append(row, jen.Id("g").Op(":=").Id("gi"), jen.Id("h").Op(":=").Op("&").Id("hs").Index(jen.Id("t")), local(p, "ghn", rnnField("ghn", n)))
		}
		pre := func(k int) *jen.Statement { return jen.Add(gate("gi", r, k)).Op("+").Add(gate("gh", r, k)) }
		row = append(row, gatesForward(p, n, r, pre, jen.Id("hb").Index(jen.Id("j")).Op("=").Id("hn").Index(jen.Id("j"))))
	}
	return []jen.Code{
		jen.Id("wih").Op(":=").Op("&").Add(pf(r.k + "WeightIh")),
		jen.Id("whh").Op(":=").Op("&").Add(pf(r.k + "WeightHh")),
		jen.Comment("the input part of the gates, W_ih xₜ + b_ih, of every step of every row"),
		p.kernel("GemmNT").Call(rowsOf2(rnnProj(n), allSteps, r.gates().expr()), rowsOf(n.in, allSteps.Clone(), r.in().expr()), flatMat("wih", r.gates(), r.in()), biasIh, allSteps.Clone(), r.gates().expr(), r.in().expr()),
		overRows(p.buf(hb).Op("=").Index(jen.Lit(r.h)).Add(p.elem()).Values()),
		loopOver("t", r.steps(),
			jen.Comment("the hidden part, W_hh hₜ + b_hh, of every row"),
			p.kernel("GemmNT").Call(rowsOf(pb, jen.Id("nb"), r.gates().expr()), rowsOf(hb, jen.Id("nb"), r.hidden().expr()), flatMat("whh", r.gates(), r.hidden()), biasHh, jen.Id("nb"), r.gates().expr(), r.hidden().expr()),
			overRows(row...),
		),
		overRows(append([]jen.Code{local(p, "hs", rnnField("hs", n))}, rnnOutput(p, n, r)...)...),
	}
}

// cellKernel reports whether the batched pass of n runs its gates through
// the runtime's float32 row kernels (runtime.GRUCell32, LSTMCell32,
// TanhSum32: vector assembly on amd64) instead of per-element code: float32
// models, except rnn with relu.
func cellKernel(p *plan, n *node) bool {
	return p.elemSize() == 4 && (n.Kind != spec.KindRNN || rnnAct(n) != spec.ActReLU)
}

// sl is v[:].
func sl(v string) jen.Code { return jen.Id(v).Index(jen.Empty(), jen.Empty()) }

// cellBackward is one row's step of the backward pass through the cell
// kernel, with dy = dys[t][:] (the layer's output gradient) or nil:
//
//	runtime.GRUCellBackward32(g[:], h[:], ghn[t][:], dh[:], dhw[:], dy, dg[:], dgh[:])
//	m.dghs1[row][t] = *dgh
func cellBackward(p *plan, n *node, r rnnGeom) []jen.Code {
	t := jen.Id("t")
	pb, dgs := rnnField("pb", n), rnnField("dgs", n)
	row := []jen.Code{local(p, "dhw", rnnField("dhw", n))}
	dy := jen.Code(jen.Nil())
	if n.ReturnSequences {
		row = append(row, view2(p, "dys", n.dout, r.t, r.h))
		dy = jen.Id("dys").Index(t).Index(jen.Empty(), jen.Empty())
	}
	row = append(row, jen.Id("dg").Op(":=").Op("&").Add(p.buf(dgs)).Index(t))
	switch n.Kind {
	case spec.KindRNN:
		row = append(row, local(p, "hs", rnnField("hs", n)),
			jen.Qual(rtPath, "TanhCellBackward32").Call(jen.Id("hs").Index(t.Clone().Op("+").Lit(1)).Index(jen.Empty(), jen.Empty()), sl("dhw"), dy, sl("dg")),
			p.buf(pb).Op("=").Op("*").Id("dg"))
	case spec.KindLSTM:
		row = append(row,
			local(p, "gs", rnnField("gs", n)), local(p, "cs", rnnField("cs", n)), local(p, "tc", rnnField("tc", n)), local(p, "dc", rnnField("dcb", n)),
			lstmStep(),
			jen.Qual(rtPath, "LSTMCellBackward32").Call(sl("g"), sl("c"), sl("tct"), sl("dhw"), dy, sl("dc"), sl("dg")),
			p.buf(pb).Op("=").Op("*").Id("dg"))
	case spec.KindGRU:
		row = append(row, local(p, "dh", rnnField("dhb", n)), local(p, "hs", rnnField("hs", n)),
			jen.Id("g").Op(":=").Op("&").Add(p.buf(rnnField("gs", n))).Index(t),
			jen.Id("h").Op(":=").Op("&").Id("hs").Index(t),
			local(p, "ghn", rnnField("ghn", n)), local(p, "dgh", pb),
			jen.Qual(rtPath, "GRUCellBackward32").Call(sl("g"), sl("h"), jen.Id("ghn").Index(t).Index(jen.Empty(), jen.Empty()), sl("dh"), sl("dhw"), dy, sl("dg"), sl("dgh")),
			p.buf(rnnField("dghs", n)).Index(t).Op("=").Op("*").Id("dgh"))
	}
	return row
}

// cellForward is one row's step through the cell kernel, then hb = hn:
//
//	runtime.GRUCell32(gi[:], gh[:], h[:], ghn[t][:], hn[:])
//	*hb = *hn
func cellForward(p *plan, n *node) []jen.Code {
	var code []jen.Code
	switch n.Kind {
	case spec.KindRNN:
		code = []jen.Code{jen.Qual(rtPath, "TanhSum32").Call(sl("gi"), sl("gh"), sl("hn"))}
	case spec.KindLSTM:
		code = []jen.Code{local(p, "cs", rnnField("cs", n)), local(p, "tc", rnnField("tc", n)), lstmCells(),
			jen.Qual(rtPath, "LSTMCell32").Call(sl("gi"), sl("gh"), sl("c"), sl("cn"), sl("tct"), sl("hn"))}
	case spec.KindGRU:
		code = []jen.Code{local(p, "ghn", rnnField("ghn", n)),
			jen.Qual(rtPath, "GRUCell32").Call(sl("gi"), sl("gh"), jen.Id("hs").Index(jen.Id("t")).Index(jen.Empty(), jen.Empty()), jen.Id("ghn").Index(jen.Id("t")).Index(jen.Empty(), jen.Empty()), sl("hn"))}
	}
	return append(code, jen.Op("*").Id("hb").Op("=").Op("*").Id("hn"))
}

// backwardBatch: see the comment at the top of the file.
func (recurrentEmitter) backwardBatch(p *plan, n *node, withDX bool) []jen.Code {
	r := rgeom(n)
	j := jen.Id("j")
	allSteps := jen.Id("nb").Op("*").Add(r.steps().expr())
	pb, dgs, dhb, dhw := rnnField("pb", n), rnnField("dgs", n), rnnField("dhb", n), rnnField("dhw", n)
	dghs := dgs // DGH of every step
	if n.Kind == spec.KindGRU {
		dghs = rnnField("dghs", n)
	}
	// dL/dh of the last step from the output, or of every step.
	start := []jen.Code{p.buf(dhw).Op("=").Index(jen.Lit(r.h)).Add(p.elem()).Values()}
	if !n.ReturnSequences {
		start = []jen.Code{p.buf(dhw).Op("=").Add(p.buf(n.dout))}
	}
	switch n.Kind {
	case spec.KindGRU:
		start = append(start, p.buf(dhb).Op("=").Index(jen.Lit(r.h)).Add(p.elem()).Values())
	case spec.KindLSTM:
		start = append(start, p.buf(rnnField("dcb", n)).Op("=").Index(jen.Lit(r.h)).Add(p.elem()).Values())
	}
	// dh = dHw (+ dL/dhₜ of the output); gru adds it to the direct path dh ⊙ z.
	op := "="
	if n.Kind == spec.KindGRU {
		op = "+="
	}
	sum := jen.Id("dhw").Index(j)
	row := []jen.Code{local(p, "dh", dhb), local(p, "dhw", dhw)}
	if cellKernel(p, n) {
		row = cellBackward(p, n, r)
	} else if n.ReturnSequences {
		row = append(row, view2(p, "dys", n.dout, r.t, r.h))
		sum = sum.Op("+").Id("dys").Index(jen.Id("t")).Index(j)
	}
	if !cellKernel(p, n) {
		row = append(row,
			loopOver("j", r.hidden(), jen.Id("dh").Index(j).Op(op).Add(sum)),
			jen.Id("dg").Op(":=").Op("&").Add(p.buf(dgs)).Index(jen.Id("t")))
		if n.Kind != spec.KindLSTM {
			row = append(row, local(p, "hs", rnnField("hs", n)))
		}
		switch n.Kind {
		case spec.KindRNN:
			row = append(row, gatesBackward(p, n, r), p.buf(pb).Op("=").Op("*").Id("dg"))
		case spec.KindLSTM:
			row = append(row,
				local(p, "gs", rnnField("gs", n)), local(p, "cs", rnnField("cs", n)), local(p, "tc", rnnField("tc", n)), local(p, "dc", rnnField("dcb", n)),
				lstmStep(), gatesBackward(p, n, r), p.buf(pb).Op("=").Op("*").Id("dg"))
		case spec.KindGRU:
			row = append(row,
				jen.Id("g").Op(":=").Op("&").Add(p.buf(rnnField("gs", n))).Index(jen.Id("t")),
				jen.Id("h").Op(":=").Op("&").Id("hs").Index(jen.Id("t")),
				local(p, "ghn", rnnField("ghn", n)), local(p, "dgh", pb))
			row = append(row, gatesBackward(p, n, r), p.buf(dghs).Index(jen.Id("t")).Op("=").Op("*").Id("dgh"))
		}
	}
	code := []jen.Code{
		jen.Id("whh").Op(":=").Op("&").Add(pf(r.k + "WeightHh")),
		jen.Id("gwih").Op(":=").Op("&").Add(gf(r.k + "WeightIh")),
		jen.Id("gwhh").Op(":=").Op("&").Add(gf(r.k + "WeightHh")),
		overRows(start...),
		jen.For(jen.Id("t").Op(":=").Lit(r.t-1), jen.Id("t").Op(">=").Lit(0), jen.Id("t").Op("--")).Block(
			overRows(row...),
			jen.If(jen.Id("t").Op(">").Lit(0)).Block(
				jen.Comment("dL/dhₜ₋₁ through W_hh, for every row"),
				p.kernel("GemmNN").Call(rowsOf(dhw, jen.Id("nb"), r.hidden().expr()), rowsOf(pb, jen.Id("nb"), r.gates().expr()), flatMat("whh", r.gates(), r.hidden()), jen.Id("nb"), r.hidden().expr(), r.gates().expr()),
			),
		),
		jen.Id("dgAll").Op(":=").Add(rowsOf2(dgs, allSteps, r.gates().expr())),
	}
	if n.Bias {
		// for row := 0; row < nb; row++ { for t := range m.dgs1[row] { for o, v := range &m.dgs1[row][t] { gb[o] += v } } }
		sumRows := func(field, bias string) jen.Code {
			return overRows(jen.For(jen.Id("t").Op(":=").Range().Add(p.buf(field))).Block(
				jen.For(jen.List(jen.Id("o"), jen.Id("v")).Op(":=").Range().Op("&").Add(p.buf(field)).Index(jen.Id("t"))).Block(
					gf(bias).Index(jen.Id("o")).Op("+=").Id("v"))))
		}
		if p.elemSize() == 4 {
			// runtime.AxpyRows32(1, dgAll, G, gb[:], 0, nb*T, G): the column sums in vector registers
			sumRows = func(field, bias string) jen.Code {
				return p.kernel("AxpyRows").Call(jen.Lit(1), rowsOf2(field, allSteps.Clone(), r.gates().expr()), r.gates().expr(),
					gf(bias).Index(jen.Empty(), jen.Empty()), jen.Lit(0), allSteps.Clone(), r.gates().expr())
			}
		}
		code = append(code, sumRows(dgs, r.k+"BiasIh"), sumRows(dghs, r.k+"BiasHh"))
	}
	code = append(code,
		p.kernel("GemmTN").Call(flatMat("gwih", r.gates(), r.in()), jen.Id("dgAll"), rowsOf(n.in, allSteps.Clone(), r.in().expr()), r.gates().expr(), r.in().expr(), allSteps.Clone()),
		overRows(p.kernel("GemmTN").Call(flatMat("gwhh", r.gates(), r.hidden()),
			jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(p.buf(dghs)).Index(jen.Lit(0)).Index(jen.Lit(0)), r.steps().expr().Op("*").Add(r.gates().expr())),
			jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(p.buf(rnnField("hs", n))).Index(jen.Lit(0)).Index(jen.Lit(0)), r.steps().expr().Op("*").Add(r.hidden().expr())),
			r.gates().expr(), r.hidden().expr(), r.steps().expr())),
	)
	if withDX && n.din != "" {
		code = append(code,
			jen.Id("wih").Op(":=").Op("&").Add(pf(r.k+"WeightIh")),
			p.kernel("GemmNN").Call(rowsOf(n.din, allSteps.Clone(), r.in().expr()), jen.Id("dgAll"), flatMat("wih", r.gates(), r.in()), allSteps.Clone(), r.in().expr(), r.gates().expr()),
		)
	}
	return code
}

// batchPays: the products pay once the hidden state has kernelMin units.
func (recurrentEmitter) batchPays(n *node) bool {
	return useKernel(rgeom(n).hidden())
}
